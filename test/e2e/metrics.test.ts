import { JobQueue } from '../../src/queue/job-queue';
import { createRedis } from '../../src/queue/redis';
import { useCluster } from '../helpers/e2e';
import { startSink, tockEnv, type Sink } from '../helpers/fault';
import { http } from '../helpers/http';
import { metricsPortOf, spawnWorkers, stopAll } from '../helpers/processes';
import { parseExposition, sumBy, sumOf, type Sample } from '../helpers/prometheus';
import { waitFor } from '../helpers/wait-for';

/**
 * Prometheus metrics against real API and worker processes: after a mixed set of runs (succeeding,
 * failing until dead-lettered, skipped), each metric scraped from the workers and the API equals
 * what the store and the queue hold. Workers pick a free probe port (WORKER_METRICS_PORT=0).
 */
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('metrics (API + 2 workers as processes)', () => {
  const e = useCluster({ COUNTER_FLUSH_INTERVAL_MS: '200', MISFIRE_GRACE_MS: '5000', HTTP_ALLOW_PRIVATE_NETWORKS: 'true' }, 2);
  let sink: Sink;
  beforeAll(async () => {
    sink = await startSink((_req, res) => {
      res.statusCode = 204;
      res.end();
    });
  });
  afterAll(() => sink?.close());

  const scrapeWorker = async (i: number): Promise<Sample[]> => {
    const res = await fetch(`http://127.0.0.1:${metricsPortOf(e.cluster.workers[i]!)}/metrics`);
    expect(res.status).toBe(200);
    return parseExposition(await res.text());
  };
  const scrapeWorkers = async (): Promise<Sample[]> => (await Promise.all(e.cluster.workers.map((_, i) => scrapeWorker(i)))).flat();
  const scrapeApi = async (): Promise<Sample[]> => {
    const res = await http(e.cluster.baseUrl, 'GET', '/metrics');
    expect(res.status).toBe(200);
    return parseExposition(res.body as string);
  };
  const create = async (body: object): Promise<string> => {
    const res = await http(e.cluster.baseUrl, 'POST', '/api/v1/jobs', body);
    expect(res.status).toBe(201);
    return (res.body as { id: string }).id;
  };
  const recordsByStatus = async (): Promise<Record<string, number>> => {
    const rows = await e.db.models.Execution.aggregate<{ _id: string; n: number }>([{ $group: { _id: '$status', n: { $sum: 1 } } }]);
    return Object.fromEntries(rows.map((r) => [r._id, r.n]));
  };

  let redis: ReturnType<typeof createRedis>;
  let jobQueue: JobQueue;
  beforeAll(() => {
    redis = createRedis(e.ctx.redisUrl, 'command');
    jobQueue = new JobQueue(redis, { prefix: e.ctx.prefix });
  });
  afterAll(async () => {
    await jobQueue?.close();
    redis?.disconnect();
  });

  it('counts every execution record, dead-letter entry and queue state as the store and the queue hold them', async () => {
    const ok = await Promise.all(
      Array.from({ length: 6 }, (_, i) => create({ name: `ok ${i}`, handler: 'noop', schedule: { kind: 'delay', delayMs: 300 } })),
    );
    const failing = await Promise.all(
      Array.from({ length: 2 }, (_, i) =>
        create({
          name: `failing ${i}`,
          handler: 'simulate',
          payload: { failureRate: 1 },
          schedule: { kind: 'delay', delayMs: 300 },
          retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 100 } },
          notify: { onDeadLetter: `${sink.url}/dead-letter` },
        }),
      ),
    );
    // Slots that come while the previous run still sleeps are skipped (overlap: forbid).
    const overlapping = await create({
      name: 'overlapping',
      handler: 'sleep',
      payload: { durationMs: 1500 },
      schedule: { kind: 'interval', everyMs: 1000, overlap: 'forbid' },
    });
    await waitFor(
      'the mixed runs to finish',
      async () => {
        const r = await recordsByStatus();
        return (r.succeeded ?? 0) >= 6 && (r.failed ?? 0) >= 4 && (r.skipped ?? 0) >= 2;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect((await http(e.cluster.baseUrl, 'POST', `/api/v1/jobs/${overlapping}/pause`)).status).toBe(200);
    // Its run in flight finishes (then nothing more runs, so every figure below holds still).
    await waitFor('no run in flight', async () => (await jobQueue.counts()).active === 0, { timeoutMs: 10_000, intervalMs: 200 });
    // Requests whose route has an id in it, for the HTTP metrics below.
    for (const id of [...ok.slice(0, 2), failing[0]!])
      expect((await http(e.cluster.baseUrl, 'GET', `/api/v1/jobs/${id}`)).status).toBe(200);

    // Records reach the store after the metric counts them (the history writer batches): wait for both to settle.
    let runs: Record<string, number> = {};
    let records: Record<string, number> = {};
    await waitFor(
      'tock_runs_total to equal the execution records by status',
      async () => {
        records = await recordsByStatus();
        runs = sumBy(await scrapeWorkers(), 'tock_runs_total', 'outcome');
        const statuses = new Set([...Object.keys(records), ...Object.keys(runs)]);
        return [...statuses].every((s) => (runs[s] ?? 0) === (records[s] ?? 0));
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}: metric ${JSON.stringify(runs)}, store ${JSON.stringify(records)}`);
    });

    let deadLetter = -1;
    let deadLetterTruth = -2;
    await waitFor(
      'tock_dead_letter_entries to equal the open entries',
      async () => {
        deadLetterTruth = ((await http(e.cluster.baseUrl, 'GET', '/api/v1/dead-letter?limit=100')).body as { items: unknown[] }).items
          .length;
        deadLetter = sumOf(await scrapeApi(), 'tock_dead_letter_entries');
        return deadLetterTruth === 2 && deadLetter === deadLetterTruth;
      },
      { timeoutMs: 20_000, intervalMs: 500 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}: metric ${deadLetter}, API ${deadLetterTruth}`);
    });

    let queue: Record<string, number> = {};
    let queueTruth: Record<string, number> = {};
    await waitFor(
      'tock_queue_jobs to equal the queue counts',
      async () => {
        queueTruth = await jobQueue.counts();
        queue = sumBy(await scrapeApi(), 'tock_queue_jobs', 'state');
        return JSON.stringify(queue, Object.keys(queueTruth).sort()) === JSON.stringify(queueTruth, Object.keys(queueTruth).sort());
      },
      { timeoutMs: 20_000, intervalMs: 500 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}: metric ${JSON.stringify(queue)}, queue ${JSON.stringify(queueTruth)}`);
    });

    // One dead-letter notification per failing job, each counted by the worker that delivered it.
    let delivered = -1;
    await waitFor(
      'tock_notifications_total to count the deliveries the receiver got',
      async () => {
        delivered = sumOf(await scrapeWorkers(), 'tock_notifications_total', { kind: 'onDeadLetter', outcome: 'delivered' });
        return sink.hits.length === 2 && delivered === sink.hits.length;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}: metric ${delivered}, receiver ${sink.hits.length}`);
    });

    const workers = await scrapeWorkers();
    const api = await scrapeApi();
    // The histograms saw every finished attempt that has a duration and a start drift.
    const durations = sumOf(workers, 'tock_run_duration_seconds_count');
    expect(durations).toBe((records.succeeded ?? 0) + (records.failed ?? 0));
    const lateness = sumBy(workers, 'tock_start_lateness_seconds_count', 'kind');
    expect(Object.keys(lateness).sort()).toEqual(expect.arrayContaining(['delay', 'interval']));
    expect(sumOf(workers, 'tock_runs_total', { handler: 'noop', outcome: 'succeeded' })).toBe(6);
    expect(sumOf(workers, 'tock_runs_total', { handler: 'simulate', outcome: 'failed' })).toBe(4);
    expect(sumOf(workers, 'tock_history_flush_seconds_count')).toBeGreaterThan(0);
    const misfires = await e.db.models.Execution.countDocuments({ status: 'skipped', 'error.code': 'misfire' } as never);
    expect(sumOf(workers, 'tock_misfires_total')).toBe(misfires);
    expect(sumOf(workers, 'tock_history_buffered_records')).toBe(0);
    expect(workers.some((s) => s.name === 'process_cpu_seconds_total')).toBe(true);

    const http_ = api.filter((s) => s.name === 'tock_http_requests_total');
    const routes = new Set(http_.map((s) => s.labels.route));
    expect(routes).toContain('/api/v1/jobs/:id');
    expect(routes).toContain('/api/v1/jobs');
    expect(http_.find((s) => s.labels.route === '/api/v1/jobs/:id' && s.labels.method === 'GET' && s.labels.status === '200')?.value).toBe(
      3,
    );
    // Never a raw path: no job id appears in any route label.
    for (const r of routes) expect(r).not.toMatch(/[0-9a-f]{24}/);
    expect(api.some((s) => s.name === 'tock_http_request_duration_seconds_bucket' && s.labels.route === '/api/v1/jobs/:id')).toBe(true);

    const table = [
      ['metric', 'value', 'truth'],
      ...Object.keys({ ...records, ...runs })
        .sort()
        .map((s) => [`tock_runs_total{outcome="${s}"}`, runs[s] ?? 0, `${records[s] ?? 0} execution records`]),
      ['tock_run_duration_seconds_count', durations, `${(records.succeeded ?? 0) + (records.failed ?? 0)} succeeded+failed records`],
      ['tock_dead_letter_entries', deadLetter, `${deadLetterTruth} open via GET /api/v1/dead-letter`],
      ...Object.keys(queueTruth).map((s) => [`tock_queue_jobs{state="${s}"}`, queue[s] ?? 0, `${queueTruth[s]} JobQueue.counts()`]),
      ['tock_notifications_total{kind="onDeadLetter",outcome="delivered"}', delivered, `${sink.hits.length} received by the sink`],
      ['tock_misfires_total', sumOf(workers, 'tock_misfires_total'), `${misfires} skipped records with code misfire`],
      ['tock_history_buffered_records', sumOf(workers, 'tock_history_buffered_records'), '0 (all flushed)'],
      ['tock_http_requests_total{route="/api/v1/jobs/:id",method="GET",status="200"}', 3, '3 requests made'],
    ];
    console.log(`metrics figures:\n${table.map((r) => `| ${r.join(' | ')} |`).join('\n')}`);
  });

  it('serves /metrics on the API to metrics:read and admin keys only', async () => {
    const key = async (scopes: string[]) =>
      ((await http(e.cluster.baseUrl, 'POST', '/api/v1/keys', { name: scopes.join(' '), scopes })).body as { key: string }).key;
    const reader = await key(['jobs:read']);
    const scraper = await key(['metrics:read']);
    expect((await http(e.cluster.baseUrl, 'GET', '/metrics', undefined, { authorization: '' })).status).toBe(401);
    expect((await http(e.cluster.baseUrl, 'GET', '/metrics', undefined, bearer(reader))).status).toBe(403);
    const res = await http(e.cluster.baseUrl, 'GET', '/metrics', undefined, bearer(scraper));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.body).toMatch(/^# HELP tock_http_requests_total /m);
  });

  it("serves each worker's probes: live, and ready while connected and consuming", async () => {
    for (const w of e.cluster.workers) {
      const base = `http://127.0.0.1:${metricsPortOf(w)}`;
      const live = await fetch(`${base}/health/live`);
      expect(live.status).toBe(200);
      const ready = await fetch(`${base}/health/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({
        status: 'ok',
        checks: { redis: { status: 'ok' }, mongodb: { status: 'ok' }, consuming: { status: 'ok' } },
      });
      expect((await fetch(`${base}/nothing-here`)).status).toBe(404);
    }
  });

  it('turns a worker not ready (503, consuming) as soon as it stops taking runs, while it is still live', async () => {
    await stopAll(e.cluster.workers);
    const id = await create({ name: 'slow', handler: 'sleep', payload: { durationMs: 4000 }, schedule: { kind: 'delay', delayMs: 0 } });
    const [w] = await spawnWorkers(tockEnv(e.ctx, { WORKER_SHUTDOWN_GRACE_MS: '30000' }), 1, 'late');
    e.procs.push(w!);
    await waitFor('the slow run to start', async () => (await jobQueue.counts()).active === 1, { timeoutMs: 10_000, intervalMs: 50 });
    const base = `http://127.0.0.1:${metricsPortOf(w!)}`;
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);
    w!.child.kill('SIGTERM');
    const body = await waitFor(
      'readiness to fail while the run finishes',
      async () => {
        const res = await fetch(`${base}/health/ready`);
        return res.status === 503 ? ((await res.json()) as { checks: Record<string, { status: string }> }) : null;
      },
      { timeoutMs: 3000, intervalMs: 50 },
    );
    expect(body.checks).toEqual({ redis: { status: 'ok' }, mongodb: { status: 'ok' }, consuming: { status: 'unavailable' } });
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    await waitFor('the worker to exit', () => w!.child.exitCode !== null, { timeoutMs: 20_000, intervalMs: 100 });
    expect(w!.child.exitCode).toBe(0);
    expect(await e.db.models.Execution.countDocuments({ status: 'succeeded', runId: { $regex: `^${id}` } } as never)).toBe(1);
  });
});
