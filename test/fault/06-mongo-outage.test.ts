import { connectDatabase, type Database } from '../../src/persistence/mongo';
import {
  createJobs,
  dedicatedFerret,
  figure,
  groupBy,
  percentile,
  startSink,
  tockEnv,
  type RestartableServer,
  type Sink,
} from '../helpers/fault';
import { spawnApi, spawnWorkers, stopAll, type TockProcess } from '../helpers/processes';
import { cleanup, openQueue, testUrls, uniqueName } from '../helpers/services';
import { waitFor } from '../helpers/wait-for';
import { ADMIN } from '../helpers/keys';

/**
 * Fault 6: the MongoDB-compatible server is stopped for 30 s while 20 interval jobs (every second)
 * call a local HTTP sink. Workers keep executing from their cached definitions and buffer the
 * execution records; once it is back they flush them, so the deliveries the sink saw equal the
 * records (0 lost, 0 doubled), and the counters on each definition agree. Meanwhile the API answers
 * 503, never 500. A one-time job that first fires during the outage (a definition cache miss) must
 * be retried by BullMQ, not lost.
 */
const DEFS = 20;
const WORKERS = 3;
const OUTAGE_MS = 30_000;

interface ApiCall {
  at: number;
  op: string;
  status: number;
  ms: number;
}

describe('fault 6: MongoDB stopped for 30 s under load', () => {
  let ferret: RestartableServer;
  let db: Database | undefined;
  let sink: Sink;
  const procs: TockProcess[] = [];
  const ctx = { redisUrl: '', mongoUrl: '', prefix: uniqueName('f6'), dbName: 'tock' };

  beforeAll(async () => {
    ferret = await dedicatedFerret();
    ctx.redisUrl = testUrls().redisUrl;
    ctx.mongoUrl = ferret.url;
    db = await connectDatabase(ctx.mongoUrl, { ensureIndexes: true });
    sink = await startSink();
  });
  afterAll(async () => {
    await stopAll(procs);
    await sink?.close();
    await db?.close().catch(() => undefined);
    await cleanup(ctx);
    await ferret?.destroy();
  }, 60_000);

  it('keeps executing, then records exactly what the sink received; the API answers 503', async () => {
    const env = tockEnv(ctx, {
      HTTP_ALLOW_PRIVATE_NETWORKS: 'true',
      WORKER_CONCURRENCY: '20',
      WORKER_LOCK_DURATION_MS: '5000',
      WORKER_STALLED_INTERVAL_MS: '5000',
      HISTORY_MAX_BUFFERED: '10000',
    });
    const { api, baseUrl } = await spawnApi(env);
    procs.push(api);
    const workers = await spawnWorkers(env, WORKERS);
    procs.push(...workers);
    const ids = await createJobs(
      baseUrl,
      Array.from({ length: DEFS }, (_, i) => ({
        name: `outage-${i}`,
        handler: 'http',
        payload: { url: `${sink.url}/d/${i}`, method: 'POST', body: { i } },
        schedule: { kind: 'interval', everyMs: 1000 },
        timeoutMs: 10_000,
      })),
      DEFS,
    );
    const pathOf = new Map(ids.map((id, i) => [id, `/d/${i}`]));

    // Warm every worker's definition cache: each worker has run each definition at least once.
    await waitFor(
      'every worker to have run every definition',
      async () => {
        const pairs = await db!.models.Execution.aggregate<{ _id: unknown }>([{ $group: { _id: { j: '$jobId', w: '$workerId' } } }]);
        return pairs.length >= DEFS * WORKERS;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );

    // Never run, so no worker has it cached: it fires 8 s into the outage, while MongoDB is down.
    const outageAt = Date.now() + 1000;
    const [missId, missDefaultId] = await createJobs(baseUrl, [
      {
        name: 'cache-miss-during-outage',
        handler: 'http',
        payload: { url: `${sink.url}/miss`, method: 'POST' },
        schedule: { kind: 'once', runAt: new Date(outageAt + 8000).toISOString() },
        retry: { attempts: 10, backoff: { type: 'fixed', delayMs: 3000 } },
      },
      // The same with the default retry policy (3 attempts): reported, not asserted.
      {
        name: 'cache-miss-default-retry',
        handler: 'http',
        payload: { url: `${sink.url}/miss-default`, method: 'POST' },
        schedule: { kind: 'once', runAt: new Date(outageAt + 8000).toISOString() },
      },
    ]);

    // API traffic throughout: a write and a read every 250 ms, each with its status and latency.
    const calls: ApiCall[] = [];
    let traffic = true;
    const call = async (op: string, method: string, path: string, body?: unknown) => {
      const started = Date.now();
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: body ? { ...ADMIN, 'content-type': 'application/json' } : ADMIN,
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(15_000),
      }).catch(() => ({ status: 0, text: async () => '' }));
      await res.text();
      calls.push({ at: started, op, status: res.status, ms: Date.now() - started });
    };
    const trafficDone = (async () => {
      while (traffic) {
        await Promise.all([
          call('create', 'POST', '/api/v1/jobs', {
            name: 'outage-probe',
            handler: 'noop',
            schedule: { kind: 'delay', delayMs: 3_600_000 },
          }),
          call('list', 'GET', '/api/v1/jobs?limit=5'),
          call('get', 'GET', `/api/v1/jobs/${ids[0]}`),
          new Promise((r) => setTimeout(r, 250)),
        ]);
      }
    })();

    await new Promise((r) => setTimeout(r, Math.max(0, outageAt - Date.now())));
    const hitsBefore = sink.hits.length;
    await ferret.stop();
    const stoppedAt = Date.now();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    const hitsDuring = sink.hits.length - hitsBefore;
    await ferret.start();
    const restartedAt = Date.now();
    // Let it run a while on the recovered server, then stop the workers gracefully (they flush).
    await waitFor(
      'the API to answer reads again',
      async () => (await fetch(`${baseUrl}/api/v1/jobs?limit=1`, { headers: ADMIN })).status === 200,
      {
        timeoutMs: 20_000,
        intervalMs: 250,
      },
    );
    const apiBackMs = Date.now() - restartedAt;
    await waitFor('the cache-miss job to be delivered', () => sink.hits.some((h) => h.path === '/miss'), {
      timeoutMs: 30_000,
      intervalMs: 250,
    }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 3000));
    traffic = false;
    await trafficDone;
    const codes = await Promise.all(workers.map((w) => w.kill('SIGTERM')));

    const records = await db!.models.Execution.find({}).lean();
    const defs = await db!.models.Job.find({ _id: { $in: ids } }).lean();
    const sinkBy = groupBy(sink.hits, (h) => h.path);
    let lost = 0;
    let doubled = 0;
    let countersOff = 0;
    const counterDiffs: number[] = [];
    for (const id of ids) {
      const delivered = sinkBy.get(pathOf.get(id)!)?.length ?? 0;
      const recorded = records.filter((r) => String(r.jobId) === id && r.status === 'succeeded').length;
      lost += Math.max(0, delivered - recorded);
      doubled += Math.max(0, recorded - delivered);
      const def = defs.find((d) => String(d._id) === id)!;
      if (def.runCount !== recorded) {
        countersOff++;
        counterDiffs.push(def.runCount - recorded);
      }
    }
    const runIds = records.map((r) => r.runId + '.' + r.attempt);
    const missRecords = records.filter((r) => String(r.jobId) === missId).sort((a, b) => a.attempt - b.attempt);
    const missDefault = records.filter((r) => String(r.jobId) === missDefaultId).map((r) => [r.attempt, r.status]);
    const missDefaultDef = await db!.models.Job.findById(missDefaultId).lean();
    const { queue, close: closeQueue } = openQueue(ctx);
    const missDefaultJob = await queue.getJob(`${missDefaultId}-v1`);
    const missDefaultState = missDefaultJob ? await missDefaultJob.getState() : 'none';
    await closeQueue();
    const outageCalls = calls.filter((c) => c.at >= stoppedAt && c.at + c.ms <= restartedAt);
    const statusCount = (cs: ApiCall[]) => Object.fromEntries([...groupBy(cs, (c) => String(c.status))].map(([s, l]) => [s, l.length]));

    figure('fault6.deliveredToSink', sink.hits.filter((h) => h.path.startsWith('/d/')).length);
    figure('fault6.deliveredDuringOutage', hitsDuring);
    figure('fault6.records', records.filter((r) => ids.includes(String(r.jobId))).length);
    figure('fault6.lost', lost);
    figure('fault6.doubled', doubled);
    figure('fault6.definitionsWithWrongRunCount', `${countersOff} (runCount - records: ${JSON.stringify(counterDiffs)})`);
    figure('fault6.apiStatusesDuringOutage', statusCount(outageCalls));
    figure('fault6.apiStatusesOverall', statusCount(calls));
    figure('fault6.apiSlowestDuringOutageMs', Math.max(0, ...outageCalls.map((c) => c.ms)));
    figure(
      'fault6.apiP99DuringOutageMs',
      percentile(
        outageCalls.map((c) => c.ms),
        99,
      ),
    );
    figure('fault6.apiBackAfterRestartMs', apiBackMs);
    figure('fault6.workerExitCodes', codes);
    figure(
      'fault6.cacheMissJob',
      `sink hits ${sinkBy.get('/miss')?.length ?? 0}; records ${JSON.stringify(missRecords.map((r) => [r.attempt, r.status, r.error?.code ?? null]))}`,
    );

    figure(
      'fault6.cacheMissDefaultRetryJob',
      `sink hits ${sinkBy.get('/miss-default')?.length ?? 0}; records ${JSON.stringify(missDefault)}; definition ${missDefaultDef?.status} runCount ${missDefaultDef?.runCount}; BullMQ ${missDefaultState} after ${missDefaultJob?.attemptsMade} attempts (${missDefaultJob?.failedReason ?? ''})`,
    );

    expect(hitsDuring).toBeGreaterThan(DEFS * 10); // workers really kept executing
    expect(lost).toBe(0);
    expect(doubled).toBe(0);
    expect(new Set(runIds).size).toBe(runIds.length);
    // runCount is exact on MongoDB. FerretDB 1.24 applies concurrent $inc updates non-atomically
    // (three workers updating one definition lose increments), so here it may only fall short:
    // a count applied twice (an update retried after it had reached the server) would exceed it.
    expect(Math.max(0, ...counterDiffs)).toBe(0);
    expect(codes).toEqual(Array(WORKERS).fill(0));
    const serverErrors = calls.filter((c) => c.status >= 500 && c.status !== 503);
    if (serverErrors.length > 0) {
      const logged = api
        .output()
        .split('\n')
        .filter((l) => /"level":50/.test(l));
      figure('fault6.api500Logs', logged.slice(0, 5).join('\n'));
    }
    expect(serverErrors.map((c) => ({ ...c, sinceStop: c.at - stoppedAt, sinceRestart: c.at - restartedAt }))).toEqual([]);
    expect(calls.filter((c) => c.status === 0)).toEqual([]);
    expect(outageCalls.some((c) => c.status === 503)).toBe(true);
    // The occurrence whose definition was not cached is retried by BullMQ until MongoDB is back.
    expect(sinkBy.get('/miss')?.length).toBe(1);
    expect(missRecords.filter((r) => r.status === 'succeeded')).toHaveLength(1);
  });
});
