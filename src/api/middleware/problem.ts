import type { Context, Next } from 'koa';
import { AppError, UnavailableError, ValidationError, type FieldError } from '../../domain/errors';
import type { Logger } from '../../observability/logger';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const MONGO_UNAVAILABLE = /^Mongo(Network|ServerSelection|NotConnected|Timeout|PoolCleared|Topology|NetworkTimeout)/;

function problemType(code: string): string {
  return `https://tock.dev/problems/${code}`;
}

export function sendProblem(ctx: Context, status: number, code: string, detail: string, errors?: FieldError[]): void {
  const body: Problem = { type: problemType(code), title: TITLES[status] ?? 'Error', status, detail };
  if (errors) body.errors = errors;
  ctx.status = status;
  ctx.type = PROBLEM_CONTENT_TYPE;
  ctx.body = body;
}

/** Maps any error to RFC 9457 problem+json; unknown errors are a 500 whose message is never sent. */
export function problemMiddleware(logger: Logger) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        sendProblem(ctx, 404, 'not-found', `No route for ${ctx.method} ${ctx.path}`);
      } else if (ctx.status === 405 && (ctx.body === undefined || typeof ctx.body === 'string')) {
        sendProblem(ctx, 405, 'method-not-allowed', `${ctx.method} is not allowed on ${ctx.path}`);
      }
    } catch (raw) {
      const err = raw as Error & { status?: number; expose?: boolean; type?: string };
      if (err instanceof ValidationError) return sendProblem(ctx, 400, err.code, err.message, err.errors);
      if (err instanceof UnavailableError) {
        ctx.set('Retry-After', String(err.retryAfterSeconds));
        return sendProblem(ctx, 503, err.code, err.message);
      }
      if (err instanceof AppError) return sendProblem(ctx, err.status, err.code, err.message);
      if (MONGO_UNAVAILABLE.test(err?.name ?? '')) {
        ctx.set('Retry-After', '5');
        return sendProblem(ctx, 503, 'unavailable', 'MongoDB is unavailable');
      }
      // koa-body and Koa's own http-errors: malformed JSON, too large, wrong encoding.
      if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500) {
        if (err.status === 413) return sendProblem(ctx, 413, 'too-large', 'The request body is larger than 1 MB');
        if (err.status === 415) return sendProblem(ctx, 415, 'unsupported-media-type', err.message);
        return sendProblem(ctx, 400, 'malformed', `The request body is not valid JSON: ${err.message}`, [
          { path: 'body', message: 'is not valid JSON' },
        ]);
      }
      logger.error({ err: raw, method: ctx.method, path: ctx.path }, 'unhandled error');
      sendProblem(ctx, 500, 'internal', 'An unexpected error occurred; it has been logged.');
    }
  };
}
