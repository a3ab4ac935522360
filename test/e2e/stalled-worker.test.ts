import { http } from '../helpers/http';
import { useCluster } from '../helpers/e2e';
import { waitFor } from '../helpers/wait-for';

describe('a worker killed mid-job', () => {
  const e = useCluster({ WORKER_LOCK_DURATION_MS: '2000', WORKER_STALLED_INTERVAL_MS: '1000', WORKER_MAX_STALLED_COUNT: '1' });

  it('does not lose the job: another worker completes it and the history shows the stalled attempt', async () => {
    const created = await http(e.cluster.baseUrl, 'POST', '/api/v1/jobs', {
      name: 'slow',
      handler: 'sleep',
      payload: { durationMs: 3000 },
      schedule: { kind: 'delay', delayMs: 0 },
    });
    expect(created.status).toBe(201);
    const runId = `${created.body.id}-v1`;
    const owner = await waitFor('the job to be taken by a worker', async () => {
      const job = await e.queue.getJob(runId);
      return job?.processedBy;
    });
    const victim = e.cluster.workers.find((w) => w.name === owner)!;
    const killedAt = Date.now();
    await victim.kill('SIGKILL');

    const runs = await waitFor(
      'a stalled attempt and a successful retry',
      async () => {
        const r = await e.db.models.Execution.find({ jobId: created.body.id }).sort({ attempt: 1 }).lean();
        return r.some((x) => x.status === 'succeeded') && r;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(runs.map((r) => [r.attempt, r.status])).toEqual([
      [1, 'stalled'],
      [2, 'succeeded'],
    ]);
    expect(runs[1]!.workerId).not.toBe(owner);
    expect(runs[0]).toMatchObject({ workerId: 'unknown', driftMs: null, error: { code: 'stalled' } });
    // Recovery: lock expiry (2 s) + stalled check (1 s) + the 3 s job + margin.
    expect(runs[1]!.finishedAt!.getTime() - killedAt).toBeLessThan(2000 + 1000 + 3000 + 3000);
  });
});
