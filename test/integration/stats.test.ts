import { Worker } from 'bullmq';
import { Types } from 'mongoose';
import { startApi, type ApiHarness } from '../helpers/api-harness';
import { createRedis } from '../../src/queue/redis';
import { QUEUE_NAME } from '../../src/queue/job-queue';

/**
 * The read-only views over real Redis and FerretDB: a job's stats and newest record from history
 * written straight into the store, the overview against what the store and BullMQ hold, schedule
 * previews, and the name search.
 */
const HOUR = 3_600_000;
const noop = (name: string, schedule: object = { kind: 'cron', expression: '0 3 * * *' }) => ({ name, handler: 'noop', schedule });

interface Sample {
  status: string;
  ageMs: number;
  durationMs: number | null;
  driftMs: number | null;
  error?: { code: string; message: string };
}

describe('stats, latest execution, overview, schedule preview', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(() => api.close());

  const insertHistory = async (jobId: string, samples: Sample[]) => {
    const now = Date.now();
    await api.db.models.Execution.insertMany(
      samples.map((s, i) => {
        const startedAt = new Date(now - s.ageMs);
        return {
          _id: `${jobId}-s${i}.1`,
          jobId: new Types.ObjectId(jobId),
          runId: `${jobId}-s${i}`,
          attempt: 1,
          status: s.status,
          trigger: 'schedule',
          scheduledFor: s.driftMs === null ? null : new Date(startedAt.getTime() - s.driftMs),
          startedAt,
          finishedAt: s.status === 'running' ? null : new Date(startedAt.getTime() + (s.durationMs ?? 0)),
          durationMs: s.durationMs,
          driftMs: s.driftMs,
          workerId: 'w1',
          error: s.error ?? null,
          result: null,
        };
      }),
    );
  };

  it('counts, rates and percentiles a window of history, and names the last failure', async () => {
    const jobId = (await api.request('POST', '/api/v1/jobs', noop('stats'))).body.id as string;
    const samples: Sample[] = [];
    // In the last hour: 8 succeeded lasting 10..80 ms and starting 1..8 ms late, 2 failed (100, 200 ms), 1 skipped.
    for (let i = 1; i <= 8; i++) samples.push({ status: 'succeeded', ageMs: i * 60_000, durationMs: i * 10, driftMs: i });
    samples.push({ status: 'failed', ageMs: 20 * 60_000, durationMs: 100, driftMs: 50, error: { code: 'http-500', message: 'older' } });
    samples.push({ status: 'failed', ageMs: 10 * 60_000, durationMs: 200, driftMs: 60, error: { code: 'http-503', message: 'newest' } });
    samples.push({ status: 'skipped', ageMs: 30 * 60_000, durationMs: 0, driftMs: 9000, error: { code: 'overlap', message: 'skipped' } });
    // Two hours ago (inside 24h, outside 1h), and three days ago (inside 7d only).
    samples.push({ status: 'stalled', ageMs: 2 * HOUR, durationMs: null, driftMs: null });
    samples.push({ status: 'succeeded', ageMs: 72 * HOUR, durationMs: 5000, driftMs: 0 });
    await insertHistory(jobId, samples);

    const hour = await api.request('GET', `/api/v1/jobs/${jobId}/stats?window=1h`);
    expect(hour.status).toBe(200);
    expect(hour.body).toMatchObject({
      jobId,
      window: '1h',
      runs: 11,
      succeeded: 8,
      failed: 2,
      skipped: 1,
      stalled: 0,
      successRate: 0.8,
      // Nearest rank over 10 durations (10..80, 100, 200): p50 is the 5th, p95 the 10th.
      durationMs: { p50: 50, p95: 200, max: 200 },
      // Over 11 drifts (1..8, 9000, 50, 60): sorted 1..8, 50, 60, 9000: p50 is the 6th, p95 the 11th.
      latenessMs: { p50: 6, p95: 9000 },
      lastFailure: { executionId: `${jobId}-s9.1`, error: { code: 'http-503', message: 'newest' } },
      truncated: false,
    });
    expect(Date.parse(hour.body.to) - Date.parse(hour.body.from)).toBe(HOUR);

    const day = await api.request('GET', `/api/v1/jobs/${jobId}/stats`);
    expect(day.body).toMatchObject({ window: '24h', runs: 12, stalled: 1, successRate: 8 / 11 });
    expect(day.body.lastFailure.executionId).toBe(`${jobId}-s9.1`);
    const week = await api.request('GET', `/api/v1/jobs/${jobId}/stats?window=7d`);
    expect(week.body).toMatchObject({ runs: 13, succeeded: 9, durationMs: { max: 5000 } });

    const bad = await api.request('GET', `/api/v1/jobs/${jobId}/stats?window=2h`);
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe('window');
    expect((await api.request('GET', '/api/v1/jobs/0123456789abcdef01234567/stats')).status).toBe(404);
  });

  it('a job without history has empty stats and no latest execution; then the newest by start', async () => {
    const jobId = (await api.request('POST', '/api/v1/jobs', noop('fresh'))).body.id as string;
    const empty = await api.request('GET', `/api/v1/jobs/${jobId}/stats`);
    expect(empty.body).toMatchObject({ runs: 0, successRate: null, durationMs: null, latenessMs: null, lastFailure: null });
    const none = await api.request('GET', `/api/v1/jobs/${jobId}/executions/latest`);
    expect(none.status).toBe(404);
    expect(none.body.detail).toMatch(/no executions/);

    await insertHistory(jobId, [
      { status: 'succeeded', ageMs: 5000, durationMs: 1, driftMs: 1 },
      { status: 'failed', ageMs: 1000, durationMs: 2, driftMs: 2, error: { code: 'error', message: 'boom' } },
      { status: 'succeeded', ageMs: 9000, durationMs: 3, driftMs: 3 },
    ]);
    const latest = await api.request('GET', `/api/v1/jobs/${jobId}/executions/latest`);
    expect(latest.status).toBe(200);
    expect(latest.body).toMatchObject({ id: `${jobId}-s1.1`, status: 'failed', error: { message: 'boom' } });
    expect((await api.request('GET', '/api/v1/jobs/0123456789abcdef01234567/executions/latest')).status).toBe(404);
  });

  it('the overview agrees with the store and BullMQ, and names the connected workers', async () => {
    const paused = (await api.request('POST', '/api/v1/jobs', noop('to-pause'))).body.id as string;
    expect((await api.request('POST', `/api/v1/jobs/${paused}/pause`)).status).toBe(200);
    await api.db.models.DeadLetter.create({
      _id: 'dl-overview-1',
      jobId: new Types.ObjectId(paused),
      jobName: 'to-pause',
      handler: 'noop',
      runId: 'r1',
      trigger: 'schedule',
      reason: 'failed',
      attempts: 1,
      error: null,
      lastExecutionId: 'r1.1',
      failedAt: new Date(),
      state: 'open',
    });
    const connection = createRedis(api.ctx.redisUrl, 'worker');
    const worker = new Worker(QUEUE_NAME, async () => undefined, { connection, prefix: api.ctx.prefix, name: 'overview-worker-1' });
    await worker.waitUntilReady();
    try {
      const res = await api.request('GET', '/api/v1/overview');
      expect(res.status).toBe(200);
      const byStatus: Record<string, number> = {};
      for (const job of await api.db.models.Job.find({}, { status: 1 }).lean()) byStatus[job.status] = (byStatus[job.status] ?? 0) + 1;
      expect(res.body.jobs.byStatus).toMatchObject(byStatus);
      expect(res.body.jobs.total).toBe(Object.values(byStatus).reduce((a, b) => a + b, 0));
      expect(res.body.jobs.byStatus.paused).toBeGreaterThanOrEqual(1);
      const finished = await api.db.models.Execution.find({ finishedAt: { $gte: new Date(Date.now() - HOUR) } }, { status: 1 }).lean();
      expect(res.body.lastHour).toEqual({
        runs: finished.length,
        succeeded: finished.filter((r) => r.status === 'succeeded').length,
        failed: finished.filter((r) => r.status === 'failed' || r.status === 'stalled').length,
      });
      expect(res.body.deadLetter.open).toBe(await api.db.models.DeadLetter.countDocuments({ state: 'open' }));
      expect(res.body.queue).toEqual(await api.queue.queue.getJobCounts('waiting', 'delayed', 'active', 'failed', 'prioritized'));
      expect(res.body.queue.delayed).toBeGreaterThanOrEqual(1);
      expect(res.body.workers).toEqual({ connected: 1, ids: ['overview-worker-1'] });
    } finally {
      await worker.close();
      await connection.quit();
    }
  });

  it('previews fire times as the workers compute them, with the schedule in words', async () => {
    const startAt = new Date(Math.ceil(Date.now() / HOUR) * HOUR + HOUR).toISOString();
    const interval = await api.request('GET', `/api/v1/schedules/preview?kind=interval&everyMs=300000&startAt=${startAt}&count=4`);
    expect(interval.status).toBe(200);
    expect(interval.body.description).toBe(`every 5 minutes, from ${startAt}`);
    expect(interval.body.runs.map((t: string) => Date.parse(t) - Date.parse(startAt))).toEqual([0, 300_000, 600_000, 900_000]);

    const cron = await api.request('GET', '/api/v1/schedules/preview?kind=cron&expression=0+9+*+*+1&timezone=Europe/Berlin');
    expect(cron.body.description).toBe('cron 0 9 * * 1 Europe/Berlin');
    expect(cron.body.runs).toHaveLength(10);
    for (const t of cron.body.runs as string[]) {
      const local = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', weekday: 'short', hour: '2-digit', minute: '2-digit' });
      expect(local.format(new Date(t))).toBe('Mon 09:00');
    }
    const weeks = (cron.body.runs as string[]).map((t) => Date.parse(t));
    expect(weeks.every((t, i) => i === 0 || t > weeks[i - 1]!)).toBe(true);

    const limited = await api.request('GET', '/api/v1/schedules/preview?kind=interval&everyMs=1000&limit=3');
    expect(limited.body.runs).toHaveLength(3);
    const once = await api.request('GET', '/api/v1/schedules/preview?kind=delay&delayMs=60000');
    expect(once.body.runs).toHaveLength(1);
  });

  it('names the parameter that makes a schedule invalid', async () => {
    const cases: [string, string][] = [
      ['kind=cron&expression=61+*+*+*+*', 'expression'],
      ['kind=cron&expression=0+9+*+*+1&timezone=Mars/Olympus', 'timezone'],
      ['kind=cron&expression=0+9+*+*+1&everyMs=1000', 'everyMs'],
      ['kind=interval&everyMs=10', 'everyMs'],
      ['kind=interval&everyMs=abc', 'everyMs'],
      ['kind=once&runAt=2001-01-01T00:00:00Z', 'runAt'],
      ['kind=weekly', 'kind'],
      ['kind=interval&everyMs=60000&count=500', 'count'],
      ['kind=interval&everyMs=60000&colour=red', 'colour'],
    ];
    for (const [q, field] of cases) {
      const res = await api.request('GET', `/api/v1/schedules/preview?${q}`);
      expect({ q, status: res.status, type: res.headers.get('content-type') }).toEqual({
        q,
        status: 400,
        type: expect.stringContaining('application/problem+json'),
      });
      expect({ q, paths: res.body.errors.map((e: { path: string }) => e.path) }).toEqual({ q, paths: expect.arrayContaining([field]) });
    }
  });

  it('finds jobs by a case-insensitive part of their name, with the other filters', async () => {
    for (const name of ['Nightly Report', 'weekly report', 'cleanup (tmp)*']) await api.request('POST', '/api/v1/jobs', noop(name));
    const names = async (q: string) =>
      ((await api.request('GET', `/api/v1/jobs?${q}`)).body.items as { name: string }[]).map((j) => j.name).sort();
    expect(await names('name=REPORT')).toEqual(['Nightly Report', 'weekly report']);
    expect(await names('name=report&status=scheduled&scheduleKind=cron')).toEqual(['Nightly Report', 'weekly report']);
    expect(await names(`name=${encodeURIComponent('(tmp)*')}`)).toEqual(['cleanup (tmp)*']);
    expect(await names('name=report&status=paused')).toEqual([]);
  });
});
