/**
 * The benchmark's phases in the order they run, each on fresh deployments of its own: it logs its
 * heading, measures when `run` says so (`--only`), and otherwise reports null figures.
 */
import { figure, type BenchContext } from './lib/context';
import { settleStore } from './lib/servers';
import { startTock } from './lib/tock';
import { createFigures, measureCreateRep, measureList, type CreateFigures, type ListFigures } from './measure/api';
import { measureBaseline, measureBaselineSchedulers, type BaselineFigures } from './measure/baseline';
import { measureOnce, type OnceFigures } from './measure/once';
import { measureStore, type StoreFigures } from './measure/store';
import { measureMetricsOverhead, type MetricsFigures } from './measure/metrics';
import { measureLatenessRep, measureSchedulers, timingFigures } from './measure/timing';
import { measureTockRun, type TockRunFigures } from './measure/tock-run';
import type { BenchPlan } from './plan';
import type { PhaseFigures } from './results';

const none = figure([]);

/** (b) The store alone. */
export async function storePhase(ctx: BenchContext, plan: BenchPlan, run: boolean): Promise<StoreFigures> {
  ctx.log('(b) the store alone: HistoryWriter insertMany, definitions insertMany, updateOne');
  if (!run) return { insert: none, defInsert: none, defUpdateMs: none, guardedUpdateMs: none, insertOneP99: none };
  return measureStore(ctx, plan.reps, plan.storeRecords);
}

/** (a) Raw BullMQ. */
export async function baselinePhase(ctx: BenchContext, plan: BenchPlan, run: boolean): Promise<BaselineFigures> {
  ctx.log('(a) raw BullMQ: drain and sustained');
  if (!run) return { drain: none, sustained: none, cpuAtSustained: [] };
  await settleStore(ctx.servers, ctx.log, 'the raw BullMQ phase');
  return measureBaseline(ctx, { drainReps: plan.reps, drainJobs: plan.drainJobs, sustainedReps: plan.slowReps, stepMs: plan.stepMs });
}

/** (c) Tock with a worker: drain, store commands, sustained rates, worker RSS. */
export async function tockRunPhase(ctx: BenchContext, plan: BenchPlan, run: boolean): Promise<TockRunFigures> {
  ctx.log('(c) Tock: drain, store commands, sustained, worker RSS');
  if (!run) {
    return {
      drain: none,
      commandsPer1k: none,
      readsPerExecution: none,
      sustained: none,
      cpuAtSustained: [],
      sustainedSingle: none,
      cpuAtSustainedSingle: [],
      rssGrowthPct: none,
    };
  }
  const c = await startTock(ctx, 'run', { worker: true });
  const figures = await measureTockRun(ctx, c, {
    drainReps: plan.reps,
    drainJobs: plan.drainJobs,
    sustainedReps: plan.slowReps,
    singleReps: plan.singleReps,
    stepMs: plan.stepMs,
    firstRate: 300,
    rssMs: plan.rssMs,
  });
  await c.stop();
  return figures;
}

/** (c) Tock: a drain of one-time definitions. */
export async function oncePhase(ctx: BenchContext, plan: BenchPlan, run: boolean): Promise<OnceFigures> {
  ctx.log('(c) Tock: drain of one-time definitions');
  if (!run) return { drain: none, settled: none, readsPerExecution: none, updatesPerDefinition: none };
  const c = await startTock(ctx, 'once', { worker: true });
  const figures = await measureOnce(ctx, c, { reps: plan.slowReps, n: plan.onceN });
  await c.stop();
  return figures;
}

/** (c) Tock without a worker: single and bulk creates, Redis bytes; each repetition on a fresh deployment. */
export async function createPhase(ctx: BenchContext, plan: BenchPlan, run: boolean): Promise<CreateFigures> {
  ctx.log('(c) Tock: REST create, bulk create, Redis bytes per pending definition');
  const reps = [];
  for (let rep = 0; rep < (run ? plan.slowReps : 0); rep++) {
    const c = await startTock(ctx, `create${rep + 1}`, { worker: false });
    reps.push(await measureCreateRep(ctx, c, plan.create));
    await c.stop();
  }
  return createFigures(reps);
}

/** (c) Tock: one-time lateness and schedulers, with raw BullMQ's schedulers between them. */
export async function timingPhase(
  ctx: BenchContext,
  plan: BenchPlan,
  run: boolean,
): Promise<Pick<PhaseFigures, 'timing' | 'rawSchedulerP99'>> {
  ctx.log('(c) Tock: one-time lateness and schedulers');
  const late = [];
  const sched = [];
  const raw = [];
  if (run) {
    const c = await startTock(ctx, 'late', { worker: true });
    for (let rep = 0; rep < plan.slowReps; rep++) late.push(await measureLatenessRep(ctx, c, plan.lateness));
    await c.stop();
    await settleStore(ctx.servers, ctx.log, 'the raw BullMQ schedulers');
    raw.push(await measureBaselineSchedulers(ctx, plan.rawSchedulers));
    const s = await startTock(ctx, 'sched', { worker: true });
    sched.push(...(await measureSchedulers(ctx, s, { ...plan.schedulers, windows: plan.slowReps })));
    await s.stop();
  }
  return {
    timing: timingFigures(late, sched),
    rawSchedulerP99: figure(
      raw.map((r) => r.p99),
      { p50: raw.map((r) => r.p50), runs: raw.map((r) => r.runs), expected: raw.map((r) => r.expected) },
    ),
  };
}

/** (c) Tock: list latency over many definitions and records. */
export async function listPhase(ctx: BenchContext, plan: BenchPlan, run: boolean): Promise<ListFigures> {
  ctx.log(`(c) Tock: list latency on ${plan.list.definitions} definitions and ${plan.list.records} records`);
  if (!run) return { jobs: none, executions: none, storeJobs: none, storeExecutions: none, stats: none, storeStats: none };
  const c = await startTock(ctx, 'list', { worker: false });
  const figures = await measureList(ctx, c, {
    reps: plan.listReps,
    samples: plan.listSamples,
    statsSamples: plan.statsSamples,
    ...plan.list,
  });
  await c.stop();
  return figures;
}

/** (c) Tock: sustained throughput with metrics on and off. */
export async function metricsPhase(ctx: BenchContext, plan: BenchPlan, run: boolean): Promise<MetricsFigures> {
  ctx.log('(c) Tock: sustained with metrics on and off (METRICS_ENABLED)');
  if (!run) return { on: none, off: none };
  return measureMetricsOverhead(ctx, { rounds: plan.slowReps, stepMs: plan.stepMs, firstRate: 300 });
}
