/**
 * What a run reports: the figures derived from the measured ones (the combined limits, the ratios,
 * CPU per execution), the table's rows with their bars, and results.json, written with results.md.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { figure, type Figure } from './lib/context';
import { renderMarkdown, renderTable, type Row } from './lib/report';
import type { BenchServers } from './lib/servers';
import { round } from './lib/stats';
import { STATS_RECORDS, type CreateFigures, type ListFigures } from './measure/api';
import type { BaselineFigures } from './measure/baseline';
import type { OnceFigures } from './measure/once';
import type { StoreFigures } from './measure/store';
import type { MetricsFigures } from './measure/metrics';
import type { TockRunFigures } from './measure/tock-run';
import type { BenchOptions, BenchPlan } from './plan';

const ROOT = path.resolve(__dirname, '..');

/** Every phase's figures (null figures for a phase that did not run). */
export interface PhaseFigures {
  store: StoreFigures;
  baseline: BaselineFigures;
  tock: TockRunFigures;
  once: OnceFigures;
  create: CreateFigures;
  timing: Record<string, Figure>;
  rawSchedulerP99: Figure;
  list: ListFigures;
  metrics: MetricsFigures;
}

/** What results.json's `meta` tells about the run. */
export interface RunInfo {
  options: BenchOptions;
  started: number;
  servers: BenchServers;
  /** Free-form notes, printed under the table and written to `meta.notes`. */
  notes: string[];
}

const limit = (b: number | null, s: number | null) => (b && s ? 1 / (1 / b + 1 / s) : null);
const ratio = (a: number | null, b: number | null) => (a !== null && b ? a / b : null);

/** B, S and the combined limits; CPU per execution (µs, all processes) at the highest step held. */
function derive({ store, baseline, tock }: PhaseFigures) {
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
  return { B, S, L, Ls, lim, limS, tockCpu, rawCpu, tockCpu1 };
}

type Derived = ReturnType<typeof derive>;

function rowsOf(
  plan: BenchPlan,
  { store, baseline, tock, once, create, timing, rawSchedulerP99, list, metrics }: PhaseFigures,
  derived: Derived,
): Row[] {
  const { B, L, Ls, lim, limS, tockCpu, rawCpu, tockCpu1 } = derived;
  const le = (f: Figure, max: number) => (f.median === null ? null : (f.max ?? f.median) <= max);
  return [
    {
      label: `raw BullMQ drain, ${plan.drainJobs.toLocaleString('en-US')} pre-queued`,
      unit: 'jobs/s',
      fig: baseline.drain,
      bar: 'reference (B)',
    },
    { label: 'store alone: HistoryWriter insertMany', unit: 'docs/s', fig: store.insert, bar: 'reference (S)' },
    { label: 'combined limit L = 1/(1/B+1/S)', unit: 'jobs/s', fig: lim, bar: 'reference (L)' },
    {
      label: `Tock drain, 20 defs x ${(plan.drainJobs / 20).toLocaleString('en-US')} triggered runs`,
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
      label: `Tock drain, ${plan.onceN.toLocaleString('en-US')} one-time definitions`,
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
      label: 'Tock sustained, metrics on (METRICS_ENABLED=true)',
      unit: 'jobs/s',
      fig: metrics.on,
      bar: '>= 0.95 x off',
      ratio: ratio(metrics.on.median, metrics.off.median),
      ratioOf: 'off',
      pass: metrics.on.median === null || metrics.off.median === null ? null : metrics.on.median >= 0.95 * metrics.off.median,
    },
    { label: '  the same, metrics off (METRICS_ENABLED=false)', unit: 'jobs/s', fig: metrics.off, bar: 'reference (off)' },
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
    { label: '  the same with a scoped key (rate limit, quota), p99', unit: 'ms', fig: create.createP99Scoped, bar: 'report', digits: 1 },
    { label: '  API CPU per create, admin key', unit: 'µs', fig: create.createCpuAdmin, bar: 'report', digits: 0 },
    {
      label: '  API CPU per create, scoped key',
      unit: 'µs',
      fig: create.createCpuScoped,
      bar: '<= 1.1 x admin key',
      digits: 0,
      pass:
        create.createCpuScoped.median !== null && create.createCpuAdmin.median !== null
          ? create.createCpuScoped.median <= 1.1 * create.createCpuAdmin.median
          : undefined,
    },
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
      label: `one-time lateness, ${plan.lateness.n} due over ${plan.lateness.spanMs / 1000} s, p99`,
      unit: 'ms',
      fig: timing.latenessP99!,
      bar: '<= 25 ms',
      pass: le(timing.latenessP99!, 25),
    },
    { label: 'one-time early starts', unit: 'count', fig: timing.earlyStarts!, bar: '0', pass: le(timing.earlyStarts!, 0) },
    {
      label: `schedulers ${plan.schedulers.n} x every 2 s for ${plan.schedulers.windowMs / 1000} s: missed slots`,
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
      label: `raw BullMQ: the same schedulers for ${plan.rawSchedulers.windowMs / 1000} s, lateness p99`,
      unit: 'ms',
      fig: rawSchedulerP99,
      bar: 'reference',
    },
    {
      label: `GET /jobs with filters (${plan.list.definitions.toLocaleString('en-US')} defs), p99`,
      unit: 'ms',
      fig: list.jobs,
      bar: '<= 50 ms',
      digits: 1,
      pass: le(list.jobs, 50),
    },
    {
      label: `GET /jobs/{id}/executions (${plan.list.records.toLocaleString('en-US')} records), p99`,
      unit: 'ms',
      fig: list.executions,
      bar: '<= 50 ms',
      digits: 1,
      pass: le(list.executions, 50),
    },
    { label: '  store alone: the same list queries, p99', unit: 'ms', fig: list.storeJobs, bar: 'report', digits: 1 },
    { label: '  store alone: the same executions queries, p99', unit: 'ms', fig: list.storeExecutions, bar: 'report', digits: 1 },
    {
      label: `GET /jobs/{id}/stats?window=7d (${STATS_RECORDS.toLocaleString('en-US')} records of one job), p99`,
      unit: 'ms',
      fig: list.stats,
      bar: 'report',
      digits: 1,
    },
    { label: '  store alone: reading those records, p99', unit: 'ms', fig: list.storeStats, bar: 'report', digits: 1 },
    {
      label: 'Redis bytes per pending one-time definition',
      unit: 'bytes',
      fig: create.redisBytesPerPending,
      bar: '<= 1,024',
      pass: le(create.redisBytesPerPending, 1024),
    },
    {
      label: `worker RSS growth over ${plan.rssMs / 1000} s of load (lowest of each half)`,
      unit: '%',
      fig: tock.rssGrowthPct,
      bar: 'growth <= 10%',
      digits: 1,
      // A leak shows as growth; an RSS that shrinks (the heap settling after earlier phases) is not one.
      pass: tock.rssGrowthPct.median === null ? null : tock.rssGrowthPct.median <= 10,
    },
  ];
}

/** results.json's headline keys, then `meta` and the figures with their details. */
function resultsOf(
  plan: BenchPlan,
  { store, baseline, tock, once, create, timing, rawSchedulerP99, list, metrics }: PhaseFigures,
  derived: Derived,
  run: RunInfo,
) {
  const { B, L, Ls, tockCpu, rawCpu, tockCpu1 } = derived;
  const { quick, only } = run.options;
  const { started, servers, notes } = run;
  const m = (f: Figure, d = 1) => round(f.median, d);
  return {
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
    createScopedKeyP99Ms: m(create.createP99Scoped, 1),
    createCpuAdminKeyUs: m(create.createCpuAdmin, 0),
    createCpuScopedKeyUs: m(create.createCpuScoped, 0),
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
    statsP99Ms: m(list.stats, 1),
    storeStatsP99Ms: m(list.storeStats, 1),
    tockSustainedCpuUsPerExecution: m(tockCpu, 0),
    baselineSustainedCpuUsPerJob: m(rawCpu, 0),
    tockSustainedSingleJobsPerSec: m(tock.sustainedSingle, 0),
    sustainedSingleRatioToLimit: round(ratio(tock.sustainedSingle.median, Ls), 3),
    tockSustainedSingleCpuUsPerExecution: m(tockCpu1, 0),
    metricsOnSustainedJobsPerSec: m(metrics.on, 0),
    metricsOffSustainedJobsPerSec: m(metrics.off, 0),
    metricsOnRatioToOff: round(ratio(metrics.on.median, metrics.off.median), 3),
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
      plan,
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
      metrics,
    },
  };
}

/**
 * Prints the table and the notes, and writes bench/results.json and bench/results.md (formatted as
 * the repository's prettier settings want, so that committing them keeps `npm run lint` clean).
 */
export async function report(plan: BenchPlan, f: PhaseFigures, run: RunInfo & { log(line: string): void }): Promise<void> {
  const bulkNote = (f.create.bulk.detail as { note?: string } | undefined)?.note;
  if (bulkNote) run.notes.push(`bulk create: ${bulkNote}; bulkCreateDefsPerSec is null`);
  const d = derive(f);
  const rows = rowsOf(plan, f, d);
  const results = resultsOf(plan, f, d, run);
  process.stdout.write(`\n${renderTable(rows)}\n`);
  if (run.options.quick)
    process.stdout.write('\nQUICK RUN: fewer repetitions (n column) and shorter windows; see BENCHMARKS.md for the full run.\n');
  for (const n of run.notes) process.stdout.write(`note: ${n}\n`);
  const prettier = await import('prettier');
  const options = { ...(await prettier.resolveConfig(ROOT)), filepath: path.join(__dirname, 'results.json') };
  writeFileSync(options.filepath, await prettier.format(JSON.stringify(results, null, 2), options));
  const md = path.join(__dirname, 'results.md');
  writeFileSync(md, await prettier.format(renderMarkdown(rows), { ...options, filepath: md }));
  run.log('wrote bench/results.json and bench/results.md');
}
