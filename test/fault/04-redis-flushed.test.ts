import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { QUEUE_NAME } from '../../src/queue/job-queue';
import {
  createJobs,
  dedicatedRedis,
  executionRecords,
  figure,
  groupBy,
  percentile,
  tockEnv,
  type RestartableServer,
  useFaultContext,
} from '../helpers/fault';
import { spawnApi, spawnWorkers, stopAll } from '../helpers/processes';
import { waitFor } from '../helpers/wait-for';

/**
 * Fault 4: Redis is flushed (FLUSHALL) and restarted empty while MongoDB holds 500 repeating and
 * 1,000 pending one-time definitions. The reconciler restores them all within its interval + 5 s;
 * then every one-time job runs exactly once, none early, and the repeating ones keep their slots.
 */
const RECONCILE_MS = 5_000;
const REPEATING = 500;
const ONCE = 1000;

const f = useFaultContext();
let redis: RestartableServer;

beforeAll(async () => {
  redis = await dedicatedRedis();
});

afterAll(async () => {
  await stopAll(f.procs);
  await redis?.destroy();
});

async function countInRedis(queue: Queue): Promise<{ schedulers: number; once: number }> {
  const [schedulers, ids] = await Promise.all([queue.getJobSchedulersCount(), queue.getRanges(['delayed', 'waiting', 'active'], 0, -1)]);
  return { schedulers, once: ids.filter((id) => /-v\d+$/.test(id)).length };
}

it('restores 1,500 definitions after FLUSHALL and an empty restart, with no duplicate and no early run', async () => {
  const { ctx, db, procs } = f;
  const env = tockEnv(
    { redisUrl: redis.url, mongoUrl: ctx.mongoUrl, prefix: ctx.prefix },
    { RECONCILE_INTERVAL_MS: String(RECONCILE_MS), WORKER_CONCURRENCY: '50' },
  );
  const { api, baseUrl } = await spawnApi(env);
  procs.push(api, ...(await spawnWorkers(env, 2)));

  const created = Date.now();
  const repeatingIds = await createJobs(
    baseUrl,
    Array.from({ length: REPEATING }, (_, i) => ({
      name: `r-${i}`,
      handler: 'noop',
      schedule: i % 2 ? { kind: 'interval', everyMs: 10_000 } : { kind: 'cron', expression: '*/10 * * * * *' },
    })),
  );
  const dueFrom = Date.now() + 20_000;
  const onceIds = await createJobs(
    baseUrl,
    Array.from({ length: ONCE }, (_, i) => ({
      name: `o-${i}`,
      handler: 'noop',
      schedule: { kind: 'once', runAt: new Date(dueFrom + i * 10).toISOString() },
    })),
  );
  figure('redis-flushed: definitions created (per s)', Math.round(((REPEATING + ONCE) * 1000) / (Date.now() - created)));

  let lostAt = 0;
  const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUE_NAME, { connection: conn, prefix: ctx.prefix });
  try {
    expect(await countInRedis(queue)).toEqual({ schedulers: REPEATING, once: ONCE });
    await conn.flushall();
    await redis.stop();
    await redis.start();
    lostAt = Date.now();
    await waitFor(
      'the reconciler to restore every definition',
      async () => {
        const c = await countInRedis(queue);
        return c.schedulers === REPEATING && c.once === ONCE;
      },
      { timeoutMs: RECONCILE_MS + 5000, intervalMs: 100 },
    );
    const restoreMs = Date.now() - lostAt;
    figure('redis-flushed: time to restore 500 schedulers + 1,000 one-time jobs (ms)', restoreMs);
    expect(restoreMs).toBeLessThanOrEqual(RECONCILE_MS + 5000);
  } finally {
    await queue.close();
    conn.disconnect();
  }

  await waitFor('every one-time job to run', async () => (await db.models.Execution.countDocuments({ jobId: { $in: onceIds } })) >= ONCE, {
    timeoutMs: 40_000,
    intervalMs: 250,
  });
  const onceRecords = await executionRecords(db, { jobId: { $in: onceIds } });
  const perJob = groupBy(onceRecords, (r) => String(r.jobId));
  const duplicates = onceRecords.length - perJob.size;
  const early = onceRecords.filter((r) => r.startedAt.getTime() < r.scheduledFor!.getTime()).length;
  const lateness = onceRecords.map((r) => r.startedAt.getTime() - r.scheduledFor!.getTime());
  figure('redis-flushed: one-time jobs run', `${perJob.size}/${ONCE}`);
  figure('redis-flushed: duplicate runs', duplicates);
  figure('redis-flushed: early starts', early);
  figure('redis-flushed: one-time lateness p99 (ms)', percentile(lateness, 99));
  expect(perJob.size).toBe(ONCE);
  expect(duplicates).toBe(0);
  expect(early).toBe(0);
  expect(onceRecords.every((r) => r.status === 'succeeded')).toBe(true);

  // Repeating jobs: no slot ran twice, and each ran after the restore.
  const repeatRecords = await executionRecords(db, { jobId: { $in: repeatingIds } });
  const slots = groupBy(repeatRecords, (r) => `${String(r.jobId)}@${r.scheduledFor!.getTime()}`);
  const doubled = [...slots.values()].filter((rs) => rs.length > 1).length;
  const ranAfter = new Set(repeatRecords.filter((r) => r.startedAt.getTime() > lostAt).map((r) => String(r.jobId)));
  figure('redis-flushed: repeating slots run twice', doubled);
  figure('redis-flushed: repeating jobs that ran after the restore', `${ranAfter.size}/${REPEATING}`);
  expect(doubled).toBe(0);
  expect(ranAfter.size).toBe(REPEATING);
});
