import { Schema, type Connection, type InferSchemaType, type Model, Types } from 'mongoose';
import { EXECUTION_STATUSES, JOB_STATUSES, TRIGGERS } from '../domain/job-definition';

/**
 * The three collections. Every index is named, and each list query in the repositories has one
 * that serves its equality filters and sort (test/integration/indexes.test.ts checks the shapes).
 * FerretDB creates but never uses them; MongoDB does.
 */
const jobSchema = new Schema(
  {
    name: { type: String, required: true },
    handler: { type: String, required: true },
    payload: { type: Schema.Types.Mixed, default: {} },
    schedule: { type: Schema.Types.Mixed, required: true },
    retry: { type: Schema.Types.Mixed, required: true },
    timeoutMs: { type: Number, required: true },
    status: { type: String, enum: JOB_STATUSES, required: true },
    nextRunAt: { type: Date, default: null },
    dueAt: { type: Date, default: null },
    lastRunAt: { type: Date, default: null },
    lastExecutionStatus: { type: String, enum: [...EXECUTION_STATUSES, null], default: null },
    runCount: { type: Number, default: 0 },
    failureCount: { type: Number, default: 0 },
    /** Execution records written for it, counted by workers (retention's cue; not in the API). */
    recordCount: { type: Number, default: 0 },
    version: { type: Number, default: 1 },
    secretFields: { type: [String], default: [] },
    /** Sealed webhook signing secrets ({ sealed, createdAt, expiresAt }), newest first. */
    signingSecrets: { type: Schema.Types.Mixed, default: [] },
    ownerKeyId: { type: String, default: null },
    /** Notification targets ({ onFailure, onDeadLetter, onMisfire }: URLs). */
    notify: { type: Schema.Types.Mixed, default: {} },
  },
  { collection: 'jobs', timestamps: true, minimize: false, versionKey: false, strict: true },
);
jobSchema.index({ status: 1, _id: -1 }, { name: 'jobs_status_id' });
jobSchema.index({ handler: 1, _id: -1 }, { name: 'jobs_handler_id' });
jobSchema.index({ 'schedule.kind': 1, _id: -1 }, { name: 'jobs_kind_id' });
jobSchema.index({ nextRunAt: 1, _id: 1 }, { name: 'jobs_nextRunAt_id' });
jobSchema.index({ status: 1, nextRunAt: 1, _id: 1 }, { name: 'jobs_status_nextRunAt_id' });
jobSchema.index({ handler: 1, nextRunAt: 1, _id: 1 }, { name: 'jobs_handler_nextRunAt_id' });
jobSchema.index({ 'schedule.kind': 1, nextRunAt: 1, _id: 1 }, { name: 'jobs_kind_nextRunAt_id' });
jobSchema.index({ lastRunAt: 1 }, { name: 'jobs_lastRunAt' });
jobSchema.index({ ownerKeyId: 1 }, { name: 'jobs_ownerKeyId' });

const executionSchema = new Schema(
  {
    _id: { type: String, required: true },
    jobId: { type: Schema.Types.ObjectId, required: true },
    runId: { type: String, required: true },
    attempt: { type: Number, required: true },
    status: { type: String, enum: EXECUTION_STATUSES, required: true },
    trigger: { type: String, enum: TRIGGERS, required: true },
    scheduledFor: { type: Date, default: null },
    startedAt: { type: Date, required: true },
    finishedAt: { type: Date, default: null },
    durationMs: { type: Number, default: null },
    driftMs: { type: Number, default: null },
    workerId: { type: String, required: true },
    error: { type: Schema.Types.Mixed, default: null },
    result: { type: Schema.Types.Mixed, default: null },
  },
  { collection: 'executions', versionKey: false, minimize: false },
);
executionSchema.index({ jobId: 1, startedAt: -1, _id: -1 }, { name: 'executions_jobId_startedAt' });
executionSchema.index({ jobId: 1, status: 1, startedAt: -1, _id: -1 }, { name: 'executions_jobId_status_startedAt' });
executionSchema.index({ runId: 1 }, { name: 'executions_runId' });
executionSchema.index({ finishedAt: 1 }, { name: 'executions_finishedAt' });

const deadLetterSchema = new Schema(
  {
    _id: { type: String, required: true },
    jobId: { type: Schema.Types.ObjectId, required: true },
    jobName: { type: String, required: true },
    handler: { type: String, required: true },
    runId: { type: String, required: true },
    trigger: { type: String, enum: TRIGGERS, required: true },
    reason: { type: String, enum: ['failed', 'stalled'], required: true },
    attempts: { type: Number, required: true },
    error: { type: Schema.Types.Mixed, default: null },
    lastExecutionId: { type: String, required: true },
    failedAt: { type: Date, required: true },
    state: { type: String, enum: ['open', 'retried'], required: true },
    retriedAt: { type: Date, default: null },
    retryRunId: { type: String, default: null },
  },
  { collection: 'deadletters', versionKey: false, minimize: false },
);
deadLetterSchema.index({ state: 1, failedAt: -1, _id: -1 }, { name: 'deadletters_state_failedAt' });
deadLetterSchema.index({ jobId: 1, state: 1, failedAt: -1, _id: -1 }, { name: 'deadletters_jobId_state_failedAt' });

/**
 * Idempotency-Key records: `_id` is `<scope> <key>`, so the unique `_id` index (which FerretDB
 * enforces too) lets exactly one request claim a key. No TTL index (FerretDB has none): expired
 * records are pruned by `expiresAt`, which MongoDB serves from the named index.
 */
const idempotencySchema = new Schema(
  {
    _id: { type: String, required: true },
    fingerprint: { type: String, required: true },
    state: { type: String, enum: ['pending', 'done'], required: true },
    owner: { type: String, required: true },
    lockedUntil: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    status: { type: Number, default: null },
    headers: { type: Schema.Types.Mixed, default: null },
    body: { type: String, default: null },
  },
  { collection: 'idempotencykeys', versionKey: false, minimize: false },
);
idempotencySchema.index({ expiresAt: 1 }, { name: 'idempotencykeys_expiresAt' });

/** API keys: the key itself is never stored, only its SHA-256. */
const apiKeySchema = new Schema(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    scopes: { type: [String], required: true },
    hash: { type: String, required: true },
    createdAt: { type: Date, required: true },
    lastUsedAt: { type: Date, default: null },
    revokedAt: { type: Date, default: null },
  },
  { collection: 'apikeys', versionKey: false, minimize: false },
);
apiKeySchema.index({ createdAt: -1, _id: -1 }, { name: 'apikeys_createdAt' });

/** The audit log: who changed what, when. Append-only. */
const auditSchema = new Schema(
  {
    _id: { type: String, required: true },
    at: { type: Date, required: true },
    keyId: { type: String, required: true },
    keyName: { type: String, required: true },
    action: { type: String, required: true },
    jobId: { type: String, default: null },
    version: { type: Number, default: null },
    target: { type: String, default: null },
    count: { type: Number, default: 1 },
    lastAt: { type: Date, default: null },
  },
  { collection: 'audit', versionKey: false, minimize: false },
);
auditSchema.index({ at: -1, _id: -1 }, { name: 'audit_at' });
auditSchema.index({ jobId: 1, at: -1, _id: -1 }, { name: 'audit_jobId_at' });
auditSchema.index({ keyId: 1, at: -1, _id: -1 }, { name: 'audit_keyId_at' });

export type JobDoc = InferSchemaType<typeof jobSchema> & { _id: Types.ObjectId; createdAt: Date; updatedAt: Date };
export type ExecutionDoc = InferSchemaType<typeof executionSchema>;
export type DeadLetterDoc = InferSchemaType<typeof deadLetterSchema>;
export type IdempotencyDoc = InferSchemaType<typeof idempotencySchema>;
export type ApiKeyDoc = InferSchemaType<typeof apiKeySchema>;
export type AuditDoc = InferSchemaType<typeof auditSchema>;

export interface Models {
  Job: Model<JobDoc>;
  Execution: Model<ExecutionDoc>;
  DeadLetter: Model<DeadLetterDoc>;
  Idempotency: Model<IdempotencyDoc>;
  ApiKey: Model<ApiKeyDoc>;
  Audit: Model<AuditDoc>;
}

export function createModels(conn: Connection): Models {
  return {
    Job: conn.model<JobDoc>('Job', jobSchema as unknown as Schema<JobDoc>),
    Execution: conn.model<ExecutionDoc>('Execution', executionSchema as unknown as Schema<ExecutionDoc>),
    DeadLetter: conn.model<DeadLetterDoc>('DeadLetter', deadLetterSchema as unknown as Schema<DeadLetterDoc>),
    Idempotency: conn.model<IdempotencyDoc>('Idempotency', idempotencySchema as unknown as Schema<IdempotencyDoc>),
    ApiKey: conn.model<ApiKeyDoc>('ApiKey', apiKeySchema as unknown as Schema<ApiKeyDoc>),
    Audit: conn.model<AuditDoc>('Audit', auditSchema as unknown as Schema<AuditDoc>),
  };
}

export const SCHEMAS = {
  jobs: jobSchema,
  executions: executionSchema,
  deadletters: deadLetterSchema,
  idempotencykeys: idempotencySchema,
  apikeys: apiKeySchema,
  audit: auditSchema,
};
export { Types };
