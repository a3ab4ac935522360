import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { http } from '../helpers/http';
import { useCluster } from '../helpers/e2e';
import { deleteRedisKeys } from '../helpers/services';
import { waitFor } from '../helpers/wait-for';
import { ADMIN } from '../helpers/keys';

/** The API and 3 worker processes, spawned for real, against the test Redis and FerretDB. */
describe('engine end to end (API + 3 workers as processes)', () => {
  const e = useCluster({
    WORKER_CONCURRENCY: '50',
    WORKER_LOCK_DURATION_MS: '2000',
    WORKER_STALLED_INTERVAL_MS: '1000',
    HTTP_ALLOW_PRIVATE_NETWORKS: 'true',
    COUNTER_FLUSH_INTERVAL_MS: '200',
  });

  const post = (body: unknown) => http(e.cluster.baseUrl, 'POST', '/api/v1/jobs', body);
  const executions = (jobId: string) => e.db.models.Execution.find({ jobId }).sort({ startedAt: 1 }).lean();

  it('runs its first reconcile and retention passes at start, once Redis is connected, none of them failing', async () => {
    // The processes were started just now, before the 5 s canary check: the canary is the start's own pass.
    const redis = new Redis(e.ctx.redisUrl);
    try {
      const canary = async () => (await redis.exists(`${e.ctx.prefix}:reconciled`)) === 1;
      await waitFor('the canary of the first reconcile pass', canary, { timeoutMs: 2000, intervalMs: 50 });
    } finally {
      redis.disconnect();
    }
    for (const p of [e.cluster.api, ...e.cluster.workers]) {
      expect(p.output()).not.toMatch(/failed; will retry|lost the reconciler canary/);
    }
  });

  it("keeps idle keep-alive connections for 65 s, beyond a load balancer's 60 s, and says so", async () => {
    const res = await fetch(`${e.cluster.baseUrl}/api/v1/jobs?limit=1`, { headers: ADMIN });
    expect(res.status).toBe(200);
    expect(res.headers.get('keep-alive')).toBe('timeout=65');
  });

  it('runs 200 one-time jobs due within 2 s exactly once each', async () => {
    // One batch request, so that slow creation on a busy machine cannot push a due time into the past.
    const base = Date.now() + 3000;
    const jobs = Array.from({ length: 200 }, () => ({
      name: 'burst',
      handler: 'noop',
      schedule: { kind: 'once', runAt: new Date(base + Math.random() * 2000).toISOString() },
    }));
    const created = await http(e.cluster.baseUrl, 'POST', '/api/v1/jobs/batch', { jobs });
    expect(created.status).toBe(201);
    const ids: string[] = created.body.results.map((r: { job: { id: string } }) => r.job.id);
    await waitFor('200 execution records', async () => (await e.db.models.Execution.countDocuments({ jobId: { $in: ids } })) >= 200, {
      timeoutMs: 20_000,
      intervalMs: 200,
    });
    await waitFor(
      '200 completed definitions',
      async () => (await e.db.models.Job.countDocuments({ _id: { $in: ids }, status: 'completed' })) === 200,
      {
        timeoutMs: 10_000,
        intervalMs: 200,
      },
    );
    const records = await e.db.models.Execution.find({ jobId: { $in: ids } }).lean();
    expect(records).toHaveLength(200);
    expect(new Set(records.map((r) => String(r.jobId))).size).toBe(200);
    expect(records.every((r) => r.status === 'succeeded' && r.attempt === 1)).toBe(true);
    expect(records.every((r) => r.startedAt.getTime() >= r.scheduledFor!.getTime())).toBe(true);
    expect(new Set(records.map((r) => r.workerId)).size).toBeGreaterThan(1);
  });

  it('retries a failing job with growing gaps, dead-letters it, and retries it from the dead letter', async () => {
    const created = await post({
      name: 'always fails',
      handler: 'simulate',
      payload: { failureRate: 1 },
      retry: { attempts: 3, backoff: { type: 'exponential', delayMs: 400 } },
      schedule: { kind: 'delay', delayMs: 0 },
    });
    const id = created.body.id;
    const entry = await waitFor(
      'a dead-letter entry',
      async () => (await http(e.cluster.baseUrl, 'GET', `/api/v1/dead-letter?jobId=${id}`)).body.items[0],
    );
    const runs = await executions(id);
    expect(runs.map((r) => [r.attempt, r.status])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'failed'],
    ]);
    const gap1 = runs[1]!.startedAt.getTime() - runs[0]!.startedAt.getTime();
    const gap2 = runs[2]!.startedAt.getTime() - runs[1]!.startedAt.getTime();
    expect(gap1).toBeGreaterThanOrEqual(400);
    expect(gap2).toBeGreaterThan(gap1);
    expect(entry).toMatchObject({ reason: 'failed', attempts: 3, lastExecutionId: runs[2]!._id });
    await waitFor(
      'the job to be failed',
      async () => (await http(e.cluster.baseUrl, 'GET', `/api/v1/jobs/${id}`)).body.status === 'failed',
    );
    // Every attempt's record counts towards recordCount (retention's cue), not only the finished run.
    await waitFor('recordCount to count the 3 records', async () => (await e.db.models.Job.findById(id).lean())?.recordCount === 3);
    expect(await e.db.models.Job.findById(id).lean()).toMatchObject({ runCount: 1, failureCount: 1, recordCount: 3 });

    const retry = await http(e.cluster.baseUrl, 'POST', `/api/v1/dead-letter/${entry.id}/retry`);
    expect(retry.status).toBe(202);
    await waitFor('the retried run', async () => (await executions(id)).some((r) => r.trigger === 'dead-letter-retry'));
    expect((await http(e.cluster.baseUrl, 'POST', `/api/v1/dead-letter/${entry.id}/retry`)).status).toBe(409);
    expect((await http(e.cluster.baseUrl, 'GET', `/api/v1/dead-letter/${entry.id}`)).body.state).toBe('retried');
  });

  it('fires a */1 cron job at least 3 times in 4 s and stops while paused', async () => {
    const started = Date.now();
    const created = await post({ name: 'every second', handler: 'noop', schedule: { kind: 'cron', expression: '*/1 * * * * *' } });
    const id = created.body.id;
    await waitFor('3 cron runs', async () => (await executions(id)).length >= 3, { timeoutMs: 4000 - (Date.now() - started) + 500 });
    const paused = await http(e.cluster.baseUrl, 'POST', `/api/v1/jobs/${id}/pause`);
    expect(paused.body.status).toBe('paused');
    const pausedAt = Date.now();
    // Nothing may start after the pause: watch for 2.5 s (more than two slots).
    const deadline = pausedAt + 2500;
    while (Date.now() < deadline) {
      const late = (await executions(id)).filter((r) => r.startedAt.getTime() > pausedAt + 50);
      expect(late).toEqual([]);
      await new Promise((r) => setTimeout(r, 250));
    }
  });

  it('resumes an interval job after a pause', async () => {
    const created = await post({ name: 'interval', handler: 'noop', schedule: { kind: 'interval', everyMs: 1000 } });
    const id = created.body.id;
    await waitFor('a first run', async () => (await executions(id)).length >= 1);
    await http(e.cluster.baseUrl, 'POST', `/api/v1/jobs/${id}/pause`);
    const resumedAt = Date.now();
    const resumed = await http(e.cluster.baseUrl, 'POST', `/api/v1/jobs/${id}/resume`);
    expect(resumed.body.status).toBe('scheduled');
    await waitFor('runs after resume', async () => (await executions(id)).filter((r) => r.startedAt.getTime() >= resumedAt).length >= 2, {
      timeoutMs: 5000,
    });
  });

  describe('http handler', () => {
    let server: Server;
    let url: string;
    beforeAll(async () => {
      server = createServer((req, res) => {
        if (req.url === '/missing') {
          res.writeHead(404).end('nope');
          return;
        }
        res.writeHead(201, { 'content-type': 'text/plain' }).end(`hello ${req.method}`);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise((r) => server.close(r)));

    it('records the status code and the response body', async () => {
      const created = await post({
        name: 'hook',
        handler: 'http',
        payload: { url: `${url}/hook`, method: 'POST', body: { a: 1 } },
        schedule: { kind: 'delay', delayMs: 0 },
      });
      const [run] = await waitFor('the webhook run', async () => {
        const r = await executions(created.body.id);
        return r.length > 0 && r;
      });
      expect(run).toMatchObject({ status: 'succeeded', result: { statusCode: 201, body: 'hello POST' } });
    });

    it('does not retry a 404', async () => {
      const created = await post({
        name: 'gone',
        handler: 'http',
        payload: { url: `${url}/missing` },
        schedule: { kind: 'delay', delayMs: 0 },
      });
      await waitFor(
        'a dead-letter entry',
        async () => (await http(e.cluster.baseUrl, 'GET', `/api/v1/dead-letter?jobId=${created.body.id}`)).body.items[0],
      );
      const runs = await executions(created.body.id);
      expect(runs.map((r) => [r.attempt, r.status, (r.error as { code: string }).code])).toEqual([[1, 'failed', 'http-404']]);
    });
  });

  it('restores what Redis lost within seconds, long before the next full reconcile pass', async () => {
    const every = await post({ name: 'kept', handler: 'noop', schedule: { kind: 'interval', everyMs: 3_600_000 } });
    const once = await post({ name: 'kept once', handler: 'noop', schedule: { kind: 'delay', delayMs: 3_600_000 } });
    expect([every.status, once.status]).toEqual([201, 201]);
    expect(await e.queue.getJobScheduler(every.body.id)).toBeDefined();
    // Every key of the queue is gone, as after a FLUSHALL, while the connections stay up.
    const lost = Date.now();
    await deleteRedisKeys(e.ctx.redisUrl, e.ctx.prefix);
    expect(await e.queue.getJobScheduler(every.body.id)).toBeUndefined();
    await waitFor(
      'the scheduler and the one-time job back in Redis',
      async () => (await e.queue.getJobScheduler(every.body.id)) && (await e.queue.getJobState(`${once.body.id}-v1`)) === 'delayed',
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    process.stdout.write(`lost keys restored ${Date.now() - lost} ms after they were deleted (full passes every 300 s)\n`);
  });
});
