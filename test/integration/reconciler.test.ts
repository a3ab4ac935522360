import { Redis } from 'ioredis';
import { Types } from 'mongoose';
import { createLogger } from '../../src/observability/logger';
import { TockMetrics } from '../../src/observability/metrics';
import { ExecutionRepository } from '../../src/persistence/execution-repository';
import { JobRepository } from '../../src/persistence/job-repository';
import { onceJobId } from '../../src/queue/job-queue';
import { Leases } from '../../src/queue/leases';
import { FRESH_ONCE_MS, Reconciler } from '../../src/services/reconciler';
import { startApi, type ApiHarness } from '../helpers/api-harness';
import { deleteRedisKeys } from '../helpers/services';

const logger = createLogger('silent');
let api: ApiHarness;
let redis: Redis;
let reconciler: Reconciler;
let jobs: JobRepository;
const metrics = new TockMetrics({ defaultMetrics: false });
const restoredTotal = async () => (await metrics.registry.getSingleMetric('tock_reconciler_restored_total')!.get()).values[0]?.value ?? 0;

const soon = () => new Date(Date.now() + 3_600_000).toISOString();

beforeAll(async () => {
  api = await startApi();
  redis = new Redis(api.ctx.redisUrl, { maxRetriesPerRequest: 1 });
  jobs = new JobRepository(api.db.models);
  reconciler = new Reconciler({
    jobs,
    executions: new ExecutionRepository(api.db.models),
    queue: api.queue,
    leases: new Leases(redis, `${api.ctx.prefix}:lock`, 10_000),
    logger,
    metrics,
  });
});

afterAll(async () => {
  redis?.disconnect();
  await api?.close();
});

async function create(body: object): Promise<{ id: string; version: number }> {
  const res = await api.request('POST', '/api/v1/jobs', { name: 'r', handler: 'noop', ...body });
  expect(res.status).toBe(201);
  return res.body;
}

describe('reconciler', () => {
  it('restores every active definition after Redis lost its keys, and a second pass has nothing to do', async () => {
    const cron = await create({ schedule: { kind: 'cron', expression: '0 3 * * *', timezone: 'Europe/Paris' } });
    const every = await create({ schedule: { kind: 'interval', everyMs: 60_000 } });
    const once = await create({ schedule: { kind: 'once', runAt: soon() } });
    const paused = await create({ schedule: { kind: 'interval', everyMs: 60_000 } });
    expect((await api.request('POST', `/api/v1/jobs/${paused.id}/pause`)).status).toBe(200);

    await deleteRedisKeys(api.ctx.redisUrl, api.ctx.prefix);
    expect(await api.queue.queue.getJobSchedulersCount()).toBe(0);

    const before = await restoredTotal();
    const report = await reconciler.run();
    expect(report).toMatchObject({ registered: 3, removed: 0 });
    expect((await restoredTotal()) - before).toBe(3);
    const cronScheduler = await api.queue.queue.getJobScheduler(cron.id);
    expect(cronScheduler).toMatchObject({ pattern: '0 3 * * *', tz: 'Europe/Paris' });
    expect(await api.queue.queue.getJobScheduler(every.id)).toMatchObject({ every: 60_000 });
    expect(await api.queue.queue.getJobScheduler(paused.id)).toBeUndefined();
    const onceJob = await api.queue.queue.getJob(onceJobId(once));
    expect(onceJob?.data).toEqual({ jobId: once.id, version: once.version, trigger: 'schedule' });
    expect(await onceJob?.getState()).toBe('delayed');

    expect(await reconciler.run()).toMatchObject({ registered: 0, removed: 0 });
    expect((await restoredTotal()) - before).toBe(3);
  });

  it('removes orphans: schedulers and one-time jobs with no active definition', async () => {
    const paused = await create({ schedule: { kind: 'interval', everyMs: 60_000 } });
    const gone = await create({ schedule: { kind: 'once', runAt: soon() } });
    // Put their BullMQ side back behind the API's back, as a crashed request could leave it.
    expect((await api.request('POST', `/api/v1/jobs/${paused.id}/pause`)).status).toBe(200);
    await api.queue.register({ ...(await jobs.findById(paused.id))!, status: 'scheduled' });
    const goneDef = (await jobs.findById(gone.id))!;
    expect((await api.request('DELETE', `/api/v1/jobs/${gone.id}`)).status).toBe(204);
    await api.queue.register(goneDef);
    expect(await api.queue.queue.getJobScheduler(paused.id)).toBeDefined();
    expect(await api.queue.queue.getJob(onceJobId(gone))).toBeDefined();

    // A first-version one-time job this young may belong to a bulk create whose insert is still
    // running: it is left for a later pass.
    expect((await reconciler.run())?.removed).toBe(1);
    expect(await api.queue.queue.getJobScheduler(paused.id)).toBeUndefined();
    expect(await api.queue.queue.getJob(onceJobId(gone))).toBeDefined();
    expect((await reconciler.run(Date.now() + FRESH_ONCE_MS + 1000))?.removed).toBe(1);
    expect(await api.queue.queue.getJob(onceJobId(gone))).toBeUndefined();
  });

  it('brings a scheduler registered with stale settings back in line', async () => {
    const def = await create({ schedule: { kind: 'interval', everyMs: 60_000 } });
    await api.queue.queue.upsertJobScheduler(
      def.id,
      { every: 5_000 },
      { name: 'run', data: { jobId: def.id, version: def.version, trigger: 'schedule' } },
    );
    expect(await reconciler.run()).toMatchObject({ registered: 1 });
    expect(await api.queue.queue.getJobScheduler(def.id)).toMatchObject({ every: 60_000 });
  });

  it('never re-adds a one-time job whose run already has an execution record', async () => {
    const once = await create({ schedule: { kind: 'once', runAt: soon() } });
    await deleteRedisKeys(api.ctx.redisUrl, api.ctx.prefix);
    const runId = onceJobId(once);
    await api.db.models.Execution.collection.insertOne({
      _id: `${runId}.1` as never,
      jobId: new Types.ObjectId(once.id),
      runId,
      attempt: 1,
      status: 'succeeded',
      trigger: 'schedule',
      startedAt: new Date(),
      workerId: 'w',
    });
    const report = await reconciler.run();
    expect(report?.alreadyRan).toBe(1);
    expect(await api.queue.queue.getJob(runId)).toBeUndefined();
  });

  it('runs in one process at a time: a pass is refused while another holds the lease', async () => {
    await redis.set(`${api.ctx.prefix}:lock:reconcile`, 'someone-else', 'PX', 5_000);
    expect(await reconciler.run()).toBeNull();
    await redis.del(`${api.ctx.prefix}:lock:reconcile`);
    expect(await reconciler.run()).not.toBeNull();
  });
});
