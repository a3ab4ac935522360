import { Types } from 'mongoose';
import type { Redis } from 'ioredis';
import { createLogger } from '../../src/observability/logger';
import { DefinitionCache } from '../../src/services/definition-cache';
import { JobRepository } from '../../src/persistence/job-repository';
import { connectDatabase, type Database } from '../../src/persistence/mongo';
import { subscribeInvalidations } from '../../src/queue/invalidations';
import { JobQueue } from '../../src/queue/job-queue';
import { createRedis } from '../../src/queue/redis';
import { cleanup, newTestContext, openDatabase, type TestContext } from '../helpers/services';
import { waitFor } from '../helpers/wait-for';

let ctx: TestContext;
let db: Database;
let jobs: JobRepository;
/** The queries the cache sent, by repository method (the real repository on the real store). */
let calls: { findById: number; findByIds: number };

beforeAll(async () => {
  ctx = newTestContext();
  db = await openDatabase(ctx);
  const repo = new JobRepository(db.models);
  calls = { findById: 0, findByIds: 0 };
  jobs = Object.assign(Object.create(repo) as JobRepository, {
    findById: (id: string) => (calls.findById++, repo.findById(id)),
    findByIds: (ids: string[]) => (calls.findByIds++, repo.findByIds(ids)),
  });
});

beforeEach(() => Object.assign(calls, { findById: 0, findByIds: 0 }));

afterAll(() => cleanup(ctx, db));

async function insertDefinitions(n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, () => new Types.ObjectId());
  await db.models.Job.collection.insertMany(
    ids.map((_id, i) => ({
      _id,
      name: `c${i}`,
      handler: 'noop',
      payload: {},
      schedule: { kind: 'interval', everyMs: 60_000 },
      retry: { attempts: 1, backoff: { type: 'fixed', delayMs: 1000 } },
      timeoutMs: 1000,
      status: 'scheduled',
      version: 1,
      runCount: 0,
      failureCount: 0,
      createdAt: new Date(),
      updatedAt: new Date(),
    })),
  );
  return ids.map((id) => id.toHexString());
}

it('prefetches announced definitions with one query, and runs asking meanwhile wait for it', async () => {
  const ids = await insertDefinitions(30);
  const cache = new DefinitionCache(jobs);
  const prefetched = cache.prefetch(ids);
  // Runs that ask while the query is out do not send their own reads.
  const got = await Promise.all(ids.map((id) => cache.get(id, 1)));
  await prefetched;
  expect(got.map((e) => e?.def.id)).toEqual(ids);
  expect(calls).toEqual({ findById: 0, findByIds: 1 });
  expect(cache.reads).toBe(1);
  // Cached now: no more reads, and a second announcement of the same ids reads nothing.
  await cache.prefetch(ids);
  await cache.get(ids[5]!, 1);
  expect(calls).toEqual({ findById: 0, findByIds: 1 });
});

it('reads an id the prefetch did not return on its own, and a newer version than the cached one', async () => {
  const [id] = await insertDefinitions(1);
  const cache = new DefinitionCache(jobs);
  const missing = new Types.ObjectId().toHexString();
  await cache.prefetch([id!, missing]);
  // One $in for both, then a findById for the one it did not return (deleted, or not yet visible).
  expect(calls).toEqual({ findById: 1, findByIds: 1 });
  expect(await cache.get(missing, 1)).toBeNull();

  await db.models.Job.updateOne({ _id: new Types.ObjectId(id) }, { $set: { version: 2, name: 'edited' } });
  const entry = await cache.get(id!, 2);
  expect(entry?.def).toMatchObject({ version: 2, name: 'edited' });
  expect(calls).toEqual({ findById: 2, findByIds: 1 });
});

it('prefetches one announced definition by its _id, not with $in (which FerretDB answers by scanning)', async () => {
  const monitored = await connectDatabase(`${ctx.mongoUrl}?monitorCommands=true`);
  try {
    const filters: unknown[] = [];
    monitored.conn.getClient().on('commandStarted', (ev) => {
      if (ev.commandName === 'find') filters.push(ev.command.filter);
    });
    const [one] = await insertDefinitions(1);
    const two = await insertDefinitions(2);
    const cache = new DefinitionCache(new JobRepository(monitored.models));
    await cache.prefetch([one!]);
    await cache.prefetch(two);
    expect((await cache.get(one!, 1))?.def.id).toBe(one);
    expect(filters).toEqual([{ _id: new Types.ObjectId(one) }, { _id: { $in: two.map((id) => new Types.ObjectId(id)) } }]);
  } finally {
    await monitored.close();
  }
});

describe('announcements', () => {
  let redis: Redis;
  let sub: Redis;
  let queue: JobQueue;
  afterAll(async () => {
    await sub?.quit();
    await queue?.close();
    redis?.disconnect();
  });

  it('a worker subscribed with prefetch reads definitions announced by the API before their runs ask', async () => {
    const ids = await insertDefinitions(20);
    const cache = new DefinitionCache(jobs);
    redis = createRedis(ctx.redisUrl, 'command');
    queue = new JobQueue(redis, { prefix: ctx.prefix });
    sub = subscribeInvalidations(ctx.redisUrl, ctx.prefix, cache, createLogger('silent'), { prefetch: true });
    await waitFor('the subscription', async () => (await redis.pubsub('NUMSUB', `${ctx.prefix}:definitions:new`))[1] === 1, {
      timeoutMs: 5000,
    });
    await queue.announce(ids);
    await waitFor('the prefetch', () => ids.every((id) => cache.peek(id) !== undefined), { timeoutMs: 5000 });
    expect(calls).toEqual({ findById: 0, findByIds: 1 });
  });
});
