import type { z } from 'zod';
import type { FieldError } from './errors';

/**
 * zod issues as field errors: dotted paths (under `prefix`) that name the field, and one error per
 * unknown key. The only converter from zod's issues to what a 400 problem lists.
 */
export function fieldErrorsOf(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): FieldError[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((key) => ({ path: dotted([...path, key]), message: 'is not a known field' }));
    return [{ path: dotted(path), message: issue.message }];
  });
}

function dotted(path: readonly PropertyKey[]): string {
  return path.map(String).join('.') || '(root)';
}

/** Copies a nested schema's issues into a refinement of the enclosing one, under `prefix`. */
export function addIssuesUnder(ctx: z.RefinementCtx, prefix: readonly PropertyKey[], issues: readonly z.core.$ZodIssue[]): void {
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        ctx.addIssue({ code: 'custom', path: [...prefix, ...issue.path, key], message: 'is not a known field' });
    } else {
      ctx.addIssue({ code: 'custom', path: [...prefix, ...issue.path], message: issue.message });
    }
  }
}

export const MAX_BODY_DEPTH = 64;
const MAX_REPORTED = 20;

/**
 * What MongoDB (and FerretDB) cannot store, found before anything is parsed or written, so that it
 * is a 400 naming the field instead of a server error: nesting deeper than MAX_BODY_DEPTH (MongoDB
 * allows 100 levels per document), field names that start with `$` or contain `.` or NUL, and NUL
 * in strings. Iterative, so a body nested 10,000 levels deep costs no stack.
 */
export function storableErrors(value: unknown, basePath: (string | number)[] = []): FieldError[] {
  const errors: FieldError[] = [];
  const stack: { v: unknown; path: (string | number)[] }[] = [{ v: value, path: basePath }];
  while (stack.length > 0 && errors.length < MAX_REPORTED) {
    const { v, path } = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) errors.push({ path: dotted(path), message: 'must not contain the NUL character' });
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (path.length - basePath.length >= MAX_BODY_DEPTH) {
      errors.push({ path: dotted(path), message: `is nested deeper than ${MAX_BODY_DEPTH} levels` });
      continue;
    }
    if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push({ v: item, path: [...path, i] }));
      continue;
    }
    for (const [key, item] of Object.entries(v)) {
      if (key.startsWith('$') || key.includes('.') || key.includes('\u0000')) {
        errors.push({
          path: dotted([...path, key]),
          message: "is not a valid field name (it must not start with '$' or contain '.' or NUL)",
        });
      } else {
        stack.push({ v: item, path: [...path, key] });
      }
    }
  }
  return errors;
}

/**
 * A request body as `schema` reads it, or the field errors that make it invalid: first what the
 * store could not hold (storableErrors), then the schema's own checks.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): { data: z.infer<S> } | { errors: FieldError[] } {
  const unstorable = storableErrors(value);
  if (unstorable.length > 0) return { errors: unstorable };
  const parsed = schema.safeParse(value);
  return parsed.success ? { data: parsed.data } : { errors: fieldErrorsOf(parsed.error.issues) };
}
