import type { Queue } from 'bullmq';
import type { Database } from '../../src/persistence/mongo';
import { startCluster, type Cluster } from './processes';
import { cleanup, newTestContext, openDatabase, openQueue, type TestContext } from './services';

export interface E2EContext {
  ctx: TestContext;
  db: Database;
  queue: Queue;
  cluster: Cluster;
}

/**
 * Registers beforeAll/afterAll that start the API and `workers` worker processes on a fresh
 * database and queue prefix; the returned object is filled in once they are up.
 */
export function useCluster(extraEnv: Record<string, string>, workers = 3): E2EContext {
  const e = {} as E2EContext;
  let closeQueue: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    e.ctx = newTestContext();
    e.db = await openDatabase(e.ctx);
    ({ queue: e.queue, close: closeQueue } = openQueue(e.ctx));
    e.cluster = await startCluster(
      { REDIS_URL: e.ctx.redisUrl, MONGODB_URL: e.ctx.mongoUrl, QUEUE_PREFIX: e.ctx.prefix, ...extraEnv },
      workers,
    );
  });
  afterAll(async () => {
    await e.cluster?.stop();
    await closeQueue?.();
    if (e.ctx) await cleanup(e.ctx, e.db);
  });
  return e;
}
