/** Requests and answers of the read-only views: a job's stats, the overview, schedule previews. */
import { z } from 'zod';
import { JOB_STATUSES } from '../domain/job-definition';
import { STATS_WINDOWS } from '../domain/job-stats';
import { ScheduleSchema } from '../domain/schedule';
import { QUEUE_STATES } from '../services/stats-service';
import { ExecutionError, ObjectId, ScheduleKind, Timestamp } from './schemas';

export const StatsQuery = z.strictObject({
  window: z
    .enum(Object.keys(STATS_WINDOWS) as [keyof typeof STATS_WINDOWS])
    .default('24h')
    .meta({ param: { description: 'The period the figures cover, ending now.' } }),
});

const Millis = z.number().int();

export const JobStats = z
  .strictObject({
    jobId: ObjectId,
    window: z.enum(Object.keys(STATS_WINDOWS) as [keyof typeof STATS_WINDOWS]),
    from: Timestamp,
    to: Timestamp,
    runs: z.number().int().min(0).meta({ description: 'Execution records (attempts) that started in the window, in any status.' }),
    succeeded: z.number().int().min(0),
    failed: z.number().int().min(0),
    stalled: z.number().int().min(0),
    skipped: z.number().int().min(0).meta({ description: 'Slots skipped by the misfire or overlap policy.' }),
    cancelled: z.number().int().min(0),
    running: z.number().int().min(0),
    successRate: z
      .number()
      .min(0)
      .max(1)
      .nullable()
      .meta({ description: '`succeeded / (succeeded + failed + stalled)`; null when there were none of those.' }),
    durationMs: z
      .strictObject({ p50: Millis, p95: Millis, max: Millis })
      .nullable()
      .meta({ description: 'Of attempts that succeeded or failed (nearest-rank percentiles); null when none.' }),
    latenessMs: z
      .strictObject({ p50: Millis, p95: Millis })
      .nullable()
      .meta({ description: 'How late attempts started after their slot (`driftMs`); null when none.' }),
    lastFailure: z
      .strictObject({ at: Timestamp, executionId: z.string(), error: ExecutionError.nullable() })
      .nullable()
      .meta({ description: 'The newest failed or stalled attempt in the window.' }),
    truncated: z.boolean().meta({ description: 'True when the window holds more than 50,000 records and only the newest were counted.' }),
  })
  .meta({ id: 'JobStats', description: "Figures of a job's history over a window, from its execution records." });

const counts = <T extends readonly [string, ...string[]]>(keys: T) =>
  z.strictObject(Object.fromEntries(keys.map((k) => [k, z.number().int().min(0)])) as Record<T[number], z.ZodNumber>);

export const Overview = z
  .strictObject({
    jobs: z.strictObject({ total: z.number().int().min(0), byStatus: counts(JOB_STATUSES) }),
    lastHour: z
      .strictObject({ runs: z.number().int().min(0), succeeded: z.number().int().min(0), failed: z.number().int().min(0) })
      .meta({ description: 'Execution records that finished in the last hour (`failed` counts stalled attempts too).' }),
    deadLetter: z.strictObject({ open: z.number().int().min(0) }),
    queue: counts(QUEUE_STATES).meta({ description: "BullMQ's run counts by state." }),
    workers: z
      .strictObject({ connected: z.number().int().min(0), ids: z.array(z.string()) })
      .meta({ description: 'Worker processes connected to the queue now (their WORKER_ID).' }),
    at: Timestamp.meta({ description: 'When the figures were read (they are reused for up to 5 seconds).' }),
  })
  .meta({ id: 'Overview', description: 'The system at a glance.' });

const num = z.coerce.number();
const text = (description: string, example?: string) => z.string().optional().meta({ param: { description, example } });

/** A schedule given as query parameters (its own fields, flattened), validated as the create request validates it. */
export const SchedulePreviewQuery = z
  .strictObject({
    kind: ScheduleKind,
    runAt: text('once: when it runs.', '2030-01-01T09:00:00+01:00'),
    delayMs: num.optional().meta({ param: { description: 'delay: milliseconds from now.' } }),
    everyMs: num.optional().meta({ param: { description: 'interval: the period in milliseconds.', example: 300000 } }),
    expression: text('cron: the expression.', '0 9 * * 1'),
    timezone: text('cron: an IANA time zone.', 'Europe/Berlin'),
    startAt: text('interval, cron: no run before this time.'),
    endAt: text('interval, cron: no run after this time.'),
    limit: num.optional().meta({ param: { description: 'interval, cron: at most this many runs.' } }),
    count: z.coerce
      .number()
      .int()
      .min(1)
      .max(100)
      .default(10)
      .meta({ param: { description: 'How many fire times to answer (1 to 100).' } }),
  })
  .transform(({ count, ...fields }, ctx) => {
    const parsed = ScheduleSchema.safeParse(Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)));
    if (!parsed.success) {
      // Unknown keys stay `unrecognized_keys` issues, which name the parameter rather than the path.
      for (const issue of parsed.error.issues) ctx.addIssue(issue as z.core.$ZodRawIssue);
      return z.NEVER;
    }
    return { schedule: parsed.data, count };
  });

export const SchedulePreview = z
  .strictObject({
    schedule: ScheduleSchema,
    description: z.string().meta({ description: 'The schedule in words.', examples: ['every 5 minutes', 'cron 0 9 * * 1 Europe/Berlin'] }),
    runs: z.array(Timestamp).meta({ description: 'The next fire times, soonest first; fewer than `count` when the schedule ends.' }),
  })
  .meta({ id: 'SchedulePreview', description: 'When a schedule would fire, if it were set now.' });
