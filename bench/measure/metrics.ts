import { judge, TICK_BATCH } from './baseline';
import { figure, type BenchContext, type Figure } from '../lib/context';
import { request, paced } from '../lib/http';
import { until } from '../lib/stats';
import { createMany, noopJob, startTock } from '../lib/tock';
import { quiesce, searchRate, type StepResult } from './sustained';

export interface MetricsFigures {
  /** Tock sustained (POST /jobs/trigger per tick) with METRICS_ENABLED=true, one search per round. */
  on: Figure;
  /** The same with METRICS_ENABLED=false. */
  off: Figure;
}

/**
 * The cost of metrics: Tock's sustained rate (the runs due in each 5 ms tick through POST
 * /jobs/trigger, as in the run phase) with metrics on and off, each on a fresh deployment. The two
 * sides alternate, the first side switching every round, so that a machine that slows down over
 * the run does not favour one side.
 */
export async function measureMetricsOverhead(
  ctx: BenchContext,
  o: { rounds: number; stepMs: number; firstRate: number },
): Promise<MetricsFigures> {
  const values: Record<'on' | 'off', (number | null)[]> = { on: [], off: [] };
  const steps: Record<'on' | 'off', StepResult[][]> = { on: [], off: [] };
  for (let round = 0; round < o.rounds; round++) {
    const order: ('on' | 'off')[] = round % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
    for (const side of order) {
      const c = await startTock(ctx, `metrics-${side}${round + 1}`, { worker: true, env: { METRICS_ENABLED: String(side === 'on') } });
      try {
        const worker = c.worker!;
        const ids = await createMany(
          c.api.baseUrl,
          Array.from({ length: 20 }, (_, i) => noopJob(`metrics-${i}`, new Date(Date.now() + 86_400_000))),
        );
        const triggerMany = async (i: number, n: number) => {
          const r = await request(c.api.baseUrl, 'POST', '/api/v1/jobs/trigger', {
            jobIds: Array.from({ length: n }, (_, k) => ids[(i + k) % ids.length]!),
          });
          return { ok: r.status === 202, ms: r.ms, error: r.status === 202 ? undefined : `HTTP ${r.status}` };
        };
        const step = async (rate: number): Promise<StepResult> => {
          await quiesce(c.queue, async () => (await worker.stats()).pendingRecords === 0);
          await worker.stats(true);
          const r = await paced(rate, o.stepMs, triggerMany, 2000, TICK_BATCH);
          const caughtUp = await until(
            async () => {
              const s = await worker.stats();
              return s.completed >= r.ok && s.written >= r.ok;
            },
            3000,
            50,
          );
          const s = await worker.stats(true);
          return judge(rate, r, caughtUp, s.lag.p99, r.p99 !== null && r.p99 > 1000 ? `trigger p99 ${Math.round(r.p99)} ms` : undefined);
        };
        // Warm-up, not judged: keep-alive connections, the JIT of the trigger path, the definition cache.
        await paced(o.firstRate, 3000, triggerMany, 2000, TICK_BATCH);
        await until(async () => (await worker.stats()).written >= 1, 3000, 50);
        const found = await searchRate(ctx, `metrics ${side} round ${round + 1}`, 1, o.firstRate, step);
        values[side].push(found.values[0] ?? null);
        steps[side].push(...found.steps);
      } finally {
        await c.stop();
      }
    }
  }
  return {
    on: figure(values.on, { steps: steps.on, env: 'METRICS_ENABLED=true' }),
    off: figure(values.off, { steps: steps.off, env: 'METRICS_ENABLED=false' }),
  };
}
