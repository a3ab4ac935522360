import type { Context } from 'koa';
import { z } from 'zod';
import { AppError, ValidationError, type FieldError } from '../../domain/errors';

export class UnsupportedMediaTypeError extends AppError {
  override name = 'UnsupportedMediaTypeError';
  override readonly status = 415;
  override readonly code = 'unsupported-media-type';
}

/** zod issues as `{ path, message }`, with dotted paths that name the field. */
export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return { path: [path, ...issue.keys].filter(Boolean).join('.'), message: 'is not a known field' };
    }
    return { path: path || '(root)', message: issue.message };
  });
}

function parseWith<S extends z.ZodType>(schema: S, value: unknown, detail: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(detail, fieldErrors(result.error));
  return result.data;
}

export const MAX_BODY_DEPTH = 64;
const MAX_REPORTED = 20;

/**
 * What MongoDB (and FerretDB) cannot store, found before anything is written so that it is a 400
 * naming the field instead of a server error: nesting deeper than MAX_BODY_DEPTH (MongoDB allows 100
 * levels per document), field names that start with `$` or contain `.` or NUL, and NUL in strings.
 * Iterative, so a body nested 10,000 levels deep costs no stack.
 */
export function storableErrors(value: unknown, basePath: (string | number)[] = []): FieldError[] {
  const errors: FieldError[] = [];
  const stack: { v: unknown; path: (string | number)[] }[] = [{ v: value, path: basePath }];
  const at = (path: (string | number)[]) => path.map(String).join('.') || '(root)';
  while (stack.length > 0 && errors.length < MAX_REPORTED) {
    const { v, path } = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) errors.push({ path: at(path), message: 'must not contain the NUL character' });
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (path.length - basePath.length >= MAX_BODY_DEPTH) {
      errors.push({ path: at(path), message: `is nested deeper than ${MAX_BODY_DEPTH} levels` });
      continue;
    }
    if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push({ v: item, path: [...path, i] }));
      continue;
    }
    for (const [key, item] of Object.entries(v)) {
      if (key.startsWith('$') || key.includes('.') || key.includes('\u0000')) {
        errors.push({ path: at([...path, key]), message: "is not a valid field name (it must not start with '$' or contain '.' or NUL)" });
      } else {
        stack.push({ v: item, path: [...path, key] });
      }
    }
  }
  return errors;
}

export function requestBody(ctx: Context): unknown {
  if (ctx.request.length && !ctx.is('application/json', '+json')) {
    throw new UnsupportedMediaTypeError('The request body must be application/json');
  }
  return (ctx.request as { body?: unknown }).body ?? {};
}

export function body<S extends z.ZodType>(ctx: Context, schema: S): z.infer<S> {
  const value = requestBody(ctx);
  const unstorable = storableErrors(value);
  if (unstorable.length > 0) throw new ValidationError('The request body is invalid', unstorable);
  return parseWith(schema, value, 'The request body is invalid');
}

const Empty = z.strictObject({});

/** For routes that take no body: an absent or empty one passes; any field is a 400 naming it. */
export function noBody(ctx: Context): void {
  body(ctx, Empty);
}

export function query<S extends z.ZodType>(ctx: Context, schema: S): z.infer<S> {
  return parseWith(schema, { ...ctx.query }, 'The query string is invalid');
}
