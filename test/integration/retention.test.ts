import { Redis } from 'ioredis';
import { Types } from 'mongoose';
import { createLogger } from '../../src/observability/logger';
import type { Database } from '../../src/persistence/mongo';
import { Leases, Marks } from '../../src/queue/leases';
import { Retention, type RetentionPolicy } from '../../src/services/retention';
import { cleanup, newTestContext, openDatabase, type TestContext } from '../helpers/services';

const DAY = 24 * 3600 * 1000;
const HOUR = 3_600_000;
let ctx: TestContext;
let db: Database;
let redis: Redis;

beforeAll(async () => {
  ctx = newTestContext();
  db = await openDatabase(ctx);
  redis = new Redis(ctx.redisUrl, { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  redis?.disconnect();
  await cleanup(ctx, db);
});

async function jobWithHistory(runs: number, now: number, lastRunAt: Date | null): Promise<Types.ObjectId> {
  const _id = new Types.ObjectId();
  await db.models.Job.collection.insertOne({ _id, name: 'j', status: 'scheduled', lastRunAt });
  await db.models.Execution.collection.insertMany(
    Array.from({ length: runs }, (_, i) => {
      const startedAt = new Date(now - (runs - i) * 60_000);
      return {
        _id: `${_id.toHexString()}-run-${i}.1` as never,
        jobId: _id,
        runId: `${_id.toHexString()}-run-${i}`,
        attempt: 1,
        status: 'succeeded',
        trigger: 'schedule',
        startedAt,
        finishedAt: startedAt,
        workerId: 'w',
      };
    }),
  );
  return _id;
}

/** A process's Retention; processes of one deployment share `name` (its lease and its marks in Redis). */
function retentionOf(name: string, policy: RetentionPolicy): Retention {
  return new Retention(
    {
      models: db.models,
      leases: new Leases(redis, `${ctx.prefix}:${name}:lock`, 10_000),
      marks: new Marks(redis, `${ctx.prefix}:${name}:mark`),
      logger: createLogger('silent'),
    },
    policy,
  );
}

it('keeps the newest records per job and drops those past the age limit', async () => {
  const now = Date.now();
  const retention = retentionOf('keeps', { maxAgeDays: 30, perJob: 10 });
  // The deployment's first pass an hour earlier (nothing stored yet) started the age limit's hour.
  expect(await retention.run(now - HOUR)).toEqual({ deletedByAge: 0, deletedByCount: 0, jobsChecked: 0 });
  const busy = await jobWithHistory(25, now, new Date(now - 5 * 60_000));
  const quiet = await jobWithHistory(3, now, new Date(now - 5 * 60_000));
  const ancient = await jobWithHistory(2, now - 40 * DAY, new Date(now - 40 * DAY));

  // `ancient` last ran before the previous pass: the per-job limit does not visit it, the age limit deletes its records.
  const report = await retention.run(now);
  expect(report).toEqual({ deletedByAge: 2, deletedByCount: 15, jobsChecked: 2 });
  const left = await db.models.Execution.find({ jobId: busy }).sort({ startedAt: -1 }).lean();
  expect(left.map((r) => r.runId)).toEqual(Array.from({ length: 10 }, (_, i) => `${busy.toHexString()}-run-${24 - i}`));
  expect(await db.models.Execution.countDocuments({ jobId: quiet })).toBe(3);
  expect(await db.models.Execution.countDocuments({ jobId: ancient })).toBe(0);

  // The next pass visits only jobs that ran since (shortly before) the previous one.
  const later = now + 10 * 60_000;
  await db.models.Job.collection.updateOne({ _id: quiet }, { $set: { lastRunAt: new Date(later) } });
  expect(await retention.run(later + 1000)).toEqual({ deletedByAge: 0, deletedByCount: 0, jobsChecked: 1 });
});

it('a pass stopped by its signal ends before the next job and leaves that work to the next pass', async () => {
  const now = Date.now();
  const busy = await jobWithHistory(12, now, new Date(now - 60_000));
  const retention = retentionOf('stopped', { maxAgeDays: 0, perJob: 10 });
  const stopped = new AbortController();
  stopped.abort();
  expect(await retention.run(now, stopped.signal)).toBeNull();
  expect(await db.models.Execution.countDocuments({ jobId: busy })).toBe(12);
  // Not counted as done: the next pass still visits the job.
  const report = await retention.run(now + 1000);
  expect(report?.deletedByCount).toBeGreaterThanOrEqual(2);
  expect(await db.models.Execution.countDocuments({ jobId: busy })).toBe(10);
});

it('applies the age limit once an hour for all processes, the first an hour after the first pass', async () => {
  const now = Date.now();
  const first = retentionOf('hourly', { maxAgeDays: 30, perJob: 0 });
  const old = await jobWithHistory(2, now - 40 * DAY, new Date(now - 40 * DAY));
  expect(await first.run(now)).toEqual({ deletedByAge: 0, deletedByCount: 0, jobsChecked: 0 });
  // A process that starts later (a restart, another replica) keeps the same hour: no delete yet.
  const second = retentionOf('hourly', { maxAgeDays: 30, perJob: 0 });
  expect((await second.run(now + 10 * 60_000))?.deletedByAge).toBe(0);
  expect(await db.models.Execution.countDocuments({ jobId: old })).toBe(2);
  expect((await second.run(now + HOUR))?.deletedByAge).toBe(2);
  expect(await db.models.Execution.countDocuments({ jobId: old })).toBe(0);

  // Records past the limit that appear later (a restored backup, a clock change) wait for the next hour, whichever process runs it.
  const later = await jobWithHistory(3, now - 40 * DAY, new Date(now - 40 * DAY));
  expect((await first.run(now + HOUR + 10 * 60_000))?.deletedByAge).toBe(0);
  expect(await db.models.Execution.countDocuments({ jobId: later })).toBe(3);
  expect((await first.run(now + 2 * HOUR))?.deletedByAge).toBe(3);
  expect(await db.models.Execution.countDocuments({ jobId: later })).toBe(0);
});
