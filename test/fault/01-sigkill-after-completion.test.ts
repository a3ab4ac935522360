import { createJobs, executionRecords, figure, tockEnv, useFaultContext } from '../helpers/fault';
import { spawnApi, spawnWorkers } from '../helpers/processes';
import { waitFor } from '../helpers/wait-for';

/**
 * Fault 1, the other half: SIGKILL a worker a moment after some of its runs completed. BullMQ
 * already counts those runs as done (it will never run them again), so their execution records
 * must already be in MongoDB: a record still waiting in the worker's history buffer dies with it,
 * leaving a run that happened with no record at all. HISTORY_DURABLE_ACK=true closes that window
 * (BullMQ is told a run is done only once its record is written); by default it stays open, for
 * throughput, and the README says so.
 */
const JOBS = 200;

describe('fault 1b: a worker SIGKILLed just after runs complete, with HISTORY_DURABLE_ACK=true', () => {
  const f = useFaultContext();

  it('loses no record of a run BullMQ counts as done', async () => {
    const { ctx, db, queue, procs } = f;
    const env = tockEnv(ctx, {
      WORKER_CONCURRENCY: '50',
      WORKER_LOCK_DURATION_MS: '3000',
      WORKER_STALLED_INTERVAL_MS: '2000',
      HISTORY_DURABLE_ACK: 'true',
    });
    const { api, baseUrl } = await spawnApi(env);
    procs.push(api);
    const ids = await createJobs(
      baseUrl,
      Array.from({ length: JOBS }, (_, i) => ({
        name: `done-then-killed-${i}`,
        handler: 'sleep',
        payload: { durationMs: 1000 },
        schedule: { kind: 'delay', delayMs: 0 },
      })),
    );
    const workers = await spawnWorkers(env, 2);
    procs.push(...workers);
    const victim = workers[0]!;
    const held = await waitFor(
      'the victim to hold 50 jobs',
      async () => {
        const mine = (await queue.getJobs(['active'])).filter((j) => j.processedBy === victim.name).map((j) => j.id!);
        return mine.length === 50 && mine;
      },
      { timeoutMs: 15_000, intervalMs: 20 },
    );
    const completedBeforeKill = await waitFor(
      'a few of its runs to complete',
      async () => {
        const states = await Promise.all(held.map((id) => queue.getJobState(id)));
        const done = held.filter((_, i) => states[i] !== 'active');
        return done.length >= 3 && done;
      },
      { timeoutMs: 15_000, intervalMs: 2 },
    );
    await victim.kill('SIGKILL');

    await waitFor(
      'the queue to drain',
      async () => {
        const c = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
        return Object.values(c).every((n) => n === 0);
      },
      { timeoutMs: 40_000, intervalMs: 250 },
    );
    await new Promise((r) => setTimeout(r, 1000)); // the survivor's last batch (flushes every 100 ms)
    const runs = new Set((await executionRecords(db, { status: 'succeeded' })).map((r) => r.runId));
    const without = ids.filter((id) => !runs.has(`${id}-v1`));
    figure('fault1b.completedOnVictimJustBeforeKill', completedBeforeKill.length);
    figure('fault1b.runsWithoutRecord', without.length);
    expect(without).toEqual([]);
  });
});
