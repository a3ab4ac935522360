import { startApi, startApiWithoutRedis, type ApiHarness } from '../helpers/api-harness';
import { cron, once } from '../helpers/job-bodies';

/** POST /api/v1/jobs/trigger: one manual run per listed id, in one addBulk, or nothing at all. */
describe('POST /jobs/trigger', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(() => api.close());

  it('queues one manual run per listed id, and answers an unknown id 404 on its own', async () => {
    const a = (await api.request('POST', '/api/v1/jobs', cron('t-a'))).body.id as string;
    const b = (await api.request('POST', '/api/v1/jobs', once('t-b'))).body.id as string;
    const missing = '0123456789abcdef01234567';
    const before = await api.queue.queue.getJobScheduler(a);
    const res = await api.request('POST', '/api/v1/jobs/trigger', { jobIds: [a, b, a, missing, 'not-an-id'] });
    expect(res.status).toBe(207);
    const results = res.body.results as { index: number; status: number; jobId?: string; runId?: string; problem?: { status: number } }[];
    expect(results.map((r) => [r.index, r.status, r.jobId])).toEqual([
      [0, 202, a],
      [1, 202, b],
      [2, 202, a],
      [3, 404, undefined],
      [4, 404, undefined],
    ]);
    expect(results[3]!.problem?.status).toBe(404);
    const runIds = results.slice(0, 3).map((r) => r.runId!);
    expect(new Set(runIds).size).toBe(3);
    for (const [i, runId] of runIds.entries()) {
      const job = await api.queue.queue.getJob(runId);
      expect(job?.data).toEqual({ jobId: [a, b, a][i], version: 1, trigger: 'manual' });
      expect(job?.opts.attempts).toBeGreaterThanOrEqual(1);
    }
    // The schedule does not move, as with POST /jobs/{id}/trigger.
    expect((await api.queue.queue.getJobScheduler(a))?.next).toBe(before?.next);
  });

  it('answers 202 when every run was queued', async () => {
    const a = (await api.request('POST', '/api/v1/jobs', cron('t-all'))).body.id as string;
    const res = await api.request('POST', '/api/v1/jobs/trigger', { jobIds: Array.from({ length: 1000 }, () => a) });
    expect(res.status).toBe(202);
    expect(res.body.results).toHaveLength(1000);
    expect(await api.queue.queue.getJob(res.body.results[999].runId)).toBeDefined();
  });

  it('answers 400 naming the field for a body that is not 1 to 1,000 ids, and queues nothing', async () => {
    const a = (await api.request('POST', '/api/v1/jobs', cron('t-bad'))).body.id as string;
    const waiting = await api.queue.queue.getWaitingCount();
    const cases: [unknown, string][] = [
      [{}, 'jobIds'],
      [{ jobIds: [] }, 'jobIds'],
      [{ jobIds: Array.from({ length: 1001 }, () => a) }, 'jobIds'],
      [{ jobIds: [a, 7] }, 'jobIds.1'],
      [{ jobIds: [a, ''] }, 'jobIds.1'],
      [{ jobIds: [a], extra: 1 }, 'extra'],
    ];
    for (const [body, path] of cases) {
      const res = await api.request('POST', '/api/v1/jobs/trigger', body);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    expect(await api.queue.queue.getWaitingCount()).toBe(waiting);
  });

  it('answers 503 and queues nothing while Redis is down', async () => {
    const a = (await api.request('POST', '/api/v1/jobs', cron('t-down'))).body.id as string;
    const broken = await startApiWithoutRedis(api);
    try {
      const waiting = await api.queue.queue.getWaitingCount();
      const res = await broken.request('POST', '/api/v1/jobs/trigger', { jobIds: [a, a] });
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(await api.queue.queue.getWaitingCount()).toBe(waiting);
    } finally {
      await broken.close();
    }
  });
});
