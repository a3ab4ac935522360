import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { QUEUE_NAME } from '../../src/queue/job-queue';
import { connectDatabase, type Database } from '../../src/persistence/mongo';

/** The servers global-setup started, with a fresh database and queue prefix for each caller. */
export function testUrls(): { redisUrl: string; mongoBaseUrl: string } {
  const redisUrl = process.env.TOCK_TEST_REDIS_URL;
  const mongo = process.env.TOCK_TEST_MONGODB_URL;
  if (!redisUrl || !mongo) throw new Error('test servers are not running (global-setup did not run or TOCK_TEST_NO_SERVERS=1)');
  return { redisUrl, mongoBaseUrl: mongo.replace(/\/[^/]*$/, '') };
}

export function uniqueName(prefix = 't'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

export interface TestContext {
  redisUrl: string;
  mongoUrl: string;
  prefix: string;
  dbName: string;
}

export function newTestContext(): TestContext {
  const { redisUrl, mongoBaseUrl } = testUrls();
  const dbName = uniqueName('db');
  return { redisUrl, mongoUrl: `${mongoBaseUrl}/${dbName}`, prefix: uniqueName('q'), dbName };
}

export async function openDatabase(ctx: TestContext): Promise<Database> {
  return connectDatabase(ctx.mongoUrl, { ensureIndexes: true });
}

/** Drops the test's database and deletes its Redis keys. */
export async function cleanup(ctx: TestContext, db?: Database): Promise<void> {
  if (db) {
    await db.conn.dropDatabase().catch(() => undefined);
    await db.close();
  }
  await deleteRedisKeys(ctx.redisUrl, ctx.prefix);
}

/** Deletes every Redis key under a queue prefix (a test's own FLUSHALL on a shared server). */
export async function deleteRedisKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** A BullMQ Queue on the test's prefix, for looking at jobs from a test. */
export function openQueue(ctx: TestContext): { queue: Queue; close(): Promise<void> } {
  const redis = new Redis(ctx.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUE_NAME, { connection: redis, prefix: ctx.prefix });
  return {
    queue,
    async close() {
      await queue.close();
      redis.disconnect();
    },
  };
}
