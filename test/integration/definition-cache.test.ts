import { Types } from 'mongoose';
import { DefinitionCache } from '../../src/persistence/definition-cache';
import { JobRepository } from '../../src/persistence/job-repository';
import type { Database } from '../../src/persistence/mongo';
import { cleanup, newTestContext, openDatabase, type TestContext } from '../helpers/services';

let ctx: TestContext;
let db: Database;

beforeAll(async () => {
  ctx = newTestContext();
  db = await openDatabase(ctx);
});

afterAll(() => cleanup(ctx, db));

it('reads misses that arrive together with one query, and caches what it read', async () => {
  const ids = Array.from({ length: 200 }, () => new Types.ObjectId());
  await db.models.Job.collection.insertMany(
    ids.map((_id, i) => ({
      _id,
      name: `d${i}`,
      handler: 'noop',
      payload: {},
      schedule: { kind: 'delay', delayMs: 0 },
      status: 'scheduled',
      version: 1,
    })),
  );
  const cache = new DefinitionCache(new JobRepository(db.models));
  const missing = new Types.ObjectId().toHexString();
  const got = await Promise.all([...ids.map((id) => cache.get(id.toHexString(), 1)), cache.get(missing, 1)]);

  expect(got.slice(0, 200).map((c) => c?.def.name)).toEqual(ids.map((_, i) => `d${i}`));
  expect(got[200]).toBeNull();
  expect(cache.reads).toBe(201);
  expect(cache.queries).toBe(1);

  await cache.get(ids[0]!.toHexString(), 1);
  expect(cache.queries).toBe(1);
  await cache.get(ids[0]!.toHexString(), 2); // a newer version than cached is read again
  expect(cache.queries).toBe(2);
});
