import type { ExecutionDoc } from '../../src/persistence/models';
import { createJobs, executionRecords, figure, groupBy, tockEnv, useFaultContext } from '../helpers/fault';
import { spawnApi, spawnWorkers } from '../helpers/processes';
import { waitFor } from '../helpers/wait-for';

/**
 * Fault 7: every worker is down for 30 s while 50 interval jobs (every 2 s) and 20 one-time jobs
 * fall due. After the restart: no storm. Each `skip` job records one skipped (misfire) occurrence
 * and goes on with its next future slot; each `runOnce` job runs one catch-up occurrence; every
 * one-time job runs exactly once.
 */
const DOWN_MS = 30_000;
const EVERY_MS = 2000;
const GRACE_MS = 5000;

const f = useFaultContext();

it('after 30 s without workers, repeating jobs follow their misfire policy and one-time jobs run once', async () => {
  const { ctx, db, procs } = f;
  const env = tockEnv(
    { redisUrl: ctx.redisUrl, mongoUrl: ctx.mongoUrl, prefix: ctx.prefix },
    { MISFIRE_GRACE_MS: String(GRACE_MS), WORKER_CONCURRENCY: '50' },
  );
  const { api, baseUrl } = await spawnApi(env);
  procs.push(api);
  const workers = await spawnWorkers(env, 2);

  const repeating = Array.from({ length: 50 }, (_, i) => ({
    name: `every-${i}`,
    handler: 'noop',
    schedule: { kind: 'interval', everyMs: EVERY_MS, misfire: i % 2 === 0 ? 'skip' : 'runOnce' },
  }));
  const repeatingIds = await createJobs(baseUrl, repeating);
  const skipIds = new Set(repeatingIds.filter((_, i) => i % 2 === 0));

  await waitFor('every repeating job to have run', async () => {
    const ran = await db.models.Execution.distinct('jobId', { status: 'succeeded' });
    return ran.length >= 50;
  });
  await Promise.all(workers.map((w) => w.kill('SIGTERM')));
  const downAt = Date.now();

  const dueInWindow = Array.from({ length: 20 }, (_, i) => ({
    name: `once-${i}`,
    handler: 'noop',
    schedule: { kind: 'once', runAt: new Date(downAt + 3000 + i * 1000).toISOString() },
  }));
  const onceIds = await createJobs(baseUrl, dueInWindow);
  await new Promise((r) => setTimeout(r, DOWN_MS - (Date.now() - downAt)));
  const upAt = Date.now();
  procs.push(...(await spawnWorkers(env, 2, 'r')));

  await waitFor(
    'every one-time job to run',
    async () => (await db.models.Execution.countDocuments({ trigger: 'schedule', status: 'succeeded', jobId: { $in: onceIds } })) >= 20,
    { timeoutMs: 15_000 },
  );
  // Let the repeating jobs run a few slots past the restart before judging them.
  await waitFor('three slots after the restart', () => Date.now() > upAt + 3 * EVERY_MS + 1000, { timeoutMs: 15_000 });
  await waitFor('records of those slots', async () => {
    const late = await db.models.Execution.countDocuments({ startedAt: { $gt: new Date(upAt + 3 * EVERY_MS) } });
    return late >= 50;
  });

  const records = await executionRecords(db, { startedAt: { $gte: new Date(upAt) } });
  const byJob = groupBy(records, (r) => String(r.jobId));
  const inWindow = (r: ExecutionDoc) => r.scheduledFor!.getTime() < upAt;
  let skipped = 0;
  let catchUps = 0;
  let storm = 0;
  for (const id of repeatingIds) {
    const rs = byJob.get(id) ?? [];
    const stale = rs.filter(inWindow);
    storm += Math.max(0, stale.length - 1);
    if (skipIds.has(id)) {
      expect(stale.map((r) => [r.status, (r.error as { code?: string } | null)?.code])).toEqual([['skipped', 'misfire']]);
      skipped++;
    } else {
      expect(stale.map((r) => r.status)).toEqual(['succeeded']);
      catchUps++;
    }
    // After the stale one, the job is back on its slots: each later slot ran once, on time.
    const fresh = rs.filter((r) => !inWindow(r));
    const slots = fresh.map((r) => r.scheduledFor!.getTime());
    expect(new Set(slots).size).toBe(slots.length);
    expect(fresh.every((r) => r.status === 'succeeded' && r.driftMs! < 1000)).toBe(true);
    expect(fresh.length).toBeGreaterThanOrEqual(2);
  }
  const onceRecords = await executionRecords(db, { jobId: { $in: onceIds } });
  const onceRuns = groupBy(onceRecords, (r) => String(r.jobId));
  expect(onceRuns.size).toBe(20);
  expect([...onceRuns.values()].every((rs) => rs.length === 1 && rs[0]!.status === 'succeeded' && rs[0]!.startedAt.getTime() >= upAt)).toBe(
    true,
  );

  figure('workers-down: skip jobs with exactly one skipped misfire', `${skipped}/25`);
  figure('workers-down: runOnce jobs with exactly one catch-up run', `${catchUps}/25`);
  figure('workers-down: extra stale runs (storm)', storm);
  figure('workers-down: one-time jobs run exactly once', `${onceRuns.size}/20`);
  expect(storm).toBe(0);
});
