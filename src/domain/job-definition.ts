import { z } from 'zod';
import type { FieldError } from './errors';
import { RetryPolicySchema, type RetryPolicy } from './retry';
import { ScheduleSchema, scheduleTimeErrors, type Schedule } from './schedule';
import { notifySchema, type HostCheck, type NotifyTargets } from './notify';
import { hasPath, parsePath, type Path } from './secrets';
import { addIssuesUnder, fieldErrorsOf } from './validation';

/** What is known of a handler without running it. */
export interface HandlerInfo {
  readonly name: string;
  readonly description: string;
  readonly payloadSchema: z.ZodType;
  /** What `execute` returns, for the API contract. */
  readonly resultSchema?: z.ZodType;
  /** The payload's fields that are always secret (an http job's header values). */
  secretPaths?(payload: Record<string, unknown>): Path[];
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
  /** Payload fields (dotted paths) stored sealed and shown redacted, besides the handler's own. */
  secretFields: string[];
  /** Webhook signing secrets, sealed, newest first; an older one signs until it expires. */
  signingSecrets: SigningSecret[];
  /** The API key that created it (for its quota); null for keys not stored (TOCK_ADMIN_KEY). */
  ownerKeyId: string | null;
  /** Webhooks told about failed attempts, dead-lettered runs and skipped slots. */
  notify: NotifyTargets;
}

export interface SigningSecret {
  sealed: string;
  createdAt: Date;
  /** When it stops being used (24 h after a rotation); null for the current one. */
  expiresAt: Date | null;
}

/** Limits on a payload a deployment can set (PAYLOAD_MAX_BYTES, PAYLOAD_MAX_KEYS). */
export interface PayloadLimits {
  maxBytes: number;
  maxKeys: number;
}

export const DEFAULT_PAYLOAD_LIMITS: PayloadLimits = { maxBytes: 64 * 1024, maxKeys: 1000 };

/**
 * The secret fields a definition stores: its handler's (an http job's headers) and those it names,
 * each once, as dotted paths.
 */
export function secretFieldsOf(
  handlers: HandlerCatalog,
  handler: string,
  payload: Record<string, unknown>,
  named: readonly string[],
): string[] {
  const own = (handlers.get(handler)?.secretPaths?.(payload) ?? []).map((p) => p.join('.'));
  return [...new Set([...own, ...named])];
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
const SecretFields = z
  .array(z.string().regex(/^[^.\s]{1,100}(\.[^.\s]{1,100}){0,9}$/, 'must be a dotted path into the payload, e.g. body.password'))
  .max(50)
  .meta({
    description:
      'Payload fields to keep secret (dotted paths, e.g. `body.password`): stored encrypted, shown as `[redacted]`, ' +
      "decrypted only by the worker that runs the job. An http job's header values are always secret.",
  });

function countKeys(value: unknown, limit: number): number {
  let n = 0;
  const stack = [value];
  while (stack.length > 0 && n <= limit) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    const children = Array.isArray(v) ? v : Object.values(v);
    if (!Array.isArray(v)) n += children.length;
    stack.push(...children);
  }
  return n;
}

/** A payload within the deployment's limits: one wide document must not slow every list. */
function checkPayloadLimits(payload: unknown, limits: PayloadLimits, ctx: z.RefinementCtx): void {
  if (payload === undefined) return;
  const bytes = Buffer.byteLength(JSON.stringify(payload));
  if (bytes > limits.maxBytes) {
    ctx.addIssue({
      code: 'custom',
      path: ['payload'],
      message: `is ${bytes} bytes; at most ${limits.maxBytes} are allowed (PAYLOAD_MAX_BYTES)`,
    });
  }
  if (countKeys(payload, limits.maxKeys) > limits.maxKeys) {
    ctx.addIssue({ code: 'custom', path: ['payload'], message: `has more than ${limits.maxKeys} keys (PAYLOAD_MAX_KEYS)` });
  }
}

/** Each secret field must name a field of the payload. */
function checkSecretFields(fields: string[] | undefined, payload: unknown, ctx: z.RefinementCtx): void {
  fields?.forEach((f, i) => {
    if (!hasPath(payload, parsePath(f)))
      ctx.addIssue({ code: 'custom', path: ['secretFields', i], message: 'names no field of the payload' });
  });
}

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
export function createJobSchema(handlers: HandlerCatalog, limits: PayloadLimits = DEFAULT_PAYLOAD_LIMITS, hostError?: HostCheck) {
  return z
    .strictObject({
      name: Name,
      handler: z.string().min(1).max(100),
      payload: Payload.default({}),
      secretFields: SecretFields.default([]),
      schedule: ScheduleSchema,
      retry: RetryPolicySchema.prefault({}),
      timeoutMs: TimeoutMs.optional(),
      notify: notifySchema(hostError).optional(),
    })
    .superRefine((v, ctx) => {
      checkPayloadLimits(v.payload, limits, ctx);
      checkPayload(handlers, v.handler, v.payload, ctx);
      checkSecretFields(v.secretFields, v.payload, ctx);
      checkScheduleTime(v.schedule, ctx);
    });
}
export type CreateJobInput = z.infer<ReturnType<typeof createJobSchema>>;

export function patchJobSchema(handlers: HandlerCatalog, limits: PayloadLimits = DEFAULT_PAYLOAD_LIMITS, hostError?: HostCheck) {
  return z
    .strictObject({
      name: Name.optional(),
      handler: z.string().min(1).max(100).optional(),
      payload: Payload.optional().meta({
        description:
          "The handler's input, validated against the schema of the new `handler` or, without one, of the job's current handler. " +
          'A secret field sent as `[redacted]` keeps its stored value.',
      }),
      secretFields: SecretFields.optional(),
      schedule: ScheduleSchema.optional(),
      retry: RetryPolicySchema.optional(),
      timeoutMs: TimeoutMs.optional(),
      notify: notifySchema(hostError)
        .nullable()
        .optional()
        .meta({ description: 'Replaces the notification targets as a whole; `null` or `{}` removes them.' }),
    })
    .superRefine((v, ctx) => {
      if (Object.keys(v).length === 0) ctx.addIssue({ code: 'custom', path: [], message: 'must change at least one field' });
      if (v.handler !== undefined && v.payload === undefined) {
        ctx.addIssue({ code: 'custom', path: ['payload'], message: 'is required when handler changes' });
      }
      if (v.secretFields !== undefined && v.payload === undefined) {
        ctx.addIssue({ code: 'custom', path: ['payload'], message: 'is required when secretFields changes' });
      }
      checkPayloadLimits(v.payload, limits, ctx);
      if (v.handler !== undefined) checkPayload(handlers, v.handler, v.payload, ctx);
      if (v.payload !== undefined) checkSecretFields(v.secretFields, v.payload, ctx);
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
