import { Types } from 'mongoose';
import { buildExecutionQuery, EXECUTION_SORT, STATS_QUERY, toExecutionDoc } from '../../src/persistence/execution-repository';
import { buildListQuery } from '../../src/persistence/job-repository';
import { figure, type BenchContext, type Figure } from '../lib/context';
import { cpuPerOp, cpuSnapshot } from '../lib/cpu';
import { paced, request, sample } from '../lib/http';
import { percentile, sleep } from '../lib/stats';
import { createMany, noopJob, redisUsedMemory, type TockCluster } from '../lib/tock';
import { definitionDoc, insertOneP99At300, noopRecord } from './store';

const farFuture = () => new Date(Date.now() + 7 * 86_400_000);

export interface CreateFigures {
  redisBytesPerPending: Figure;
  createP99: Figure;
  /** The same hold with a key made through the API (rate-limited, with a quota) instead of the admin key. */
  createP99Scoped: Figure;
  /** The API's CPU per create in each hold: admin key, and scoped key. */
  createCpuAdmin: Figure;
  createCpuScoped: Figure;
  /** The store alone: insertOne of a definition at 300/s into the same collection right after each hold. */
  holdStoreP99: Figure;
  createErrors: Figure;
  createMaxRate: Figure;
  bulk: Figure;
  /** The store alone inserting definition documents (1,000 per insertMany) beside each bulk request. */
  bulkStore: Figure;
}

/** One repetition on a fresh API, database and queue prefix (cluster without a worker). */
export async function measureCreateRep(
  ctx: BenchContext,
  c: TockCluster,
  o: { pendingDefs: number; holdMs: number; stepMs: number; bulkRequests: number },
): Promise<{
  bytes: number;
  streamBytes: number;
  p99: number | null;
  p99Scoped: number | null;
  cpuAdmin: number | null;
  cpuScoped: number | null;
  holdStoreP99: number | null;
  errors: number;
  maxRate: number | null;
  bulk: number | null;
  bulkStore: number | null;
  bulkNote?: string;
}> {
  // Redis bytes per pending one-time definition: everything Tock keeps in Redis for it.
  // BullMQ's event stream (<prefix>:jobs:events) is capped at 10,000 entries: a fixed cost, not a
  // per-definition one, so its growth is taken out (and reported in the details).
  const events = `${c.prefix}:jobs:events`;
  const streamBytes = async () => Number((await c.redis.call('MEMORY', 'USAGE', events)) ?? 0);
  await sleep(500);
  const before = redisUsedMemory(await c.redis.info('memory'));
  const streamBefore = await streamBytes();
  await createMany(
    c.api.baseUrl,
    Array.from({ length: o.pendingDefs }, (_, i) => noopJob(`pending-${i}`, farFuture())),
  );
  await sleep(500);
  const after = redisUsedMemory(await c.redis.info('memory'));
  const stream = ((await streamBytes()) - streamBefore) / o.pendingDefs;
  const bytes = (after - before) / o.pendingDefs - stream;
  ctx.log(`  Redis: ${Math.round(bytes)} bytes per pending one-time definition (+ ${Math.round(stream)} in the capped event stream)`);

  const createWith = (key?: string) => async (i: number) => {
    const r = await request(c.api.baseUrl, 'POST', '/api/v1/jobs', noopJob(`create-${i}`, farFuture()), key);
    return { ok: r.status === 201, ms: r.ms, error: r.status === 201 ? undefined : `HTTP ${r.status} ${JSON.stringify(r.body)}` };
  };
  const create = createWith();
  const apiRole = [{ name: 'api', pids: [c.api.child.pid!] }];
  /** A hold at 300/s, and the API process's CPU per request during it (µs). */
  const holdWith = async (send: typeof create) => {
    const before = cpuSnapshot(apiRole);
    const r = await paced(300, o.holdMs, send, 1000);
    return { r, cpu: cpuPerOp(before, cpuSnapshot(apiRole), r.sent)?.api ?? null };
  };
  // Warm-up, not measured: keep-alive connections and the JIT for the single-create path (2 s left
  // the first seconds of the hold at p99 50-90 ms while the API process still compiled it).
  await paced(300, 5000, create, 1000);
  const { r: hold, cpu: cpuAdmin } = await holdWith(create);
  // Authentication cannot be turned off; the admin key costs one hash, a key made through the API
  // adds its cached lookup, the rate limit and the quota (a Redis call each).
  const made = await request(c.api.baseUrl, 'POST', '/api/v1/keys', { name: 'bench', scopes: ['jobs:write'] });
  const scopedKey = (made.body as { key: string }).key;
  await paced(300, 2000, createWith(scopedKey), 1000);
  const { r: scoped, cpu: cpuScoped } = await holdWith(createWith(scopedKey));
  ctx.log(
    `  with a scoped key: p99 ${scoped.p99?.toFixed(1)} ms, ${scoped.errors} errors; API CPU per create ${cpuScoped} µs ` +
      `against ${cpuAdmin} µs with the admin key`,
  );
  ctx.log(
    `  POST /jobs at 300/s for ${o.holdMs / 1000} s: p50 ${hold.p50?.toFixed(1)} ms, p99 ${hold.p99?.toFixed(1)} ms, ` +
      `${hold.errors} errors${hold.firstError ? ` (the first: ${hold.firstError.slice(0, 200)})` : ''}${hold.skipped ? `, ${hold.skipped} not sent` : ''}`,
  );
  // The store's share of the same requests at the same moment: insertOne of a definition document
  // at 300/s into the collection the hold just wrote (the store phase measures it on an empty one,
  // minutes earlier, on a machine whose speed swings within a run).
  const holdStoreP99 = await insertOneP99At300(c.db.models.Job.collection, Math.min(5000, o.holdMs / 4), 20_000);
  ctx.log(`  the store alone right after it: insertOne at 300/s p99 ${holdStoreP99?.toFixed(1)} ms`);

  let maxRate: number | null = null;
  for (let rate = 500; rate < 20_000; rate = Math.round(rate * 1.25)) {
    const r = await paced(rate, o.stepMs, create, 1000);
    const held = r.errors === 0 && r.skipped === 0 && r.achievedRate >= rate * 0.95 && r.p99 !== null && r.p99 <= 50;
    ctx.log(`  POST /jobs at ${rate}/s: p99 ${r.p99?.toFixed(1)} ms, ${r.errors} errors -> ${held ? 'held' : 'not held'}`);
    if (!held) break;
    maxRate = rate;
  }
  if (maxRate === null && hold.errors === 0 && hold.p99 !== null && hold.p99 <= 50) maxRate = 300;

  // Bulk create: 1,000 definitions per request, one request at a time.
  let bulk: number | null = null;
  let bulkStore: number | null = null;
  let bulkNote: string | undefined;
  const batch = () => ({ jobs: Array.from({ length: 1000 }, (_, i) => noopJob(`bulk-${i}`, farFuture())) });
  const probe = await request(c.api.baseUrl, 'POST', '/api/v1/jobs/batch', batch());
  if (probe.status === 404 || probe.status === 405) {
    bulkNote = `POST /api/v1/jobs/batch answered ${probe.status}: the endpoint is not there yet`;
  } else if (probe.status !== 201 && probe.status !== 207) {
    bulkNote = `POST /api/v1/jobs/batch answered ${probe.status}: ${JSON.stringify(probe.body).slice(0, 300)}`;
  } else {
    // Each request is paired with the store alone inserting 1,000 definition documents into the
    // same collection just before it (as the store phase does): the reference at the same moment,
    // on the same database, whatever the phases before left the store doing.
    let ms = 0;
    let storeMs = 0;
    for (let i = 0; i < o.bulkRequests; i++) {
      const docs = Array.from({ length: 1000 }, (_, k) => definitionDoc(k));
      const t0 = performance.now();
      await c.db.models.Job.collection.insertMany(docs, { ordered: false });
      storeMs += performance.now() - t0;
      const r = await request(c.api.baseUrl, 'POST', '/api/v1/jobs/batch', batch());
      if (r.status !== 201) bulkNote = `a batch answered ${r.status}`;
      ms += r.ms;
    }
    bulk = (o.bulkRequests * 1000 * 1000) / ms;
    bulkStore = (o.bulkRequests * 1000 * 1000) / storeMs;
    ctx.log(
      `  POST /jobs/batch x${o.bulkRequests} of 1,000: ${Math.round(bulk)} definitions/s; ` +
        `the store alone beside them ${Math.round(bulkStore)} docs/s (${(bulk / bulkStore).toFixed(2)} x)`,
    );
  }
  return {
    bytes,
    streamBytes: stream,
    p99: hold.p99,
    holdStoreP99,
    errors: hold.errors,
    maxRate,
    p99Scoped: scoped.p99,
    cpuAdmin,
    cpuScoped,
    bulk,
    bulkStore,
    bulkNote,
  };
}

export function createFigures(reps: Awaited<ReturnType<typeof measureCreateRep>>[]): CreateFigures {
  return {
    redisBytesPerPending: figure(
      reps.map((r) => r.bytes),
      { eventStreamBytesPerDefinition: reps.map((r) => r.streamBytes), note: 'the event stream is capped at 10,000 entries' },
    ),
    createP99: figure(reps.map((r) => r.p99)),
    createP99Scoped: figure(reps.map((r) => r.p99Scoped)),
    createCpuAdmin: figure(reps.map((r) => r.cpuAdmin)),
    createCpuScoped: figure(reps.map((r) => r.cpuScoped)),
    holdStoreP99: figure(reps.map((r) => r.holdStoreP99)),
    createErrors: figure(reps.map((r) => r.errors)),
    createMaxRate: figure(reps.map((r) => r.maxRate)),
    bulk: figure(
      reps.map((r) => r.bulk),
      { note: reps.find((r) => r.bulkNote)?.bulkNote },
    ),
    bulkStore: figure(reps.map((r) => r.bulkStore)),
  };
}

export interface ListFigures {
  jobs: Figure;
  executions: Figure;
  /** The same queries sent straight to the store (the repositories' filter and sort, no HTTP, no Tock). */
  storeJobs: Figure;
  storeExecutions: Figure;
  /** GET /jobs/{id}/stats?window=7d over one job's 10,000 records, and the store alone reading them. */
  stats: Figure;
  storeStats: Figure;
}

async function timed(n: number, op: (i: number) => Promise<unknown>): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await op(i);
    ms.push(performance.now() - t0);
  }
  return ms;
}

/** Definitions (5,000) and execution records (50,000) inserted through Tock's models, then list p99s. */
export async function measureList(
  ctx: BenchContext,
  c: TockCluster,
  o: { reps: number; samples: number; statsSamples: number; definitions: number; records: number },
): Promise<ListFigures> {
  const now = Date.now();
  const handlers = ['noop', 'http', 'sleep', 'simulate'];
  const statuses = ['scheduled', 'scheduled', 'paused', 'completed'];
  const kinds = [
    { kind: 'interval', everyMs: 60_000 },
    { kind: 'cron', expression: '*/5 * * * *' },
    { kind: 'once', runAt: new Date(now + 3_600_000).toISOString() },
    { kind: 'delay', delayMs: 60_000 },
  ];
  const defs = Array.from({ length: o.definitions }, (_, i) => ({
    ...definitionDoc(i, now),
    handler: handlers[i % 4],
    status: statuses[Math.floor(i / 4) % 4],
    schedule: kinds[Math.floor(i / 16) % 4],
    nextRunAt: new Date(now + ((i * 7919) % 86_400) * 1000),
  }));
  for (let i = 0; i < defs.length; i += 1000) await c.db.models.Job.collection.insertMany(defs.slice(i, i + 1000));
  // A tenth of the definitions hold all records: the executions list reads one definition's history.
  const busy = defs.slice(0, o.definitions / 10).map((d) => (d._id as Types.ObjectId).toHexString());
  const statusesOf = ['succeeded', 'succeeded', 'succeeded', 'failed'] as const;
  for (let b = 0; b < o.records / 1000; b++) {
    const docs = Array.from({ length: 1000 }, (_, k) => {
      const i = b * 1000 + k;
      const startedAt = new Date(now - (o.records - i) * 1000);
      const r = {
        ...noopRecord(busy[i % busy.length]!, i),
        status: statusesOf[i % 4]!,
        startedAt,
        scheduledFor: startedAt,
        finishedAt: startedAt,
      };
      return toExecutionDoc(r);
    });
    await c.db.models.Execution.collection.insertMany(docs as never[]);
  }
  ctx.log(
    `  list: ${await c.db.models.Job.estimatedDocumentCount()} definitions, ${await c.db.models.Execution.estimatedDocumentCount()} records`,
  );
  const soon = new Date(now + 3_600_000).toISOString();
  const jobQueries = [
    '/api/v1/jobs?limit=20',
    '/api/v1/jobs?status=scheduled&limit=20',
    '/api/v1/jobs?handler=http&scheduleKind=cron&limit=20',
    `/api/v1/jobs?status=scheduled&nextRunBefore=${encodeURIComponent(soon)}&limit=20`,
  ];
  const jobsP99: (number | null)[] = [];
  const execP99: (number | null)[] = [];
  const storeJobsP99: (number | null)[] = [];
  const storeExecP99: (number | null)[] = [];
  const jobFilters = [
    {},
    { status: 'scheduled' as const },
    { handler: 'http', scheduleKind: 'cron' as const },
    { status: 'scheduled' as const, nextRunBefore: new Date(soon) },
  ];
  const jobsColl = c.db.models.Job.collection;
  const execColl = c.db.models.Execution.collection;
  const execPath = (i: number) => `/api/v1/jobs/${busy[(i * 37) % busy.length]}/executions?limit=20${i % 2 ? '&status=failed' : ''}`;
  // Warm-up, not measured (as every other phase has): the API's JIT for the list routes and their
  // serializers, and the store's first scans of the data just inserted.
  for (const q of jobQueries) await request(c.api.baseUrl, 'GET', q);
  for (let i = 0; i < 6; i++) await request(c.api.baseUrl, 'GET', execPath(i));
  for (let rep = 0; rep < o.reps; rep++) {
    const sj = await timed(o.samples, (i) => {
      const q = buildListQuery(jobFilters[i % jobFilters.length]!);
      return jobsColl
        .find(q.filter as never)
        .sort(q.sort as never)
        .limit(21)
        .toArray();
    });
    // The definition and the page are read together, as GET /jobs/{id}/executions reads them.
    const se = await timed(o.samples, (i) => {
      const jobId = busy[(i * 37) % busy.length]!;
      const filter = buildExecutionQuery({ jobId, status: i % 2 ? 'failed' : undefined });
      return Promise.all([
        jobsColl.findOne({ _id: new Types.ObjectId(jobId) }),
        execColl
          .find(filter as never)
          .sort(EXECUTION_SORT)
          .limit(21)
          .toArray(),
      ]);
    });
    storeJobsP99.push(percentile(sj, 99));
    storeExecP99.push(percentile(se, 99));
    const j = await sample(o.samples, (i) => request(c.api.baseUrl, 'GET', jobQueries[i % jobQueries.length]!));
    const e = await sample(o.samples, (i) => request(c.api.baseUrl, 'GET', execPath(i)));
    jobsP99.push(j.failures ? null : percentile(j.ms, 99));
    execP99.push(e.failures ? null : percentile(e.ms, 99));
    ctx.log(
      `  list rep ${rep + 1}: GET /jobs p99 ${jobsP99[rep]?.toFixed(1)} ms (p50 ${percentile(j.ms, 50)?.toFixed(1)}), ` +
        `GET /jobs/{id}/executions p99 ${execP99[rep]?.toFixed(1)} ms (p50 ${percentile(e.ms, 50)?.toFixed(1)})` +
        (j.failures || e.failures ? `, ${j.failures + e.failures} failed requests` : '') +
        `; store alone p99 ${storeJobsP99[rep]?.toFixed(1)} / ${storeExecP99[rep]?.toFixed(1)} ms`,
    );
  }
  const { stats, storeStats } = await measureStats(ctx, c, o.reps, o.statsSamples);
  return {
    jobs: figure(jobsP99, { queries: jobQueries }),
    executions: figure(execP99),
    storeJobs: figure(storeJobsP99),
    storeExecutions: figure(storeExecP99),
    stats,
    storeStats,
  };
}

export const STATS_RECORDS = 10_000;

/**
 * One job with 10,000 records over the last 6 days (a quarter failed), then GET its stats over 7
 * days: the API reads all of them (executions_jobId_startedAt) and summarises them.
 */
async function measureStats(
  ctx: BenchContext,
  c: TockCluster,
  reps: number,
  samples: number,
): Promise<{ stats: Figure; storeStats: Figure }> {
  const now = Date.now();
  const def = definitionDoc(0, now);
  await c.db.models.Job.collection.insertOne(def as never);
  const jobId = def._id.toHexString();
  const span = 6 * 86_400_000;
  for (let b = 0; b < STATS_RECORDS / 1000; b++) {
    const docs = Array.from({ length: 1000 }, (_, k) => {
      const i = b * 1000 + k;
      const startedAt = new Date(now - span + Math.floor((i * span) / STATS_RECORDS));
      const failed = i % 4 === 3;
      return toExecutionDoc({
        ...noopRecord(jobId, i),
        status: failed ? 'failed' : 'succeeded',
        startedAt,
        scheduledFor: new Date(startedAt.getTime() - (i % 50)),
        finishedAt: new Date(startedAt.getTime() + (i % 300)),
        durationMs: i % 300,
        driftMs: i % 50,
        error: failed ? { code: 'http-503', message: 'unexpected HTTP status 503' } : null,
      });
    });
    await c.db.models.Execution.collection.insertMany(docs as never[]);
  }
  const path = `/api/v1/jobs/${jobId}/stats?window=7d`;
  const check = await request(c.api.baseUrl, 'GET', path);
  const runs = (check.body as { runs?: number }).runs;
  if (runs !== STATS_RECORDS) throw new Error(`stats counted ${runs} of ${STATS_RECORDS} records: ${JSON.stringify(check.body)}`);
  const execColl = c.db.models.Execution.collection;
  const statsP99: (number | null)[] = [];
  const storeP99: (number | null)[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const store = await timed(samples, () =>
      execColl
        .find(STATS_QUERY.filter(jobId, new Date(Date.now() - 7 * 86_400_000)) as never, { projection: STATS_QUERY.projection })
        .sort(STATS_QUERY.sort)
        .limit(50_001)
        .toArray(),
    );
    const r = await sample(samples, () => request(c.api.baseUrl, 'GET', path));
    statsP99.push(r.failures ? null : percentile(r.ms, 99));
    storeP99.push(percentile(store, 99));
    ctx.log(
      `  stats rep ${rep + 1}: GET /jobs/{id}/stats over ${STATS_RECORDS.toLocaleString('en-US')} records p99 ${statsP99[rep]?.toFixed(1)} ms ` +
        `(p50 ${percentile(r.ms, 50)?.toFixed(1)}); store alone reading them p99 ${storeP99[rep]?.toFixed(1)} ms`,
    );
  }
  return { stats: figure(statsP99), storeStats: figure(storeP99) };
}
