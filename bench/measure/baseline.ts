import { Queue, type JobsOptions } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { forEachLimited } from '../../src/lib/pool';
import { createRedis } from '../../src/queue/redis';
import { figure, type BenchContext, type Figure } from '../lib/context';
import { paced } from '../lib/http';
import { BenchWorker } from '../lib/processes';
import { sleep, until } from '../lib/stats';
import { cpuPerOp, cpuSnapshot, type Role } from '../lib/cpu';
import { cpuAtBest, quiesce, searchRate, type StepResult } from './sustained';

/**
 * The options JobQueue.jobOptions gives a definition with the default retry policy (literal: no Tock
 * code here); the retention (`removeOnComplete: {count: 0}`, `removeOnFail: {count: 1000}`) is set on the
 * worker, as Tock's worker does.
 */
export const BASELINE_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 1000 },
};

/** At most this many runs per add of a sustained step's tick (POST /jobs/trigger takes up to 1,000 ids). */
export const TICK_BATCH = 1000;

const data = (i: number) => ({ jobId: `0000000000000000000000${String(i % 20).padStart(2, '0')}`, version: 1, trigger: 'manual' });
const runId = () => `baseline-m-${randomBytes(6).toString('hex')}`;

export interface BaselineFigures {
  drain: Figure;
  /** The runs due in each 5 ms tick added together (`addBulk`), as Tock's producers send them to POST /jobs/trigger. */
  sustained: Figure;
  /** CPU per job (µs, by process) at the highest rate each repetition held. */
  cpuAtSustained: (Record<string, number> | null)[];
}

/** A raw BullMQ queue and its worker process (no Tock code), with `step` holding a rate of `queue.add`s. */
export interface RawBullmq {
  worker: BenchWorker;
  queue: Queue;
  /**
   * One step of the sustained search: runs added at `rate` for `ms`, the runs due in each 5 ms tick
   * with one `addBulk` (at most TICK_BATCH), judged like Tock's steps.
   */
  step(rate: number, ms: number): Promise<StepResult>;
  close(): Promise<void>;
}

export async function startRawBullmq(ctx: BenchContext, prefix: string): Promise<RawBullmq> {
  const worker = await BenchWorker.start('bullmq', { REDIS_URL: ctx.servers.redisUrl, QUEUE_PREFIX: prefix });
  const connection = createRedis(ctx.servers.redisUrl, 'worker');
  const queue = new Queue('jobs', { connection, prefix });
  // The sender is this process; Redis and the worker are the rest of what BullMQ costs.
  const roles: Role[] = [
    { name: 'sender', pids: [process.pid] },
    { name: 'redis', pids: [ctx.servers.redisPid] },
    { name: 'worker', pids: [worker.child.pid!] },
  ];
  return {
    worker,
    queue,
    async step(rate, ms) {
      await quiesce(queue);
      await worker.stats(true);
      const before = cpuSnapshot(roles);
      const r = await paced(
        rate,
        ms,
        async (_i, n) => {
          const t0 = performance.now();
          await queue.addBulk(
            Array.from({ length: n }, () => ({ name: 'run', data: data(0), opts: { ...BASELINE_JOB_OPTIONS, jobId: runId() } })),
          );
          return { ok: true, ms: performance.now() - t0 };
        },
        2000,
        TICK_BATCH,
      );
      const cpu = cpuPerOp(before, cpuSnapshot(roles), r.ok);
      const caughtUp = await until(async () => (await worker.stats()).completed >= r.ok, 3000, 50);
      const s = await worker.stats(true);
      return { ...judge(rate, r, caughtUp, s.lag.p99), cpu };
    },
    async close() {
      await queue.close();
      connection.disconnect();
      await worker.stop();
    },
  };
}

/** (a) raw BullMQ: same queue options and job data shape, one worker at concurrency 50, no-op processor. */
export async function measureBaseline(
  ctx: BenchContext,
  o: { drainReps: number; drainJobs: number; sustainedReps: number; stepMs: number },
): Promise<BaselineFigures> {
  const raw = await startRawBullmq(ctx, 'b-baseline');
  const { worker, queue } = raw;
  try {
    const drain: (number | null)[] = [];
    for (let rep = 0; rep < o.drainReps; rep++) {
      await worker.call('pause');
      for (let i = 0; i < o.drainJobs; i += 1000) {
        const n = Math.min(1000, o.drainJobs - i);
        await queue.addBulk(
          Array.from({ length: n }, (_, k) => ({ name: 'run', data: data(i + k), opts: { ...BASELINE_JOB_OPTIONS, jobId: runId() } })),
        );
      }
      const { ms } = await worker.call<{ ms: number | null }>('drain', { n: o.drainJobs });
      drain.push(ms === null ? null : (o.drainJobs * 1000) / ms);
      ctx.log(`  baseline drain rep ${rep + 1}: ${ms === null ? 'timed out' : `${Math.round(drain[rep]!)} jobs/s`}`);
    }
    const first = Math.max(1000, Math.round(0.4 * (figure(drain).median ?? 5000)));
    const sustained = await searchRate(ctx, 'baseline sustained (addBulk per tick)', o.sustainedReps, first, (rate) =>
      raw.step(rate, o.stepMs),
    );
    return {
      drain: figure(drain),
      sustained: figure(sustained.values, { steps: sustained.steps, via: 'addBulk of the runs due in each 5 ms tick' }),
      cpuAtSustained: cpuAtBest(sustained.steps),
    };
  } finally {
    await raw.close();
  }
}

export function judge(
  rate: number,
  r: { achievedRate: number; skipped: number; errors: number; firstError?: string },
  caughtUp: boolean,
  lagP99: number | null,
  extra?: string,
): StepResult {
  const problems: string[] = [];
  if (r.errors > 0) problems.push(`${r.errors} errors (${r.firstError})`);
  if (r.skipped > 0) problems.push(`${r.skipped} sends skipped: too many requests in flight`);
  else if (r.achievedRate < rate * 0.95) problems.push(`sender reached only ${Math.round(r.achievedRate)}/s`);
  if (!caughtUp) problems.push('executions fell behind');
  if (lagP99 === null || lagP99 > 250) problems.push(`lag p99 ${lagP99} ms`);
  if (extra) problems.push(extra);
  return { rate, held: problems.length === 0, why: problems.length ? problems.join('; ') : `lag p99 ${lagP99} ms`, lagP99 };
}

/**
 * Raw BullMQ Job Schedulers, for the scheduler lateness of the same run: `n` schedulers every 2 s
 * registered as Tock registers a batch (16 upserts at a time), one worker at concurrency 50 with a
 * no-op processor; lateness is when the processor is called minus the slot in the job id (as Tock's
 * records take their startedAt).
 */
export async function measureBaselineSchedulers(
  ctx: BenchContext,
  o: { n: number; windowMs: number },
): Promise<{ p50: number | null; p99: number | null; runs: number; expected: number }> {
  const every = 2000;
  const prefix = `b-sched-${randomBytes(3).toString('hex')}`;
  const worker = await BenchWorker.start('bullmq', { REDIS_URL: ctx.servers.redisUrl, QUEUE_PREFIX: prefix });
  const connection = createRedis(ctx.servers.redisUrl, 'worker');
  const queue = new Queue('jobs', { connection, prefix });
  try {
    await forEachLimited(
      Array.from({ length: o.n }, (_, i) => i),
      16,
      async (i) => {
        await queue.upsertJobScheduler(`s${i}`, { every }, { name: 'run', data: data(i), opts: BASELINE_JOB_OPTIONS });
      },
    );
    const tA = Date.now() + every;
    const tB = tA + o.windowMs;
    await sleep(tB + 1000 - Date.now());
    const r = await worker.call<{ runs: number; p50: number | null; p99: number | null }>('schedulerDrift', {
      from: tA,
      to: tB,
    });
    const expected = (o.n * o.windowMs) / every;
    ctx.log(
      `  baseline schedulers: ${o.n} x every 2 s for ${o.windowMs / 1000} s: ${r.runs} runs of ${expected}, lateness p50 ${r.p50} ms, p99 ${r.p99} ms`,
    );
    return { p50: r.p50, p99: r.p99, runs: r.runs, expected };
  } finally {
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    connection.disconnect();
    await worker.stop();
  }
}
