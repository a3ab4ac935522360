import type { Context } from 'koa';
import { z } from 'zod';
import { AppError, ValidationError } from '../../domain/errors';
import { fieldErrorsOf, parseInput } from '../../domain/validation';

export class UnsupportedMediaTypeError extends AppError {
  override name = 'UnsupportedMediaTypeError';
  override readonly status = 415;
  override readonly code = 'unsupported-media-type';
}

/** The parsed JSON body (`{}` when there is none); 415 when a body is sent as anything but JSON. */
export function requestBody(ctx: Context): unknown {
  if (ctx.request.length && !ctx.is('application/json', '+json')) {
    throw new UnsupportedMediaTypeError('The request body must be application/json');
  }
  return (ctx.request as { body?: unknown }).body ?? {};
}

/** The body as `schema` reads it; a 400 naming each invalid field otherwise. */
export function body<S extends z.ZodType>(ctx: Context, schema: S): z.infer<S> {
  const parsed = parseInput(schema, requestBody(ctx));
  if ('errors' in parsed) throw new ValidationError('The request body is invalid', parsed.errors);
  return parsed.data;
}

const Empty = z.strictObject({});

/** For routes that take no body: an absent or empty one passes; any field is a 400 naming it. */
export function noBody(ctx: Context): void {
  body(ctx, Empty);
}

export function query<S extends z.ZodType>(ctx: Context, schema: S): z.infer<S> {
  const result = schema.safeParse({ ...ctx.query });
  if (!result.success) throw new ValidationError('The query string is invalid', fieldErrorsOf(result.error.issues));
  return result.data;
}
