import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { mapLimited } from '../../src/lib/pool';
import { connectDatabase, type Database } from '../../src/persistence/mongo';
import { createRedis } from '../../src/queue/redis';
import { onCleanup } from './cleanup';
import type { BenchContext } from './context';
import { request, resetConnections } from './http';
import { BenchWorker, startApi, type ApiProcess } from './processes';
import { mongoUrl, settleStore } from './servers';

/** A Tock deployment for one phase: its own database and queue prefix, the real API process, one worker. */
export interface TockCluster {
  name: string;
  prefix: string;
  api: ApiProcess;
  worker?: BenchWorker;
  /** The benchmark's own connection, for setting up data and reading records back. */
  db: Database;
  redis: Redis;
  queue: Queue;
  /** Replaces the worker with a fresh process (same settings). */
  restartWorker(): Promise<BenchWorker>;
  stop(): Promise<void>;
}

export async function startTock(
  ctx: BenchContext,
  name: string,
  opts: { worker: boolean; env?: Record<string, string> },
): Promise<TockCluster> {
  await settleStore(ctx.servers, ctx.log, name);
  const prefix = `b-${name}`;
  const url = mongoUrl(ctx.servers, `bench_${name}`);
  const env = { REDIS_URL: ctx.servers.redisUrl, MONGODB_URL: url, QUEUE_PREFIX: prefix, ...opts.env };
  const api = await startApi(env);
  // The benchmark's own setup and cleanup (a deleteMany of 5,000 definitions while a worker still
  // updates them) can take FerretDB longer than the 30 s Tock's processes allow a query.
  const db = await connectDatabase(url, { socketTimeoutMS: 300_000 });
  const unregisterDb = onCleanup(`db ${name}`, () => db.close());
  const redis = createRedis(ctx.servers.redisUrl, 'worker');
  const queue = new Queue('jobs', { connection: redis, prefix });
  let worker = opts.worker ? await BenchWorker.start('tock', env) : undefined;
  return {
    name,
    prefix,
    api,
    get worker() {
      return worker;
    },
    db,
    redis,
    queue,
    async restartWorker() {
      await worker?.stop();
      worker = await BenchWorker.start('tock', env);
      return worker;
    },
    async stop() {
      const t0 = Date.now();
      await worker?.stop();
      const t1 = Date.now();
      resetConnections();
      await api.stop();
      await queue.close();
      redis.disconnect();
      await dropPhaseDatabase(ctx, db, name);
      await db.close();
      unregisterDb();
      if (Date.now() - t0 > 3000) ctx.log(`  (stopping ${name} took ${Date.now() - t0} ms, the worker ${t1 - t0} ms)`);
    },
  };
}

/**
 * Drops a finished phase's database, so that its tables (hundreds of thousands of records after the
 * long phases, never vacuumed: this PostgreSQL runs without autovacuum) and their dirty buffers do
 * not weigh on the phases after it.
 */
export async function dropPhaseDatabase(ctx: BenchContext, db: Database, name: string): Promise<void> {
  const t0 = Date.now();
  await db.conn.db!.dropDatabase().catch((err: unknown) => ctx.log(`  (dropping the database of ${name} failed: ${String(err)})`));
  if (Date.now() - t0 > 1000) ctx.log(`  (dropping the database of ${name} took ${Date.now() - t0} ms)`);
}

export function noopJob(name: string, runAt: Date): Record<string, unknown> {
  return { name, handler: 'noop', schedule: { kind: 'once', runAt: runAt.toISOString() } };
}

let bulkAvailable: boolean | undefined;

/** POST /api/v1/jobs/batch when the API has it (1,000 per request), otherwise single POSTs, 16 at a time. */
export async function createMany(baseUrl: string, defs: Record<string, unknown>[]): Promise<string[]> {
  if (bulkAvailable !== false) {
    const ids: string[] = [];
    for (let i = 0; i < defs.length; i += 1000) {
      const chunk = defs.slice(i, i + 1000);
      const r = await request(baseUrl, 'POST', '/api/v1/jobs/batch', { jobs: chunk });
      const got = r.status === 201 || r.status === 207 ? bulkIds(r.body, chunk.length) : null;
      if (!got) {
        if (i > 0) throw new Error(`POST /jobs/batch answered ${r.status} after earlier batches succeeded`);
        bulkAvailable = false;
        break;
      }
      bulkAvailable = true;
      ids.push(...got);
    }
    if (bulkAvailable) return ids;
  }
  return mapLimited(defs, 16, async (def) => {
    const r = await request(baseUrl, 'POST', '/api/v1/jobs', def);
    if (r.status !== 201) throw new Error(`POST /api/v1/jobs answered ${r.status}: ${JSON.stringify(r.body)}`);
    return (r.body as { id: string }).id;
  });
}

/** The created ids from a batch answer, in request order; null when its shape is not understood or an item failed. */
export function bulkIds(body: unknown, expected: number): string[] | null {
  const b = body as Record<string, unknown> | undefined;
  const items = (b?.results ?? b?.items ?? b?.jobs ?? b) as unknown;
  if (!Array.isArray(items) || items.length !== expected) return null;
  const ids: string[] = [];
  for (const item of items as Record<string, unknown>[]) {
    const job = (item?.job ?? item?.body ?? item) as Record<string, unknown> | undefined;
    const id = job?.id ?? item?.id;
    if (typeof id !== 'string' || (typeof item.status === 'number' && item.status >= 300)) return null;
    ids.push(id);
  }
  return ids;
}

export function redisUsedMemory(info: string): number {
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? NaN);
}
