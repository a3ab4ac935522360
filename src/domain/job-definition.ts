import { z } from 'zod';
import type { FieldError } from './errors';
import { RetryPolicySchema, type RetryPolicy } from './retry';
import { ScheduleSchema, scheduleTimeErrors, type Schedule } from './schedule';
import { addIssuesUnder, fieldErrorsOf } from './validation';

/** What is known of a handler without running it. */
export interface HandlerInfo {
  readonly name: string;
  readonly description: string;
  readonly payloadSchema: z.ZodType;
  /** What `execute` returns, for the API contract. */
  readonly resultSchema?: z.ZodType;
}

/** The handlers a definition may name (the handler registry). */
export interface HandlerCatalog {
  names(): string[];
  get(name: string): HandlerInfo | undefined;
}

export const JOB_STATUSES = ['scheduled', 'paused', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const EXECUTION_STATUSES = ['running', 'succeeded', 'failed', 'stalled', 'skipped', 'cancelled'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export const TRIGGERS = ['schedule', 'manual', 'dead-letter-retry'] as const;
export type Trigger = (typeof TRIGGERS)[number];

/** A stored definition as services and workers see it (no mongoose types). */
export interface JobDefinition {
  id: string;
  name: string;
  handler: string;
  payload: Record<string, unknown>;
  schedule: Schedule;
  retry: RetryPolicy;
  timeoutMs: number;
  status: JobStatus;
  nextRunAt: Date | null;
  /** One-time kinds: the absolute time the run is due (delay kinds fix it when scheduled). */
  dueAt: Date | null;
  lastRunAt: Date | null;
  lastExecutionStatus: ExecutionStatus | null;
  runCount: number;
  failureCount: number;
  createdAt: Date;
  updatedAt: Date;
  version: number;
}

const Name = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .meta({
    description: 'A label (not unique). Leading and trailing whitespace is trimmed; 1-200 characters remain.',
    examples: ['nightly-export'],
    pattern: '\\S', // what trim().min(1) asks for, for the contract (JSON Schema cannot trim)
  });
const TimeoutMs = z.number().int().min(1).max(3_600_000).meta({
  description:
    "Per-attempt timeout in milliseconds; an attempt that takes longer fails with code `timeout`. A job created without one gets the server's `DEFAULT_TIMEOUT_MS` (30000).",
});
const Payload = z.record(z.string(), z.unknown());

function checkPayload(handlers: HandlerCatalog, handler: string, payload: unknown, ctx: z.RefinementCtx): void {
  const schema = handlers.get(handler)?.payloadSchema;
  if (!schema) {
    ctx.addIssue({ code: 'custom', path: ['handler'], message: `must be one of: ${handlers.names().join(', ')}` });
    return;
  }
  const parsed = schema.safeParse(payload ?? {});
  if (!parsed.success) addIssuesUnder(ctx, ['payload'], parsed.error.issues);
}

/** A schedule that is already over (a one-time job due in the past) is refused when it is set. */
function checkScheduleTime(schedule: Schedule | undefined, ctx: z.RefinementCtx): void {
  if (!schedule) return;
  for (const e of scheduleTimeErrors(schedule, Date.now()))
    ctx.addIssue({ code: 'custom', path: ['schedule', e.field], message: e.message });
}

/** The body of a new definition: everything it must satisfy, checked in one place. */
export function createJobSchema(handlers: HandlerCatalog) {
  return z
    .strictObject({
      name: Name,
      handler: z.string().min(1).max(100),
      payload: Payload.default({}),
      schedule: ScheduleSchema,
      retry: RetryPolicySchema.prefault({}),
      timeoutMs: TimeoutMs.optional(),
    })
    .superRefine((v, ctx) => {
      checkPayload(handlers, v.handler, v.payload, ctx);
      checkScheduleTime(v.schedule, ctx);
    });
}
export type CreateJobInput = z.infer<ReturnType<typeof createJobSchema>>;

export function patchJobSchema(handlers: HandlerCatalog) {
  return z
    .strictObject({
      name: Name.optional(),
      handler: z.string().min(1).max(100).optional(),
      payload: Payload.optional().meta({
        description:
          "The handler's input, validated against the schema of the new `handler` or, without one, of the job's current handler.",
      }),
      schedule: ScheduleSchema.optional(),
      retry: RetryPolicySchema.optional(),
      timeoutMs: TimeoutMs.optional(),
    })
    .superRefine((v, ctx) => {
      if (Object.keys(v).length === 0) ctx.addIssue({ code: 'custom', path: [], message: 'must change at least one field' });
      if (v.handler !== undefined && v.payload === undefined) {
        ctx.addIssue({ code: 'custom', path: ['payload'], message: 'is required when handler changes' });
      }
      if (v.handler !== undefined) checkPayload(handlers, v.handler, v.payload, ctx);
      checkScheduleTime(v.schedule, ctx);
    });
}
export type PatchJobInput = z.infer<ReturnType<typeof patchJobSchema>>;

/** A payload checked against its job's current handler (a PATCH that changes the payload alone). */
export function payloadErrors(handlers: HandlerCatalog, handler: string, payload: unknown): FieldError[] {
  const schema = handlers.get(handler)?.payloadSchema;
  if (!schema) return [{ path: 'handler', message: 'is not a known handler' }];
  const parsed = schema.safeParse(payload);
  return parsed.success ? [] : fieldErrorsOf(parsed.error.issues, ['payload']);
}
