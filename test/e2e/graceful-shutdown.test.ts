import type { Database } from '../../src/persistence/mongo';
import { http, startCluster, type Cluster } from '../helpers/processes';
import { cleanup, newTestContext, openDatabase, openQueue, type TestContext } from '../helpers/services';
import { waitFor } from '../helpers/wait-for';

describe('SIGTERM to a worker', () => {
  let ctx: TestContext;
  let db: Database;
  let cluster: Cluster;
  let queue: ReturnType<typeof openQueue>['queue'];
  let closeQueue: () => Promise<void>;

  beforeAll(async () => {
    ctx = newTestContext();
    db = await openDatabase(ctx);
    ({ queue, close: closeQueue } = openQueue(ctx));
    cluster = await startCluster({ REDIS_URL: ctx.redisUrl, MONGODB_URL: ctx.mongoUrl, QUEUE_PREFIX: ctx.prefix }, 1);
  });
  afterAll(async () => {
    await cluster?.stop();
    await closeQueue();
    await cleanup(ctx, db);
  });

  it('finishes the in-flight job, writes its record, and exits 0', async () => {
    const created = await http(cluster.baseUrl, 'POST', '/api/v1/jobs', {
      name: 'in flight',
      handler: 'sleep',
      payload: { durationMs: 2000 },
      schedule: { kind: 'delay', delayMs: 0 },
    });
    await waitFor('the job to be running', async () => (await queue.getJobState(`${created.body.id}-v1`)) === 'active');
    const signalledAt = Date.now();
    const code = await cluster.workers[0]!.kill('SIGTERM');
    const exitedAfter = Date.now() - signalledAt;
    expect(code).toBe(0);
    expect(exitedAfter).toBeLessThan(2000 + 1000);
    const records = await db.models.Execution.find({ jobId: created.body.id }).lean();
    expect(records.map((r) => [r.attempt, r.status])).toEqual([[1, 'succeeded']]);
    expect(await db.models.Job.findById(created.body.id).lean()).toMatchObject({ status: 'completed', runCount: 1 });
  });
});
