import type { ExecutionDoc } from '../../src/persistence/models';
import { useCluster } from '../helpers/e2e';
import { dedicatedRedis } from '../helpers/fault';
import { http } from '../helpers/http';
import { spawnTock } from '../helpers/processes';
import { waitFor } from '../helpers/wait-for';

/** Overlap policy, run-now without moving the schedule, and the workers' start-up checks. */
describe('scheduling policies (API + 1 worker as processes)', () => {
  const e = useCluster({ WORKER_CONCURRENCY: '10', COUNTER_FLUSH_INTERVAL_MS: '100' }, 1);

  const post = async (body: object): Promise<string> => {
    const res = await http(e.cluster.baseUrl, 'POST', '/api/v1/jobs', body);
    expect(res.status).toBe(201);
    return res.body.id;
  };
  const records = (jobId: string) => e.db.models.Execution.find({ jobId }).sort({ startedAt: 1 }).lean<ExecutionDoc[]>();
  const overlaps = (runs: ExecutionDoc[]) =>
    runs.filter((a, i) => runs.some((b, j) => j > i && b.startedAt < a.finishedAt! && a.startedAt < b.finishedAt!)).length;

  it('overlap forbid: an occurrence due while the previous one runs is skipped and recorded as skipped', async () => {
    const slow = { handler: 'sleep', payload: { durationMs: 2500 } };
    const forbid = await post({ name: 'forbid', ...slow, schedule: { kind: 'interval', everyMs: 1000, overlap: 'forbid' } });
    const allow = await post({ name: 'allow', ...slow, schedule: { kind: 'interval', everyMs: 1000 } });
    await waitFor(
      'two finished runs of the forbid job',
      async () => {
        const runs = await records(forbid);
        return runs.filter((r) => r.status === 'succeeded').length >= 2;
      },
      { timeoutMs: 15_000 },
    );
    await http(e.cluster.baseUrl, 'POST', `/api/v1/jobs/${forbid}/pause`);
    await http(e.cluster.baseUrl, 'POST', `/api/v1/jobs/${allow}/pause`);

    const forbidRuns = await records(forbid);
    const ran = forbidRuns.filter((r) => r.status === 'succeeded');
    const skipped = forbidRuns.filter((r) => r.status === 'skipped');
    expect(skipped.length).toBeGreaterThanOrEqual(2);
    expect(skipped.every((r) => (r.error as { code: string }).code === 'overlap')).toBe(true);
    expect(overlaps(ran)).toBe(0);
    // The same schedule without the policy does overlap, so the check above means something.
    expect(overlaps((await records(allow)).filter((r) => r.status === 'succeeded'))).toBeGreaterThan(0);
  });

  it('trigger runs now without moving the next scheduled slot', async () => {
    const id = await post({ name: 'nightly', handler: 'noop', schedule: { kind: 'cron', expression: '0 3 * * *' } });
    const before = await http(e.cluster.baseUrl, 'GET', `/api/v1/jobs/${id}`);
    const schedulerBefore = await e.queue.getJobScheduler(id);
    const res = await http(e.cluster.baseUrl, 'POST', `/api/v1/jobs/${id}/trigger`);
    expect(res.status).toBe(202);
    await waitFor('the manual run', async () => (await records(id)).some((r) => r.trigger === 'manual' && r.status === 'succeeded'));
    await waitFor('counters to be written', async () => (await http(e.cluster.baseUrl, 'GET', `/api/v1/jobs/${id}`)).body.runCount === 1);
    const after = await http(e.cluster.baseUrl, 'GET', `/api/v1/jobs/${id}`);
    expect(after.body.nextRunAt).toBe(before.body.nextRunAt);
    expect((await e.queue.getJobScheduler(id))?.next).toBe(schedulerBefore?.next);
  });
});

describe('worker start-up checks', () => {
  it('refuses a Redis that may evict keys, unless REDIS_ALLOW_EVICTION=true', async () => {
    const redis = await dedicatedRedis(['--maxmemory-policy', 'allkeys-lru']);
    const env = { REDIS_URL: redis.url, MONGODB_URL: process.env.TOCK_TEST_MONGODB_URL!, LOG_LEVEL: 'info' };
    try {
      const refused = spawnTock('worker', 'evicting', env);
      const code = await new Promise<number | null>((resolve) => refused.child.once('exit', resolve));
      expect(code).not.toBe(0);
      expect(refused.output()).toMatch(/maxmemory-policy is .{0,2}allkeys-lru.*noeviction.*REDIS_ALLOW_EVICTION=true/s);

      const allowed = spawnTock('worker', 'allowed', { ...env, REDIS_ALLOW_EVICTION: 'true' });
      try {
        await waitFor('the worker to start anyway', () => /worker started/.test(allowed.output()), { timeoutMs: 20_000 });
      } finally {
        await allowed.kill('SIGTERM');
      }
    } finally {
      await redis.destroy();
    }
  });
});
