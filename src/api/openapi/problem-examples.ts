/** The examples of the problem documents (application/problem+json) of the OpenAPI contract. */
import type { Examples } from './examples';

export const problemBadRequest: Examples = {
  validation: {
    summary: 'Invalid body',
    value: {
      type: 'https://tock.dev/problems/validation',
      title: 'Bad Request',
      status: 400,
      detail: 'The request body is invalid',
      errors: [
        { path: 'schedule.everyMs', message: 'Too small: expected number to be >=1000' },
        { path: 'payload.durationMs', message: 'Invalid input: expected number, received undefined' },
        { path: 'extra', message: 'is not a known field' },
      ],
    },
  },
  query: {
    summary: 'Invalid query string',
    value: {
      type: 'https://tock.dev/problems/validation',
      title: 'Bad Request',
      status: 400,
      detail: 'The query string is invalid',
      errors: [
        { path: 'limit', message: 'Too small: expected number to be >=1' },
        { path: 'foo', message: 'is not a known field' },
      ],
    },
  },
  schedule: {
    summary: 'A one-time schedule in the past',
    value: {
      type: 'https://tock.dev/problems/validation',
      title: 'Bad Request',
      status: 400,
      detail: 'Invalid schedule',
      errors: [{ path: 'schedule.runAt', message: 'must be in the future' }],
    },
  },
  ifMatch: {
    summary: 'Invalid If-Match',
    value: {
      type: 'https://tock.dev/problems/validation',
      title: 'Bad Request',
      status: 400,
      detail: 'Invalid If-Match header',
      errors: [{ path: 'If-Match', message: 'must be an ETag returned by this API, e.g. "3"' }],
    },
  },
  malformed: {
    summary: 'Body is not JSON',
    value: {
      type: 'https://tock.dev/problems/malformed',
      title: 'Bad Request',
      status: 400,
      detail: "The request body is not valid JSON: Expected property name or '}' in JSON at position 1",
      errors: [{ path: 'body', message: 'is not valid JSON' }],
    },
  },
};

export const problemNotFound = {
  type: 'https://tock.dev/problems/not-found',
  title: 'Not Found',
  status: 404,
  detail: 'Job 6b0411d5f6f66b9c7ecddd26 does not exist',
};

export const problemConflict = {
  type: 'https://tock.dev/problems/conflict',
  title: 'Conflict',
  status: 409,
  detail: 'Job 6b0411d5f6f66b9c7ecddd26 is completed; only scheduled jobs can be paused',
};

export const problemPreconditionFailed = {
  type: 'https://tock.dev/problems/precondition-failed',
  title: 'Precondition Failed',
  status: 412,
  detail: 'Job 6b0411d5f6f66b9c7ecddd25 is at version 3, not 2',
};

export const problemIdempotencyInProgress = {
  type: 'https://tock.dev/problems/conflict',
  title: 'Conflict',
  status: 409,
  detail: 'A request with this Idempotency-Key is still in progress; retry it later',
};

export const problemIdempotencyKeyReused = {
  type: 'https://tock.dev/problems/idempotency-key-reused',
  title: 'Unprocessable Content',
  status: 422,
  detail: 'This Idempotency-Key was used for another request',
  errors: [{ path: 'Idempotency-Key', message: 'was already used with a different request body' }],
};

export const problemPayloadTooLarge = {
  type: 'https://tock.dev/problems/too-large',
  title: 'Payload Too Large',
  status: 413,
  detail: 'The request body is larger than 1 MB',
};

export const problemUnsupportedMediaType = {
  type: 'https://tock.dev/problems/unsupported-media-type',
  title: 'Unsupported Media Type',
  status: 415,
  detail: 'The request body must be application/json',
};

export const problemInternalServerError = {
  type: 'https://tock.dev/problems/internal',
  title: 'Internal Server Error',
  status: 500,
  detail: 'An unexpected error occurred; it has been logged.',
};

export const problemServiceUnavailable: Examples = {
  redis: {
    summary: 'Redis did not answer',
    value: {
      type: 'https://tock.dev/problems/unavailable',
      title: 'Service Unavailable',
      status: 503,
      detail: 'Redis is unavailable (register)',
    },
  },
  mongodb: {
    summary: 'MongoDB did not answer',
    value: { type: 'https://tock.dev/problems/unavailable', title: 'Service Unavailable', status: 503, detail: 'MongoDB is unavailable' },
  },
};
