import { Types } from 'mongoose';
import { createLogger } from '../../src/observability/logger';
import type { Database } from '../../src/persistence/mongo';
import { RunStatsCoalescer, type RunOutcome } from '../../src/persistence/run-stats';
import { RunActivity } from '../../src/lib/run-activity';
import { cleanup, newTestContext, openDatabase, type TestContext } from '../helpers/services';
import { waitFor } from '../helpers/wait-for';

let ctx: TestContext;
let db: Database;

beforeAll(async () => {
  ctx = newTestContext();
  db = await openDatabase(ctx);
});

afterAll(() => cleanup(ctx, db));

it('writes alike outcomes of many definitions with one update, guarded by version', async () => {
  const ids = Array.from({ length: 300 }, () => new Types.ObjectId());
  await db.models.Job.collection.insertMany(
    ids.map((_id, i) => ({ _id, name: `o${i}`, status: 'scheduled', version: i === 0 ? 2 : 1, runCount: 0, failureCount: 0 })),
  );
  const stats = new RunStatsCoalescer(db.models, { flushIntervalMs: 60_000 }, createLogger('silent'));
  const at = Date.now();
  ids.forEach((_id, i) =>
    stats.record({
      jobId: _id.toHexString(),
      version: 1,
      finishedRun: true,
      failed: false,
      status: 'succeeded',
      startedAt: new Date(at + i),
      finalStatus: 'completed',
      nextRunAt: null,
    }),
  );
  await stats.flush();

  // One statement for the 300, and one more for the definition edited since (version 2).
  expect(stats.updates).toBe(2);
  const docs = await db.models.Job.find({ _id: { $in: ids } }).lean();
  const byId = new Map(docs.map((d) => [String(d._id), d]));
  expect(ids.slice(1).every((id) => byId.get(String(id))?.status === 'completed' && byId.get(String(id))?.runCount === 1)).toBe(true);
  // The edited one keeps its status (an operator's change wins) but counts the run.
  expect(byId.get(String(ids[0]))).toMatchObject({ status: 'scheduled', runCount: 1 });
  expect(byId.get(String(ids[1]))!.lastRunAt!.getTime()).toBe(at + 299);
});

it('writes a small group of alike outcomes one definition at a time (an _id lookup each, no $in scan)', async () => {
  const ids = Array.from({ length: 10 }, () => new Types.ObjectId());
  await db.models.Job.collection.insertMany(
    ids.map((_id, i) => ({ _id, name: `s${i}`, status: 'scheduled', version: 1, runCount: 0, failureCount: 0 })),
  );
  const stats = new RunStatsCoalescer(db.models, { flushIntervalMs: 60_000 }, createLogger('silent'));
  const at = Date.now();
  ids.forEach((_id, i) =>
    stats.record({
      jobId: _id.toHexString(),
      version: 1,
      finishedRun: true,
      failed: false,
      status: 'succeeded',
      startedAt: new Date(at + i),
    }),
  );
  await stats.flush();

  expect(stats.updates).toBe(10);
  const docs = await db.models.Job.find({ _id: { $in: ids } }).lean();
  const byId = new Map(docs.map((d) => [String(d._id), d]));
  // Each keeps its own lastRunAt (no group to share the latest one with).
  ids.forEach((id, i) => expect(byId.get(String(id))).toMatchObject({ runCount: 1, lastRunAt: new Date(at + i) }));
});

it('after a slow flush, writes a status change before counters alone, which wait for the next full flush', async () => {
  const ids = Array.from({ length: 302 }, () => new Types.ObjectId());
  await db.models.Job.collection.insertMany(
    ids.map((_id, i) => ({ _id, name: `p${i}`, status: 'scheduled', version: 1, runCount: 0, failureCount: 0 })),
  );
  const [counted, ended, ...busy] = ids.map((id) => id.toHexString()) as [string, string, ...string[]];
  const stats = new RunStatsCoalescer(db.models, { flushIntervalMs: 100 }, createLogger('silent'));
  const at = Date.now();
  const run = (jobId: string, extra: Partial<RunOutcome> = {}): RunOutcome => ({
    jobId,
    version: 1,
    finishedRun: true,
    failed: false,
    status: 'succeeded',
    startedAt: new Date(at),
    ...extra,
  });
  // A full flush of 300 repeating jobs (each its own update: their next runs differ) sets the pace.
  busy.forEach((id, i) => stats.record(run(id, { nextRunAt: new Date(at + 2000 + i) })));
  const t0 = Date.now();
  await stats.flush();
  const fullMs = Date.now() - t0;

  stats.record(run(counted, { nextRunAt: new Date(at + 5000) }));
  stats.record(run(ended, { finalStatus: 'completed', nextRunAt: null }));
  await waitFor('the one-time job marked completed', async () => (await db.models.Job.findById(ended).lean())?.status === 'completed', {
    timeoutMs: 5 * fullMs + 2000,
  });
  // The repeating job's counters are still waiting (due about 9 x fullMs after that flush, the status 3 x).
  expect((await db.models.Job.findById(counted).lean())?.runCount).toBe(0);
  await waitFor('the repeating job counted', async () => (await db.models.Job.findById(counted).lean())?.runCount === 1, {
    timeoutMs: 12 * fullMs + 2000,
  });
  await stats.close();
});

it('sends no update while the worker is starting runs, and writes them in the pause after', async () => {
  const ids = Array.from({ length: 20 }, () => new Types.ObjectId());
  await db.models.Job.collection.insertMany(
    ids.map((_id, i) => ({ _id, name: `y${i}`, status: 'scheduled', version: 1, runCount: 0, failureCount: 0 })),
  );
  // A pause is 200 ms here, so that a slow timer on a busy machine is not taken for one.
  const activity = new RunActivity(200);
  const stats = new RunStatsCoalescer(db.models, { flushIntervalMs: 60_000, yieldTo: activity }, createLogger('silent'));
  ids.forEach((_id, i) =>
    stats.record({
      jobId: _id.toHexString(),
      version: 1,
      finishedRun: true,
      failed: false,
      status: 'succeeded',
      startedAt: new Date(),
      nextRunAt: new Date(Date.now() + i),
    }),
  );
  // A burst: 100 runs, one every 5 ms.
  activity.started();
  const burst = new Promise<void>((resolve) => {
    let n = 0;
    const timer = setInterval(() => {
      activity.started();
      if (++n < 100) return;
      clearInterval(timer);
      resolve();
    }, 5);
  });
  const flushed = stats.flush();
  await burst;
  expect(stats.updates).toBe(0);
  await flushed;
  expect(stats.updates).toBe(20);
  expect(await db.models.Job.countDocuments({ _id: { $in: ids }, runCount: 1 })).toBe(20);
});

it('counters recorded during the first full flush wait for the paced one; a status change goes first', async () => {
  const ids = Array.from({ length: 601 }, () => new Types.ObjectId());
  await db.models.Job.collection.insertMany(
    ids.map((_id, i) => ({ _id, name: `f${i}`, status: 'scheduled', version: 1, runCount: 0, failureCount: 0 })),
  );
  const hex = ids.map((id) => id.toHexString());
  const first = hex.slice(0, 300);
  const during = hex.slice(300, 600);
  const ended = hex[600]!;
  const stats = new RunStatsCoalescer(db.models, { flushIntervalMs: 100 }, createLogger('silent'));
  const run = (jobId: string, i: number, extra: Partial<RunOutcome> = {}): RunOutcome => ({
    jobId,
    version: 1,
    finishedRun: true,
    failed: false,
    status: 'succeeded',
    startedAt: new Date(),
    nextRunAt: new Date(Date.now() + 2000 + i),
    ...extra,
  });
  first.forEach((id, i) => stats.record(run(id, i)));
  // The timer starts the first full flush (300 updates, each its own: their next runs differ).
  await waitFor('the first flush to start', () => stats.updates > 0, { intervalMs: 5 });
  during.forEach((id, i) => stats.record(run(id, i)));
  stats.record(run(ended, 0, { finalStatus: 'completed', nextRunAt: null }));
  await waitFor('the one-time job marked completed', async () => (await db.models.Job.findById(ended).lean())?.status === 'completed', {
    timeoutMs: 30_000,
  });
  // The first flush is over and the status came in a status-only flush: the counters recorded
  // during the first flush wait for the next full one (9 x its duration), not right after it.
  expect(await db.models.Job.countDocuments({ _id: { $in: ids.slice(0, 300) }, runCount: 1 })).toBe(300);
  expect(await db.models.Job.countDocuments({ _id: { $in: ids.slice(300, 600) }, runCount: 1 })).toBe(0);
  await waitFor(
    'the counters of the second batch',
    async () => (await db.models.Job.countDocuments({ _id: { $in: ids.slice(300, 600) }, runCount: 1 })) === 300,
    {
      timeoutMs: 60_000,
      intervalMs: 200,
    },
  );
  await stats.close();
});

it('writes status changes during a burst of runs without waiting, and counters alone within the wait budget', async () => {
  const ids = Array.from({ length: 4 }, () => new Types.ObjectId());
  await db.models.Job.collection.insertMany(
    ids.map((_id, i) => ({ _id, name: `b${i}`, status: 'scheduled', version: 1, runCount: 0, failureCount: 0 })),
  );
  const [ended, counted] = ids.map((id) => id.toHexString()) as [string, string];
  const activity = new RunActivity(200);
  const stats = new RunStatsCoalescer(db.models, { flushIntervalMs: 60_000, yieldTo: activity }, createLogger('silent'));
  const base = { version: 1, finishedRun: true, failed: false, status: 'succeeded' as const, startedAt: new Date() };
  stats.record({ ...base, jobId: counted, nextRunAt: new Date(Date.now() + 2000) });
  stats.record({ ...base, jobId: ended, finalStatus: 'completed', nextRunAt: null });
  // Runs start every 5 ms and never pause, for longer than the budget.
  activity.started();
  const burst = setInterval(() => activity.started(), 5);
  try {
    const t0 = Date.now();
    const flushed = stats.flush();
    await waitFor('the one-time job marked completed', async () => (await db.models.Job.findById(ended).lean())?.status === 'completed', {
      timeoutMs: 1500,
      intervalMs: 20,
    });
    expect((await db.models.Job.findById(counted).lean())?.runCount).toBe(0);
    await flushed;
    expect((await db.models.Job.findById(counted).lean())?.runCount).toBe(1);
    // The counters waited out the budget (2 s), not the burst.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
  } finally {
    clearInterval(burst);
  }
});

it('a late update from another worker changes counters only: lastRunAt never moves back, a finished job gets no next slot', async () => {
  // 60 definitions: alike outcomes go as one $in update, and the fallback for the rest as one too.
  const ids = Array.from({ length: 60 }, () => new Types.ObjectId());
  await db.models.Job.collection.insertMany(
    ids.map((_id, i) => ({ _id, name: `l${i}`, status: 'scheduled', version: 1, runCount: 0, failureCount: 0, lastRunAt: null })),
  );
  const t0 = Date.now();
  const base = { version: 1, finishedRun: true, failed: false, status: 'succeeded' as const };
  const finisher = new RunStatsCoalescer(db.models, { flushIntervalMs: 60_000 }, createLogger('silent'));
  for (const _id of ids) finisher.record({ ...base, jobId: _id.toHexString(), startedAt: new Date(t0 + 2000), finalStatus: 'completed' });
  await finisher.flush();

  const late = new RunStatsCoalescer(db.models, { flushIntervalMs: 60_000 }, createLogger('silent'));
  for (const _id of ids) late.record({ ...base, jobId: _id.toHexString(), startedAt: new Date(t0 + 1000), nextRunAt: new Date(t0 + 2000) });
  await late.flush();
  expect(late.updates).toBe(2);

  const docs = await db.models.Job.find({ _id: { $in: ids } }).lean();
  expect(docs).toHaveLength(60);
  for (const d of docs) {
    expect(d).toMatchObject({ status: 'completed', nextRunAt: null, runCount: 2, lastExecutionStatus: 'succeeded' });
    expect(d.lastRunAt!.getTime()).toBe(t0 + 2000);
  }
});
