import { startApi, type ApiHarness } from '../helpers/api-harness';
import { cron } from '../helpers/job-bodies';

/** Create bodies the store cannot hold: operators, dotted keys, NUL, deep nesting, nested arrays (single and batch). */
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
