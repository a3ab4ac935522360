import { createJobs, executionRecords, figure, groupBy, tockEnv, useFaultContext } from '../helpers/fault';
import { spawnApi, spawnWorkers } from '../helpers/processes';
import { waitFor } from '../helpers/wait-for';

/**
 * Fault 1: SIGKILL one of 3 workers (concurrency 50 each) while 1,000 two-second jobs are queued
 * and 150 run. Nothing is lost; only the killed worker's in-flight runs run twice, each with its
 * abandoned attempt recorded as `stalled`; they are running again within
 * lockDuration + stalledInterval + 2 s of the kill.
 */
const JOBS = 1000;
const LOCK_MS = 3000;
const STALLED_MS = 2000;

describe('fault 1: a worker SIGKILLed under load', () => {
  const f = useFaultContext();

  it('loses nothing and re-runs only what the killed worker held', async () => {
    const { ctx, db, queue, procs } = f;
    const env = tockEnv(ctx, {
      WORKER_CONCURRENCY: '50',
      WORKER_LOCK_DURATION_MS: String(LOCK_MS),
      WORKER_STALLED_INTERVAL_MS: String(STALLED_MS),
      WORKER_MAX_STALLED_COUNT: '1',
    });
    const { api, baseUrl } = await spawnApi(env);
    procs.push(api);
    // Queue all 1,000 before any worker runs, so that the kill lands on 50 jobs in flight.
    const createdAt = Date.now();
    const ids = await createJobs(
      baseUrl,
      Array.from({ length: JOBS }, (_, i) => ({
        name: `sigkill-${i}`,
        handler: 'sleep',
        payload: { durationMs: 2000 },
        schedule: { kind: 'delay', delayMs: 0 },
      })),
      16,
    );
    figure('fault1.create1000Ms', Date.now() - createdAt);
    const workers = await spawnWorkers(env, 3);
    procs.push(...workers);
    const victim = workers[1]!;

    const held = await waitFor(
      'the victim to hold 50 jobs',
      async () => {
        const active = await queue.getJobs(['active']);
        const mine = active.filter((j) => j.processedBy === victim.name).map((j) => j.id!);
        return mine.length === 50 && mine;
      },
      { timeoutMs: 15_000, intervalMs: 20 },
    );
    const killedAt = Date.now();
    await victim.kill('SIGKILL');

    await waitFor('all 1,000 runs to succeed', async () => (await db.models.Execution.countDocuments({ status: 'succeeded' })) >= JOBS, {
      timeoutMs: 60_000,
      intervalMs: 500,
    });
    const doneAt = Date.now();
    const records = await executionRecords(db);
    const byRun = groupBy(records, (r) => r.runId);
    const succeededRuns = new Set(records.filter((r) => r.status === 'succeeded').map((r) => r.runId));
    const lost = ids.filter((id) => !succeededRuns.has(`${id}-v1`));
    const rerun = [...byRun.entries()].filter(([, rs]) => rs.length > 1);
    const rerunIds = new Set(rerun.map(([runId]) => runId));
    const stalled = records.filter((r) => r.status === 'stalled');
    const restarts = rerun.map(([, rs]) => rs.find((r) => r.attempt === 2)?.startedAt.getTime() ?? Infinity);
    const recoveryMs = Math.max(...restarts) - killedAt;

    figure('fault1.completed', succeededRuns.size);
    figure('fault1.lost', lost.length);
    figure('fault1.inFlightOnKilledWorker', held.length);
    figure('fault1.duplicatedRuns', rerun.length);
    figure('fault1.stalledRecords', stalled.length);
    figure('fault1.recoveryMs', `${recoveryMs} (bar ${LOCK_MS + STALLED_MS + 2000})`);
    figure('fault1.allDoneAfterKillMs', doneAt - killedAt);

    expect(lost).toEqual([]);
    expect(succeededRuns.size).toBe(JOBS);
    expect(records.filter((r) => r.status === 'succeeded')).toHaveLength(JOBS);
    // Duplicates are exactly the killed worker's in-flight runs, each with one stalled attempt.
    expect([...rerunIds].sort()).toEqual([...held].sort());
    for (const [, rs] of rerun) {
      expect(rs.map((r) => [r.attempt, r.status])).toEqual([
        [1, 'stalled'],
        [2, 'succeeded'],
      ]);
      expect(rs[1]!.workerId).not.toBe(victim.name);
    }
    expect(stalled).toHaveLength(held.length);
    expect(recoveryMs).toBeLessThanOrEqual(LOCK_MS + STALLED_MS + 2000);
    // Every other run has exactly one record: attempt 1, succeeded.
    expect(records.filter((r) => !rerunIds.has(r.runId)).every((r) => r.attempt === 1 && r.status === 'succeeded')).toBe(true);
  });
});
