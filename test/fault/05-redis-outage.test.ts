import {
  createJobs,
  dedicatedRedis,
  executionRecords,
  figure,
  groupBy,
  tockEnv,
  type RestartableServer,
  useFaultContext,
} from '../helpers/fault';
import { spawnApi, spawnWorkers, stopAll } from '../helpers/processes';
import { waitFor } from '../helpers/wait-for';
import { ADMIN } from '../helpers/keys';

/**
 * Fault 5: Redis stops for 20 s under load and comes back empty (it keeps nothing on disk).
 * Every write is answered within 2 s (503 with Retry-After during the outage, never a 500 or a
 * hang), reads that need only MongoDB keep working, readiness says 503, the workers carry on
 * without a restart, and after reconciliation every acknowledged job has run exactly once.
 */
const OUTAGE_MS = 20_000;

const f = useFaultContext();
let redis: RestartableServer;

beforeAll(async () => {
  redis = await dedicatedRedis();
});

afterAll(async () => {
  await stopAll(f.procs);
  await redis?.destroy();
});

interface Call {
  kind: 'create' | 'list' | 'ready';
  status: number;
  ms: number;
  at: number;
  retryAfter: string | null;
  id?: string;
}

async function call(baseUrl: string, kind: Call['kind'], calls: Call[]): Promise<void> {
  const started = Date.now();
  const init: RequestInit =
    kind === 'create'
      ? {
          method: 'POST',
          headers: { ...ADMIN, 'content-type': 'application/json' },
          body: JSON.stringify({
            name: 'load',
            handler: 'noop',
            schedule: { kind: 'once', runAt: new Date(started + 1000 + Math.random() * 2000).toISOString() },
          }),
        }
      : { headers: ADMIN };
  const path = kind === 'create' ? '/api/v1/jobs' : kind === 'list' ? '/api/v1/jobs?limit=5' : '/health/ready';
  const res = await fetch(`${baseUrl}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { id?: string };
  calls.push({ kind, status: res.status, ms: Date.now() - started, at: started, retryAfter: res.headers.get('retry-after'), id: body.id });
}

it('survives a 20 s Redis outage: quick 503s, working reads, no lost or doubled job', async () => {
  const { ctx, db, procs } = f;
  const env = tockEnv(
    { redisUrl: redis.url, mongoUrl: ctx.mongoUrl, prefix: ctx.prefix },
    { RECONCILE_INTERVAL_MS: '5000', WORKER_CONCURRENCY: '20' },
  );
  const { api, baseUrl } = await spawnApi(env);
  const workers = await spawnWorkers(env, 2);
  procs.push(api, ...workers);
  const repeatingIds = await createJobs(
    baseUrl,
    Array.from({ length: 20 }, (_, i) => ({ name: `every-${i}`, handler: 'noop', schedule: { kind: 'interval', everyMs: 2000 } })),
  );

  const calls: Call[] = [];
  let loading = true;
  const load = (async () => {
    const pending: Promise<void>[] = [];
    for (let tick = 0; loading; tick++) {
      pending.push(call(baseUrl, 'create', calls));
      if (tick % 4 === 0) pending.push(call(baseUrl, 'list', calls), call(baseUrl, 'ready', calls));
      await new Promise((r) => setTimeout(r, 50));
    }
    await Promise.all(pending);
  })();

  await new Promise((r) => setTimeout(r, 5000));
  await redis.stop();
  const downAt = Date.now();
  await new Promise((r) => setTimeout(r, OUTAGE_MS));
  await redis.start();
  const upAt = Date.now();
  await new Promise((r) => setTimeout(r, 8000));
  loading = false;
  await load;

  const during = (c: Call) => c.at > downAt + 500 && c.at + c.ms < upAt;
  const creates = calls.filter((c) => c.kind === 'create');
  const acknowledged = creates.filter((c) => c.status === 201).map((c) => c.id!);
  const errors5xx = calls.filter((c) => c.status >= 500 && c.status !== 503).length;
  const slowest = Math.max(...creates.map((c) => c.ms));
  const outageCreates = creates.filter(during);
  figure('redis-outage: writes sent / acknowledged', `${creates.length} / ${acknowledged.length}`);
  figure('redis-outage: slowest write answer (ms)', slowest);
  figure('redis-outage: 5xx other than 503', errors5xx);
  figure(
    'redis-outage: writes during the outage answered 503',
    `${outageCreates.filter((c) => c.status === 503).length}/${outageCreates.length}`,
  );
  expect(errors5xx).toBe(0);
  expect(slowest).toBeLessThanOrEqual(2000);
  expect(outageCreates.length).toBeGreaterThan(100);
  expect(outageCreates.every((c) => c.status === 503 && c.retryAfter !== null)).toBe(true);
  expect(calls.filter((c) => c.kind === 'list' && during(c)).every((c) => c.status === 200)).toBe(true);
  expect(calls.filter((c) => c.kind === 'ready' && during(c)).every((c) => c.status === 503)).toBe(true);
  expect(creates.filter((c) => c.at > upAt + 3000).every((c) => c.status === 201)).toBe(true);

  await waitFor(
    'every acknowledged job to run',
    async () => (await db.models.Execution.countDocuments({ jobId: { $in: acknowledged } })) >= acknowledged.length,
    { timeoutMs: 30_000, intervalMs: 250 },
  );
  // One more reconcile interval: a wrongly re-added job would run twice in it.
  await new Promise((r) => setTimeout(r, 6000));
  const records = await executionRecords(db, { jobId: { $in: acknowledged } });
  const perJob = groupBy(records, (r) => String(r.jobId));
  figure('redis-outage: acknowledged jobs run', `${perJob.size}/${acknowledged.length}`);
  figure('redis-outage: duplicate runs', records.length - perJob.size);
  expect(perJob.size).toBe(acknowledged.length);
  expect(records.length).toBe(perJob.size);

  expect(workers.every((w) => w.child.exitCode === null && w.child.signalCode === null)).toBe(true);
  const after = await executionRecords(db, { jobId: { $in: repeatingIds }, startedAt: { $gt: new Date(upAt) } });
  const resumed = new Set(after.map((r) => String(r.jobId)));
  figure('redis-outage: repeating jobs running again after the outage', `${resumed.size}/20`);
  expect(resumed.size).toBe(20);
});
