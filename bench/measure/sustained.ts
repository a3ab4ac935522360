import type { Queue } from 'bullmq';
import type { BenchContext } from '../lib/context';
import { until } from '../lib/stats';

export interface StepResult {
  rate: number;
  held: boolean;
  why: string;
  lagP99: number | null;
  /** CPU per execution during the step's sends, in µs, by process and in all (`total`). */
  cpu?: Record<string, number> | null;
}

/**
 * Before a step: waits (at most 30 s) until the queue holds nothing waiting or running and `idle`
 * says the rest is done too, so that a step does not inherit the backlog of a failed step before
 * it.
 */
export async function quiesce(queue: Queue, idle: () => Promise<boolean> = async () => true): Promise<boolean> {
  return until(
    async () => {
      const c = await queue.getJobCounts('wait', 'active', 'prioritized', 'waiting-children');
      return Object.values(c).every((n) => n === 0) && (await idle());
    },
    30_000,
    100,
  );
}

/** CPU per execution at the highest step each repetition held (null where none was). */
export function cpuAtBest(steps: StepResult[][]): (Record<string, number> | null)[] {
  return steps.map((rep) => {
    const held = rep.filter((r) => r.held);
    return held.length ? (held[held.length - 1]!.cpu ?? null) : null;
  });
}

/**
 * The highest rate held: climbs by `factor` (1.5 unless given) from `first` until a step fails,
 * the previous one is the answer. Each repetition after the first starts at the previous answer
 * and climbs by 1.15, at most 3 steps (a step that fails first steps down instead).
 */
export async function searchRate(
  ctx: BenchContext,
  label: string,
  reps: number,
  first: number,
  step: (rate: number) => Promise<StepResult>,
  firstFactor = 1.5,
): Promise<{ values: (number | null)[]; steps: StepResult[][] }> {
  const values: (number | null)[] = [];
  const allSteps: StepResult[][] = [];
  let start = first;
  let factor = firstFactor;
  for (let rep = 0; rep < reps; rep++) {
    const steps: StepResult[] = [];
    let rate = start;
    let best: number | null = null;
    for (let i = 0; i < (rep === 0 ? 12 : 3); i++) {
      const r = await step(Math.round(rate));
      steps.push(r);
      const cpu = r.cpu ? `; ${r.cpu.total} µs of CPU per execution` : '';
      ctx.log(`  ${label} rep ${rep + 1}: ${r.rate}/s ${r.held ? 'held' : 'NOT held'} (${r.why}${cpu})`);
      if (r.held) {
        best = r.rate;
        rate *= factor;
      } else if (best === null && rate > first / 16) {
        rate /= factor;
      } else break;
    }
    values.push(best);
    allSteps.push(steps);
    if (best !== null) {
      start = best;
      factor = 1.15;
    }
  }
  return { values, steps: allSteps };
}
