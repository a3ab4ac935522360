import { testSealer } from '../helpers/keys';
import { requestFingerprint } from '../../src/api/middleware/idempotency';
import { IdempotencyRepository } from '../../src/persistence/idempotency-repository';
import { startApi, startApiWithoutRedis, type ApiHarness } from '../helpers/api-harness';
import { cron, once } from '../helpers/job-bodies';

/** Idempotency-Key on POST /jobs and POST /jobs/batch: replays, reuse with another body, races, expiry. */
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

    const broken = await startApiWithoutRedis(api);
    try {
      const res = await broken.request('POST', '/api/v1/jobs', once('idem-4'), { 'idempotency-key': 'key-4' });
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
        _id: 'POST /jobs admin key-5',
        fingerprint: 'x',
        state: 'done',
        owner: 'o',
        lockedUntil: past,
        expiresAt: past,
        status: 201,
        headers: {},
        body: testSealer().seal('{}'),
      },
      {
        _id: 'POST /jobs admin key-6',
        fingerprint: 'x',
        state: 'pending',
        owner: 'o',
        lockedUntil: past,
        expiresAt: new Date(Date.now() + 60_000),
      },
      {
        _id: 'POST /jobs admin old',
        fingerprint: 'x',
        state: 'done',
        owner: 'o',
        lockedUntil: past,
        expiresAt: past,
        status: 201,
        headers: {},
        body: testSealer().seal('{}'),
      },
    ] as never[]);
    expect((await post(once('idem-5'), 'key-5')).status).toBe(201);
    expect((await post(once('idem-6'), 'key-6')).status).toBe(201);
    expect(await api.db.models.Job.countDocuments({ name: { $in: ['idem-5', 'idem-6'] } })).toBe(2);
    expect(await new IdempotencyRepository(api.db.models, testSealer()).prune()).toBe(1);
    expect(await api.db.models.Idempotency.countDocuments({ _id: 'POST /jobs admin old' })).toBe(0);
  });

  it('answers 409 with Retry-After while another request with the key is still running', async () => {
    const body = once('idem-7');
    const soon = new Date(Date.now() + 60_000);
    await api.db.models.Idempotency.collection.insertOne({
      _id: 'POST /jobs admin key-7',
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
