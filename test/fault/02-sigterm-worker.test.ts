import { createJobs, executionRecords, figure, groupBy, tockEnv, useFaultContext } from '../helpers/fault';
import { spawnApi, spawnWorkers } from '../helpers/processes';
import { waitFor } from '../helpers/wait-for';

/**
 * Fault 2: SIGTERM to one of 3 workers (concurrency 50 each) under the load of fault 1. The worker
 * takes no new job, finishes its in-flight ones, writes their records and exits within its longest
 * in-flight job + 1 s: no run is duplicated and nothing stalls.
 */
const JOBS = 1000;
const JOB_MS = 2000;

describe('fault 2: a worker SIGTERMed under load', () => {
  const f = useFaultContext();

  it('finishes its in-flight jobs, duplicates none and exits in time', async () => {
    const { ctx, db, queue, procs } = f;
    const env = tockEnv(ctx, {
      WORKER_CONCURRENCY: '50',
      WORKER_LOCK_DURATION_MS: '3000',
      WORKER_STALLED_INTERVAL_MS: '2000',
      WORKER_MAX_STALLED_COUNT: '1',
      WORKER_SHUTDOWN_GRACE_MS: '30000',
    });
    const { api, baseUrl } = await spawnApi(env);
    procs.push(api);
    const ids = await createJobs(
      baseUrl,
      Array.from({ length: JOBS }, (_, i) => ({
        name: `sigterm-${i}`,
        handler: 'sleep',
        payload: { durationMs: JOB_MS },
        schedule: { kind: 'delay', delayMs: 0 },
      })),
      16,
    );
    const workers = await spawnWorkers(env, 3);
    procs.push(...workers);
    const victim = workers[1]!;

    const held = await waitFor(
      'the victim to hold 50 jobs',
      async () => {
        const active = await queue.getJobs(['active']);
        const mine = active.filter((j) => j.processedBy === victim.name);
        return mine.length === 50 && mine;
      },
      { timeoutMs: 15_000, intervalMs: 20 },
    );
    const signalledAt = Date.now();
    const code = await victim.kill('SIGTERM');
    const exitMs = Date.now() - signalledAt;

    await waitFor('all 1,000 runs to succeed', async () => (await db.models.Execution.countDocuments({ status: 'succeeded' })) >= JOBS, {
      timeoutMs: 60_000,
      intervalMs: 500,
    });
    // Give a would-be stalled re-run (lock 3 s + check 2 s) the chance to show up before counting.
    await new Promise((r) => setTimeout(r, 3000 + 2000));
    const records = await executionRecords(db);
    const byRun = groupBy(records, (r) => r.runId);
    const duplicates = [...byRun.values()].filter((rs) => rs.length > 1).length;
    const stalled = records.filter((r) => r.status === 'stalled').length;
    const byVictim = records.filter((r) => r.workerId === victim.name);
    const lost = ids.filter((id) => !byRun.get(`${id}-v1`)?.some((r) => r.status === 'succeeded'));

    figure('fault2.completed', byRun.size);
    figure('fault2.lost', lost.length);
    figure('fault2.duplicates', duplicates);
    figure('fault2.stalls', stalled);
    // Its longest in-flight job ended when the last of its records says it finished.
    const longestLeftMs = Math.max(...byVictim.map((r) => r.finishedAt!.getTime())) - signalledAt;
    figure('fault2.exitMs', `${exitMs} (bar: longest in-flight job ended ${longestLeftMs} after the signal, + 1000)`);
    figure('fault2.victimJobDurationMaxMs', Math.max(...byVictim.map((r) => r.durationMs!)));
    figure('fault2.recordsWrittenByStoppedWorker', byVictim.length);

    expect(code).toBe(0);
    expect(lost).toEqual([]);
    expect(records).toHaveLength(JOBS);
    expect(duplicates).toBe(0);
    expect(stalled).toBe(0);
    expect(exitMs).toBeLessThanOrEqual(longestLeftMs + 1000);
    // Its 50 in-flight jobs finished on it and their records were flushed before it exited.
    expect(byVictim.length).toBeGreaterThanOrEqual(50);
    expect(held.every((j) => byVictim.some((r) => r.runId === j.id))).toBe(true);
    expect(byVictim.every((r) => r.status === 'succeeded' && r.attempt === 1)).toBe(true);
  });
});
