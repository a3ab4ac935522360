/**
 * `npm run bench [-- --quick]`: Tock beside raw BullMQ and beside its own store, in one run, on its
 * own redis-server and FerretDB (PostgreSQL handler). Prints every figure of issue 6 with its bar
 * and ratio and writes bench/results.json. BENCHMARKS.md explains each figure.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cleanupAll, installSignalHandlers } from './lib/cleanup';
import { figure, type BenchContext, type Figure } from './lib/context';
import { renderMarkdown, renderTable, type Row } from './lib/report';
import { settleStore, startServers } from './lib/servers';
import { round } from './lib/stats';
import { startTock } from './lib/tock';
import { createFigures, measureCreateRep, measureList } from './measure/api';
import { measureBaseline, measureBaselineSchedulers } from './measure/baseline';
import { measureOnce } from './measure/once';
import { measureStore } from './measure/store';
import { measureLatenessRep, measureSchedulers, timingFigures } from './measure/timing';
import { measureTockRun, type TockRunFigures } from './measure/tock-run';

const ROOT = path.resolve(__dirname, '..');
const quick = process.argv.includes('--quick');
/** `--only=store,baseline,run,once,create,timing,list` runs some phases (for investigating); the rest report null. */
const only = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice(7)
  .split(',');
const want = (phase: string) => !only || only.includes(phase);
const none = figure([]);

const PLAN = quick
  ? {
      reps: 3,
      slowReps: 1,
      singleReps: 1,
      listReps: 1,
      list: { definitions: 2000, records: 20_000 },
      drainJobs: 10_000,
      storeRecords: 10_000,
      stepMs: 3000,
      onceN: 1000,
      rssMs: 15_000,
      create: { pendingDefs: 1000, holdMs: 5000, stepMs: 2000, bulkRequests: 2 },
      lateness: { n: 600, spanMs: 6000, leadMs: 6000 },
      schedulers: { n: 1000, windowMs: 12_000 },
      rawSchedulers: { n: 1000, windowMs: 12_000 },
      listSamples: 12,
    }
  : {
      reps: 3,
      slowReps: 3,
      singleReps: 1,
      listReps: 3,
      list: { definitions: 5000, records: 50_000 },
      drainJobs: 20_000,
      storeRecords: 20_000,
      stepMs: 10_000,
      onceN: 5000,
      rssMs: 300_000,
      create: { pendingDefs: 2000, holdMs: 20_000, stepMs: 2000, bulkRequests: 5 },
      lateness: { n: 2000, spanMs: 20_000, leadMs: 4000 },
      schedulers: { n: 1000, windowMs: 60_000 },
      rawSchedulers: { n: 1000, windowMs: 8000 },
      listSamples: 15,
    };

const started = Date.now();
const notes: string[] = [];
const log = (line: string) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}\n`);

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** The API runs from dist/: build when src/ is newer than dist/bin/api.js. */
function ensureBuilt(): void {
  const api = path.join(ROOT, 'dist/bin/api.js');
  if (existsSync(api) && statSync(api).mtimeMs >= newestMtime(path.join(ROOT, 'src'))) return;
  log('dist/ is older than src/: npm run build');
  try {
    execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
  } catch {
    if (!existsSync(api)) throw new Error('npm run build failed and there is no dist/ to run');
    notes.push('npm run build failed (src/ does not compile right now): the API and worker ran the previous dist/');
    log(`WARNING: ${notes[notes.length - 1]}`);
  }
}

const limit = (b: number | null, s: number | null) => (b && s ? 1 / (1 / b + 1 / s) : null);
const ratio = (a: number | null, b: number | null) => (a !== null && b ? a / b : null);

async function main(): Promise<void> {
  installSignalHandlers();
  if (only) notes.push(`only the phases ${only.join(', ')} ran (--only): the other figures are null`);
  log(`Tock benchmark${quick ? ' --quick: FEWER REPETITIONS AND SHORTER WINDOWS (a smoke run; use the full run for figures)' : ''}`);
  ensureBuilt();
  const servers = await startServers(log);
  const ctx: BenchContext = { servers, quick, log, note: (l) => notes.push(l) };

  log('(b) the store alone: HistoryWriter insertMany, definitions insertMany, updateOne');
  const store = want('store')
    ? await measureStore(ctx, PLAN.reps, PLAN.storeRecords)
    : { insert: none, defInsert: none, defUpdateMs: none, guardedUpdateMs: none, insertOneP99: none };

  log('(a) raw BullMQ: drain and sustained');
  if (want('baseline')) await settleStore(servers, log, 'the raw BullMQ phase');
  const baseline = want('baseline')
    ? await measureBaseline(ctx, {
        drainReps: PLAN.reps,
        drainJobs: PLAN.drainJobs,
        sustainedReps: PLAN.slowReps,
        stepMs: PLAN.stepMs,
      })
    : { drain: none, sustained: none, cpuAtSustained: [] };

  log('(c) Tock: drain, store commands, sustained, worker RSS');
  let tock = {
    drain: none,
    commandsPer1k: none,
    readsPerExecution: none,
    sustained: none,
    cpuAtSustained: [] as TockRunFigures['cpuAtSustained'],
    sustainedSingle: none,
    cpuAtSustainedSingle: [] as TockRunFigures['cpuAtSustainedSingle'],
    rssGrowthPct: none,
  };
  if (want('run')) {
    const run = await startTock(ctx, 'run', { worker: true });
    tock = await measureTockRun(ctx, run, {
      drainReps: PLAN.reps,
      drainJobs: PLAN.drainJobs,
      sustainedReps: PLAN.slowReps,
      singleReps: PLAN.singleReps,
      stepMs: PLAN.stepMs,
      firstRate: 300,
      rssMs: PLAN.rssMs,
    });
    await run.stop();
  }

  log('(c) Tock: drain of one-time definitions');
  let once = { drain: none, settled: none, readsPerExecution: none, updatesPerDefinition: none };
  if (want('once')) {
    const onceCluster = await startTock(ctx, 'once', { worker: true });
    once = await measureOnce(ctx, onceCluster, { reps: PLAN.slowReps, n: PLAN.onceN });
    await onceCluster.stop();
  }

  log('(c) Tock: REST create, bulk create, Redis bytes per pending definition');
  const createReps = [];
  for (let rep = 0; rep < (want('create') ? PLAN.slowReps : 0); rep++) {
    const c = await startTock(ctx, `create${rep + 1}`, { worker: false });
    createReps.push(await measureCreateRep(ctx, c, PLAN.create));
    await c.stop();
  }
  const create = createFigures(createReps);

  log('(c) Tock: one-time lateness and schedulers');
  const late = [];
  const sched = [];
  if (want('timing')) {
    const c = await startTock(ctx, 'late', { worker: true });
    for (let rep = 0; rep < PLAN.slowReps; rep++) late.push(await measureLatenessRep(ctx, c, PLAN.lateness));
    await c.stop();
  }
  if (want('timing')) await settleStore(servers, log, 'the raw BullMQ schedulers');
  const rawSchedulers = want('timing') ? [await measureBaselineSchedulers(ctx, PLAN.rawSchedulers)] : [];
  if (want('timing')) {
    const c = await startTock(ctx, 'sched', { worker: true });
    sched.push(...(await measureSchedulers(ctx, c, { ...PLAN.schedulers, windows: PLAN.slowReps })));
    await c.stop();
  }
  const timing = timingFigures(late, sched);
  const rawSchedulerP99 = figure(
    rawSchedulers.map((r) => r.p99),
    { p50: rawSchedulers.map((r) => r.p50), runs: rawSchedulers.map((r) => r.runs), expected: rawSchedulers.map((r) => r.expected) },
  );

  log(`(c) Tock: list latency on ${PLAN.list.definitions} definitions and ${PLAN.list.records} records`);
  let list = { jobs: none, executions: none, storeJobs: none, storeExecutions: none };
  if (want('list')) {
    const listCluster = await startTock(ctx, 'list', { worker: false });
    list = await measureList(ctx, listCluster, { reps: PLAN.listReps, samples: PLAN.listSamples, ...PLAN.list });
    await listCluster.stop();
  }

  // Derived figures.
  const B = baseline.drain.median;
  const S = store.insert.median;
  const L = limit(B, S);
  const Ls = limit(baseline.sustained.median, S);
  const lim: Figure = figure([L], { formula: '1 / (1/B + 1/S), medians' });
  const limS: Figure = figure([Ls], { formula: '1 / (1/Bsustained + 1/S), medians' });
  // CPU per execution (µs, all processes) at the highest step held.
  const cpuTotal = (xs: (Record<string, number> | null)[]) => figure(xs.map((c) => c?.total ?? null));
  const tockCpu = cpuTotal(tock.cpuAtSustained);
  const rawCpu = cpuTotal(baseline.cpuAtSustained);
  const tockCpu1 = cpuTotal(tock.cpuAtSustainedSingle);
  const bulkNote = (create.bulk.detail as { note?: string } | undefined)?.note;
  if (bulkNote) notes.push(`bulk create: ${bulkNote}; bulkCreateDefsPerSec is null`);
  const le = (f: Figure, max: number) => (f.median === null ? null : (f.max ?? f.median) <= max);

  const rows: Row[] = [
    {
      label: `raw BullMQ drain, ${PLAN.drainJobs.toLocaleString('en-US')} pre-queued`,
      unit: 'jobs/s',
      fig: baseline.drain,
      bar: 'reference (B)',
    },
    { label: 'store alone: HistoryWriter insertMany', unit: 'docs/s', fig: store.insert, bar: 'reference (S)' },
    { label: 'combined limit L = 1/(1/B+1/S)', unit: 'jobs/s', fig: lim, bar: 'reference (L)' },
    {
      label: `Tock drain, 20 defs x ${(PLAN.drainJobs / 20).toLocaleString('en-US')} triggered runs`,
      unit: 'jobs/s',
      fig: tock.drain,
      bar: '>= 0.75 x L',
      ratio: ratio(tock.drain.median, L),
      ratioOf: 'L',
      pass: tock.drain.median === null || L === null ? null : tock.drain.median >= 0.75 * L,
    },
    {
      label: 'Tock drain vs raw BullMQ',
      unit: 'ratio',
      fig: figure([ratio(tock.drain.median, B)]),
      bar: 'report',
      digits: 2,
    },
    {
      label: `Tock drain, ${PLAN.onceN.toLocaleString('en-US')} one-time definitions`,
      unit: 'jobs/s',
      fig: once.drain,
      bar: 'report (no bar)',
      ratio: ratio(once.drain.median, L),
      ratioOf: 'L',
    },
    { label: '  one-time: definitions marked completed', unit: 'defs/s', fig: once.settled, bar: 'report (no bar)' },
    { label: '  store alone: updateOne on 5k definitions', unit: 'ms each, 4 at a time', fig: store.defUpdateMs, bar: 'report', digits: 2 },
    {
      label: '  store alone: the same, guarded by version',
      unit: 'ms each, 4 at a time',
      fig: store.guardedUpdateMs,
      bar: 'report',
      digits: 2,
    },
    { label: 'raw BullMQ sustained, addBulk per 5 ms tick', unit: 'jobs/s', fig: baseline.sustained, bar: 'reference (Bs)' },
    { label: 'combined sustained limit Ls', unit: 'jobs/s', fig: limS, bar: 'reference (Ls)' },
    {
      label: 'Tock sustained via POST /jobs/trigger per 5 ms tick',
      unit: 'jobs/s',
      fig: tock.sustained,
      bar: '>= 0.75 x Ls',
      ratio: ratio(tock.sustained.median, Ls),
      ratioOf: 'Ls',
      pass: tock.sustained.median === null || Ls === null ? null : tock.sustained.median >= 0.75 * Ls,
    },
    { label: '  CPU per execution at the highest step held', unit: 'µs, all processes', fig: tockCpu, bar: 'report' },
    { label: '  raw BullMQ: CPU per job at the highest step held', unit: 'µs, all processes', fig: rawCpu, bar: 'report' },
    {
      label: 'Tock sustained via one POST /jobs/{id}/trigger per run',
      unit: 'jobs/s',
      fig: tock.sustainedSingle,
      bar: 'report',
      ratio: ratio(tock.sustainedSingle.median, Ls),
      ratioOf: 'Ls',
    },
    { label: '  CPU per execution at the highest step held', unit: 'µs, all processes', fig: tockCpu1, bar: 'report' },
    {
      label: 'store commands per 1,000 executions (drain)',
      unit: 'commands',
      fig: tock.commandsPer1k,
      bar: '<= 20',
      digits: 1,
      pass: le(tock.commandsPer1k, 20),
    },
    {
      label: 'store reads per execution (drain, warm)',
      unit: 'reads',
      fig: tock.readsPerExecution,
      bar: '0',
      digits: 4,
      pass: le(tock.readsPerExecution, 0),
    },
    { label: '  one-time runs: reads per execution', unit: 'reads', fig: once.readsPerExecution, bar: 'report', digits: 2 },
    { label: 'POST /jobs at 300/s, p99', unit: 'ms', fig: create.createP99, bar: '<= 20 ms', digits: 1, pass: le(create.createP99, 20) },
    {
      label: '  store alone: insertOne of a definition at 300/s, p99',
      unit: 'ms',
      fig: store.insertOneP99,
      bar: 'report',
      digits: 1,
    },
    {
      label: '  store alone: the same, right after each hold, p99',
      unit: 'ms',
      fig: create.holdStoreP99,
      bar: 'report',
      digits: 1,
    },
    { label: 'POST /jobs at 300/s, errors', unit: 'count', fig: create.createErrors, bar: '0', pass: le(create.createErrors, 0) },
    { label: 'POST /jobs highest rate with p99 <= 50 ms', unit: 'req/s', fig: create.createMaxRate, bar: 'report' },
    { label: 'store alone: definitions insertMany (store phase)', unit: 'docs/s', fig: store.defInsert, bar: 'reference (Sd)' },
    {
      label: 'store alone: the same, beside each bulk request',
      unit: 'docs/s',
      fig: create.bulkStore,
      bar: "reference (Sd')",
      ratio: ratio(create.bulkStore.median, store.defInsert.median),
      ratioOf: 'Sd',
    },
    {
      label: 'POST /jobs/batch, 1,000 per request',
      unit: 'defs/s',
      fig: create.bulk,
      bar: ">= 0.6 x Sd'",
      ratio: ratio(create.bulk.median, create.bulkStore.median),
      ratioOf: "Sd'",
      pass: create.bulk.median === null || create.bulkStore.median === null ? null : create.bulk.median >= 0.6 * create.bulkStore.median,
    },
    {
      label: 'POST /jobs/batch against the store phase',
      unit: 'ratio',
      fig: figure([ratio(create.bulk.median, store.defInsert.median)]),
      bar: 'report (x Sd)',
      digits: 2,
    },
    {
      label: `one-time lateness, ${PLAN.lateness.n} due over ${PLAN.lateness.spanMs / 1000} s, p99`,
      unit: 'ms',
      fig: timing.latenessP99!,
      bar: '<= 25 ms',
      pass: le(timing.latenessP99!, 25),
    },
    { label: 'one-time early starts', unit: 'count', fig: timing.earlyStarts!, bar: '0', pass: le(timing.earlyStarts!, 0) },
    {
      label: `schedulers ${PLAN.schedulers.n} x every 2 s for ${PLAN.schedulers.windowMs / 1000} s: missed slots`,
      unit: 'count',
      fig: timing.schedulerMissed!,
      bar: '0',
      pass: le(timing.schedulerMissed!, 0),
    },
    {
      label: 'schedulers: duplicated slots',
      unit: 'count',
      fig: timing.schedulerDuplicates!,
      bar: '0',
      pass: le(timing.schedulerDuplicates!, 0),
    },
    {
      label: 'schedulers: lateness p99',
      unit: 'ms',
      fig: timing.schedulerLatenessP99!,
      bar: '<= 250 ms',
      pass: le(timing.schedulerLatenessP99!, 250),
    },
    {
      label: `raw BullMQ: the same schedulers for ${PLAN.rawSchedulers.windowMs / 1000} s, lateness p99`,
      unit: 'ms',
      fig: rawSchedulerP99,
      bar: 'reference',
    },
    {
      label: `GET /jobs with filters (${PLAN.list.definitions.toLocaleString('en-US')} defs), p99`,
      unit: 'ms',
      fig: list.jobs,
      bar: '<= 50 ms',
      digits: 1,
      pass: le(list.jobs, 50),
    },
    {
      label: `GET /jobs/{id}/executions (${PLAN.list.records.toLocaleString('en-US')} records), p99`,
      unit: 'ms',
      fig: list.executions,
      bar: '<= 50 ms',
      digits: 1,
      pass: le(list.executions, 50),
    },
    { label: '  store alone: the same list queries, p99', unit: 'ms', fig: list.storeJobs, bar: 'report', digits: 1 },
    { label: '  store alone: the same executions queries, p99', unit: 'ms', fig: list.storeExecutions, bar: 'report', digits: 1 },
    {
      label: 'Redis bytes per pending one-time definition',
      unit: 'bytes',
      fig: create.redisBytesPerPending,
      bar: '<= 1,024',
      pass: le(create.redisBytesPerPending, 1024),
    },
    {
      label: `worker RSS growth over ${PLAN.rssMs / 1000} s of load (lowest of each half)`,
      unit: '%',
      fig: tock.rssGrowthPct,
      bar: 'growth <= 10%',
      digits: 1,
      // A leak shows as growth; an RSS that shrinks (the heap settling after earlier phases) is not one.
      pass: tock.rssGrowthPct.median === null ? null : tock.rssGrowthPct.median <= 10,
    },
  ];

  const m = (f: Figure, d = 1) => round(f.median, d);
  const results = {
    baselineDrainJobsPerSec: m(baseline.drain, 0),
    storeInsertDocsPerSec: m(store.insert, 0),
    combinedLimitJobsPerSec: round(L, 0),
    tockDrainJobsPerSec: m(tock.drain, 0),
    drainRatioToLimit: round(ratio(tock.drain.median, L), 3),
    drainRatioToBullmq: round(ratio(tock.drain.median, B), 3),
    baselineSustainedJobsPerSec: m(baseline.sustained, 0),
    tockSustainedJobsPerSec: m(tock.sustained, 0),
    sustainedRatioToLimit: round(ratio(tock.sustained.median, Ls), 3),
    storeCommandsPer1kExecutions: m(tock.commandsPer1k, 2),
    storeReadsPerExecution: m(tock.readsPerExecution, 4),
    createP99Ms: m(create.createP99, 1),
    createErrors: create.createErrors.values.reduce<number>((a, b) => a + (b ?? 0), 0),
    bulkCreateDefsPerSec: m(create.bulk, 0),
    latenessP99Ms: m(timing.latenessP99!, 1),
    earlyStarts: timing.earlyStarts!.values.reduce<number>((a, b) => a + (b ?? 0), 0),
    schedulerMissedSlots: timing.schedulerMissed!.values.reduce<number>((a, b) => a + (b ?? 0), 0),
    schedulerDuplicateSlots: timing.schedulerDuplicates!.values.reduce<number>((a, b) => a + (b ?? 0), 0),
    schedulerLatenessP99Ms: m(timing.schedulerLatenessP99!, 1),
    listJobsP99Ms: m(list.jobs, 1),
    listExecutionsP99Ms: m(list.executions, 1),
    redisBytesPerPendingJob: m(create.redisBytesPerPending, 0),
    workerRssGrowthPct: m(tock.rssGrowthPct, 1),
    // Beyond the keys.
    combinedSustainedLimitJobsPerSec: round(Ls, 0),
    storeDefinitionInsertDocsPerSec: m(store.defInsert, 0),
    bulkCreateRatioToStore: round(ratio(create.bulk.median, create.bulkStore.median), 3),
    storeDefinitionInsertBesideBulkDocsPerSec: m(create.bulkStore, 0),
    bulkCreateRatioToStorePhase: round(ratio(create.bulk.median, store.defInsert.median), 3),
    storeDefinitionUpdateMs: m(store.defUpdateMs, 2),
    storeDefinitionGuardedUpdateMs: m(store.guardedUpdateMs, 2),
    oneTimeDrainJobsPerSec: m(once.drain, 0),
    oneTimeDefinitionsCompletedPerSec: m(once.settled, 0),
    oneTimeReadsPerExecution: m(once.readsPerExecution, 3),
    createMaxRateP99Under50Ms: m(create.createMaxRate, 0),
    storeInsertOneP99Ms: m(store.insertOneP99, 1),
    storeInsertOneBesideCreateP99Ms: m(create.holdStoreP99, 1),
    baselineSchedulerLatenessP99Ms: m(rawSchedulerP99, 1),
    storeListJobsP99Ms: m(list.storeJobs, 1),
    storeListExecutionsP99Ms: m(list.storeExecutions, 1),
    tockSustainedCpuUsPerExecution: m(tockCpu, 0),
    baselineSustainedCpuUsPerJob: m(rawCpu, 0),
    tockSustainedSingleJobsPerSec: m(tock.sustainedSingle, 0),
    sustainedSingleRatioToLimit: round(ratio(tock.sustainedSingle.median, Ls), 3),
    tockSustainedSingleCpuUsPerExecution: m(tockCpu1, 0),
    meta: {
      mode: quick ? 'quick' : 'full',
      command: quick ? 'npm run bench -- --quick' : 'npm run bench',
      startedAt: new Date(started).toISOString(),
      durationSec: Math.round((Date.now() - started) / 1000),
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGb: Math.round(os.totalmem() / 2 ** 30), node: process.version },
      store: `FerretDB 1.24.2, ${servers.handler} handler`,
      redis: `redis-server ${servers.redisArgs}`,
      worker: 'one worker process (bench/worker-child.ts: Tock startWorker or raw BullMQ Worker), concurrency 50',
      api: 'dist/bin/api.js',
      plan: PLAN,
      only: only ?? null,
      notes,
    },
    figures: {
      baselineDrain: baseline.drain,
      baselineSustained: baseline.sustained,
      storeInsert: store.insert,
      storeDefinitionInsert: store.defInsert,
      storeDefinitionUpdateMs: store.defUpdateMs,
      tockDrain: tock.drain,
      commandsPer1k: tock.commandsPer1k,
      readsPerExecution: tock.readsPerExecution,
      tockSustained: tock.sustained,
      tockSustainedCpu: tock.cpuAtSustained,
      baselineSustainedCpu: baseline.cpuAtSustained,
      tockSustainedSingle: tock.sustainedSingle,
      tockSustainedSingleCpu: tock.cpuAtSustainedSingle,
      workerRssGrowthPct: tock.rssGrowthPct,
      oneTime: once,
      create,
      timing,
      baselineSchedulerLateness: rawSchedulerP99,
      list,
    },
  };

  process.stdout.write(`\n${renderTable(rows)}\n`);
  if (quick) process.stdout.write('\nQUICK RUN: fewer repetitions (n column) and shorter windows; see BENCHMARKS.md for the full run.\n');
  for (const n of notes) process.stdout.write(`note: ${n}\n`);
  // Formatted as the repository's prettier settings want, so that committing them keeps `npm run lint` clean.
  const prettier = await import('prettier');
  const options = { ...(await prettier.resolveConfig(ROOT)), filepath: path.join(__dirname, 'results.json') };
  writeFileSync(options.filepath, await prettier.format(JSON.stringify(results, null, 2), options));
  const md = path.join(__dirname, 'results.md');
  writeFileSync(md, await prettier.format(renderMarkdown(rows), { ...options, filepath: md }));
  log('wrote bench/results.json and bench/results.md');
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`benchmark failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanupAll().then(() => process.exit()));
