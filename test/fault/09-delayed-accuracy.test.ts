import type { Database } from '../../src/persistence/mongo';
import { createJobs, dedicatedRedis, executionRecords, figure, percentile, tockEnv, type RestartableServer } from '../helpers/fault';
import { spawnApi, spawnWorkers, stopAll, type TockProcess } from '../helpers/processes';
import { cleanup, newTestContext, openDatabase, type TestContext } from '../helpers/services';
import { waitFor } from '../helpers/wait-for';

/**
 * Fault 9: 2,000 delayed jobs due 1–30 s after creation, run by 2 workers against a redis-server
 * with hz 100: every one runs exactly once and none starts before it is due. The lateness
 * (startedAt − scheduledFor, the record's driftMs) is printed; its bar (p99 ≤ 500 ms) is judged by
 * the benchmark, on a quiet machine, since CI shares a busy one.
 */
const JOBS = 2000;

describe('fault 9: delayed jobs start on time', () => {
  let redis: RestartableServer;
  let ctx: TestContext;
  let db: Database;
  const procs: TockProcess[] = [];

  beforeAll(async () => {
    redis = await dedicatedRedis();
    ctx = { ...newTestContext(), redisUrl: redis.url };
    db = await openDatabase(ctx);
  });
  afterAll(async () => {
    await stopAll(procs);
    await cleanup(ctx, db);
    await redis?.destroy();
  });

  it('runs each once and none early, and reports the lateness', async () => {
    const env = tockEnv(ctx, { WORKER_CONCURRENCY: '50' });
    const { api, baseUrl } = await spawnApi(env);
    procs.push(api, ...(await spawnWorkers(env, 2)));

    // Delays spread evenly over 1–30 s, shuffled so that creation order says nothing about due order.
    const delays = Array.from({ length: JOBS }, (_, i) => 1000 + Math.round((i * 29_000) / (JOBS - 1)));
    for (let i = delays.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [delays[i], delays[j]] = [delays[j]!, delays[i]!];
    }
    const createdAt = Date.now();
    const ids = await createJobs(
      baseUrl,
      delays.map((delayMs, i) => ({ name: `delayed-${i}`, handler: 'noop', schedule: { kind: 'delay', delayMs } })),
      16,
    );
    const createdEnd = Date.now();
    figure('fault9.create2000Ms', createdEnd - createdAt);
    await waitFor('all 2,000 to run', async () => (await db.models.Execution.countDocuments({})) >= JOBS, {
      timeoutMs: 60_000,
      intervalMs: 500,
    });
    const records = await executionRecords(db);
    const defs = await db.models.Job.find({ _id: { $in: ids } }, { dueAt: 1 }).lean();
    const dueAt = new Map(defs.map((d) => [String(d._id), d.dueAt!.getTime()]));
    const lateness = records.map((r) => r.driftMs!);
    const earlyVsQueue = records.filter((r) => r.startedAt.getTime() < r.scheduledFor!.getTime());
    const earlyVsDefinition = records.filter((r) => r.startedAt.getTime() < dueAt.get(String(r.jobId))!);

    figure('fault9.executed', records.length);
    figure('fault9.startedEarly', `${earlyVsQueue.length} (vs the definition's dueAt: ${earlyVsDefinition.length})`);
    figure('fault9.latenessP50Ms', percentile(lateness, 50));
    figure('fault9.latenessP99Ms', percentile(lateness, 99));
    figure('fault9.latenessMaxMs', Math.max(...lateness));
    const dueWhileCreating = records.filter((r) => r.scheduledFor!.getTime() <= createdEnd).map((r) => r.driftMs!);
    const dueAfter = records.filter((r) => r.scheduledFor!.getTime() > createdEnd).map((r) => r.driftMs!);
    figure(
      'fault9.latenessP99ByPhaseMs',
      `due while creating (${dueWhileCreating.length}): ${percentile(dueWhileCreating, 99)}; due after (${dueAfter.length}): ${percentile(dueAfter, 99)}`,
    );

    expect(records).toHaveLength(JOBS);
    expect(records.every((r) => r.status === 'succeeded' && r.attempt === 1)).toBe(true);
    expect(earlyVsQueue).toEqual([]);
    expect(earlyVsDefinition).toEqual([]);
    // Lateness is reported, not judged: its bar is the benchmark's (one-time lateness), on a quiet machine.
  });
});
