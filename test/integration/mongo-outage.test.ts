import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPostgresDatabase, dropPostgresDatabase, startFerretDb, type LocalServer } from '../../src/embedded/local-servers';
import { startApi, type ApiHarness } from '../helpers/api-harness';
import { checkResponse } from '../helpers/contract';
import { waitFor } from '../helpers/wait-for';

/**
 * The API against its own FerretDB, which the test stops and starts again on the same port: every
 * route answers 503 problem+json with Retry-After within ~2 s while it is down (never 500, never a
 * hang), and the same API process works again once it is back.
 */
describe('when MongoDB is unreachable', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tock-mongo-outage-'));
  const pgName = `tock_outage_${process.pid}_${Date.now()}`;
  let postgresUrl: string | undefined;
  let ferret: LocalServer;
  let api: ApiHarness;

  const call = async (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) => {
    const started = performance.now();
    const res = await api.request<{ id?: string; type?: string }>(method, url, body, headers);
    const ms = performance.now() - started;
    return { ...res, ms, contract: checkResponse(method, url, res.status, res.headers.get('content-type'), res.body) };
  };

  beforeAll(async () => {
    postgresUrl = (await createPostgresDatabase(pgName)) ?? undefined;
    ferret = await startFerretDb({ dir: path.join(dir, 'ferretdb'), postgresUrl });
    // The contract is asserted where the test says so, outside the timed request.
    api = await startApi({ mongoUrl: ferret.url, defaultTimeoutMs: 1000, checkContract: false });
  }, 60_000);

  afterAll(async () => {
    await api?.close();
    await ferret?.stop();
    if (postgresUrl) await dropPostgresDatabase(pgName);
  });

  it('answers 503 on every route within ~2 s, then recovers without a restart', async () => {
    const job = { name: 'outage', handler: 'noop', schedule: { kind: 'cron', expression: '0 9 * * *' } };
    const created = await call('POST', '/api/v1/jobs', job);
    expect(created.status).toBe(201);
    const id = created.body.id!;

    await ferret.stop();
    const requests: [string, string, unknown?, Record<string, string>?][] = [
      ['GET', '/api/v1/jobs'],
      ['GET', '/api/v1/jobs?status=scheduled&nextRunBefore=2099-01-01T00:00:00Z'],
      ['POST', '/api/v1/jobs', job],
      ['POST', '/api/v1/jobs', job, { 'Idempotency-Key': 'outage-1' }],
      ['POST', '/api/v1/jobs/batch', { jobs: [job, job] }],
      ['GET', `/api/v1/jobs/${id}`],
      ['PATCH', `/api/v1/jobs/${id}`, { name: 'renamed' }],
      ['DELETE', `/api/v1/jobs/${id}`],
      ['POST', `/api/v1/jobs/${id}/pause`],
      ['POST', `/api/v1/jobs/${id}/resume`],
      ['POST', `/api/v1/jobs/${id}/trigger`],
      ['GET', `/api/v1/jobs/${id}/executions`],
      ['GET', '/api/v1/executions/run.1'],
      ['GET', '/api/v1/dead-letter'],
      ['GET', '/api/v1/dead-letter/run'],
      ['POST', '/api/v1/dead-letter/run/retry'],
      ['DELETE', '/api/v1/dead-letter/run'],
    ];
    const figures: string[] = [];
    let slowest = 0;
    for (const [method, url, body, headers] of requests) {
      const res = await call(method, url, body, headers);
      figures.push(`${method} ${url.split('?')[0]} ${res.status} ${Math.round(res.ms)} ms`);
      slowest = Math.max(slowest, res.ms);
      expect({ route: `${method} ${url}`, status: res.status, type: res.body.type }).toEqual({
        route: `${method} ${url}`,
        status: 503,
        type: 'https://tock.dev/problems/unavailable',
      });
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(res.contract).toEqual([]);
      // 2 s of server selection, plus scheduling on a loaded 2-core machine.
      expect(res.ms).toBeLessThan(3000);
    }
    const ready = await call('GET', '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.ms).toBeLessThan(3000);
    expect((await call('GET', '/health/live')).status).toBe(200);
    process.stdout.write(
      `MongoDB down: ${requests.length} routes answered 503, slowest ${Math.round(slowest)} ms\n  ${figures.join('\n  ')}\n`,
    );

    const restarted = Date.now();
    ferret = await startFerretDb({ port: ferret.port, dir: path.join(dir, 'ferretdb'), postgresUrl });
    await waitFor('the API to read again', async () => (await call('GET', '/api/v1/jobs')).status === 200, {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    process.stdout.write(`MongoDB back: API answered 200 again ${Date.now() - restarted} ms after the restart began\n`);
    expect((await call('GET', '/health/ready')).status).toBe(200);
    const again = await call('POST', '/api/v1/jobs', job, { 'Idempotency-Key': 'outage-1' });
    expect(again.status).toBe(201);
    expect((await call('GET', `/api/v1/jobs/${id}`)).status).toBe(200);
    // Nothing was created or deleted while it was down (the batch and the first POST left nothing behind).
    expect(await api.db.models.Job.countDocuments()).toBe(2);
  });

  const far = (name: string) => ({
    name,
    handler: 'noop',
    schedule: { kind: 'once', runAt: new Date(Date.now() + 600_000).toISOString() },
  });
  it.each([
    ['a batch', '/api/v1/jobs/batch', () => ({ jobs: [far('lost-1'), far('lost-2'), far('lost-3')] }), 3],
    ['a single create', '/api/v1/jobs', () => far('lost-single'), 1],
  ])('removes the jobs %s registered ahead of its insert when the insert fails', async (_what, url, body, count) => {
    const delayedIds = async () => new Set((await api.queue.queue.getDelayed()).map((j) => j.id!));
    const before = await delayedIds();
    // The insert (insertMany for a batch, insertOne for a single create) is held until MongoDB is down, then sent for real.
    const collection = api.db.models.Job.collection;
    const method = count === 1 ? 'insertOne' : 'insertMany';
    const insert = (collection[method] as (...args: unknown[]) => Promise<unknown>).bind(collection);
    let entered!: () => void;
    let release!: () => void;
    const insertCalled = new Promise<void>((resolve) => (entered = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    const spy = jest.spyOn(collection, method as never).mockImplementation((async (...args: unknown[]) => {
      entered();
      await released;
      return insert(...args);
    }) as never);
    try {
      const pending = call('POST', url, body());
      await insertCalled;
      await waitFor('the jobs registered ahead of the insert', async () => (await delayedIds()).size === before.size + count);
      await ferret.stop();
      release();
      const res = await pending;
      expect(res.status).toBe(503);
      expect(res.contract).toEqual([]);
      expect(await delayedIds()).toEqual(before);
    } finally {
      release();
      spy.mockRestore();
    }
    ferret = await startFerretDb({ port: ferret.port, dir: path.join(dir, 'ferretdb'), postgresUrl });
    await waitFor('the API to read again', async () => (await call('GET', '/api/v1/jobs')).status === 200, { timeoutMs: 30_000 });
    expect(await api.db.models.Job.countDocuments({ name: /^lost-/ })).toBe(0);
  });
});
