import { z } from 'zod';
import { NotifyTargetsSchema } from '../domain/notify';
import { SCOPES } from '../domain/access';
import { AUDIT_ACTIONS } from '../domain/audit';
import { EXECUTION_STATUSES, JOB_STATUSES, TRIGGERS } from '../domain/job-definition';
import { RetryPolicySchema } from '../domain/retry';
import { SCHEDULE_KINDS, ScheduleSchema } from '../domain/schedule';

/**
 * The zod schemas of the HTTP API: what the routes validate (query strings, batch envelopes) and
 * what they answer (resources, pages, batch results, problems, health). Together with the domain's
 * schemas (createJobSchema, patchJobSchema, ScheduleSchema, RetryPolicySchema) and each handler's
 * payloadSchema they are the one source of the OpenAPI contract (src/api/openapi.ts builds
 * openapi.yaml from them). `.meta({ id })` names a component of the contract; `description` and
 * `examples` go into it as they are.
 *
 * The response schemas are never used to parse anything: the serializers (serializers.ts) produce
 * the bodies, and the integration tests check every real response against the generated contract.
 */

// ----- shared ------------------------------------------------------------------------------------

export const OBJECT_ID = /^[0-9a-fA-F]{24}$/;

export const ObjectId = z
  .string()
  .regex(OBJECT_ID)
  .meta({ id: 'ObjectId', description: 'A MongoDB ObjectId, 24 hexadecimal digits.', examples: ['6b0411d5f6f66b9c7ecddd26'] });

/**
 * A handler's name. In the contract it is the enumeration of the registry's handlers (openapi.ts
 * fills it in from the HandlerRegistry it is given).
 */
export const HandlerName = z.string().min(1).max(100).meta({ id: 'HandlerName' });

export const JobStatus = z.enum(JOB_STATUSES).meta({
  id: 'JobStatus',
  description: [
    '- `scheduled`: registered in BullMQ; `nextRunAt` is the next run (or null when none is left).',
    '- `paused`: nothing registered; `nextRunAt` is null.',
    '- `completed`: a one-time job whose run succeeded, or a repeating job that ran out (`endAt`, `limit`).',
    '- `failed`: a one-time job whose run failed for good.',
    '- `cancelled`: a one-time job whose run was cancelled (`POST /jobs/{jobId}/cancel`).',
  ].join('\n'),
});

export const ExecutionStatus = z.enum(EXECUTION_STATUSES).meta({
  id: 'ExecutionStatus',
  description:
    'Status of one attempt. `stalled`: the worker running it stopped responding (its lock expired). `skipped`: an occurrence that ' +
    'did not run: error code `overlap` (the previous one still ran, overlap `forbid`) or `misfire` (it started more than the misfire ' +
    'grace after its slot under misfire `skip`, or it was passed over because the occurrence before it started more than a period ' +
    'late). `cancelled`: aborted because its job was deleted or its run cancelled (`POST /jobs/{jobId}/cancel`); not retried. ' +
    'Records are written when an attempt ends, so `running` is part of the enumeration (and accepted as a filter) but is not ' +
    'expected in stored records.',
});

export const Trigger = z.enum(TRIGGERS).meta({
  id: 'Trigger',
  description:
    'What started the run: `schedule` (run id `repeat:<jobId>:<slotMillis>` for repeating jobs, `<jobId>-v<version>` for one-time ' +
    'jobs), `manual` (`POST /jobs/{jobId}/trigger`, run id `<jobId>-m-<hex>`) or `dead-letter-retry` ' +
    '(`POST /dead-letter/{entryId}/retry`, run id `<jobId>-r-<hex>`).',
});

export const ScheduleKind = z.enum(SCHEDULE_KINDS).meta({ id: 'ScheduleKind' });

/** A date as the API answers it: JSON of a Date, ISO 8601 in UTC with milliseconds. */
export const Timestamp = z.iso.datetime();

// ----- query strings -----------------------------------------------------------------------------

export const Limit = z.coerce
  .number()
  .int()
  .min(1)
  .max(100)
  .default(20)
  .meta({ param: { id: 'Limit', description: 'Page size.' } });

export const Cursor = z
  .string()
  .min(1)
  .max(1000)
  .optional()
  .meta({
    param: {
      id: 'Cursor',
      description: 'The `nextCursor` of the previous page (opaque; only cursors returned by the same list are accepted, else `400`).',
    },
  });

export const JobListQuery = z.strictObject({
  status: JobStatus.optional().meta({ description: 'Only jobs in this status.' }),
  handler: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .meta({ param: { description: 'Only jobs with this handler (exact match).', example: 'http' } }),
  scheduleKind: ScheduleKind.optional().meta({ description: 'Only jobs whose schedule has this kind.' }),
  name: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .meta({ param: { description: 'Only jobs whose name contains this text (case-insensitive).', example: 'report' } }),
  nextRunBefore: z.iso
    .datetime({ offset: true })
    .transform((s) => new Date(s))
    .optional()
    .meta({
      param: {
        description:
          'Only jobs with a next run strictly before this time (ISO 8601 date-time with seconds and an offset; encode `+` as `%2B`); ' +
          'switches the order to soonest `nextRunAt` first.',
        example: '2030-01-01T00:00:00Z',
      },
    }),
  limit: Limit,
  cursor: Cursor,
});

export const ExecutionListQuery = z.strictObject({
  status: ExecutionStatus.optional().meta({ description: 'Only executions in this status.' }),
  limit: Limit,
  cursor: Cursor,
});

export const DeadLetterListQuery = z.strictObject({
  jobId: z
    .string()
    .regex(OBJECT_ID, 'must be a job id')
    .optional()
    .meta({ param: { description: 'Only entries of this job (which may have been deleted since).', example: '6b0411d5f6f66b9c7ecddd26' } }),
  state: z
    .enum(['open', 'retried'])
    .default('open')
    .meta({ param: { description: 'Only entries in this state.' } }),
  limit: Limit,
  cursor: Cursor,
});

// ----- request headers and path parameters (documented; the routes read them by hand) ------------

export const XRequestIdParam = z
  .string()
  .optional()
  .meta({
    // Not a component: Swagger UI 5 shows a path-level parameter given by $ref as a nameless `any`.
    // No example either: "Try it out" would send the same id with every request.
    param: {
      in: 'header',
      name: 'X-Request-Id',
      description:
        'A request id to correlate logs (e.g. a UUID, one per request); echoed in the response. When absent, or when it is not ' +
        '1-128 letters, digits and `._:-`, the API generates a UUID instead.',
    },
  });

export const IdempotencyKeyParam = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/)
  .optional()
  .meta({
    param: {
      id: 'IdempotencyKey',
      in: 'header',
      name: 'Idempotency-Key',
      description:
        'Makes the creation idempotent for 24 hours: a repeat with the same key and body returns the first response and creates ' +
        'nothing. A unique value per logical request, e.g. a UUID (1-255 visible ASCII characters). Reusing a key with another ' +
        'body is `422`.',
    },
  });

export const IfMatchParam = z
  .string()
  .regex(/^\s*(\*|(W\/)?"?\d{1,15}"?)?\s*$/)
  .optional()
  .meta({
    param: {
      id: 'IfMatch',
      in: 'header',
      name: 'If-Match',
      description:
        'The job\'s `ETag` (`"3"`; `W/"3"` and a bare `3` are accepted too). The operation applies only if the job is still at that ' +
        'version, else `412`. Absent or `*`: unconditional. Any other value (including a list of ETags) is `400`.',
      example: '"3"',
    },
  });

export const JobIdParam = z.string().meta({
  param: {
    id: 'JobId',
    in: 'path',
    name: 'jobId',
    description:
      'The job id (a MongoDB ObjectId, 24 hexadecimal digits). An id that is not an ObjectId is answered like an unknown one, with `404`.',
    example: '6b0411d5f6f66b9c7ecddd26',
  },
});

export const ExecutionIdParam = z.string().meta({
  param: {
    id: 'ExecutionId',
    in: 'path',
    name: 'executionId',
    description:
      'The execution id, `<runId>.<attempt>`. Ids are 1-300 characters among letters, digits and `:._-`; anything else is answered with `404`.',
    example: 'repeat:6b0411d5f6f66b9c7ecddd26:1795428823408.2',
  },
});

export const DeadLetterEntryIdParam = z.string().meta({
  param: {
    id: 'DeadLetterEntryId',
    in: 'path',
    name: 'entryId',
    description:
      'The entry id, which is the run id of the run that failed. Ids are 1-300 characters among letters, digits and `:._-`; anything ' +
      'else is answered with `404`.',
    example: 'repeat:6b0411d5f6f66b9c7ecddd26:1795428823408',
  },
});

// ----- request bodies ----------------------------------------------------------------------------

export const MAX_BATCH = 1000;

/** One item of a batch: validated on its own, like the body of POST /jobs (CreateJobRequest in the contract). */
export const BatchItem = z.unknown().meta({
  description: 'A definition like the body of `POST /api/v1/jobs`; validated on its own and answered per item.',
});

export const BatchEnvelope = z
  .strictObject({
    jobs: z
      .array(BatchItem)
      .min(1)
      .max(MAX_BATCH)
      .meta({ description: 'The definitions, each like the body of `POST /api/v1/jobs` (validated one by one and answered per item).' }),
  })
  .meta({ id: 'CreateJobsRequest' });

export const TriggerEnvelope = z
  .strictObject({
    jobIds: z
      .array(z.string().min(1).max(100))
      .min(1)
      .max(MAX_BATCH)
      .meta({ description: 'The jobs to run once now; an id may repeat (one run per occurrence).' }),
  })
  .meta({ id: 'TriggerJobsRequest' });

// ----- response headers --------------------------------------------------------------------------

export const XRequestIdHeader = z
  .string()
  .optional()
  .meta({ header: { id: 'XRequestId', description: 'The request id (the one sent, or a generated UUID).' } });

export const ETagHeader = z
  .string()
  .regex(/^"\d+"$/)
  .optional()
  .meta({
    header: {
      id: 'ETag',
      description: "The job's version in double quotes; send it in `If-Match` for conditional changes.",
      example: '"1"',
    },
  });

export const LocationHeader = z
  .string()
  .optional()
  .meta({ header: { id: 'Location', description: 'The path of the new job.', example: '/api/v1/jobs/6b0411d5f6f66b9c7ecddd25' } });

export const RetryAfterHeader = z
  .number()
  .int()
  .min(0)
  .optional()
  .meta({ header: { id: 'RetryAfter', description: 'Seconds to wait before retrying.', example: 5 } });

export const IdempotentReplayedHeader = z
  .literal('true')
  .optional()
  .meta({
    header: {
      id: 'IdempotentReplayed',
      description: '`true` when this is the remembered response of an earlier request with the same `Idempotency-Key`.',
    },
  });

// ----- problems ----------------------------------------------------------------------------------

/** The `<code>` of every problem type the API answers (problem.ts and the AppErrors). */
export const PROBLEM_CODES = [
  'validation',
  'malformed',
  'not-found',
  'method-not-allowed',
  'conflict',
  'precondition-failed',
  'too-large',
  'unsupported-media-type',
  'idempotency-key-reused',
  'unauthorized',
  'forbidden',
  'too-many-requests',
  'misdirected-request',
  'internal',
  'unavailable',
] as const;
export type ProblemCode = (typeof PROBLEM_CODES)[number];

export const PROBLEM_STATUSES = [400, 401, 403, 404, 405, 409, 412, 413, 415, 421, 422, 429, 500, 503] as const;

/** The reason phrases of PROBLEM_STATUSES, as problem.ts writes them into `title` ('Error' for any other status). */
export const PROBLEM_TITLES = [
  'Bad Request',
  'Unauthorized',
  'Forbidden',
  'Not Found',
  'Method Not Allowed',
  'Conflict',
  'Precondition Failed',
  'Payload Too Large',
  'Unsupported Media Type',
  'Misdirected Request',
  'Unprocessable Content',
  'Too Many Requests',
  'Internal Server Error',
  'Service Unavailable',
  'Error',
] as const;

export function problemTypeUri(code: ProblemCode): string {
  return `https://tock.dev/problems/${code}`;
}

export const FieldError = z
  .strictObject({
    path: z.string().meta({
      description: 'Dotted path of the field (`schedule.endAt`, `payload.headers.X-Key`), a header name (`If-Match`), `body`, or `(root)`.',
      examples: ['schedule.everyMs'],
    }),
    message: z.string().meta({ examples: ['is not a known field'] }),
  })
  .meta({ id: 'FieldError' });

export const Problem = z
  .strictObject({
    type: z
      .enum(PROBLEM_CODES.map(problemTypeUri) as [string, ...string[]])
      .meta({ format: 'uri', description: '`https://tock.dev/problems/<code>`; the code is stable and meant for matching.' }),
    title: z.enum(PROBLEM_TITLES).meta({ description: 'The HTTP reason phrase of `status`.' }),
    status: z.literal(PROBLEM_STATUSES).meta({ description: 'The HTTP status code of the response.' }),
    detail: z.string().meta({ description: 'A human-readable explanation of this occurrence.' }),
    errors: z
      .array(FieldError)
      .optional()
      .meta({ description: 'Present on `400` (one entry per invalid field) and `422` (names the header).' }),
  })
  .meta({ id: 'Problem', description: 'An RFC 9457 problem document (`application/problem+json`).' });

/** A Problem of the given type(s) and status; with `errors: true` its `errors` list is always there. */
export function problemSchema(
  codes: ProblemCode | ProblemCode[],
  status: (typeof PROBLEM_STATUSES)[number],
  opts: { errors?: boolean } = {},
) {
  const types = (Array.isArray(codes) ? codes : [codes]).map(problemTypeUri);
  return Problem.and(
    z.looseObject({
      type: types.length === 1 ? z.literal(types[0]!) : z.enum(types as [string, ...string[]]),
      status: z.literal(status),
      ...(opts.errors ? { errors: z.array(FieldError) } : {}),
    }),
  );
}

// ----- resources ---------------------------------------------------------------------------------

export const NextCursor = z
  .string()
  .nullable()
  .meta({ id: 'NextCursor', description: 'Pass as `cursor` to get the next page; null on the last page.' });

export const RunsCancelled = z
  .strictObject({
    jobId: ObjectId,
    runIds: z.array(z.string()).meta({ description: 'The runs that were in flight and were told to stop (empty when none was).' }),
  })
  .meta({ id: 'RunsCancelled', description: 'The runs of a job whose attempts in flight are being aborted.' });

export const RunAccepted = z
  .strictObject({
    jobId: ObjectId,
    runId: z.string().meta({ description: 'The id of the queued run.', examples: ['6b0411d5f6f66b9c7ecddd25-m-336f7e3510f9'] }),
  })
  .meta({ id: 'RunAccepted', description: 'A run that was queued. Its executions have the ids `<runId>.1`, `<runId>.2`, ...' });

export const ExecutionError = z
  .strictObject({
    message: z.string().meta({ examples: ['unexpected HTTP status 503'] }),
    code: z.string().meta({
      description:
        'A stable code: e.g. `timeout`, `stalled`, `simulated`, `http-<status>`, `blocked-address`, `too-many-redirects`, ' +
        '`unknown-handler`, a Node.js network error code (`ECONNREFUSED`, ...), or `error`.',
      examples: ['http-503'],
    }),
  })
  .meta({ id: 'ExecutionError', description: 'Why an attempt failed.' });

export const Execution = z
  .strictObject({
    id: z.string().meta({ description: '`<runId>.<attempt>`.' }),
    jobId: ObjectId,
    runId: z.string().meta({ description: 'The run (occurrence) this attempt belongs to; see `Trigger` for its forms.' }),
    attempt: z.number().int().min(1),
    status: ExecutionStatus,
    trigger: Trigger,
    scheduledFor: Timestamp.nullable().meta({ description: 'When the run was due.' }),
    startedAt: Timestamp,
    finishedAt: Timestamp.nullable(),
    durationMs: z.number().int().min(0).nullable().meta({ description: 'Null for stalled attempts.' }),
    driftMs: z
      .number()
      .int()
      .nullable()
      .meta({ description: '`startedAt - scheduledFor` in milliseconds (how late the attempt started).' }),
    workerId: z.string().meta({ description: 'The worker that ran the attempt (`unknown` for stalled attempts).' }),
    error: ExecutionError.nullable().meta({ description: 'Null when the attempt succeeded.' }),
    result: z.unknown().meta({
      description:
        'What the handler returned (any JSON value; null when none). The `<Handler>Result` schemas describe what each handler returns ' +
        '(the `http` handler also on a failure by an unexpected status).',
    }),
  })
  .meta({ id: 'Execution', description: 'One attempt of one run. Its id is `<runId>.<attempt>`.' });

const jobFields = {
  id: ObjectId,
  name: z.string().min(1).max(200),
  handler: HandlerName,
  payload: z.record(z.string(), z.unknown()).meta({
    description:
      "The payload as sent (handler defaults are not filled in), its secret fields (`secretFields`) shown as `[redacted]`; matches the handler's payload schema.",
  }),
  secretFields: z.array(z.string()).meta({
    description: "The payload's secret fields, as dotted paths: the handler's own (every header of an http job) and those the job names.",
  }),
  schedule: ScheduleSchema,
  retry: RetryPolicySchema,
  timeoutMs: z.number().int().min(1).max(3_600_000).meta({ description: 'Per-attempt timeout in milliseconds.' }),
  status: JobStatus,
  nextRunAt: Timestamp.nullable().meta({
    description: 'The next run, or null (paused, finished, or no slot left). Updated by workers after each run, up to about a second late.',
  }),
  lastRunAt: Timestamp.nullable().meta({
    description: 'When the newest run started (never moves backwards); null before the first. Updated by workers after each run.',
  }),
  lastExecutionStatus: ExecutionStatus.nullable().meta({
    description: "How the newest run's latest attempt ended; null before the first.",
  }),
  runCount: z.number().int().min(0).meta({ description: 'Finished runs (succeeded, or failed for good), not attempts.' }),
  failureCount: z.number().int().min(0).meta({ description: 'Runs that failed for good.' }),
  createdAt: Timestamp,
  updatedAt: Timestamp.meta({ description: 'When the definition was last changed through the API (not by workers).' }),
  version: z
    .number()
    .int()
    .min(1)
    .meta({ description: 'Incremented by every change through the API; the `ETag` is this number in quotes.' }),
  ownerKeyId: z
    .string()
    .nullable()
    .meta({ description: 'The API key that created the job (its quota counts it); null for TOCK_ADMIN_KEY.' }),
  notify: NotifyTargetsSchema,
};

const SigningSecret = z
  .string()
  .regex(/^whsec_/)
  .meta({
    description:
      "The job's webhook signing secret (Standard Webhooks): shown here once, never again. Requests to its webhooks and " +
      'notifications carry `webhook-id`, `webhook-timestamp` and `webhook-signature` signed with it.',
    examples: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
  });

/** The Job resource (serializers.ts jobResource). */
export const Job = z.strictObject(jobFields).meta({ id: 'Job', description: 'A job definition with its run state.' });

/** The answer to a create: the job, and its signing secret (the one time it is shown). */
export const CreatedJob = z
  .strictObject({ ...jobFields, signingSecret: SigningSecret })
  .meta({ id: 'CreatedJob', description: 'A job just created (all the fields of `Job`), with its webhook signing secret.' });

export const SigningSecretRotated = z
  .strictObject({ jobId: ObjectId, version: z.number().int().min(1), signingSecret: SigningSecret })
  .meta({ id: 'SigningSecretRotated', description: 'The new signing secret; the previous one signs beside it for 24 hours.' });

export const JobWithExecutions = z
  .strictObject({
    ...jobFields,
    recentExecutions: z.array(Execution).max(10).meta({ description: 'The 10 most recent execution records, newest first.' }),
  })
  .meta({ id: 'JobWithExecutions', description: 'A job (all the fields of `Job`) with its 10 most recent execution records.' });

export const DeadLetterEntry = z
  .strictObject({
    id: z.string().meta({ description: 'The run id.' }),
    jobId: ObjectId,
    jobName: z.string().meta({ description: "The job's name when the run failed." }),
    handler: HandlerName,
    runId: z.string(),
    trigger: Trigger,
    reason: z.enum(['failed', 'stalled']).meta({
      description:
        '`failed`: the last attempt failed (or failed in a way that is not retried); `stalled`: the run stalled more often than allowed.',
    }),
    attempts: z.number().int().min(1).meta({ description: 'Attempts made.' }),
    error: ExecutionError.nullable().meta({ description: 'The error of the last attempt.' }),
    lastExecutionId: z.string().meta({ description: 'Id of the last execution record of the run.' }),
    failedAt: Timestamp,
    state: z.enum(['open', 'retried']),
    retriedAt: Timestamp.nullable().meta({ description: 'When the entry was retried; null while open.' }),
    retryRunId: z.string().nullable().meta({ description: 'The run started by the retry; null while open.' }),
  })
  .meta({ id: 'DeadLetterEntry', description: 'A run whose last attempt failed, or that stalled too often. Its id is the run id.' });

function page<T extends z.ZodType>(item: T, id: string) {
  return z.strictObject({ items: z.array(item).max(100), nextCursor: NextCursor }).meta({ id });
}

export const JobList = page(Job, 'JobList');
export const ExecutionList = page(Execution, 'ExecutionList');
export const DeadLetterList = page(DeadLetterEntry, 'DeadLetterList');

const ResultIndex = z.number().int().min(0);

export const CreateJobsResult = z
  .strictObject({
    results: z
      .array(
        z.xor([
          z.strictObject({ index: ResultIndex, status: z.literal(201), job: CreatedJob }).meta({ title: 'created' }),
          z.strictObject({ index: ResultIndex, status: z.literal([400, 500, 503]), problem: Problem }).meta({ title: 'not created' }),
        ]),
      )
      .meta({ description: 'One entry per item of `jobs`, in the same order.' }),
  })
  .meta({ id: 'CreateJobsResult' });

export const TriggerJobsResult = z
  .strictObject({
    results: z
      .array(
        z.xor([
          z
            .strictObject({
              index: ResultIndex,
              status: z.literal(202),
              jobId: ObjectId,
              runId: z.string().meta({ description: 'The id of the queued run.' }),
            })
            .meta({ title: 'queued' }),
          z.strictObject({ index: ResultIndex, status: z.literal(404), problem: Problem }).meta({ title: 'no such job' }),
        ]),
      )
      .meta({ description: 'One entry per item of `jobIds`, in the same order.' }),
  })
  .meta({ id: 'TriggerJobsResult' });

// ----- health ------------------------------------------------------------------------------------

export const HealthLive = z.strictObject({ status: z.literal('ok') }).meta({ id: 'HealthLive' });

export const HealthCheckResult = z
  .discriminatedUnion('status', [
    z
      .strictObject({ status: z.literal('ok'), latencyMs: z.number().int().min(0).meta({ description: 'Round-trip time of the ping.' }) })
      .meta({ title: 'ok' }),
    z
      .strictObject({
        status: z.literal('unavailable'),
        error: z.string().meta({ description: 'Why the check failed (e.g. a timeout after 1500 ms).' }),
      })
      .meta({ title: 'unavailable' }),
  ])
  .meta({ id: 'HealthCheckResult', description: 'One dependency check.' });

export const HealthReady = z
  .strictObject({
    status: z.enum(['ok', 'unavailable']).meta({ description: '`ok` when every check is `ok` (HTTP 200), else `unavailable` (HTTP 503).' }),
    checks: z.strictObject({ redis: HealthCheckResult, mongodb: HealthCheckResult }),
  })
  .meta({ id: 'HealthReady' });

// ----- keys, audit, sessions ------------------------------------------------------------------

export const ScopeName = z.enum(SCOPES).meta({
  id: 'Scope',
  description: [
    '- `jobs:read`: list and read jobs, executions and the dead letter.',
    '- `jobs:write`: create, edit, pause, resume, trigger, cancel and delete jobs.',
    '- `dead-letter:write`: retry and dismiss dead-letter entries.',
    '- `metrics:read`: read `/metrics`.',
    '- `admin`: everything, including keys, the audit log and Bull Board.',
  ].join('\n'),
});

export const CreateKeyRequest = z
  .strictObject({
    name: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .meta({ description: 'What the key is for (not unique).', examples: ['billing-service'] }),
    scopes: z
      .array(ScopeName)
      .min(1)
      .max(SCOPES.length)
      .meta({ examples: [['jobs:read', 'jobs:write']] }),
  })
  .meta({ id: 'CreateKeyRequest' });

export const KeyListQuery = z.strictObject({ limit: Limit, cursor: Cursor });

export const AuditListQuery = z.strictObject({
  jobId: z
    .string()
    .regex(/^[0-9a-f]{24}$/i, 'must be a job id')
    .optional()
    .meta({ description: 'Only entries about this job.' }),
  keyId: z.string().min(1).max(100).optional().meta({ description: 'Only entries made with this key (`admin` for TOCK_ADMIN_KEY).' }),
  limit: Limit,
  cursor: Cursor,
});

export const SessionRequest = z
  .strictObject({ apiKey: z.string().min(1).max(300).meta({ description: 'The API key to sign in with.' }) })
  .meta({ id: 'SessionRequest' });

export const ApiKey = z
  .strictObject({
    id: z.string().meta({ examples: ['1af6341bf504'] }),
    name: z.string(),
    scopes: z.array(ScopeName),
    createdAt: Timestamp,
    lastUsedAt: Timestamp.nullable().meta({ description: 'When the key was last used (written at most every 30 s per key).' }),
    revokedAt: Timestamp.nullable(),
  })
  .meta({ id: 'ApiKey', description: 'An API key, without the key (it is stored hashed).' });

export const CreatedKey = z
  .strictObject({
    id: z.string(),
    name: z.string(),
    scopes: z.array(ScopeName),
    createdAt: Timestamp,
    lastUsedAt: Timestamp.nullable(),
    revokedAt: Timestamp.nullable(),
    key: z.string().meta({
      description: 'The key, `tock_<id>_<secret>`: send it as `Authorization: Bearer <key>`. Shown once; only its hash is stored.',
      examples: ['tock_1af6341bf504_bD3xV0oZr3oKQ2mYw5b1cN8d7Ehx0ZQk'],
    }),
  })
  .meta({ id: 'CreatedKey', description: 'A new API key, with the key itself: the one time it is shown.' });

export const KeyList = page(ApiKey, 'KeyList');

export const AuditEntry = z
  .strictObject({
    id: z.string(),
    at: Timestamp,
    keyId: z.string().meta({ description: 'The key that made the change (`admin` for TOCK_ADMIN_KEY).' }),
    keyName: z.string(),
    action: z.enum(AUDIT_ACTIONS),
    jobId: ObjectId.nullable(),
    version: z.number().int().nullable().meta({ description: "The job's version after the change (before it, for a delete)." }),
    target: z
      .string()
      .nullable()
      .meta({ description: "What else the change was about: a run (the first one's, when count > 1), a dead-letter entry or a key's id." }),
    count: z.number().int().min(1).meta({
      description: 'How many times: the triggers of one job by one key within about 200 ms share one entry; 1 for every other change.',
    }),
    lastAt: Timestamp.meta({ description: 'When the last of them happened (`at` when count is 1).' }),
  })
  .meta({ id: 'AuditEntry', description: 'One change made through the API.' });

export const AuditList = page(AuditEntry, 'AuditList');

export const SessionInfo = z
  .strictObject({ keyId: z.string(), name: z.string(), scopes: z.array(ScopeName) })
  .meta({ id: 'SessionInfo', description: 'The key a request is made with.' });
