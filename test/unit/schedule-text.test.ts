import { describeSchedule, duration } from '../../src/domain/schedule-text';
import { percentile, summarizeRuns } from '../../src/domain/job-stats';

describe('schedules in words', () => {
  it.each([
    [{ kind: 'interval', everyMs: 300_000 }, 'every 5 minutes'],
    [{ kind: 'interval', everyMs: 60_000 }, 'every minute'],
    [{ kind: 'interval', everyMs: 90_000 }, 'every 1 minute 30 seconds'],
    [{ kind: 'interval', everyMs: 1500 }, 'every 1.5 seconds'],
    [{ kind: 'interval', everyMs: 86_400_000, limit: 3 }, 'every day, at most 3 times'],
    [{ kind: 'cron', expression: ' 0 9 * * 1 ', timezone: 'Europe/Berlin' }, 'cron 0 9 * * 1 Europe/Berlin'],
    [{ kind: 'cron', expression: '@hourly', endAt: '2030-01-01T00:00:00Z' }, 'cron @hourly, until 2030-01-01T00:00:00Z'],
    [{ kind: 'once', runAt: '2030-01-01T09:00:00+01:00' }, 'once at 2030-01-01T09:00:00+01:00'],
    [{ kind: 'delay', delayMs: 30_000 }, 'once, 30 seconds after it was set'],
  ] as const)('%j -> %s', (schedule, text) => {
    expect(describeSchedule(schedule as never)).toBe(text);
  });

  it('spells durations with every unit they need', () => {
    expect(duration(0)).toBe('0 seconds');
    expect(duration(250)).toBe('0.25 seconds');
    expect(duration(3_600_000 + 1000)).toBe('1 hour 1 second');
    expect(duration(2 * 86_400_000 + 5)).toBe('2 days 5 ms');
  });
});

describe('job stats', () => {
  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 20 }, (_, i) => i + 1);
    expect([percentile(values, 50), percentile(values, 95), percentile(values, 100), percentile([7], 95)]).toEqual([10, 19, 20, 7]);
  });

  it('leaves skipped and running records out of durations and the success rate', () => {
    const at = (s: number) => new Date(s * 1000);
    const stats = summarizeRuns([
      { id: 'a', status: 'succeeded', startedAt: at(1), durationMs: 10, driftMs: -2, error: null },
      { id: 'b', status: 'stalled', startedAt: at(3), durationMs: null, driftMs: null, error: { code: 'stalled', message: 's' } },
      { id: 'c', status: 'skipped', startedAt: at(4), durationMs: 0, driftMs: 7000, error: { code: 'misfire', message: 'm' } },
      { id: 'd', status: 'running', startedAt: at(5), durationMs: null, driftMs: 5, error: null },
    ]);
    expect(stats).toMatchObject({
      runs: 4,
      successRate: 0.5,
      durationMs: { p50: 10, p95: 10, max: 10 },
      lastFailure: { executionId: 'b' },
    });
    expect(stats.latenessMs).toEqual({ p50: 5, p95: 7000 });
  });
});
