import { startApi, startApiWithoutRedis, type ApiHarness } from '../helpers/api-harness';
import { cron, once } from '../helpers/job-bodies';

/**
 * POST /api/v1/jobs/batch: each item answered on its own, one insertMany and one addBulk for the
 * lot, the envelope's own 400s, and what is undone when the store or Redis refuses items.
 */
describe('POST /jobs/batch', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(() => api.close());

  it('creates every valid item and answers each item on its own', async () => {
    const jobs = [
      once('b-once'),
      { name: 'b-delay', handler: 'sleep', payload: { durationMs: 1 }, schedule: { kind: 'delay', delayMs: 600_000 } },
      { name: 'b-every', handler: 'noop', schedule: { kind: 'interval', everyMs: 60_000 } },
      cron('b-cron'),
      { ...cron('bad'), schedule: { kind: 'interval', everyMs: 5 } },
      { ...once('past'), schedule: { kind: 'once', runAt: '2001-01-01T00:00:00Z' } },
      { ...once('op'), payload: { $where: 'sleep(1)' } },
      'not an object',
    ];
    const res = await api.request('POST', '/api/v1/jobs/batch', { jobs });
    expect(res.status).toBe(207);
    expect(res.body.results.map((r: { index: number; status: number }) => [r.index, r.status])).toEqual([
      [0, 201],
      [1, 201],
      [2, 201],
      [3, 201],
      [4, 400],
      [5, 400],
      [6, 400],
      [7, 400],
    ]);
    const paths = (i: number) => res.body.results[i].problem.errors.map((e: { path: string }) => e.path);
    expect(paths(4)).toContain('schedule.everyMs');
    expect(paths(5)).toContain('schedule.runAt');
    expect(paths(6)).toContain('payload.$where');
    const [o, d, e, c] = res.body.results.slice(0, 4).map((r: { job: { id: string } }) => r.job.id);
    expect(await api.queue.queue.getJobState(`${o}-v1`)).toBe('delayed');
    expect(await api.queue.queue.getJobState(`${d}-v1`)).toBe('delayed');
    expect((await api.queue.queue.getJobScheduler(e))?.key).toBe(e);
    expect((await api.queue.queue.getJobScheduler(c))?.key).toBe(c);
    const stored = await api.db.models.Job.find({ _id: { $in: [o, d, e, c] } }).lean();
    expect(stored.map((j) => j.name).sort()).toEqual(['b-cron', 'b-delay', 'b-every', 'b-once']);
    expect(await api.db.models.Job.countDocuments({ name: { $in: ['bad', 'past', 'op'] } })).toBe(0);
    // The stored job reads back like one made by POST /jobs.
    const one = await api.request('GET', `/api/v1/jobs/${o}`);
    expect(one.body).toMatchObject({ name: 'b-once', status: 'scheduled', version: 1, runCount: 0 });
  });

  it('writes 1,000 definitions with one insertMany and one addBulk', async () => {
    const ops: string[] = [];
    const listener = (ev: { collectionName: string; method: string }) => ops.push(`${ev.collectionName}.${ev.method}`);
    api.db.conn.on('operation-start', listener);
    const addBulk = jest.spyOn(api.queue.queue, 'addBulk');
    const add = jest.spyOn(api.queue.queue, 'add');
    try {
      const jobs = Array.from({ length: 1000 }, (_, i) => (i % 10 === 0 ? cron(`bulk-${i}`) : once(`bulk-${i}`)));
      const started = Date.now();
      const res = await api.request('POST', '/api/v1/jobs/batch', { jobs });
      process.stdout.write(`batch of 1,000: ${res.status} in ${Date.now() - started} ms\n`);
      expect(res.status).toBe(201);
      expect(res.body.results).toHaveLength(1000);
      expect(res.body.results.every((r: { status: number; index: number }, i: number) => r.status === 201 && r.index === i)).toBe(true);
      expect(ops.filter((op) => op.startsWith('jobs.'))).toEqual(['jobs.insertMany']);
      expect(addBulk).toHaveBeenCalledTimes(1);
      expect(add).not.toHaveBeenCalled();
      expect(await api.db.models.Job.countDocuments({ name: /^bulk-/ })).toBe(1000);
      expect(await api.queue.queue.getDelayedCount()).toBeGreaterThanOrEqual(900);
      expect((await api.queue.queue.getJobSchedulers(0, -1)).filter((s) => s.name.startsWith('bulk-')).length).toBeGreaterThanOrEqual(100);
    } finally {
      api.db.conn.off('operation-start', listener);
      addBulk.mockRestore();
      add.mockRestore();
    }
  });

  const delayedIds = async () => new Set((await api.queue.queue.getDelayed()).map((j) => j.id!));

  it('removes the job registered ahead of an item the store refused', async () => {
    const before = await delayedIds();
    const refused = { ...once('refused'), handler: 'http', payload: { url: 'http://example.test/', body: [[1, 2]] } };
    const res = await api.request('POST', '/api/v1/jobs/batch', { jobs: [refused, once('kept')] });
    expect(res.status).toBe(207);
    expect(res.body.results.map((r: { status: number }) => r.status)).toEqual([400, 201]);
    const added = [...(await delayedIds())].filter((id) => !before.has(id));
    expect(added).toEqual([`${res.body.results[1].job.id}-v1`]);
    expect(await api.db.models.Job.countDocuments({ name: 'refused' })).toBe(0);
  });

  it.each([
    [{}, 'jobs'],
    [{ jobs: [] }, 'jobs'],
    [{ jobs: Array.from({ length: 1001 }, () => ({})) }, 'jobs'],
    [{ jobs: [once('x')], extra: 1 }, 'extra'],
    [[once('x')], '(root)'],
  ])('answers 400 for an invalid envelope (%#)', async (body, field) => {
    const before = await api.db.models.Job.countDocuments();
    const res = await api.request('POST', '/api/v1/jobs/batch', body);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(field);
    expect(await api.db.models.Job.countDocuments()).toBe(before);
  });

  it('deletes the items BullMQ did not take and answers them 503', async () => {
    const broken = await startApiWithoutRedis(api);
    try {
      const jobs = [...Array.from({ length: 20 }, (_, i) => once(`nr-o${i}`)), ...Array.from({ length: 20 }, (_, i) => cron(`nr-c${i}`))];
      jobs.push({ ...once('nr-bad'), handler: 'shell' });
      const started = Date.now();
      const res = await broken.request('POST', '/api/v1/jobs/batch', { jobs });
      const elapsed = Date.now() - started;
      const body = res.body as { results: { status: number; problem?: { type: string } }[] };
      expect(res.status).toBe(207);
      expect(res.headers.get('retry-after')).toBeTruthy();
      expect(body.results.slice(0, 40).every((r) => r.status === 503 && r.problem?.type === 'https://tock.dev/problems/unavailable')).toBe(
        true,
      );
      expect(body.results[40]!.status).toBe(400);
      // Fails fast: one Redis timeout for the batch, not one per item (the addBulk runs with the insert here).
      expect(elapsed).toBeLessThan(3500);
      expect(await api.db.models.Job.countDocuments({ name: /^nr-/ })).toBe(0);
    } finally {
      await broken.close();
    }
  });
});
