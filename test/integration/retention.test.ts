import { ExecutionRepository } from '../../src/persistence/execution-repository';
import { JobRepository } from '../../src/persistence/job-repository';
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

// Each test sees only its own jobs: a process's first pass visits every job that ever ran.
beforeEach(async () => {
  await Promise.all([db.models.Job.deleteMany({}), db.models.Execution.deleteMany({})]);
});

afterAll(async () => {
  redis?.disconnect();
  await cleanup(ctx, db);
});

/** The execution record of run `runId`'s first attempt. */
function recordOf(jobId: Types.ObjectId, runId: string, startedAt: Date) {
  return {
    _id: `${runId}.1` as never,
    jobId,
    runId,
    attempt: 1,
    status: 'succeeded',
    trigger: 'schedule',
    startedAt,
    finishedAt: startedAt,
    workerId: 'w',
  };
}

async function jobWithHistory(runs: number, now: number, lastRunAt: Date | null): Promise<Types.ObjectId> {
  const _id = new Types.ObjectId();
  await db.models.Job.collection.insertOne({ _id, name: 'j', status: 'scheduled', lastRunAt });
  await db.models.Execution.collection.insertMany(
    Array.from({ length: runs }, (_, i) => recordOf(_id, `${_id.toHexString()}-run-${i}`, new Date(now - (runs - i) * 60_000))),
  );
  return _id;
}

/** `n` more runs of `jobId` starting at `at`, a second apart: their records and the counters a worker would set. */
async function addRuns(jobId: Types.ObjectId, n: number, at: number): Promise<void> {
  await db.models.Execution.collection.insertMany(
    Array.from({ length: n }, (_, i) => recordOf(jobId, `${jobId.toHexString()}-later-${at}-${i}`, new Date(at + i * 1000))),
  );
  await db.models.Job.collection.updateOne({ _id: jobId }, { $inc: { runCount: n }, $set: { lastRunAt: new Date(at + n * 1000) } });
}

/** A process's Retention; processes of one deployment share `name` (its lease and its marks in Redis). */
function retentionOf(name: string, policy: RetentionPolicy): Retention {
  return new Retention(
    {
      jobs: new JobRepository(db.models),
      executions: new ExecutionRepository(db.models),
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
  expect(await retention.run(now - HOUR)).toEqual({ deletedByAge: 0, deletedByCount: 0, jobsChecked: 0, jobsSkipped: 0 });
  const busy = await jobWithHistory(25, now, new Date(now - 5 * 60_000));
  const quiet = await jobWithHistory(3, now, new Date(now - 5 * 60_000));
  const ancient = await jobWithHistory(2, now - 40 * DAY, new Date(now - 40 * DAY));

  // `ancient` last ran before the previous pass: the per-job limit does not visit it, the age limit deletes its records.
  const report = await retention.run(now);
  expect(report).toEqual({ deletedByAge: 2, deletedByCount: 15, jobsChecked: 2, jobsSkipped: 0 });
  const left = await db.models.Execution.find({ jobId: busy }).sort({ startedAt: -1 }).lean();
  expect(left.map((r) => r.runId)).toEqual(Array.from({ length: 10 }, (_, i) => `${busy.toHexString()}-run-${24 - i}`));
  expect(await db.models.Execution.countDocuments({ jobId: quiet })).toBe(3);
  expect(await db.models.Execution.countDocuments({ jobId: ancient })).toBe(0);

  // The next pass visits only jobs that ran since (shortly before) the previous one.
  const later = now + 10 * 60_000;
  await addRuns(quiet, 1, later);
  expect(await retention.run(later + 1000)).toEqual({ deletedByAge: 0, deletedByCount: 0, jobsChecked: 1, jobsSkipped: 0 });
});

it("reads a job's history again only once it has run a tenth of the limit more times", async () => {
  const now = Date.now();
  const retention = retentionOf('recheck', { maxAgeDays: 0, perJob: 20 });
  const count = () => db.models.Execution.countDocuments({ jobId: job });
  const job = await jobWithHistory(25, now, new Date(now - 60_000));
  expect(await retention.run(now)).toMatchObject({ deletedByCount: 5, jobsChecked: 1, jobsSkipped: 0 });

  // One more run, under a tenth of 20: the history is not read, so its record stays beyond the limit.
  await addRuns(job, 1, now + 1000);
  expect(await retention.run(now + 60_000)).toMatchObject({ deletedByCount: 0, jobsChecked: 0, jobsSkipped: 1 });
  expect(await count()).toBe(21);

  // A second run makes two since the check: trimmed back to 20, the oldest first.
  await addRuns(job, 1, now + 61_000);
  expect(await retention.run(now + 120_000)).toMatchObject({ deletedByCount: 2, jobsChecked: 1, jobsSkipped: 0 });
  expect(await count()).toBe(20);
  const oldest = await db.models.Execution.findOne({ jobId: job }).sort({ startedAt: 1 }).lean();
  expect(oldest?.runId).toBe(`${job.toHexString()}-run-7`);

  // A process that has not checked the job yet (a restart, another replica) reads it on its first visit.
  await addRuns(job, 1, now + 121_000);
  expect(await retentionOf('recheck-other', { maxAgeDays: 0, perJob: 20 }).run(now + 180_000)).toMatchObject({
    deletedByCount: 1,
    jobsChecked: 1,
  });
  expect(await count()).toBe(20);
});

it('does not read the history of a job whose workers wrote no more records than the limit', async () => {
  const now = Date.now();
  const retention = retentionOf('counted', { maxAgeDays: 0, perJob: 10 });
  // recordCount is what workers counted; these two claim fewer and more records than the limit.
  const within = await jobWithHistory(25, now, new Date(now - 60_000));
  const beyond = await jobWithHistory(25, now, new Date(now - 60_000));
  await db.models.Job.collection.updateOne({ _id: within }, { $set: { recordCount: 10 } });
  await db.models.Job.collection.updateOne({ _id: beyond }, { $set: { recordCount: 25 } });

  // `within` is skipped unread (its 25 stored records stay: nothing read them), `beyond` is trimmed.
  expect(await retention.run(now)).toMatchObject({ deletedByCount: 15, jobsChecked: 1, jobsSkipped: 1 });
  expect(await db.models.Execution.countDocuments({ jobId: within })).toBe(25);
  expect(await db.models.Execution.countDocuments({ jobId: beyond })).toBe(10);

  // Past the limit, `within` is read like any other job.
  await db.models.Job.collection.updateOne({ _id: within }, { $set: { recordCount: 11, lastRunAt: new Date(now + 1000) } });
  expect(await retention.run(now + 60_000)).toMatchObject({ deletedByCount: 15, jobsChecked: 1 });
  expect(await db.models.Execution.countDocuments({ jobId: within })).toBe(10);
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
  expect(await first.run(now)).toEqual({ deletedByAge: 0, deletedByCount: 0, jobsChecked: 0, jobsSkipped: 0 });
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
