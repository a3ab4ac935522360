import { startApi, type ApiHarness } from '../helpers/api-harness';

/** The `notify` field of a job: validated like a webhook URL, shown as stored, replaced as a whole. */
describe('notification targets', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(() => api.close());

  const job = (notify: unknown) => ({ name: 'n', handler: 'noop', schedule: { kind: 'cron', expression: '0 3 * * *' }, notify });

  it('refuses what cannot or must not be called, naming the field', async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ onFailure: 'http://127.0.0.1:8080/hook' }, 'notify.onFailure', /HTTP_ALLOW_PRIVATE_NETWORKS/],
      [{ onDeadLetter: 'http://169.254.169.254/latest' }, 'notify.onDeadLetter', /HTTP_ALLOW_PRIVATE_NETWORKS/],
      [{ onMisfire: 'ftp://example.com/x' }, 'notify.onMisfire', /http or https/],
      [{ onFailure: 'https://user:pw@example.com/x' }, 'notify.onFailure', /credentials/],
      [{ onFailure: 'not a url' }, 'notify.onFailure', /http or https/],
      [{ onSuccess: 'https://example.com/x' }, 'notify.onSuccess', /not a known field/],
    ];
    for (const [notify, path, message] of cases) {
      const res = await api.request('POST', '/api/v1/jobs', job(notify));
      expect({ notify, status: res.status }).toEqual({ notify, status: 400 });
      const error = (res.body.errors as { path: string; message: string }[]).find((e) => e.path === path);
      expect({ notify, error: error?.path, message: message.test(`${error?.message}`) }).toEqual({ notify, error: path, message: true });
    }
    expect(await api.db.models.Job.countDocuments()).toBe(0);
  });

  it('stores the targets, shows them, and a PATCH replaces or removes them', async () => {
    const notify = { onFailure: 'https://hooks.example.com/failures?team=ops', onDeadLetter: 'https://hooks.example.com/dlq' };
    const created = await api.request('POST', '/api/v1/jobs', job(notify));
    expect(created.status).toBe(201);
    expect(created.body.notify).toEqual(notify);
    const id = created.body.id as string;
    expect((await api.request('GET', `/api/v1/jobs/${id}`)).body.notify).toEqual(notify);

    const replaced = await api.request('PATCH', `/api/v1/jobs/${id}`, { notify: { onMisfire: 'https://hooks.example.com/skips' } });
    expect(replaced.body.notify).toEqual({ onMisfire: 'https://hooks.example.com/skips' });
    const removed = await api.request('PATCH', `/api/v1/jobs/${id}`, { notify: null });
    expect(removed.body.notify).toEqual({});
    expect((await api.db.models.Job.findById(id).lean())!.notify).toEqual({});
    const plain = await api.request('POST', '/api/v1/jobs', { ...job(undefined), notify: undefined });
    expect(plain.body.notify).toEqual({});
  });
});
