/**
 * The problem responses of the contract (components.responses): one per problem type, each an
 * RFC 9457 application/problem+json document, referenced by the operations.
 */
import { z } from 'zod';
import type { ZodOpenApiResponseObject, ZodOpenApiResponsesObject } from 'zod-openapi';
import { problemSchema, RetryAfterHeader, XRequestIdHeader } from '../schemas';
import { lines, ref } from './fragments';
import * as examples from './problem-examples';

/** A component response, with the operation's own description of when it happens. */
export const problem = (name: string, description?: string) =>
  description ? { ...ref('responses', name), description } : ref('responses', name);

export const PROBLEM_RESPONSES: Record<string, ZodOpenApiResponseObject> = {
  BadRequest: {
    description:
      'The request is invalid; `errors` names each offending field (`path` is dotted, e.g. `schedule.everyMs`, `payload.url`, ' +
      '`If-Match`, `cursor`, `body`, or `(root)`).',
    headers: z.object({ 'X-Request-Id': XRequestIdHeader }),
    content: {
      'application/problem+json': {
        schema: problemSchema(['validation', 'malformed'], 400, { errors: true }),
        examples: examples.problemBadRequest,
      },
    },
  },
  NotFound: {
    description: 'No such resource.',
    headers: z.object({ 'X-Request-Id': XRequestIdHeader }),
    content: { 'application/problem+json': { schema: problemSchema('not-found', 404), example: examples.problemNotFound } },
  },
  Conflict: {
    description: 'The request conflicts with the current state of the resource.',
    headers: z.object({ 'X-Request-Id': XRequestIdHeader }),
    content: { 'application/problem+json': { schema: problemSchema('conflict', 409), example: examples.problemConflict } },
  },
  PreconditionFailed: {
    description: "`If-Match` names another version than the job's current one (or the job changed while the request was applied).",
    headers: z.object({ 'X-Request-Id': XRequestIdHeader }),
    content: {
      'application/problem+json': { schema: problemSchema('precondition-failed', 412), example: examples.problemPreconditionFailed },
    },
  },
  IdempotencyInProgress: {
    description: lines(
      'A request with the same `Idempotency-Key` is still in progress after waiting 5 s for it: retry after',
      '`Retry-After` seconds to get its response.',
    ),
    headers: z.object({ 'Retry-After': RetryAfterHeader, 'X-Request-Id': XRequestIdHeader }),
    content: { 'application/problem+json': { schema: problemSchema('conflict', 409), example: examples.problemIdempotencyInProgress } },
  },
  IdempotencyKeyReused: {
    description: 'The `Idempotency-Key` was already used with a different request body (within 24 hours).',
    headers: z.object({ 'X-Request-Id': XRequestIdHeader }),
    content: {
      'application/problem+json': {
        schema: problemSchema('idempotency-key-reused', 422, { errors: true }),
        example: examples.problemIdempotencyKeyReused,
      },
    },
  },
  PayloadTooLarge: {
    description: 'The request body is larger than 1 MB.',
    headers: z.object({ 'X-Request-Id': XRequestIdHeader }),
    content: { 'application/problem+json': { schema: problemSchema('too-large', 413), example: examples.problemPayloadTooLarge } },
  },
  UnsupportedMediaType: {
    description: 'The request has a body that is not `application/json` (or `+json`).',
    headers: z.object({ 'X-Request-Id': XRequestIdHeader }),
    content: {
      'application/problem+json': { schema: problemSchema('unsupported-media-type', 415), example: examples.problemUnsupportedMediaType },
    },
  },
  Unauthorized: {
    description: 'No API key, or one that is unknown or revoked: send `Authorization: Bearer <key>`.',
    headers: z.object({ 'WWW-Authenticate': z.string().meta({ examples: ['Bearer realm="tock"'] }), 'X-Request-Id': XRequestIdHeader }),
    content: { 'application/problem+json': { schema: problemSchema('unauthorized', 401) } },
  },
  Forbidden: {
    description: 'The key does not have the scope the operation needs, or the request came from another origin.',
    headers: z.object({ 'X-Request-Id': XRequestIdHeader }),
    content: { 'application/problem+json': { schema: problemSchema('forbidden', 403) } },
  },
  TooManyRequests: {
    description: 'The key is over its rate limit or a quota (jobs owned, runs triggered per minute): retry after `Retry-After` seconds.',
    headers: z.object({ 'Retry-After': RetryAfterHeader, 'X-Request-Id': XRequestIdHeader }),
    content: { 'application/problem+json': { schema: problemSchema('too-many-requests', 429) } },
  },
  InternalServerError: {
    description: 'An unexpected error; it was logged and its message is not sent.',
    headers: z.object({ 'X-Request-Id': XRequestIdHeader }),
    content: { 'application/problem+json': { schema: problemSchema('internal', 500), example: examples.problemInternalServerError } },
  },
  ServiceUnavailable: {
    description: lines(
      'Redis (2 s timeout) or MongoDB (2 s server selection) did not answer. Nothing was',
      'changed: a write whose second step failed has been undone. Retry after `Retry-After`',
      'seconds; the API recovers by itself when the server is back.',
    ),
    headers: z.object({ 'Retry-After': RetryAfterHeader, 'X-Request-Id': XRequestIdHeader }),
    content: { 'application/problem+json': { schema: problemSchema('unavailable', 503), examples: examples.problemServiceUnavailable } },
  },
};

/** The answers every operation of the JSON API can give besides its own: 500 and 503. */
export const FAILURES: ZodOpenApiResponsesObject = { '500': problem('InternalServerError'), '503': problem('ServiceUnavailable') };
