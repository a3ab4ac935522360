import { z } from 'zod';
import {
  createDocument,
  type oas31,
  type ZodOpenApiOperationObject,
  type ZodOpenApiOverrideContext,
  type ZodOpenApiResponseObject,
  type ZodOpenApiResponsesObject,
} from 'zod-openapi';
import { stringify } from 'yaml';
import { createJobSchema, patchJobSchema, type HandlerCatalog, type HandlerInfo } from '../domain/job-definition';
import * as examples from './openapi-examples';
import {
  BatchEnvelope,
  BatchItem,
  CreateJobsResult,
  DeadLetterEntry,
  DeadLetterEntryIdParam,
  DeadLetterList,
  DeadLetterListQuery,
  ETagHeader,
  Execution,
  ExecutionIdParam,
  ExecutionList,
  ExecutionListQuery,
  HandlerName,
  HealthLive,
  HealthReady,
  IdempotencyKeyParam,
  IdempotentReplayedHeader,
  IfMatchParam,
  Job,
  JobIdParam,
  JobList,
  JobListQuery,
  JobWithExecutions,
  LocationHeader,
  problemSchema,
  RetryAfterHeader,
  RunAccepted,
  RunsCancelled,
  TriggerEnvelope,
  TriggerJobsResult,
  XRequestIdHeader,
  XRequestIdParam,
} from './schemas';

/**
 * The OpenAPI 3.1 contract of the API, built from the zod schemas the routes validate with
 * (domain: createJobSchema, patchJobSchema, ScheduleSchema, RetryPolicySchema; each handler's
 * payloadSchema; schemas.ts: queries, envelopes, responses) by zod-openapi. `npm run openapi`
 * writes it to openapi.yaml, which the API serves; a unit test fails when the two differ.
 *
 * The handlers come from the registry: each one gets its payload (and result) schema as a
 * component and its own variant of the create request, and `HandlerName` lists them all. A new
 * handler in the registry is in the contract once it is regenerated.
 */

export type OpenApiDocument = ReturnType<typeof createDocument>;

const ref = (kind: 'schemas' | 'responses' | 'examples', name: string) => ({ $ref: `#/components/${kind}/${name}` });

/** A component response, with the operation's own description of when it happens. */
const problem = (name: string, description?: string) => (description ? { ...ref('responses', name), description } : ref('responses', name));

const lines = (...text: string[]) => text.join('\n');

/** `http` -> `Http`, `my-handler` -> `MyHandler`. */
export function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
}

interface HandlerDoc {
  handler: HandlerInfo;
  payloadId: string;
  resultId?: string;
  /** The create request of a job run by this handler. */
  variant: z.ZodObject;
}

function handlerDocs(registry: HandlerCatalog): HandlerDoc[] {
  const CreateJob = createJobSchema(registry);
  const seen = new Map<string, string>();
  const claim = (id: string, owner: string) => {
    const other = seen.get(id);
    if (other !== undefined && other !== owner) throw new Error(`handlers ${other} and ${owner} both map to the component ${id}`);
    seen.set(id, owner);
    return id;
  };
  return registry.names().map((name) => {
    const handler = registry.get(name)!;
    const own = (schema: z.ZodType) => z.globalRegistry.get(schema)?.id;
    const payloadId = claim(own(handler.payloadSchema) ?? `${pascalCase(name)}Payload`, name);
    const resultId = handler.resultSchema && claim(own(handler.resultSchema) ?? `${pascalCase(name)}Result`, name);
    // createJobSchema applies `payload ?? {}`: a handler whose schema accepts {} needs no payload.
    const payloadOptional = handler.payloadSchema.safeParse({}).success;
    const variant = z
      .strictObject({
        ...CreateJob.shape,
        handler: z.literal(name),
        payload: payloadOptional ? handler.payloadSchema.optional().meta({ default: {} }) : handler.payloadSchema,
      })
      .meta({
        id: claim(`Create${pascalCase(name)}JobRequest`, name),
        title: name,
        description: `A job run by the \`${name}\` handler (${handler.description.replace(/\.$/, '')}).`,
      });
    return { handler, payloadId, resultId, variant };
  });
}

/** `payload` matches the schema of `handler`: one if/then per handler (the Job resource and PATCH). */
function handlerPayloadRules(docs: HandlerDoc[]): oas31.SchemaObject {
  return {
    description: lines(
      '`payload` must match the schema of `handler`: ' + docs.map((d) => `\`${d.payloadId}\` for \`${d.handler.name}\``).join(', ') + '.',
      'The server validates the payload and reports errors under `payload.*`.',
    ),
    allOf: docs.map((d) => ({
      if: { required: ['handler'], properties: { handler: { const: d.handler.name } } },
      then: { properties: { payload: ref('schemas', d.payloadId) } },
    })),
  };
}

const INFO_DESCRIPTION = lines(
  'Tock stores job definitions (what to run, when, and how to retry) in MongoDB, registers their',
  'schedule with BullMQ on Redis, runs them on worker processes, records every attempt as an',
  'execution, and keeps runs that failed for good in a dead letter.',
  '',
  'This document is generated from the zod schemas the API validates with (`npm run openapi`).',
  '',
  '## Conventions',
  '',
  '- The JSON API lives under `/api/v1`. Health checks (`/health/*`), this contract',
  '  (`/openapi.yaml`), Swagger UI (`/docs`) and the Bull Board dashboard (`/admin/queues`) live',
  '  at the root.',
  '- Request bodies must be `application/json` (any `+json` type is accepted too), at most 1 MB,',
  '  and a JSON object or array (`jsonStrict`). A body with another content type is `415`, a body',
  '  that is not valid JSON is `400` (`https://tock.dev/problems/malformed`), a larger one is `413`.',
  '- Bodies are stored in MongoDB, so they must be storable: nested at most 64 levels deep,',
  '  no field name that starts with `$` or contains `.` or NUL, and no NUL in strings (else',
  '  `400` naming the field). This also keeps query operators such as `{"$ne": 1}` out of the',
  '  store: they are never interpreted, only rejected.',
  '- **Unknown fields are rejected**, in bodies (at every level: schedule, retry, backoff and the',
  '  handler payload) and in query strings, with `400`. Query parameters may not be repeated.',
  '- Dates in responses are ISO 8601 strings in UTC with milliseconds (`2026-11-23T10:13:41.388Z`).',
  '  Dates in requests (`runAt`, `startAt`, `endAt`, `nextRunBefore`) must be ISO 8601 date-times',
  '  with seconds and an explicit offset (`Z` or `+02:00`). In a query string, encode `+` as `%2B`.',
  '- Lists are pages `{ items, nextCursor }`. Pass `nextCursor` back as `cursor` (with the same',
  '  filters) for the next page; it is `null` on the last page. Cursors are opaque.',
  '- Every response carries `X-Request-Id`: the value sent in the request header, or a new UUID.',
  '- There is no authentication: put Tock behind a gateway if it is reachable by untrusted clients.',
  '',
  '## Errors',
  '',
  'Every error of the JSON API and of the health/docs routes is an RFC 9457',
  '`application/problem+json` document (see the `Problem` schema) whose `type` is',
  '`https://tock.dev/problems/<code>`:',
  '',
  '| Status | `type` code                 | When                                                                 |',
  '| ------ | --------------------------- | -------------------------------------------------------------------- |',
  '| 400    | `validation`                | invalid body, query string, `If-Match` header or cursor; `errors` names each field |',
  '| 400    | `malformed`                 | the body is not valid JSON (`errors: [{path: body}]`)                 |',
  '| 404    | `not-found`                 | unknown or malformed id, or no such route                             |',
  '| 405    | `method-not-allowed`        | the path exists but not with this method (an `Allow` header lists the methods) |',
  '| 409    | `conflict`                  | the request conflicts with the state of the job or dead-letter entry, or a request with the same `Idempotency-Key` is still in progress (with `Retry-After`) |',
  '| 412    | `precondition-failed`       | `If-Match` names a version that is not the current one                |',
  '| 413    | `too-large`                 | the body is larger than 1 MB                                          |',
  '| 415    | `unsupported-media-type`    | the body is not `application/json`                                    |',
  '| 422    | `idempotency-key-reused`    | the `Idempotency-Key` was used before with a different body           |',
  '| 500    | `internal`                  | an unexpected error (logged; its message is never sent)               |',
  '| 503    | `unavailable`               | Redis or MongoDB did not answer; retry after `Retry-After` seconds    |',
  '',
  'Every route of the JSON API answers `503` (never `500`, never a hang) within about 2 s when',
  'MongoDB or Redis is unreachable, and recovers by itself when they are back.',
  '',
  '`404` for unknown routes and `405` for unsupported methods can be answered on any path and',
  'are not repeated on each operation.',
  '',
  '## Idempotent creation',
  '',
  '`POST /api/v1/jobs` and `POST /api/v1/jobs/batch` accept an `Idempotency-Key` header (1-255',
  'visible ASCII characters; a unique value per logical request, e.g. a UUID). The first request',
  'with a key runs; its response, if it is a `2xx`, is remembered for 24 hours, and a repeat with',
  'the same key and the same body gets that response again (same status, body, `Location` and',
  '`ETag`, plus `Idempotent-Replayed: true`) without creating anything. Concurrent repeats wait up',
  'to 5 s for the first one to finish (then `409` with `Retry-After`). The same key with a',
  'different body is `422`. A request that fails (`4xx`, `5xx`, `503`) created nothing and does',
  'not use up its key: retry it with the same key.',
  '',
  '## Optimistic concurrency',
  '',
  'Every job has a `version` that each change made through the API increments; the `ETag` of a',
  'job response is that version in double quotes (`"3"`). Send it back in `If-Match` on `PATCH`,',
  '`DELETE`, `pause` and `resume` to apply the change only if nobody changed the job in between',
  '(else `412`). Without `If-Match` (or with `If-Match: *`) the change is unconditional.',
  'Changes made by workers (`status`, `nextRunAt`, `lastRunAt`, `lastExecutionStatus`, the',
  'counters) do not change `version`, `ETag` or `updatedAt`.',
);

const TAGS: oas31.TagObject[] = [
  { name: 'jobs', description: 'Job definitions, their lifecycle (pause, resume, trigger) and their execution history.' },
  { name: 'executions', description: 'One execution record per attempt of a run.' },
  { name: 'dead-letter', description: 'Runs whose last attempt failed (or that stalled too often); inspect, retry or dismiss them.' },
  { name: 'health', description: 'Liveness and readiness probes.' },
  {
    name: 'docs',
    description: 'This contract, Swagger UI, and the Bull Board queue dashboard (browser UIs, not part of the JSON API).',
  },
];

// ----- responses ---------------------------------------------------------------------------------

const PROBLEM_RESPONSES: Record<string, ZodOpenApiResponseObject> = {
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
const FAILURES: ZodOpenApiResponsesObject = { '500': problem('InternalServerError'), '503': problem('ServiceUnavailable') };

const requestIdOnly = z.object({ 'X-Request-Id': XRequestIdHeader });
const jobHeaders = z.object({ ETag: ETagHeader, 'X-Request-Id': XRequestIdHeader });

const json = (schema: z.ZodType, more: { example?: unknown; examples?: oas31.ExamplesObject } = {}) => ({
  'application/json': { schema, ...more },
});

// ----- operations --------------------------------------------------------------------------------

function jobOperations(CreateJobRequest: z.ZodType, UpdateJobRequest: z.ZodType) {
  const listJobs: ZodOpenApiOperationObject = {
    tags: ['jobs'],
    operationId: 'listJobs',
    summary: 'List jobs',
    description: lines(
      'Lists job definitions, newest first (by id). With `nextRunBefore`, lists only jobs whose',
      '`nextRunAt` is set and earlier than that time, soonest first. All filters combine with AND.',
    ),
    requestParams: { query: JobListQuery },
    responses: {
      '200': {
        description: 'A page of jobs.',
        headers: requestIdOnly,
        content: json(JobList, { examples: { page: ref('examples', 'JobListPage') } }),
      },
      '400': problem(
        'BadRequest',
        'The query string is invalid (unknown parameter, bad enum value, limit out of range, malformed date) or the cursor was not returned by this API.',
      ),
      ...FAILURES,
    },
  };

  const createJob: ZodOpenApiOperationObject = {
    tags: ['jobs'],
    operationId: 'createJob',
    summary: 'Create a job',
    description: lines(
      'Validates the definition, stores it in MongoDB and registers its schedule with BullMQ: a',
      'Job Scheduler for `interval` and `cron`, a delayed job for `once` and `delay`. If the',
      'registration fails (Redis unavailable) the stored definition is removed again and the',
      'answer is `503`.',
      '',
      '`payload` is validated against the schema of the chosen `handler` (one variant of the body',
      'per handler); errors are reported under `payload.*`. A `once` schedule must be in the',
      'future, and so must the `endAt` of a repeating one.',
      '',
      'With an `Idempotency-Key`, a repeated request returns the first response instead of',
      'creating a second job (see "Idempotent creation" above).',
    ),
    parameters: [IdempotencyKeyParam],
    requestBody: { required: true, content: json(CreateJobRequest, { examples: examples.createJob }) },
    responses: {
      '201': {
        description: 'The job was created and scheduled (or, with a repeated `Idempotency-Key`, this is the first response again).',
        headers: z.object({
          Location: LocationHeader,
          ETag: ETagHeader,
          'Idempotent-Replayed': IdempotentReplayedHeader,
          'X-Request-Id': XRequestIdHeader,
        }),
        content: json(Job, { examples: { created: ref('examples', 'JobOnce') } }),
      },
      '400': problem(
        'BadRequest',
        'The body is not valid JSON, or the definition is invalid (unknown field, unknown handler, payload not matching the handler, ' +
          'invalid schedule or retry policy, a runAt or endAt in the past), or the `Idempotency-Key` header is malformed.',
      ),
      '409': problem('IdempotencyInProgress'),
      '413': problem('PayloadTooLarge'),
      '415': problem('UnsupportedMediaType'),
      '422': problem('IdempotencyKeyReused'),
      ...FAILURES,
    },
  };

  const createJobs: ZodOpenApiOperationObject = {
    tags: ['jobs'],
    operationId: 'createJobs',
    summary: 'Create up to 1,000 jobs in one request',
    description: lines(
      'Creates many job definitions at once. Each item of `jobs` is validated exactly like the',
      'body of `POST /api/v1/jobs` and answered on its own in `results` (in input order, with',
      'its `index`): `201` with the job, or a problem (`400` invalid, `503` not registered).',
      'The answer is `201` when every item was created and `207` otherwise (also when none',
      'was). A `400` problem for the whole request means the envelope itself is invalid (not',
      'an object with `jobs`, 0 or more than 1,000 items, or the body is not JSON).',
      '',
      'The valid items are stored with one `insertMany` (unordered) and registered with BullMQ',
      'in one round: one `addBulk` for all `once` and `delay` jobs, and one Job Scheduler',
      'upsert per `interval` or `cron` job (BullMQ has no bulk form for those; 16 run at a',
      'time, and after the first failure the rest are not tried). Items whose registration',
      'failed are deleted again and answered `503`, so no job is left half-created; the',
      'response then carries `Retry-After`. If MongoDB is unreachable the whole request is',
      '`503` and nothing is created. The body limit of 1 MB applies to the whole request.',
      'When every `once` or `delay` item is due at least 60 s later, their `addBulk` runs while',
      'the `insertMany` runs (the jobs of items the store refuses are removed again).',
    ),
    parameters: [IdempotencyKeyParam],
    requestBody: { required: true, content: json(BatchEnvelope, { examples: examples.createJobs }) },
    responses: {
      '201': {
        description: 'Every item was created and scheduled.',
        headers: z.object({ 'Idempotent-Replayed': IdempotentReplayedHeader, 'X-Request-Id': XRequestIdHeader }),
        content: json(CreateJobsResult),
      },
      '207': {
        description: 'At least one item was not created; each item has its own status.',
        headers: z.object({
          'Retry-After': RetryAfterHeader,
          'Idempotent-Replayed': IdempotentReplayedHeader,
          'X-Request-Id': XRequestIdHeader,
        }),
        content: json(CreateJobsResult, { example: examples.createJobsPartial }),
      },
      '400': problem(
        'BadRequest',
        'The envelope is invalid (not `{ jobs: [...] }`, 0 or more than 1,000 items), the body is not valid JSON, or the ' +
          '`Idempotency-Key` header is malformed.',
      ),
      '409': problem('IdempotencyInProgress'),
      '413': problem('PayloadTooLarge'),
      '415': problem('UnsupportedMediaType'),
      '422': problem('IdempotencyKeyReused'),
      ...FAILURES,
    },
  };

  const triggerJobs: ZodOpenApiOperationObject = {
    tags: ['jobs'],
    operationId: 'triggerJobs',
    summary: 'Run many jobs once now, in one request',
    description: lines(
      'Queues one manual run for each id in `jobIds` (up to 1,000; an id may repeat, one run per',
      'occurrence), exactly as `POST /api/v1/jobs/{jobId}/trigger` queues one, with one BullMQ',
      '`addBulk` (one Redis round trip) for the whole request. Each item is answered on its own',
      'in `results` (in input order, with its `index`): `202` with the run, or `404` when no job',
      'has that id. The answer is `202` when every run was queued and `207` otherwise (also when',
      'none was). A store or Redis failure fails the whole request (`503`) and queues nothing:',
      'the `addBulk` is one MULTI transaction. Meant for producers that queue many runs at a',
      'time: it costs the API and Redis a fraction of one request per run.',
    ),
    requestBody: { required: true, content: json(TriggerEnvelope, { example: examples.triggerJobs }) },
    responses: {
      '202': {
        description: 'Every run was queued.',
        headers: requestIdOnly,
        content: json(TriggerJobsResult, { example: examples.triggerJobsQueued }),
      },
      '207': {
        description: 'At least one id has no job; each item has its own status.',
        headers: requestIdOnly,
        content: json(TriggerJobsResult),
      },
      '400': problem('BadRequest', 'The body is invalid (not `{ jobIds: [...] }` with 1 to 1,000 non-empty strings) or not valid JSON.'),
      '413': problem('PayloadTooLarge'),
      '415': problem('UnsupportedMediaType'),
      ...FAILURES,
    },
  };

  const getJob: ZodOpenApiOperationObject = {
    tags: ['jobs'],
    operationId: 'getJob',
    summary: 'Get a job with its recent executions',
    description: 'The job, its `ETag`, and its 10 most recent execution records (newest first) in `recentExecutions`.',
    responses: {
      '200': {
        description: 'The job.',
        headers: jobHeaders,
        content: json(JobWithExecutions, { examples: { interval: ref('examples', 'JobWithExecutions') } }),
      },
      '404': problem('NotFound', 'No job has this id (or the id is not a 24-digit hex ObjectId).'),
      ...FAILURES,
    },
  };

  const updateJob: ZodOpenApiOperationObject = {
    tags: ['jobs'],
    operationId: 'updateJob',
    summary: 'Change a job',
    description: lines(
      'Changes any of `name`, `handler`, `payload`, `schedule`, `retry`, `timeoutMs` (at least',
      'one). Each given field replaces the stored one as a whole: a new `retry` or `schedule`',
      'takes its own defaults, not the current values. Changing `handler` requires `payload`',
      '(validated against the new handler); a `payload` alone is validated against the current',
      'handler.',
      '',
      'A new `schedule` brings a `completed` or `failed` job back to `scheduled` (a `paused` job',
      'stays paused) and recomputes `nextRunAt`. Any change of a scheduled job re-registers its',
      "BullMQ counterpart (which restarts a repeating schedule's `limit` count). Increments",
      '`version`.',
    ),
    parameters: [IfMatchParam],
    requestBody: { required: true, content: json(UpdateJobRequest, { examples: examples.updateJob }) },
    responses: {
      '200': { description: 'The changed job.', headers: jobHeaders, content: json(Job) },
      '400': problem(
        'BadRequest',
        'Invalid `If-Match` header, body not valid JSON, or an invalid change (no field, unknown field, payload not matching the ' +
          'handler, handler without payload, invalid or past schedule).',
      ),
      '404': problem('NotFound', 'No job has this id.'),
      '409': problem('Conflict', 'The job was modified concurrently and the request had no `If-Match`; retry it.'),
      '412': problem('PreconditionFailed'),
      '413': problem('PayloadTooLarge'),
      '415': problem('UnsupportedMediaType'),
      ...FAILURES,
    },
  };

  const deleteJob: ZodOpenApiOperationObject = {
    tags: ['jobs'],
    operationId: 'deleteJob',
    summary: 'Delete a job',
    description: lines(
      "Removes the job's BullMQ counterpart (first, so that nothing changes when Redis is",
      'unavailable) and then the definition. Its execution records and dead-letter entries stay',
      '(executions remain readable with `GET /api/v1/executions/{executionId}`; the entries can',
      'only be dismissed). Runs already queued for it are skipped by workers, and its attempts in',
      'flight are aborted (recorded `cancelled`). No request body is read.',
    ),
    parameters: [IfMatchParam],
    responses: {
      '204': { description: 'The job was deleted.', headers: requestIdOnly },
      '400': problem('BadRequest', 'Invalid `If-Match` header.'),
      '404': problem('NotFound', 'No job has this id.'),
      '409': problem('Conflict', 'The job was modified concurrently and the request had no `If-Match`; retry it.'),
      '412': problem('PreconditionFailed'),
      ...FAILURES,
    },
  };

  const lifecycle = (
    operationId: string,
    summary: string,
    description: string,
    ok: string,
    conflict: string,
  ): ZodOpenApiOperationObject => ({
    tags: ['jobs'],
    operationId,
    summary,
    description,
    parameters: [IfMatchParam],
    responses: {
      '200': { description: ok, headers: jobHeaders, content: json(Job) },
      '400': problem('BadRequest', 'Invalid `If-Match` header, a field in the body, or a body that is not valid JSON.'),
      '404': problem('NotFound', 'No job has this id.'),
      '409': problem('Conflict', conflict),
      '412': problem('PreconditionFailed'),
      '413': problem('PayloadTooLarge'),
      '415': problem('UnsupportedMediaType'),
      ...FAILURES,
    },
  });

  const pauseJob = lifecycle(
    'pauseJob',
    'Pause a job',
    lines(
      "Unregisters the job's schedule; `status` becomes `paused` and `nextRunAt` null. A run",
      'already executing finishes (to stop it, `POST /api/v1/jobs/{jobId}/cancel`). Pausing a',
      'paused job changes nothing (`200` with the job as it is). Only `scheduled` and `paused`',
      'jobs can be paused: a `completed`, `failed` or `cancelled` job is `409` (give it a new',
      'schedule with `PATCH` instead). It takes no body: none, or `{}`; a field in it is a `400` naming it.',
    ),
    'The paused job.',
    'The job is `completed`, `failed` or `cancelled`, or it was modified concurrently (without `If-Match`).',
  );

  const resumeJob = lifecycle(
    'resumeJob',
    'Resume a paused job',
    lines(
      'Registers the schedule again; `status` becomes `scheduled`. A repeating job starts afresh',
      '(a `cron` at its first slot after now, an `interval` at `startAt` or at once; its `limit`',
      'count restarts). A one-time job keeps its original due time, or runs at once if that has',
      'passed. Resuming a scheduled job changes nothing (`200`). A `completed`, `failed` or',
      '`cancelled` job is `409`. It takes no body: none, or `{}`; a field in it is a `400` naming it.',
    ),
    'The resumed job.',
    'The job is `completed`, `failed` or `cancelled` (only paused jobs can be resumed), or it was modified concurrently (without `If-Match`).',
  );

  const triggerJob: ZodOpenApiOperationObject = {
    tags: ['jobs'],
    operationId: 'triggerJob',
    summary: 'Run a job once now',
    description: lines(
      "Queues one run of the job's current definition now, outside its schedule and whatever",
      "its status (paused, completed and failed jobs too), with the job's retry policy. The",
      "schedule and the job's status are not affected. The run's trigger is `manual`, its id",
      '`<jobId>-m-<random>`, and its executions `<runId>.1`, `<runId>.2`, ... It takes no body: none, or `{}`; a field in it is a `400` naming it.',
    ),
    responses: {
      '202': {
        description: 'The run was queued.',
        headers: requestIdOnly,
        content: json(RunAccepted, { example: examples.triggerJobQueued }),
      },
      '400': problem('BadRequest', 'A field in the body, or a body that is not valid JSON.'),
      '404': problem('NotFound', 'No job has this id.'),
      '413': problem('PayloadTooLarge'),
      '415': problem('UnsupportedMediaType'),
      ...FAILURES,
    },
  };

  const cancelJobRuns: ZodOpenApiOperationObject = {
    tags: ['jobs'],
    operationId: 'cancelJobRuns',
    summary: "Abort the job's runs in flight",
    description: lines(
      "Aborts every attempt of the job that a worker is running now: the handler's abort signal",
      'fires, and the attempt is recorded `cancelled` and neither retried nor dead-lettered. A',
      'one-time job whose scheduled run is cancelled ends `cancelled`; a repeating job keeps its',
      'schedule. The job is not changed otherwise (pause stops future runs; it lets a run in',
      'flight finish). Deleting a job cancels its runs in flight the same way. Answers the runs',
      'that were in flight; none is not an error. It takes no body: none, or `{}`; a field in it is a `400` naming it.',
    ),
    responses: {
      '202': {
        description: 'The runs in flight were told to stop.',
        headers: requestIdOnly,
        content: json(RunsCancelled, { example: { jobId: '6b0411d5f6f66b9c7ecddd25', runIds: ['6b0411d5f6f66b9c7ecddd25-v1'] } }),
      },
      '400': problem('BadRequest', 'A field in the body, or a body that is not valid JSON.'),
      '404': problem('NotFound', 'No job has this id.'),
      '413': problem('PayloadTooLarge'),
      '415': problem('UnsupportedMediaType'),
      ...FAILURES,
    },
  };

  const listJobExecutions: ZodOpenApiOperationObject = {
    tags: ['jobs', 'executions'],
    operationId: 'listJobExecutions',
    summary: "List a job's executions",
    description: lines(
      "The job's execution records (one per attempt), newest first by `startedAt`. Records are",
      'written when an attempt ends, in batches, so a finished attempt may appear a moment',
      'later. The job must exist (the history of a deleted job is not listed). History is',
      'bounded by retention: by default the newest 1,000 records per job are kept (trimmed once',
      'the job has run 100 more times, so about 1,100 in between, more when runs retry) and',
      'none older than 30 days (`EXECUTION_RETENTION_PER_JOB`, `EXECUTION_RETENTION_DAYS`).',
    ),
    requestParams: { query: ExecutionListQuery },
    responses: {
      '200': {
        description: 'A page of execution records.',
        headers: requestIdOnly,
        content: json(ExecutionList, { examples: { page: ref('examples', 'ExecutionListPage') } }),
      },
      '400': problem('BadRequest', 'The query string is invalid or the cursor was not returned by this API.'),
      '404': problem('NotFound', 'No job has this id.'),
      ...FAILURES,
    },
  };

  return {
    listJobs,
    createJob,
    createJobs,
    triggerJobs,
    getJob,
    updateJob,
    deleteJob,
    pauseJob,
    resumeJob,
    triggerJob,
    cancelJobRuns,
    listJobExecutions,
  };
}

const getExecution: ZodOpenApiOperationObject = {
  tags: ['executions'],
  operationId: 'getExecution',
  summary: 'Get an execution record',
  description: 'One execution record, also for jobs that have been deleted since.',
  responses: {
    '200': {
      description: 'The execution record.',
      headers: requestIdOnly,
      content: json(Execution, {
        examples: { failed: ref('examples', 'ExecutionFailed'), succeeded: ref('examples', 'ExecutionSucceeded') },
      }),
    },
    '404': problem(
      'NotFound',
      'No execution has this id (or the id has characters other than letters, digits and `:._-`, or is longer than 300).',
    ),
    ...FAILURES,
  },
};

const listDeadLetterEntries: ZodOpenApiOperationObject = {
  tags: ['dead-letter'],
  operationId: 'listDeadLetterEntries',
  summary: 'List dead-letter entries',
  description: 'Entries in one state (`open` unless `state` says otherwise), optionally of one job, newest `failedAt` first.',
  requestParams: { query: DeadLetterListQuery },
  responses: {
    '200': {
      description: 'A page of dead-letter entries.',
      headers: requestIdOnly,
      content: json(DeadLetterList, { examples: { page: ref('examples', 'DeadLetterListPage') } }),
    },
    '400': problem('BadRequest', 'The query string is invalid (e.g. `jobId` is not a job id) or the cursor was not returned by this API.'),
    ...FAILURES,
  },
};

const getDeadLetterEntry: ZodOpenApiOperationObject = {
  tags: ['dead-letter'],
  operationId: 'getDeadLetterEntry',
  summary: 'Get a dead-letter entry',
  responses: {
    '200': {
      description: 'The entry.',
      headers: requestIdOnly,
      content: json(DeadLetterEntry, {
        examples: { open: ref('examples', 'DeadLetterOpen'), retried: ref('examples', 'DeadLetterRetried') },
      }),
    },
    '404': problem('NotFound', 'No entry has this id.'),
    ...FAILURES,
  },
};

const dismissDeadLetterEntry: ZodOpenApiOperationObject = {
  tags: ['dead-letter'],
  operationId: 'dismissDeadLetterEntry',
  summary: 'Dismiss (delete) a dead-letter entry',
  description: 'Deletes the entry, in either state. The execution records stay.',
  responses: {
    '204': { description: 'The entry was deleted.', headers: requestIdOnly },
    '404': problem('NotFound', 'No entry has this id.'),
    ...FAILURES,
  },
};

const retryDeadLetterEntry: ZodOpenApiOperationObject = {
  tags: ['dead-letter'],
  operationId: 'retryDeadLetterEntry',
  summary: 'Retry a dead-letter entry',
  description: lines(
    "Runs the entry's job once more now, with the job's current definition and a fresh set of",
    'attempts (trigger `dead-letter-retry`, run id `<jobId>-r-<random>`), and marks the entry',
    '`retried` (`retriedAt`, `retryRunId`). A successful retry of a `failed` one-time job makes',
    'it `completed`. If the run cannot be queued (Redis unavailable) the entry is reopened and',
    'the answer is `503`. It takes no body: none, or `{}`; a field in it is a `400` naming it.',
  ),
  responses: {
    '202': { description: 'The run was queued.', headers: requestIdOnly, content: json(RunAccepted, { example: examples.retryQueued }) },
    '400': problem('BadRequest', 'A field in the body, or a body that is not valid JSON.'),
    '404': problem('NotFound', 'No entry has this id.'),
    '409': problem('Conflict', 'The entry was already retried, or its job has been deleted (the entry can only be dismissed).'),
    '413': problem('PayloadTooLarge'),
    '415': problem('UnsupportedMediaType'),
    ...FAILURES,
  },
};

const getLiveness: ZodOpenApiOperationObject = {
  tags: ['health'],
  operationId: 'getLiveness',
  summary: 'Liveness probe',
  description: 'Answers as long as the process serves HTTP; checks no dependency.',
  responses: {
    '200': { description: 'The process is alive.', headers: requestIdOnly, content: json(HealthLive, { example: examples.healthLive }) },
  },
};

const getReadiness: ZodOpenApiOperationObject = {
  tags: ['health'],
  operationId: 'getReadiness',
  summary: 'Readiness probe',
  description: lines(
    'Pings Redis and MongoDB in parallel; each must answer within 1.5 s. `200` when both do,',
    'else `503` with `Retry-After: 5`. Either way the body reports each check.',
  ),
  responses: {
    '200': {
      description: 'Redis and MongoDB answered.',
      headers: requestIdOnly,
      content: json(HealthReady, { example: examples.healthReady }),
    },
    '503': {
      description: 'At least one dependency did not answer (a JSON health report, not a problem document).',
      headers: z.object({ 'Retry-After': RetryAfterHeader, 'X-Request-Id': XRequestIdHeader }),
      content: json(HealthReady, { example: examples.healthNotReady }),
    },
  },
};

const html = (description: string): ZodOpenApiResponsesObject => ({
  '200': { description, headers: requestIdOnly, content: { 'text/html': { schema: z.string() } } },
});

const getOpenApiDocument: ZodOpenApiOperationObject = {
  tags: ['docs'],
  operationId: 'getOpenApiDocument',
  summary: 'This OpenAPI document',
  description: 'The contract as YAML, read once when the API starts.',
  responses: {
    '200': { description: 'The OpenAPI 3.1 document.', headers: requestIdOnly, content: { 'application/yaml': { schema: z.string() } } },
  },
};

const getSwaggerUi: ZodOpenApiOperationObject = {
  tags: ['docs'],
  operationId: 'getSwaggerUi',
  summary: 'Swagger UI',
  description: 'An HTML page with Swagger UI rendering `/openapi.yaml` (also served at `/docs/`).',
  responses: html('The Swagger UI page.'),
};

const getQueueDashboard: ZodOpenApiOperationObject = {
  tags: ['docs'],
  operationId: 'getQueueDashboard',
  summary: 'Bull Board queue dashboard',
  description: lines(
    'The Bull Board web UI for the BullMQ queue `jobs` (waiting, delayed, active, failed jobs',
    "and Job Schedulers). The UI's own assets and JSON endpoints under `/admin/queues/` are",
    'internal to Bull Board and not part of this contract. It has no authentication.',
  ),
  responses: html('The dashboard page.'),
};

// ----- the document ------------------------------------------------------------------------------

/** Presentation of what zod renders: no safe-integer bounds nor date-time regex (`format` says it). */
function tidy({ jsonSchema }: ZodOpenApiOverrideContext): void {
  const s = jsonSchema as Record<string, unknown>;
  if (s.maximum === Number.MAX_SAFE_INTEGER) delete s.maximum;
  if (s.minimum === Number.MIN_SAFE_INTEGER) delete s.minimum;
  if (s.format === 'date-time') delete s.pattern;
}

/** The OpenAPI 3.1 document of the API with the handlers of `registry`. */
export function buildOpenApiDocument(registry: HandlerCatalog): OpenApiDocument {
  const docs = handlerDocs(registry);
  if (docs.length === 0) throw new Error('the registry has no handler');

  const CreateJobRequest = z.discriminatedUnion('handler', docs.map((d) => d.variant) as [z.ZodObject, ...z.ZodObject[]]).meta({
    id: 'CreateJobRequest',
    description: lines(
      "A new job definition: one variant per handler, told apart by `handler`. `payload` must match that handler's",
      'payload schema; it may be left out when the schema accepts `{}`.',
    ),
  });
  const PatchJob = patchJobSchema(registry);
  const UpdateJobRequest = z.strictObject({ ...PatchJob.shape, handler: HandlerName.optional() }).meta({
    id: 'UpdateJobRequest',
    description: lines(
      'The fields to change, at least one. Each replaces the stored value as a whole. `handler`',
      "requires `payload`; a `payload` without `handler` is validated against the job's",
      'current handler.',
    ),
    minProperties: 1,
    dependentRequired: { handler: ['payload'] },
  });
  const withPayloadRules = new Set<unknown>([Job, JobWithExecutions, UpdateJobRequest]);
  const payloads = new Map<unknown, HandlerDoc>(docs.map((d) => [d.handler.payloadSchema, d]));
  const results = new Map<unknown, HandlerDoc>(docs.filter((d) => d.handler.resultSchema).map((d) => [d.handler.resultSchema, d]));

  const override = (ctx: ZodOpenApiOverrideContext) => {
    tidy(ctx);
    const s = ctx.jsonSchema as Record<string, unknown>;
    const zodSchema: unknown = ctx.zodSchema;
    if (zodSchema === HandlerName) {
      delete s.minLength;
      delete s.maxLength;
      s.enum = docs.map((d) => d.handler.name);
      s.description = lines(
        'The handler that runs the job:',
        '',
        ...docs.map((d) => `- \`${d.handler.name}\`: ${d.handler.description} Payload: \`${d.payloadId}\`.`),
      );
    } else if (zodSchema === BatchItem) {
      s.$ref = ref('schemas', 'CreateJobRequest').$ref;
    } else if (withPayloadRules.has(zodSchema)) {
      s.allOf = [ref('schemas', 'HandlerPayloadRules')];
    }
    const payload = payloads.get(zodSchema);
    if (payload) {
      s.title ??= `${payload.handler.name} payload`;
      s.description = `Payload of the \`${payload.handler.name}\` handler. ${(s.description as string | undefined) ?? payload.handler.description}`;
    }
    const result = results.get(zodSchema);
    if (result) {
      s.title ??= `${result.handler.name} result`;
      s.description ??= `The \`result\` of a \`${result.handler.name}\` execution.`;
    }
  };

  return createDocument(
    {
      openapi: '3.1.0',
      info: {
        title: 'Tock',
        version: '0.1.0',
        summary: 'Job scheduler and execution engine (Koa REST API over MongoDB and BullMQ).',
        description: INFO_DESCRIPTION,
        license: { name: 'MIT', identifier: 'MIT' },
      },
      security: [],
      servers: [{ url: 'http://localhost:3000', description: 'Local instance (`npm start`); the default PORT is 3000.' }],
      tags: TAGS,
      paths: pathsOf(jobOperations(CreateJobRequest, UpdateJobRequest)),
      components: {
        schemas: {
          HandlerPayloadRules: handlerPayloadRules(docs),
          ...Object.fromEntries(docs.map((d) => [d.payloadId, d.handler.payloadSchema])),
          ...Object.fromEntries(docs.filter((d) => d.resultId).map((d) => [d.resultId!, d.handler.resultSchema!])),
        },
        responses: PROBLEM_RESPONSES,
        examples: examples.componentExamples,
      },
    },
    { override },
  );
}

function pathsOf(jobs: ReturnType<typeof jobOperations>) {
  const api = [XRequestIdParam];
  const job = [JobIdParam, XRequestIdParam];
  return {
    '/api/v1/jobs': { parameters: api, get: jobs.listJobs, post: jobs.createJob },
    '/api/v1/jobs/batch': { parameters: api, post: jobs.createJobs },
    '/api/v1/jobs/trigger': { parameters: api, post: jobs.triggerJobs },
    '/api/v1/jobs/{jobId}': { parameters: job, get: jobs.getJob, patch: jobs.updateJob, delete: jobs.deleteJob },
    '/api/v1/jobs/{jobId}/pause': { parameters: job, post: jobs.pauseJob },
    '/api/v1/jobs/{jobId}/resume': { parameters: job, post: jobs.resumeJob },
    '/api/v1/jobs/{jobId}/trigger': { parameters: job, post: jobs.triggerJob },
    '/api/v1/jobs/{jobId}/cancel': { parameters: job, post: jobs.cancelJobRuns },
    '/api/v1/jobs/{jobId}/executions': { parameters: job, get: jobs.listJobExecutions },
    '/api/v1/executions/{executionId}': { parameters: [ExecutionIdParam, XRequestIdParam], get: getExecution },
    '/api/v1/dead-letter': { parameters: api, get: listDeadLetterEntries },
    '/api/v1/dead-letter/{entryId}': {
      parameters: [DeadLetterEntryIdParam, XRequestIdParam],
      get: getDeadLetterEntry,
      delete: dismissDeadLetterEntry,
    },
    '/api/v1/dead-letter/{entryId}/retry': { parameters: [DeadLetterEntryIdParam, XRequestIdParam], post: retryDeadLetterEntry },
    '/health/live': { parameters: api, get: getLiveness },
    '/health/ready': { parameters: api, get: getReadiness },
    '/openapi.yaml': { get: getOpenApiDocument },
    '/docs': { get: getSwaggerUi },
    '/admin/queues': { get: getQueueDashboard },
  };
}

/** Object keys in a fixed order: components by name, everything else as built. */
function sortComponents(doc: OpenApiDocument): OpenApiDocument {
  const components = Object.fromEntries(
    Object.entries(doc.components ?? {}).map(([kind, items]) => [
      kind,
      Object.fromEntries(Object.entries(items as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b, 'en'))),
    ]),
  );
  return { ...doc, components };
}

export const OPENAPI_HEADER = [
  '# Generated from the zod schemas (src/api/schemas.ts, src/domain, the handlers) by src/api/openapi.ts.',
  '# Do not edit by hand: change the schemas, then run `npm run openapi` to regenerate this file.',
].join('\n');

/** openapi.yaml as `npm run openapi` writes it. */
export function renderOpenApiYaml(registry: HandlerCatalog): string {
  const body = stringify(sortComponents(buildOpenApiDocument(registry)), {
    schema: 'yaml-1.1',
    lineWidth: 0,
    aliasDuplicateObjects: false,
  });
  return `${OPENAPI_HEADER}\n${body}`;
}
