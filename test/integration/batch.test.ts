import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { composeApi } from '../../src/bin/container';
import { requestFingerprint } from '../../src/api/middleware/idempotency';
import { IdempotencyRepository } from '../../src/persistence/idempotency-repository';
import { builtinHandlers, HandlerRegistry } from '../../src/handlers/registry';
import { createLogger } from '../../src/observability/logger';
import { JobQueue } from '../../src/queue/job-queue';
import { createRedis } from '../../src/queue/redis';
import { startApi, type ApiHarness } from '../helpers/api-harness';

const future = (ms: number) => new Date(Date.now() + ms).toISOString();
const once = (name: string) => ({ name, handler: 'noop', schedule: { kind: 'once', runAt: future(600_000) } });
const cron = (name: string) => ({ name, handler: 'noop', schedule: { kind: 'cron', expression: '0 9 * * *' } });

/** The API over the same database as `api`, but with a Redis that does not answer. */
async function apiWithoutRedis(api: ApiHarness): Promise<{ url: string; close(): Promise<void> }> {
  const redis = createRedis('redis://127.0.0.1:1', 'command');
  redis.on('error', () => undefined);
  const queue = new JobQueue(redis, { prefix: api.ctx.prefix });
  const app = composeApi({
    db: api.db,
    queue,
    registry: new HandlerRegistry(builtinHandlers({ allowPrivateNetworks: false })),
    logger: createLogger('silent'),
    defaultTimeoutMs: 1000,
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await queue.close();
      redis.disconnect();
    },
  };
}

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

  const delayedIds = async () => new Set((await api.queue.queue.getDelayed()).map((j) => j.id!));

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
    const broken = await apiWithoutRedis(api);
    try {
      const jobs = [...Array.from({ length: 20 }, (_, i) => once(`nr-o${i}`)), ...Array.from({ length: 20 }, (_, i) => cron(`nr-c${i}`))];
      jobs.push({ ...once('nr-bad'), handler: 'shell' });
      const started = Date.now();
      const res = await fetch(`${broken.url}/api/v1/jobs/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jobs }),
      });
      const elapsed = Date.now() - started;
      const body = (await res.json()) as { results: { status: number; problem?: { type: string } }[] };
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

describe('POST /jobs/trigger', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(() => api.close());

  it('queues one manual run per listed id, and answers an unknown id 404 on its own', async () => {
    const a = (await api.request('POST', '/api/v1/jobs', cron('t-a'))).body.id as string;
    const b = (await api.request('POST', '/api/v1/jobs', once('t-b'))).body.id as string;
    const missing = '0123456789abcdef01234567';
    const before = await api.queue.queue.getJobScheduler(a);
    const res = await api.request('POST', '/api/v1/jobs/trigger', { jobIds: [a, b, a, missing, 'not-an-id'] });
    expect(res.status).toBe(207);
    const results = res.body.results as { index: number; status: number; jobId?: string; runId?: string; problem?: { status: number } }[];
    expect(results.map((r) => [r.index, r.status, r.jobId])).toEqual([
      [0, 202, a],
      [1, 202, b],
      [2, 202, a],
      [3, 404, undefined],
      [4, 404, undefined],
    ]);
    expect(results[3]!.problem?.status).toBe(404);
    const runIds = results.slice(0, 3).map((r) => r.runId!);
    expect(new Set(runIds).size).toBe(3);
    for (const [i, runId] of runIds.entries()) {
      const job = await api.queue.queue.getJob(runId);
      expect(job?.data).toEqual({ jobId: [a, b, a][i], version: 1, trigger: 'manual' });
      expect(job?.opts.attempts).toBeGreaterThanOrEqual(1);
    }
    // The schedule does not move, as with POST /jobs/{id}/trigger.
    expect((await api.queue.queue.getJobScheduler(a))?.next).toBe(before?.next);
  });

  it('answers 202 when every run was queued', async () => {
    const a = (await api.request('POST', '/api/v1/jobs', cron('t-all'))).body.id as string;
    const res = await api.request('POST', '/api/v1/jobs/trigger', { jobIds: Array.from({ length: 1000 }, () => a) });
    expect(res.status).toBe(202);
    expect(res.body.results).toHaveLength(1000);
    expect(await api.queue.queue.getJob(res.body.results[999].runId)).toBeDefined();
  });

  it('answers 400 naming the field for a body that is not 1 to 1,000 ids, and queues nothing', async () => {
    const a = (await api.request('POST', '/api/v1/jobs', cron('t-bad'))).body.id as string;
    const waiting = await api.queue.queue.getWaitingCount();
    const cases: [unknown, string][] = [
      [{}, 'jobIds'],
      [{ jobIds: [] }, 'jobIds'],
      [{ jobIds: Array.from({ length: 1001 }, () => a) }, 'jobIds'],
      [{ jobIds: [a, 7] }, 'jobIds.1'],
      [{ jobIds: [a, ''] }, 'jobIds.1'],
      [{ jobIds: [a], extra: 1 }, 'extra'],
    ];
    for (const [body, path] of cases) {
      const res = await api.request('POST', '/api/v1/jobs/trigger', body);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    expect(await api.queue.queue.getWaitingCount()).toBe(waiting);
  });

  it('answers 503 and queues nothing while Redis is down', async () => {
    const a = (await api.request('POST', '/api/v1/jobs', cron('t-down'))).body.id as string;
    const broken = await apiWithoutRedis(api);
    try {
      const waiting = await api.queue.queue.getWaitingCount();
      const res = await fetch(`${broken.url}/api/v1/jobs/trigger`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jobIds: [a, a] }),
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(await api.queue.queue.getWaitingCount()).toBe(waiting);
    } finally {
      await broken.close();
    }
  });
});

describe('bodies MongoDB cannot store', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(() => api.close());
  const http = (body: unknown, headers: Record<string, string> = {}) => ({
    ...cron('store'),
    handler: 'http',
    payload: { url: 'http://example.test/', body, headers },
  });

  it.each([
    [http({ $where: '1' }), 'payload.body.$where'],
    [http({ 'a.b': 1 }), 'payload.body.a.b'],
    [http('a\u0000b'), 'payload.body'],
    [http(1, { 'X.Trace': 'x' }), 'payload.headers.X.Trace'],
    [{ ...cron('store'), name: { $ne: 1 } }, 'name.$ne'],
  ])('answers 400 naming the field (%#)', async (body, field) => {
    const res = await api.request('POST', '/api/v1/jobs', body);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(field);
  });

  it('answers 400 for JSON nested 10,000 levels deep, and for nesting the store refuses', async () => {
    const deep = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
    const res = await api.request(
      'POST',
      '/api/v1/jobs',
      `{"name":"d","handler":"noop","schedule":{"kind":"delay","delayMs":1},"payload":${deep}}`,
    );
    expect(res.status).toBe(400);
    expect(res.body.errors[0].message).toMatch(/nested deeper than 64/);
    // FerretDB stores no nested arrays: its refusal is a 400 too, per item in a batch.
    const nested = await api.request('POST', '/api/v1/jobs/batch', { jobs: [http([[1, 2]]), cron('fine')] });
    expect(nested.status).toBe(207);
    expect(nested.body.results.map((r: { status: number }) => r.status)).toEqual([400, 201]);
    // A single create is one insertOne: the same refusal, the same answer.
    const single = await api.request('POST', '/api/v1/jobs', http([[1, 2]]));
    expect(single.status).toBe(400);
    expect(single.body.errors[0].message).toMatch(/refused by the store/);
    expect(await api.db.models.Job.countDocuments({ name: 'store' })).toBe(0);
  });
});

describe('Idempotency-Key', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(() => api.close());
  const post = (body: unknown, key: string, path = '/api/v1/jobs') => api.request('POST', path, body, { 'Idempotency-Key': key });

  it('returns the first response for a repeated key and creates one job', async () => {
    const body = once('idem-1');
    const first = await post(body, 'key-1');
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    // Same body with its keys in another order: the same request.
    const { schedule, ...rest } = body;
    const again = await post({ schedule: { runAt: schedule.runAt, kind: 'once' }, ...rest }, 'key-1');
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('location')).toBe(first.headers.get('location'));
    expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(await api.db.models.Job.countDocuments({ name: 'idem-1' })).toBe(1);
  });

  it('answers 422 naming the header when the key comes back with another body', async () => {
    expect((await post(once('idem-2'), 'key-2')).status).toBe(201);
    const other = await post(once('idem-2-other'), 'key-2');
    expect(other.status).toBe(422);
    expect(other.body.errors).toEqual([{ path: 'Idempotency-Key', message: expect.any(String) }]);
    expect(await api.db.models.Job.countDocuments({ name: /^idem-2/ })).toBe(1);
  });

  it('creates exactly one job when 20 requests with the same key race', async () => {
    const body = cron('idem-race');
    const responses = await Promise.all(Array.from({ length: 20 }, () => post(body, 'key-race')));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
    expect(responses.filter((r) => r.headers.get('idempotent-replayed') === null)).toHaveLength(1);
    expect(await api.db.models.Job.countDocuments({ name: 'idem-race' })).toBe(1);
  });

  it('does not use up the key when the request fails (400, or 503 while Redis is down)', async () => {
    const invalid = await post({ ...once('idem-3'), handler: 'shell' }, 'key-3');
    expect(invalid.status).toBe(400);
    expect((await post(once('idem-3'), 'key-3')).status).toBe(201);

    const broken = await apiWithoutRedis(api);
    try {
      const res = await fetch(`${broken.url}/api/v1/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'key-4' },
        body: JSON.stringify(once('idem-4')),
      });
      expect(res.status).toBe(503);
    } finally {
      await broken.close();
    }
    const retried = await post(once('idem-4'), 'key-4');
    expect(retried.status).toBe(201);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect(await api.db.models.Job.countDocuments({ name: 'idem-4' })).toBe(1);
  });

  it('treats expired and abandoned records as absent, and prunes expired ones', async () => {
    const past = new Date(Date.now() - 1000);
    await api.db.models.Idempotency.collection.insertMany([
      {
        _id: 'POST /jobs key-5',
        fingerprint: 'x',
        state: 'done',
        owner: 'o',
        lockedUntil: past,
        expiresAt: past,
        status: 201,
        headers: {},
        body: '{}',
      },
      {
        _id: 'POST /jobs key-6',
        fingerprint: 'x',
        state: 'pending',
        owner: 'o',
        lockedUntil: past,
        expiresAt: new Date(Date.now() + 60_000),
      },
      {
        _id: 'POST /jobs old',
        fingerprint: 'x',
        state: 'done',
        owner: 'o',
        lockedUntil: past,
        expiresAt: past,
        status: 201,
        headers: {},
        body: '{}',
      },
    ] as never[]);
    expect((await post(once('idem-5'), 'key-5')).status).toBe(201);
    expect((await post(once('idem-6'), 'key-6')).status).toBe(201);
    expect(await api.db.models.Job.countDocuments({ name: { $in: ['idem-5', 'idem-6'] } })).toBe(2);
    expect(await new IdempotencyRepository(api.db.models).prune()).toBe(1);
    expect(await api.db.models.Idempotency.countDocuments({ _id: 'POST /jobs old' })).toBe(0);
  });

  it('answers 409 with Retry-After while another request with the key is still running', async () => {
    const body = once('idem-7');
    const soon = new Date(Date.now() + 60_000);
    await api.db.models.Idempotency.collection.insertOne({
      _id: 'POST /jobs key-7',
      fingerprint: requestFingerprint('POST', '/api/v1/jobs', body),
      state: 'pending',
      owner: 'someone',
      lockedUntil: soon,
      expiresAt: soon,
    } as never);
    const started = Date.now();
    const res = await post(body, 'key-7');
    expect(res.status).toBe(409);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(Date.now() - started).toBeGreaterThanOrEqual(4500);
    expect(await api.db.models.Job.countDocuments({ name: 'idem-7' })).toBe(0);
  });

  it('rejects a malformed key', async () => {
    const res = await post(once('idem-8'), 'x'.repeat(256));
    expect(res.status).toBe(400);
    expect(res.body.errors[0].path).toBe('Idempotency-Key');
  });

  it('works on POST /jobs/batch, scoped apart from POST /jobs', async () => {
    const body = { jobs: [once('idem-b1'), cron('idem-b2')] };
    const first = await post(body, 'key-9', '/api/v1/jobs/batch');
    const again = await post(body, 'key-9', '/api/v1/jobs/batch');
    expect(first.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await api.db.models.Job.countDocuments({ name: /^idem-b/ })).toBe(2);
    // The same key on POST /jobs is another key.
    expect((await post(once('idem-b3'), 'key-9')).status).toBe(201);
  });
});
