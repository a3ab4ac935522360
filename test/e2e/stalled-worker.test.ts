import type { Database } from '../../src/persistence/mongo';
import { http, startCluster, type Cluster } from '../helpers/processes';
import { cleanup, newTestContext, openDatabase, openQueue, type TestContext } from '../helpers/services';
import { waitFor } from '../helpers/wait-for';

describe('a worker killed mid-job', () => {
  let ctx: TestContext;
  let db: Database;
  let cluster: Cluster;
  let queue: ReturnType<typeof openQueue>['queue'];
  let closeQueue: () => Promise<void>;

  beforeAll(async () => {
    ctx = newTestContext();
    db = await openDatabase(ctx);
    ({ queue, close: closeQueue } = openQueue(ctx));
    cluster = await startCluster({
      REDIS_URL: ctx.redisUrl,
      MONGODB_URL: ctx.mongoUrl,
      QUEUE_PREFIX: ctx.prefix,
      WORKER_LOCK_DURATION_MS: '2000',
      WORKER_STALLED_INTERVAL_MS: '1000',
      WORKER_MAX_STALLED_COUNT: '1',
    });
  });
  afterAll(async () => {
    await cluster?.stop();
    await closeQueue();
    await cleanup(ctx, db);
  });

  it('does not lose the job: another worker completes it and the history shows the stalled attempt', async () => {
    const created = await http(cluster.baseUrl, 'POST', '/api/v1/jobs', {
      name: 'slow',
      handler: 'sleep',
      payload: { durationMs: 3000 },
      schedule: { kind: 'delay', delayMs: 0 },
    });
    expect(created.status).toBe(201);
    const runId = `${created.body.id}-v1`;
    const owner = await waitFor('the job to be taken by a worker', async () => {
      const job = await queue.getJob(runId);
      return job?.processedBy;
    });
    const victim = cluster.workers.find((w) => w.name === owner)!;
    const killedAt = Date.now();
    await victim.kill('SIGKILL');

    const runs = await waitFor(
      'a stalled attempt and a successful retry',
      async () => {
        const r = await db.models.Execution.find({ jobId: created.body.id }).sort({ attempt: 1 }).lean();
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
