import type { ExecutionDoc } from '../../src/persistence/models';
import { useCluster } from '../helpers/e2e';
import { startSink, type Sink } from '../helpers/fault';
import { http } from '../helpers/http';
import { waitFor } from '../helpers/wait-for';

/**
 * A job's state (status, nextRunAt, lastRunAt) agrees with its history once its runs are recorded,
 * whatever worker ran what: the API + 2 workers as processes.
 */
describe('job state after runs (API + 2 workers as processes)', () => {
  const e = useCluster({ WORKER_CONCURRENCY: '20', COUNTER_FLUSH_INTERVAL_MS: '100', HTTP_ALLOW_PRIVATE_NETWORKS: 'true' }, 2);
  let sink: Sink;
  let answer = 500;

  beforeAll(async () => {
    sink = await startSink((_req, res) => {
      res.statusCode = answer;
      res.end(String(answer));
    });
  });
  afterAll(async () => sink?.close());

  const post = async (body: object): Promise<string> => {
    const res = await http(e.cluster.baseUrl, 'POST', '/api/v1/jobs', body);
    expect(res.status).toBe(201);
    return res.body.id;
  };
  const job = async (id: string) => (await http(e.cluster.baseUrl, 'GET', `/api/v1/jobs/${id}`)).body;
  const records = (jobId: string) => e.db.models.Execution.find({ jobId }).lean<ExecutionDoc[]>();

  it('a dead-letter retry that succeeds leaves a one-time job completed', async () => {
    answer = 500;
    const id = await post({
      name: 'flaky webhook',
      handler: 'http',
      payload: { url: `${sink.url}/hook` },
      schedule: { kind: 'delay', delayMs: 0 },
      retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 100 } },
    });
    const entry = await waitFor('the dead-letter entry', async () => {
      const res = await http(e.cluster.baseUrl, 'GET', `/api/v1/dead-letter?jobId=${id}`);
      return res.body.items[0] as { id: string } | undefined;
    });
    await waitFor('the job to show failed', async () => (await job(id)).status === 'failed');

    answer = 200;
    const retry = await http(e.cluster.baseUrl, 'POST', `/api/v1/dead-letter/${entry.id}/retry`);
    expect(retry.status).toBe(202);
    await waitFor('the retry run to succeed', async () =>
      (await records(id)).some((r) => r.trigger === 'dead-letter-retry' && r.status === 'succeeded'),
    );
    const done = await waitFor('the job to show completed', async () => {
      const j = await job(id);
      return j.status === 'completed' ? j : undefined;
    });
    expect(done.lastExecutionStatus).toBe('succeeded');
    expect(done.nextRunAt).toBeNull();
  });

  it('repeating jobs with a limit end in a state that agrees with their history, whichever worker ran each slot', async () => {
    const ids = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        post({ name: `limited ${i}`, handler: 'noop', schedule: { kind: 'cron', expression: '* * * * * *', limit: 3 } }),
      ),
    );
    // Two workers took the slots between them (otherwise the test shows nothing about late updates).
    await waitFor(
      'every job to have 3 succeeded runs',
      async () => {
        for (const id of ids) if ((await records(id)).filter((r) => r.status === 'succeeded').length < 3) return false;
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const workers = new Set((await e.db.models.Execution.find({ jobId: { $in: ids } }).lean<ExecutionDoc[]>()).map((r) => r.workerId));
    expect(workers.size).toBe(2);

    // Before the fix, late updates from one worker overwrote newer ones from the other for good.
    for (const id of ids) {
      const newest = Math.max(...(await records(id)).map((r) => r.startedAt.getTime()));
      await waitFor(`job ${id} to agree with its history`, async () => {
        const j = await job(id);
        return j.status === 'completed' && j.nextRunAt === null && new Date(j.lastRunAt).getTime() === newest;
      });
    }
  });

  const activeRuns = async (ids: string[]) => (await e.queue.getActive()).filter((j) => ids.includes(j.data.jobId)).map((j) => j.id!);
  const long = (name: string) => ({
    name,
    handler: 'sleep',
    payload: { durationMs: 3_600_000 },
    timeoutMs: 3_600_000,
    schedule: { kind: 'delay', delayMs: 0 },
  });

  it('deleting a job aborts its attempts in flight, recorded cancelled, and frees the worker slots', async () => {
    const ids = await Promise.all(Array.from({ length: 6 }, (_, i) => post(long(`long ${i}`))));
    await waitFor('every run to be in flight', async () => (await activeRuns(ids)).length === ids.length);
    for (const id of ids) expect((await http(e.cluster.baseUrl, 'DELETE', `/api/v1/jobs/${id}`)).status).toBe(204);
    await waitFor('the workers to let go of every run', async () => (await activeRuns(ids)).length === 0);
    for (const id of ids) {
      const [record] = await waitFor('the cancelled record', async () => {
        const r = await records(id);
        return r.length > 0 ? r : undefined;
      });
      expect(record).toMatchObject({ status: 'cancelled', attempt: 1, error: { code: 'cancelled' } });
    }
    // Not retried, not dead-lettered.
    const dead = await http(e.cluster.baseUrl, 'GET', '/api/v1/dead-letter?limit=100');
    expect(dead.body.items.filter((d: { jobId: string }) => ids.includes(d.jobId))).toHaveLength(0);
  });

  it('POST /jobs/{id}/cancel aborts the run in flight and keeps the job', async () => {
    const id = await post(long('cancel me'));
    const [runId] = await waitFor('the run to be in flight', async () => {
      const runs = await activeRuns([id]);
      return runs.length === 1 ? runs : undefined;
    });
    const res = await http(e.cluster.baseUrl, 'POST', `/api/v1/jobs/${id}/cancel`);
    expect(res).toMatchObject({ status: 202, body: { jobId: id, runIds: [runId] } });
    await waitFor('the run to stop', async () => (await activeRuns([id])).length === 0);
    const settled = await waitFor('the job to show cancelled', async () => {
      const j = await job(id);
      return j.status === 'cancelled' ? j : undefined;
    });
    expect(settled).toMatchObject({ lastExecutionStatus: 'cancelled', nextRunAt: null });
    expect(await records(id)).toMatchObject([{ runId, status: 'cancelled' }]);
    // Nothing in flight: nothing to cancel.
    expect(await http(e.cluster.baseUrl, 'POST', `/api/v1/jobs/${id}/cancel`)).toMatchObject({ status: 202, body: { runIds: [] } });
  });
});
