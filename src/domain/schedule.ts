import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';

/**
 * Schedules: what a definition asks for, validated, and the pure computation of when it runs.
 * The slot arithmetic mirrors BullMQ's Job Schedulers (cron via cron-parser, `every` anchored at
 * the first slot) so that the nextRunAt we store is the slot BullMQ will actually fire.
 */
const isoWithOffset = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with an offset' }).meta({
  id: 'DateTimeWithOffset',
  description: 'An ISO 8601 date-time with seconds and an offset (`Z` or `±hh:mm`), e.g. `2030-01-01T09:00:00+01:00`.',
  examples: ['2030-01-01T09:00:00+01:00'],
});
const MAX_INTERVAL_MS = 366 * 24 * 3600 * 1000;

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Returns an error message, or null when the expression parses (5 or 6 fields, or an @alias). */
export function cronExpressionError(expression: string, timezone?: string): string | null {
  const trimmed = expression.trim();
  const fields = trimmed.split(/\s+/);
  if (!trimmed.startsWith('@') && (fields.length < 5 || fields.length > 6)) {
    return 'must have 5 fields (minute precision) or 6 fields (leading seconds)';
  }
  try {
    CronExpressionParser.parse(trimmed, { tz: timezone, strict: false }).next();
    return null;
  } catch (err) {
    return `is not a valid cron expression: ${(err as Error).message}`;
  }
}

export const MISFIRE_POLICIES = ['skip', 'runOnce'] as const;
export type MisfirePolicy = (typeof MISFIRE_POLICIES)[number];
export const OVERLAP_POLICIES = ['allow', 'forbid'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

const repeatBounds = {
  startAt: isoWithOffset.optional().meta({ description: 'No run before this time.' }),
  endAt: isoWithOffset
    .optional()
    .meta({ description: 'No run after this time; must be after `startAt` and, when the schedule is set, in the future.' }),
  limit: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .meta({
      id: 'ScheduleLimit',
      description:
        'At most this many runs, counted since the schedule was last registered (pausing and resuming, or any change of the job, starts the count again).',
    })
    .optional(),
  /** An occurrence that starts later than the misfire grace: `skip` it (default) or run it once. */
  misfire: z
    .enum(MISFIRE_POLICIES)
    .meta({
      id: 'ScheduleMisfire',
      description:
        'What happens to an occurrence that starts more than MISFIRE_GRACE_MS (default 5 s) after its slot, because no worker could run it ' +
        '(downtime): `skip` (default) records it as `skipped` (error code `misfire`) and the job goes on with its next future slot; ' +
        '`runOnce` runs it as one catch-up occurrence. Never a burst of all missed ones: BullMQ keeps one pending occurrence per schedule.',
    })
    .optional(),
  /** An occurrence due while the previous one still runs: run it too (`allow`, default) or skip it. */
  overlap: z
    .enum(OVERLAP_POLICIES)
    .meta({
      id: 'ScheduleOverlap',
      description:
        'An occurrence due while the previous one still runs: `allow` (default) runs it too; `forbid` skips it and records the skip as ' +
        'an execution with status `skipped` (error code `overlap`). Under `forbid` no two runs of the job overlap, manual triggers included.',
    })
    .optional(),
};

export const OnceSchedule = z.strictObject({ kind: z.literal('once'), runAt: isoWithOffset }).meta({
  id: 'OnceSchedule',
  title: 'once',
  description: 'Runs one time, at `runAt` (which must be in the future when the schedule is set).',
});
export const DelaySchedule = z
  .strictObject({
    kind: z.literal('delay'),
    delayMs: z.number().int().min(0).max(MAX_INTERVAL_MS).meta({ description: 'Milliseconds from now (at most 366 days).' }),
  })
  .meta({
    id: 'DelaySchedule',
    title: 'delay',
    description: 'Runs one time, `delayMs` after the schedule is set (created, patched); the due time is then fixed.',
  });
export const IntervalSchedule = z
  .strictObject({
    kind: z.literal('interval'),
    everyMs: z.number().int().min(1000).max(MAX_INTERVAL_MS).meta({ description: 'Period in milliseconds (1 s to 366 days).' }),
    ...repeatBounds,
  })
  .meta({
    id: 'IntervalSchedule',
    title: 'interval',
    description:
      'Runs every `everyMs`, starting at `startAt` (or at once when absent or past). Slots missed while workers were busy or down ' +
      'are skipped, keeping the original phase.',
  });
export const CronSchedule = z
  .strictObject({
    kind: z.literal('cron'),
    expression: z
      .string()
      .min(1)
      .max(200)
      .meta({
        description:
          'A cron expression with 5 fields (minute precision) or 6 fields (a leading seconds field), or an alias such as `@hourly`, ' +
          '`@daily`, `@weekly`. Validated with cron-parser (values out of range are `400`).',
        examples: ['30 2 * * *', '*/10 * * * * *', '@hourly'],
      }),
    timezone: z
      .string()
      .min(1)
      .max(100)
      .meta({
        description: 'An IANA time zone the expression is evaluated in (e.g. `Europe/Berlin`); without it, UTC.',
        examples: ['Europe/Berlin'],
      })
      .optional(),
    ...repeatBounds,
  })
  .superRefine((s, ctx) => {
    if (s.timezone !== undefined && !isValidTimeZone(s.timezone)) {
      ctx.addIssue({ code: 'custom', path: ['timezone'], message: 'is not a known IANA time zone' });
      return;
    }
    const error = cronExpressionError(s.expression, s.timezone);
    if (error) ctx.addIssue({ code: 'custom', path: ['expression'], message: error });
  })
  .meta({
    id: 'CronSchedule',
    title: 'cron',
    description: 'Runs at the slots of a cron expression, the first one being the first slot after now (or after `startAt`).',
  });

/** The schedule of a definition, validated (`.meta` names it and its kinds in the OpenAPI contract). */
export const ScheduleSchema = z
  .discriminatedUnion('kind', [OnceSchedule, DelaySchedule, IntervalSchedule, CronSchedule])
  .superRefine((s, ctx) => {
    if ((s.kind === 'interval' || s.kind === 'cron') && s.startAt && s.endAt) {
      if (Date.parse(s.endAt) <= Date.parse(s.startAt)) {
        ctx.addIssue({ code: 'custom', path: ['endAt'], message: 'must be after startAt' });
      }
    }
  })
  .meta({ id: 'Schedule', description: 'When the job runs. One of four kinds, told apart by `kind`.' });

export type Schedule = z.infer<typeof ScheduleSchema>;
export type ScheduleKind = Schedule['kind'];
export type RepeatingSchedule = Extract<Schedule, { kind: 'interval' | 'cron' }>;

export const SCHEDULE_KINDS = ['once', 'delay', 'interval', 'cron'] as const;

export function isRepeating(s: Schedule): s is RepeatingSchedule {
  return s.kind === 'interval' || s.kind === 'cron';
}

/** Checks that depend on the current time: a one-time job must be due in the future. */
export function scheduleTimeErrors(s: Schedule, now: number): { field: 'runAt' | 'endAt'; message: string }[] {
  if (s.kind === 'once' && Date.parse(s.runAt) <= now) return [{ field: 'runAt', message: 'must be in the future' }];
  if (isRepeating(s) && s.endAt && Date.parse(s.endAt) <= now) return [{ field: 'endAt', message: 'must be in the future' }];
  return [];
}

function nextCronSlot(s: Extract<Schedule, { kind: 'cron' }>, afterMillis: number): number | null {
  const startMillis = s.startAt ? Date.parse(s.startAt) : undefined;
  // BullMQ asks cron-parser for the first slot strictly after max(now, startDate - 1ms).
  const from = startMillis !== undefined && startMillis > afterMillis ? startMillis - 1 : afterMillis;
  const it = CronExpressionParser.parse(s.expression.trim(), { tz: s.timezone ?? 'UTC', currentDate: new Date(from) });
  try {
    return it.next().getTime();
  } catch {
    return null;
  }
}

function withinBounds(s: RepeatingSchedule, slot: number | null, iterationsDone: number): number | null {
  if (slot === null) return null;
  if (s.endAt && slot > Date.parse(s.endAt)) return null;
  if (s.limit !== undefined && iterationsDone >= s.limit) return null;
  return slot;
}

/**
 * The first slot when a schedule is registered at `now` (BullMQ semantics: an interval without
 * startAt fires at once; a cron fires at its first slot after now).
 */
export function firstRunAt(s: Schedule, now: number): number | null {
  switch (s.kind) {
    case 'once':
      return Math.max(Date.parse(s.runAt), now);
    case 'delay':
      return now + s.delayMs;
    case 'interval': {
      const start = s.startAt ? Date.parse(s.startAt) : now;
      return withinBounds(s, Math.max(start, now), 0);
    }
    case 'cron':
      return withinBounds(s, nextCronSlot(s, now), 0);
  }
}

/**
 * The slot after `slotMillis` once `iterationsDone` occurrences have been scheduled, as BullMQ
 * computes it: missed interval slots are skipped (aligned to the original phase), cron jumps to
 * its first slot after now.
 */
export function nextRunAfter(s: Schedule, slotMillis: number, iterationsDone: number, now: number): number | null {
  switch (s.kind) {
    case 'once':
    case 'delay':
      return null;
    case 'interval': {
      let next = slotMillis + s.everyMs;
      if (next < now) {
        const phase = ((slotMillis % s.everyMs) + s.everyMs) % s.everyMs;
        const aligned = Math.floor(now / s.everyMs) * s.everyMs + phase;
        next = aligned <= now ? aligned + s.everyMs : aligned;
      }
      return withinBounds(s, next, iterationsDone);
    }
    case 'cron':
      return withinBounds(s, nextCronSlot(s, Math.max(slotMillis, now)), iterationsDone);
  }
}

/**
 * The slots that BullMQ passes over when the occurrence of `slotMillis` starts at `now`: those
 * after it that are already past and come before the next one it schedules (at most `max`).
 */
export function passedOverSlots(s: Schedule, slotMillis: number, now: number, max: number): number[] {
  if (!isRepeating(s)) return [];
  // Nothing can be passed over unless the start is at least one period late (cron: 1 s at best).
  if (now - slotMillis < (s.kind === 'interval' ? s.everyMs : 1000)) return [];
  const next = nextRunAfter(s, slotMillis, 0, now);
  const out: number[] = [];
  for (let t = nextRunAfter(s, slotMillis, 0, slotMillis); t !== null && t < now && (next === null || t < next);) {
    if (out.length === max) break;
    out.push(t);
    t = nextRunAfter(s, t, 0, t);
  }
  return out;
}

/** Up to `count` upcoming slots from `now`, for previews. */
export function previewRuns(s: Schedule, now: number, count: number): number[] {
  const out: number[] = [];
  let slot = firstRunAt(s, now);
  while (slot !== null && out.length < count) {
    out.push(slot);
    slot = nextRunAfter(s, slot, out.length, slot);
  }
  return out;
}
