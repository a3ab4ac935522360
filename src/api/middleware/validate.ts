import type { Context } from 'koa';
import type { z } from 'zod';
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

export function body<S extends z.ZodType>(ctx: Context, schema: S): z.infer<S> {
  if (ctx.request.length && !ctx.is('application/json', '+json')) {
    throw new UnsupportedMediaTypeError('The request body must be application/json');
  }
  return parseWith(schema, (ctx.request as { body?: unknown }).body ?? {}, 'The request body is invalid');
}

export function query<S extends z.ZodType>(ctx: Context, schema: S): z.infer<S> {
  return parseWith(schema, { ...ctx.query }, 'The query string is invalid');
}
