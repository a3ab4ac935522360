import type { JobDefinition } from '../../src/domain/job-definition';
import { toJobDefinition } from '../../src/persistence/job-repository';
import type { JobDoc } from '../../src/persistence/models';
import { JobQueue } from '../../src/queue/job-queue';
import { figure, type BenchContext, type Figure } from '../lib/context';
import { until } from '../lib/stats';
import type { TockCluster } from '../lib/tock';
import { definitionDoc } from './store';

export interface OnceFigures {
  drain: Figure;
  settled: Figure;
  readsPerExecution: Figure;
  updatesPerDefinition: Figure;
}

/**
 * Drain of one-time jobs: `n` one-time definitions due now, stored through Tock's model and
 * registered through Tock's JobQueue (as a create registers a job due now: after its insert) while the
 * worker is paused. Each run needs its own definition read (a cold cache: every definition is new)
 * and ends its definition (status completed), which is one updateOne per definition on this store.
 */
export async function measureOnce(ctx: BenchContext, c: TockCluster, o: { reps: number; n: number }): Promise<OnceFigures> {
  const worker = c.worker!;
  const jobQueue = new JobQueue(c.redis, { prefix: c.prefix });
  const drain: (number | null)[] = [];
  const settled: (number | null)[] = [];
  const reads: (number | null)[] = [];
  const updates: (number | null)[] = [];
  for (let rep = 0; rep < o.reps; rep++) {
    await c.db.models.Job.deleteMany({});
    await worker.call('pause');
    const now = Date.now();
    const docs = Array.from({ length: o.n }, (_, i) => ({
      ...definitionDoc(i, now),
      schedule: { kind: 'once', runAt: new Date(now).toISOString() },
      nextRunAt: new Date(now),
      dueAt: new Date(now),
    }));
    for (let i = 0; i < docs.length; i += 1000) await c.db.models.Job.collection.insertMany(docs.slice(i, i + 1000));
    const defs: JobDefinition[] = docs.map((d) => toJobDefinition(d as unknown as JobDoc));
    for (let i = 0; i < defs.length; i += 200) await Promise.all(defs.slice(i, i + 200).map((d) => jobQueue.register(d, now)));
    const t0 = performance.now();
    const { ms } = await worker.call<{ ms: number | null }>('drain', { n: o.n });
    // Definitions marked completed per second, watched for at most 3 s after the drain (on FerretDB
    // a version-guarded updateOne scans the collection, so all 5,000 can take minutes); the rest of
    // the updates then find an emptied collection and finish quickly.
    let completed = 0;
    const done = await until(async () => (completed = await c.db.models.Job.countDocuments({ status: 'completed' })) >= o.n, 3_000, 250);
    const settleMs = performance.now() - t0;
    const s = await worker.stats(true);
    drain.push(ms === null ? null : (o.n * 1000) / ms);
    settled.push((completed * 1000) / settleMs);
    reads.push(s.reads / o.n);
    updates.push((s.commands.byName.update ?? 0) / o.n);
    ctx.log(
      `  one-time drain rep ${rep + 1}: ${ms === null ? 'timed out' : `${Math.round(drain[rep]!)} jobs/s`} run and recorded, ` +
        `${done ? 'all' : completed} of ${o.n} definitions marked completed (${Math.round(settled[rep]!)}/s); ` +
        `${s.reads} reads, ${s.commands.byName.update ?? 0} updates`,
    );
  }
  return {
    drain: figure(drain, { definitions: o.n }),
    settled: figure(settled),
    readsPerExecution: figure(reads),
    updatesPerDefinition: figure(updates),
  };
}
