import { z } from 'zod';
import type { HandlerRegistry } from '../handlers/registry';
import { RetryPolicySchema, type RetryPolicy } from './retry';
import { ScheduleSchema, type Schedule } from './schedule';

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

function checkPayload(registry: HandlerRegistry, handler: string, payload: unknown, ctx: z.RefinementCtx): void {
  const h = registry.get(handler);
  if (!h) {
    ctx.addIssue({ code: 'custom', path: ['handler'], message: `must be one of: ${registry.names().join(', ')}` });
    return;
  }
  const parsed = h.payloadSchema.safeParse(payload ?? {});
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys)
          ctx.addIssue({ code: 'custom', path: ['payload', ...issue.path, key], message: 'is not a known field' });
      } else {
        ctx.addIssue({ code: 'custom', path: ['payload', ...issue.path], message: issue.message });
      }
    }
  }
}

export function createJobSchema(registry: HandlerRegistry) {
  return z
    .strictObject({
      name: Name,
      handler: z.string().min(1).max(100),
      payload: Payload.default({}),
      schedule: ScheduleSchema,
      retry: RetryPolicySchema.prefault({}),
      timeoutMs: TimeoutMs.optional(),
    })
    .superRefine((v, ctx) => checkPayload(registry, v.handler, v.payload, ctx));
}
export type CreateJobInput = z.infer<ReturnType<typeof createJobSchema>>;

export function patchJobSchema(registry: HandlerRegistry) {
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
      if (v.handler !== undefined) checkPayload(registry, v.handler, v.payload, ctx);
    });
}
export type PatchJobInput = z.infer<ReturnType<typeof patchJobSchema>>;

/** Validates a payload against its (possibly unchanged) handler; used by PATCH with payload only. */
export function payloadErrors(registry: HandlerRegistry, handler: string, payload: unknown): { path: string; message: string }[] {
  const h = registry.get(handler);
  if (!h) return [{ path: 'handler', message: 'is not a known handler' }];
  const parsed = h.payloadSchema.safeParse(payload);
  if (parsed.success) return [];
  return parsed.error.issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((k) => ({ path: ['payload', ...i.path, k].join('.'), message: 'is not a known field' }))
      : [{ path: ['payload', ...i.path].join('.'), message: i.message }],
  );
}
