import { randomBytes } from 'node:crypto';
import { Types, type mongo } from 'mongoose';
import type { ExecutionRecord } from '../../src/domain/execution';
import { forEachLimited } from '../../src/lib/pool';
import { createLogger } from '../../src/observability/logger';
import { HistoryWriter } from '../../src/persistence/history-writer';
import { connectDatabase } from '../../src/persistence/mongo';
import { figure, type BenchContext, type Figure } from '../lib/context';
import { paced } from '../lib/http';
import { mongoUrl } from '../lib/servers';
import { dropPhaseDatabase } from '../lib/tock';

/** An execution record as RunProcessor hands it to the history writer after a no-op run. */
export function noopRecord(defId: string, i: number): ExecutionRecord {
  const runId = `${defId}-m-${randomBytes(6).toString('hex')}`;
  const startedAt = new Date(Date.now() - 1000 + (i % 1000));
  return {
    id: `${runId}.1`,
    jobId: defId,
    runId,
    attempt: 1,
    status: 'succeeded',
    trigger: 'manual',
    scheduledFor: new Date(startedAt.getTime() - 2),
    startedAt,
    finishedAt: new Date(startedAt.getTime() + 1),
    durationMs: 1,
    driftMs: 2,
    workerId: 'bench-worker',
    error: null,
    result: null,
  };
}

export function definitionDoc(i: number, now = Date.now()): { _id: Types.ObjectId } & Record<string, unknown> {
  return {
    _id: new Types.ObjectId(),
    name: `bench-${i}`,
    handler: 'noop',
    payload: {},
    schedule: { kind: 'once', runAt: new Date(now + 86_400_000).toISOString() },
    retry: { attempts: 3, backoff: { type: 'exponential', delayMs: 1000 } },
    timeoutMs: 30_000,
    status: 'scheduled',
    nextRunAt: new Date(now + 86_400_000),
    dueAt: new Date(now + 86_400_000),
    lastRunAt: null,
    lastExecutionStatus: null,
    runCount: 0,
    failureCount: 0,
    version: 1,
    createdAt: new Date(now),
    updatedAt: new Date(now),
  };
}

/** The store's share of a POST /jobs: `insertOne` of a definition document at 300/s for `ms`; its p99. */
export async function insertOneP99At300(jobs: mongo.Collection, ms: number, from: number): Promise<number | null> {
  const r = await paced(300, ms, async (i) => {
    const t0 = performance.now();
    await jobs.insertOne(definitionDoc(from + i));
    return { ok: true, ms: performance.now() - t0 };
  });
  return r.p99;
}

export interface StoreFigures {
  insert: Figure;
  defInsert: Figure;
  defUpdateMs: Figure;
  /** updateOne filtered by _id and version (how a one-time run ends its definition), 4 at a time. */
  guardedUpdateMs: Figure;
  /** insertOne of one definition at 300/s: the store's share of a POST /jobs. */
  insertOneP99: Figure;
}

/**
 * The store alone, in the benchmark process (otherwise idle): execution documents through Tock's
 * own model and HistoryWriter (insertMany batches of 500, as the worker does) as fast as they go;
 * definition documents through insertMany in batches of 1,000 (what a bulk create can at best do);
 * and single-statement updateOne by _id on 5,000 definitions, 4 at a time (the counter coalescer's shape).
 */
export async function measureStore(ctx: BenchContext, reps: number, records: number): Promise<StoreFigures> {
  const db = await connectDatabase(mongoUrl(ctx.servers, 'bench_store'), { ensureIndexes: true });
  const silent = createLogger('silent');
  const insert: number[] = [];
  const defInsert: number[] = [];
  const defUpdateMs: number[] = [];
  const insertOneP99: (number | null)[] = [];
  const guardedUpdateMs: number[] = [];
  const defIds = Array.from({ length: 20 }, () => new Types.ObjectId().toHexString());
  try {
    for (let rep = 0; rep < reps; rep++) {
      const writer = new HistoryWriter(db.models, { flushIntervalMs: 100, batchSize: 500 }, silent);
      const recs = Array.from({ length: records }, (_, i) => noopRecord(defIds[i % defIds.length]!, i));
      const t0 = performance.now();
      for (const r of recs) writer.addExecution(r);
      const left = await writer.close(120_000);
      const ms = performance.now() - t0;
      insert.push(left === 0 ? (records * 1000) / ms : null!);

      await db.models.Job.deleteMany({});
      const jobs = db.models.Job.collection;
      const batches = Array.from({ length: 5 }, (_, b) => Array.from({ length: 1000 }, (_, i) => definitionDoc(b * 1000 + i)));
      const t1 = performance.now();
      for (const batch of batches) await jobs.insertMany(batch, { ordered: false });
      defInsert.push((5000 * 1000) / (performance.now() - t1));

      const ids = batches.flat().map((d) => d._id as Types.ObjectId);
      const n = ctx.quick ? 100 : 500;
      // Definitions spread over the 5,000 (a stride prime to their count), 4 updates at a time.
      const spread = (count: number) => Array.from({ length: count }, (_, k) => ids[(k * 7919) % ids.length]!);
      const updated = spread(n);
      const t2 = performance.now();
      await forEachLimited(updated, 4, async (_id) => {
        await db.models.Job.updateOne(
          { _id },
          { $inc: { runCount: 1, failureCount: 0 }, $set: { lastRunAt: new Date(), lastExecutionStatus: 'succeeded' } },
          { timestamps: false },
        );
      });
      defUpdateMs.push((performance.now() - t2) / n);
      // The shape that ends a one-time definition: guarded by version (RunStatsCoalescer.applyOne).
      const guardedN = Math.round(n / 5);
      const guarded = spread(guardedN);
      const t3 = performance.now();
      await forEachLimited(guarded, 4, async (_id) => {
        await db.models.Job.updateOne(
          { _id, version: 1 },
          { $inc: { runCount: 1, failureCount: 0 }, $set: { lastRunAt: new Date(), status: 'scheduled', nextRunAt: null } },
          { timestamps: false },
        );
      });
      guardedUpdateMs.push((performance.now() - t3) / guardedN);

      const oneP99 = await insertOneP99At300(jobs, ctx.quick ? 2000 : 5000, 10_000);
      insertOneP99.push(oneP99);
      ctx.log(
        `  store rep ${rep + 1}: executions ${Math.round(insert[rep]!)} docs/s, definitions ${Math.round(defInsert[rep]!)} docs/s, ` +
          `updateOne on 5k definitions ${defUpdateMs[rep]!.toFixed(2)} ms each (4 concurrent; ` +
          `${guardedUpdateMs[rep]!.toFixed(2)} ms guarded by version), ` +
          `insertOne at 300/s p99 ${oneP99?.toFixed(1)} ms`,
      );
    }
  } finally {
    await dropPhaseDatabase(ctx, db, 'the store phase');
    await db.close();
  }
  return {
    insert: figure(insert),
    defInsert: figure(defInsert),
    defUpdateMs: figure(defUpdateMs),
    guardedUpdateMs: figure(guardedUpdateMs),
    insertOneP99: figure(insertOneP99),
  };
}
