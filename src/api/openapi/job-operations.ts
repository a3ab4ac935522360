/** The operations under /api/v1/jobs: create (one or a batch), list, read, change, delete, pause, resume, trigger, cancel. */
import { z } from 'zod';
import type { ZodOpenApiOperationObject } from 'zod-openapi';
import {
  CreatedJob,
  BatchEnvelope,
  CreateJobsResult,
  ETagHeader,
  ExecutionList,
  ExecutionListQuery,
  IdempotencyKeyParam,
  IdempotentReplayedHeader,
  IfMatchParam,
  Job,
  JobList,
  JobListQuery,
  JobWithExecutions,
  LocationHeader,
  RetryAfterHeader,
  RunAccepted,
  RunsCancelled,
  TriggerEnvelope,
  TriggerJobsResult,
  XRequestIdHeader,
} from '../schemas';
import * as examples from './examples';
import { jobHeaders, json, lines, ref, requestIdOnly } from './fragments';
import { FAILURES, problem } from './problems';

export function jobOperations(CreateJobRequest: z.ZodType, UpdateJobRequest: z.ZodType) {
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
        content: json(CreatedJob, { examples: { created: ref('examples', 'CreatedJobOnce') } }),
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
