import {
  cronExpressionError,
  firstRunAt,
  nextRunAfter,
  passedOverSlots,
  previewRuns,
  ScheduleSchema,
  scheduleTimeErrors,
  type Schedule,
} from '../../src/domain/schedule';

const at = (iso: string) => Date.parse(iso);
const parse = (v: unknown) => ScheduleSchema.safeParse(v);
const paths = (v: unknown) => {
  const r = parse(v);
  return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
};

describe('schedule validation', () => {
  it('accepts each kind', () => {
    expect(parse({ kind: 'once', runAt: '2030-01-01T10:00:00+01:00' }).success).toBe(true);
    expect(parse({ kind: 'delay', delayMs: 5000 }).success).toBe(true);
    expect(parse({ kind: 'interval', everyMs: 60000, limit: 3 }).success).toBe(true);
    expect(parse({ kind: 'cron', expression: '*/30 * * * * *', timezone: 'Europe/Berlin' }).success).toBe(true);
    expect(parse({ kind: 'cron', expression: '0 9 * * 1-5' }).success).toBe(true);
  });

  it('names the field that is wrong', () => {
    expect(paths({ kind: 'cron', expression: 'every minute' })).toEqual(['expression']);
    expect(paths({ kind: 'cron', expression: '61 * * * *' })).toEqual(['expression']);
    expect(paths({ kind: 'cron', expression: '* * * * * * *' })).toEqual(['expression']);
    expect(paths({ kind: 'cron', expression: '* * * * *', timezone: 'Mars/Olympus' })).toEqual(['timezone']);
    expect(paths({ kind: 'once', runAt: '2030-01-01 10:00' })).toEqual(['runAt']);
    expect(paths({ kind: 'once', runAt: '2030-01-01T10:00:00' })).toEqual(['runAt']);
    expect(paths({ kind: 'interval', everyMs: 10 })).toEqual(['everyMs']);
    expect(paths({ kind: 'interval', everyMs: 1000, bogus: 1 })).toEqual(['']);
    expect(paths({ kind: 'interval', everyMs: 1000, startAt: '2030-01-02T00:00:00Z', endAt: '2030-01-01T00:00:00Z' })).toEqual(['endAt']);
    expect(paths({ kind: 'weekly' })).toEqual(['kind']);
  });

  it('requires a one-time runAt in the future', () => {
    const now = at('2030-01-01T00:00:00Z');
    expect(scheduleTimeErrors({ kind: 'once', runAt: '2029-12-31T23:59:59Z' }, now)).toEqual([
      { field: 'runAt', message: 'must be in the future' },
    ]);
    expect(scheduleTimeErrors({ kind: 'once', runAt: '2030-01-01T00:00:01Z' }, now)).toEqual([]);
  });

  it('describes bad cron expressions', () => {
    expect(cronExpressionError('*/5 * * * *')).toBeNull();
    expect(cronExpressionError('@daily')).toBeNull();
    expect(cronExpressionError('* *')).toMatch(/5 fields/);
  });
});

describe('next runs', () => {
  it('cron in a time zone across the spring-forward DST change (Europe/Berlin, 2030-03-31)', () => {
    const s: Schedule = { kind: 'cron', expression: '30 2 * * *', timezone: 'Europe/Berlin' };
    // 02:30 does not exist on 31 March in Berlin; the next real 02:30 is on 1 April (00:30Z, CEST).
    const runs = previewRuns(s, at('2030-03-30T12:00:00Z'), 2).map((ms) => new Date(ms).toISOString());
    expect(runs[0]).toBe('2030-03-31T01:30:00.000Z');
    expect(runs[1]).toBe('2030-04-01T00:30:00.000Z');
  });

  it('cron keeps local wall-clock time across the autumn DST change', () => {
    const s: Schedule = { kind: 'cron', expression: '0 9 * * *', timezone: 'Europe/Berlin' };
    const runs = previewRuns(s, at('2030-10-26T12:00:00Z'), 2).map((ms) => new Date(ms).toISOString());
    expect(runs).toEqual(['2030-10-27T08:00:00.000Z', '2030-10-28T08:00:00.000Z']);
  });

  it('6-field cron has second precision', () => {
    const s: Schedule = { kind: 'cron', expression: '*/30 * * * * *' };
    expect(previewRuns(s, at('2030-01-01T00:00:05Z'), 3).map((ms) => new Date(ms).toISOString())).toEqual([
      '2030-01-01T00:00:30.000Z',
      '2030-01-01T00:01:00.000Z',
      '2030-01-01T00:01:30.000Z',
    ]);
  });

  it('interval fires at once, then every everyMs, and skips missed slots in phase', () => {
    const s: Schedule = { kind: 'interval', everyMs: 10_000 };
    const now = at('2030-01-01T00:00:03Z');
    expect(firstRunAt(s, now)).toBe(now);
    expect(nextRunAfter(s, now, 1, now)).toBe(now + 10_000);
    // After 35 s of downtime the next slot keeps the original phase (…:03) and lies in the future.
    expect(nextRunAfter(s, now, 1, now + 35_000)).toBe(now + 40_000);
  });

  it('honours startAt, endAt and limit', () => {
    const now = at('2030-01-01T00:00:00Z');
    const s: Schedule = { kind: 'interval', everyMs: 1000, startAt: '2030-01-01T00:01:00Z', endAt: '2030-01-01T00:01:02Z' };
    expect(previewRuns(s, now, 10).map((ms) => (ms - now) / 1000)).toEqual([60, 61, 62]);
    const limited: Schedule = { kind: 'cron', expression: '* * * * * *', limit: 2 };
    expect(previewRuns(limited, now, 10)).toHaveLength(2);
    expect(nextRunAfter(limited, now + 1000, 2, now + 1000)).toBeNull();
  });

  it('one-time kinds have a single run', () => {
    const now = at('2030-01-01T00:00:00Z');
    expect(previewRuns({ kind: 'delay', delayMs: 5000 }, now, 5)).toEqual([now + 5000]);
    expect(nextRunAfter({ kind: 'once', runAt: '2030-01-02T00:00:00Z' }, now, 1, now)).toBeNull();
  });
});

describe('passedOverSlots', () => {
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  it('lists the interval slots between a late start and the next slot BullMQ schedules', () => {
    const s = { kind: 'interval' as const, everyMs: 1000 };
    expect(passedOverSlots(s, t0, t0 + 999, 100)).toEqual([]);
    expect(passedOverSlots(s, t0, t0 + 2500, 100)).toEqual([t0 + 1000, t0 + 2000]);
    expect(nextRunAfter(s, t0, 1, t0 + 2500)).toBe(t0 + 3000);
  });
  it('lists cron slots passed over, and stops at the bound', () => {
    const s = { kind: 'cron' as const, expression: '* * * * * *' };
    expect(passedOverSlots(s, t0, t0 + 3200, 100)).toEqual([t0 + 1000, t0 + 2000, t0 + 3000]);
    expect(passedOverSlots(s, t0, t0 + 3200, 2)).toEqual([t0 + 1000, t0 + 2000]);
    expect(passedOverSlots({ kind: 'cron' as const, expression: '0 * * * *' }, t0, t0 + 5000, 100)).toEqual([]);
  });
});
