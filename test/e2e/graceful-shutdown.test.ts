import { http } from '../helpers/http';
import { useCluster } from '../helpers/e2e';
import { waitFor } from '../helpers/wait-for';

describe('SIGTERM to a worker', () => {
  const e = useCluster({}, 1);

  it('finishes the in-flight job, writes its record, and exits 0', async () => {
    const created = await http(e.cluster.baseUrl, 'POST', '/api/v1/jobs', {
      name: 'in flight',
      handler: 'sleep',
      payload: { durationMs: 2000 },
      schedule: { kind: 'delay', delayMs: 0 },
    });
    await waitFor('the job to be running', async () => (await e.queue.getJobState(`${created.body.id}-v1`)) === 'active');
    const signalledAt = Date.now();
    const code = await e.cluster.workers[0]!.kill('SIGTERM');
    const exitedAfter = Date.now() - signalledAt;
    expect(code).toBe(0);
    expect(exitedAfter).toBeLessThan(2000 + 1000);
    const records = await e.db.models.Execution.find({ jobId: created.body.id }).lean();
    expect(records.map((r) => [r.attempt, r.status])).toEqual([[1, 'succeeded']]);
    expect(await e.db.models.Job.findById(created.body.id).lean()).toMatchObject({ status: 'completed', runCount: 1 });
  });
});

describe('SIGTERM to a worker whose job outlasts the grace period', () => {
  const e = useCluster({ WORKER_SHUTDOWN_GRACE_MS: '500' }, 1);

  it('aborts the handler when the grace period is over, records the attempt, and exits', async () => {
    const created = await http(e.cluster.baseUrl, 'POST', '/api/v1/jobs', {
      name: 'outlasts the grace',
      handler: 'sleep',
      payload: { durationMs: 20_000 },
      timeoutMs: 60_000,
      schedule: { kind: 'delay', delayMs: 0 },
    });
    await waitFor('the job to be running', async () => (await e.queue.getJobState(`${created.body.id}-v1`)) === 'active');
    const signalledAt = Date.now();
    const code = await e.cluster.workers[0]!.kill('SIGTERM');
    const exitedAfter = Date.now() - signalledAt;
    expect(code).toBe(0);
    expect(exitedAfter).toBeLessThan(500 + 3000);
    const records = await e.db.models.Execution.find({ jobId: created.body.id }).lean();
    expect(records.map((r) => [r.attempt, r.status, (r.error as { message?: string } | null)?.message])).toEqual([
      [1, 'failed', 'worker shutting down'],
    ]);
    expect(records[0]!.durationMs).toBeLessThan(500 + 1000);
  });
});
