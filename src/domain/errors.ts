/**
 * The errors services raise. The API maps them to problem+json in one middleware; workers map
 * them to execution records. Each has a stable `name` and `code` so that callers can match on them
 * without instanceof across module copies.
 */
export interface FieldError {
  path: string;
  message: string;
}

export class AppError extends Error {
  override name = 'AppError';
  readonly status: number = 500;
  readonly code: string = 'internal';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

export class ValidationError extends AppError {
  override name = 'ValidationError';
  override readonly status = 400;
  override readonly code = 'validation';
  constructor(
    message: string,
    readonly errors: FieldError[] = [],
  ) {
    super(message);
  }
}

export class NotFoundError extends AppError {
  override name = 'NotFoundError';
  override readonly status = 404;
  override readonly code = 'not-found';
}

export class ConflictError extends AppError {
  override name = 'ConflictError';
  override readonly status = 409;
  override readonly code = 'conflict';
}

export class PreconditionFailedError extends AppError {
  override name = 'PreconditionFailedError';
  override readonly status = 412;
  override readonly code = 'precondition-failed';
}

/** No credentials, or credentials that name no valid key. */
export class UnauthorizedError extends AppError {
  override name = 'UnauthorizedError';
  override readonly status = 401;
  override readonly code = 'unauthorized';
}

/** A valid key without the scope the request needs. */
export class ForbiddenError extends AppError {
  override name = 'ForbiddenError';
  override readonly status = 403;
  override readonly code = 'forbidden';
}

/** A key over its rate limit or quota; retry after `retryAfterSeconds`. */
export class TooManyRequestsError extends AppError {
  override name = 'TooManyRequestsError';
  override readonly status = 429;
  override readonly code = 'too-many-requests';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** A dependency (Redis, MongoDB) did not answer in time. */
export class UnavailableError extends AppError {
  override name = 'UnavailableError';
  override readonly status = 503;
  override readonly code = 'unavailable';
  constructor(
    message: string,
    readonly retryAfterSeconds = 5,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value), { cause: value });
}

/**
 * An attempt that failed, as the run use case hands it to the queue: `retryable: false` sends the
 * run straight to the dead letter; `retryAfterMs` stretches the next backoff (HTTP 429/503).
 */
export class AttemptFailedError extends Error {
  override name = 'AttemptFailedError';
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
