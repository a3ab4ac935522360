import { startApi, type ApiHarness } from '../helpers/api-harness';
import { cron, once } from '../helpers/job-bodies';

/**
 * The order of the two writes of a create, for a batch and for POST /jobs alike: one-time jobs all
 * due a minute or more later are registered with BullMQ while MongoDB inserts them; otherwise the
 * insert comes first.
 */
describe('the insert and the registration of a create', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(() => api.close());

  /**
   * Records when the definitions' insert and the BullMQ registration start and end: `insertMany`
   * and `addBulk` for a batch, `insertOne` and `add` for a single definition.
   */
  function watchOrder(opts: { holdInsertUntilRegistered?: boolean } = {}) {
    const order: string[] = [];
    let registered!: () => void;
    const added = new Promise<void>((resolve) => (registered = resolve));
    const collection = api.db.models.Job.collection;
    const queue = api.queue.queue;
    const watched = <T extends object>(
      target: T,
      method: keyof T,
      label: string,
      hooks: { before?: () => Promise<unknown>; after?: () => void },
    ) => {
      const real = (target[method] as (...args: unknown[]) => Promise<unknown>).bind(target);
      return jest.spyOn(target, method as never).mockImplementation((async (...args: unknown[]) => {
        order.push(`${label} start`);
        await hooks.before?.();
        const res = await real(...args);
        order.push(`${label} end`);
        hooks.after?.();
        return res;
      }) as never);
    };
    // Held (at most 5 s) until the jobs are in Redis: a registration that waited for the insert would show as a wrong order.
    const insertHooks = {
      before: opts.holdInsertUntilRegistered ? () => Promise.race([added, new Promise((r) => setTimeout(r, 5000))]) : undefined,
    };
    const spies = [
      watched(collection, 'insertMany', 'insert', insertHooks),
      watched(collection, 'insertOne', 'insert', insertHooks),
      watched(queue, 'addBulk', 'register', { after: registered }),
      watched(queue, 'add', 'register', { after: registered }),
    ];
    return { order, restore: () => spies.forEach((s) => s.mockRestore()) };
  }

  it('registers one-time jobs all due a minute or more later while MongoDB inserts them', async () => {
    const watch = watchOrder({ holdInsertUntilRegistered: true });
    try {
      const jobs = [once('far-1'), once('far-2'), { ...once('far-3'), schedule: { kind: 'delay', delayMs: 60_000 } }, cron('far-cron')];
      const res = await api.request('POST', '/api/v1/jobs/batch', { jobs });
      expect(res.status).toBe(201);
      expect(watch.order).toEqual(['register start', 'insert start', 'register end', 'insert end']);
      for (const r of res.body.results.slice(0, 3)) expect(await api.queue.queue.getJobState(`${r.job.id}-v1`)).toBe('delayed');
      expect(await api.queue.queue.getJobScheduler(res.body.results[3].job.id)).toBeDefined();
    } finally {
      watch.restore();
    }
  });

  it('inserts first when a one-time job of the batch is due within a minute', async () => {
    const watch = watchOrder();
    try {
      const jobs = [once('mixed-far'), { ...once('mixed-near'), schedule: { kind: 'delay', delayMs: 59_000 } }];
      const res = await api.request('POST', '/api/v1/jobs/batch', { jobs });
      expect(res.status).toBe(201);
      expect(watch.order).toEqual(['insert start', 'insert end', 'register start', 'register end']);
      for (const r of res.body.results) expect(await api.queue.queue.getJobState(`${r.job.id}-v1`)).toBe('delayed');
    } finally {
      watch.restore();
    }
  });

  it('POST /jobs goes the same way: a one-time job due a minute or more later is registered while MongoDB inserts it', async () => {
    const watch = watchOrder({ holdInsertUntilRegistered: true });
    try {
      const res = await api.request('POST', '/api/v1/jobs', once('single-far'));
      expect(res.status).toBe(201);
      expect(watch.order).toEqual(['register start', 'insert start', 'register end', 'insert end']);
      expect(await api.queue.queue.getJobState(`${res.body.id}-v1`)).toBe('delayed');
      expect(await api.db.models.Job.countDocuments({ _id: res.body.id })).toBe(1);
    } finally {
      watch.restore();
    }
  });

  it('POST /jobs inserts first when its one-time job is due within a minute', async () => {
    const watch = watchOrder();
    try {
      const res = await api.request('POST', '/api/v1/jobs', { ...once('single-near'), schedule: { kind: 'delay', delayMs: 59_000 } });
      expect(res.status).toBe(201);
      expect(watch.order).toEqual(['insert start', 'insert end', 'register start', 'register end']);
      expect(await api.queue.queue.getJobState(`${res.body.id}-v1`)).toBe('delayed');
    } finally {
      watch.restore();
    }
  });
});
