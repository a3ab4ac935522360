import type { Context, Next } from 'koa';
import { AppError, TooManyRequestsError, UnavailableError, ValidationError, type FieldError } from '../../domain/errors';
import type { Logger } from '../../observability/logger';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const BODY_LIMIT_TEXT = '1 MB';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  421: 'Misdirected Request',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

function problemType(code: string): string {
  return `https://tock.dev/problems/${code}`;
}

export function problem(status: number, code: string, detail: string, errors?: FieldError[]): Problem {
  const body: Problem = { type: problemType(code), title: TITLES[status] ?? 'Error', status, detail };
  if (errors) body.errors = errors;
  return body;
}

/**
 * The problem (and Retry-After seconds, for 503) that an error stands for; null for unknown errors,
 * which the caller answers as a 500 without sending their message.
 */
export function problemOf(raw: unknown): { problem: Problem; retryAfter?: number } | null {
  const err = raw as Error & { status?: number };
  if (err instanceof ValidationError) return { problem: problem(400, err.code, err.message, err.errors) };
  if (err instanceof UnavailableError) return { problem: problem(503, err.code, err.message), retryAfter: err.retryAfterSeconds };
  if (err instanceof TooManyRequestsError) return { problem: problem(429, err.code, err.message), retryAfter: err.retryAfterSeconds };
  if (err instanceof AppError) return { problem: problem(err.status, err.code, err.message, (err as { errors?: FieldError[] }).errors) };
  // koa-body and Koa's own http-errors: malformed JSON, too large, wrong encoding.
  if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500) {
    if (err.status === 413) return { problem: problem(413, 'too-large', `The request body is larger than ${BODY_LIMIT_TEXT}`) };
    if (err.status === 415) return { problem: problem(415, 'unsupported-media-type', err.message) };
    return {
      problem: problem(400, 'malformed', `The request body is not valid JSON: ${err.message}`, [
        { path: 'body', message: 'is not valid JSON' },
      ]),
    };
  }
  return null;
}

export function sendProblem(ctx: Context, status: number, code: string, detail: string, errors?: FieldError[]): void {
  ctx.status = status;
  ctx.type = PROBLEM_CONTENT_TYPE;
  ctx.body = problem(status, code, detail, errors);
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
      const known = problemOf(raw);
      if (known) {
        if (known.retryAfter !== undefined) ctx.set('Retry-After', String(known.retryAfter));
        ctx.status = known.problem.status;
        ctx.type = PROBLEM_CONTENT_TYPE;
        ctx.body = known.problem;
        return;
      }
      logger.error({ err: raw, method: ctx.method, path: ctx.path }, 'unhandled error');
      sendProblem(ctx, 500, 'internal', 'An unexpected error occurred; it has been logged.');
    }
  };
}
