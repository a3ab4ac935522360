import { brotliCompressSync, gzipSync } from 'node:zlib';
import { Types } from 'mongoose';
import { startApi, type ApiHarness } from '../helpers/api-harness';
import { ADMIN } from '../helpers/keys';

const future = (ms: number) => new Date(Date.now() + ms).toISOString();
const noopCron = { name: 'tick', handler: 'noop', schedule: { kind: 'cron', expression: '*/5 * * * * *' } };

describe('REST API against real Redis and FerretDB', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(async () => {
    await api.close();
  });

  it('creates each schedule kind with its BullMQ counterpart', async () => {
    const once = await api.request('POST', '/api/v1/jobs', {
      name: 'o',
      handler: 'noop',
      schedule: { kind: 'once', runAt: future(60_000) },
    });
    expect(once.status).toBe(201);
    expect(once.headers.get('location')).toBe(`/api/v1/jobs/${once.body.id}`);
    expect(once.headers.get('etag')).toBe('"1"');
    expect(await api.queue.queue.getJob(`${once.body.id}-v1`)).toBeDefined();

    const delay = await api.request('POST', '/api/v1/jobs', {
      name: 'd',
      handler: 'sleep',
      payload: { durationMs: 1 },
      schedule: { kind: 'delay', delayMs: 60_000 },
    });
    expect(delay.status).toBe(201);
    expect(await api.queue.queue.getJobState(`${delay.body.id}-v1`)).toBe('delayed');

    for (const schedule of [
      { kind: 'interval', everyMs: 60_000, limit: 5 },
      { kind: 'cron', expression: '0 9 * * 1-5', timezone: 'Europe/Berlin' },
    ]) {
      const res = await api.request('POST', '/api/v1/jobs', { name: 'r', handler: 'noop', schedule });
      expect(res.status).toBe(201);
      expect(res.body.nextRunAt).not.toBeNull();
      const scheduler = await api.queue.queue.getJobScheduler(res.body.id);
      expect(scheduler?.key).toBe(res.body.id);
    }
  });

  it.each([
    [{ ...noopCron, schedule: { kind: 'cron', expression: '99 * * * *' } }, 'schedule.expression'],
    [{ ...noopCron, schedule: { kind: 'cron', expression: '* * * * *', timezone: 'Nowhere/City' } }, 'schedule.timezone'],
    [{ ...noopCron, schedule: { kind: 'once', runAt: '2001-01-01T00:00:00Z' } }, 'schedule.runAt'],
    [{ ...noopCron, schedule: { kind: 'interval', everyMs: 'often' } }, 'schedule.everyMs'],
    [{ ...noopCron, retry: { attempts: 26 } }, 'retry.attempts'],
    [{ ...noopCron, owner: 'me' }, 'owner'],
    [{ ...noopCron, handler: 'shell' }, 'handler'],
    [{ ...noopCron, handler: 'http', payload: { url: 'ftp://x' } }, 'payload.url'],
    [{ ...noopCron, name: '' }, 'name'],
    [{ ...noopCron, handler: 'sleep', payload: { durationMs: 5, extra: 1 } }, 'payload.extra'],
  ])('answers 400 problem+json naming the field (%#)', async (body, field) => {
    const res = await api.request('POST', '/api/v1/jobs', body);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(field);
  });

  it('rejects malformed JSON, huge bodies and non-JSON without creating anything', async () => {
    const before = await api.db.models.Job.countDocuments();
    expect((await api.request('POST', '/api/v1/jobs', '{"name":')).status).toBe(400);
    expect((await api.request('POST', '/api/v1/jobs', JSON.stringify({ ...noopCron, name: 'x'.repeat(2 * 1024 * 1024) }))).status).toBe(
      413,
    );
    expect((await api.request('POST', '/api/v1/jobs', 'name=x', { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
    expect(await api.db.models.Job.countDocuments()).toBe(before);
  });

  it('answers 400 for a body that does not decompress as its Content-Encoding says, and creates nothing', async () => {
    const before = await api.db.models.Job.countDocuments();
    const json = Buffer.from(JSON.stringify(noopCron));
    const variants: [string, Buffer][] = [
      ['gzip', json],
      ['gzip', gzipSync(json).subarray(0, 12)],
      ['gzip', brotliCompressSync(json)],
      ['deflate', json],
      ['br', json],
      ['br', gzipSync(json)],
    ];
    for (const [encoding, body] of variants) {
      const res = await api.request('POST', '/api/v1/jobs', body, { 'content-encoding': encoding });
      expect({ encoding, status: res.status, path: res.body.errors?.[0]?.path }).toEqual({ encoding, status: 400, path: 'body' });
    }
    // The same body, compressed as it says, is accepted.
    expect((await api.request('POST', '/api/v1/jobs', gzipSync(json), { 'content-encoding': 'gzip' })).status).toBe(201);
    expect(await api.db.models.Job.countDocuments()).toBe(before + 1);
  });

  it('refuses fields in the body of actions that take none (pause, resume, trigger, cancel, retry)', async () => {
    const id = (await api.request('POST', '/api/v1/jobs', noopCron)).body.id;
    for (const action of ['pause', 'resume', 'trigger', 'cancel']) {
      const res = await api.request('POST', `/api/v1/jobs/${id}/${action}`, { note: 'x' });
      expect({ action, status: res.status, errors: res.body.errors }).toEqual({
        action,
        status: 400,
        errors: [{ path: 'note', message: 'is not a known field' }],
      });
    }
    expect((await api.request('POST', '/api/v1/dead-letter/nope/retry', { bogus: 1 })).status).toBe(400);
    expect((await api.request('POST', `/api/v1/jobs/${id}/trigger`, {})).status).toBe(202);
    expect((await api.request('POST', `/api/v1/jobs/${id}/trigger`)).status).toBe(202);
    expect((await api.request('GET', `/api/v1/jobs/${id}`)).body.status).toBe('scheduled');
  });

  it('refuses a webhook to a private literal address at create, naming HTTP_ALLOW_PRIVATE_NETWORKS', async () => {
    const res = await api.request('POST', '/api/v1/jobs', {
      name: 'internal',
      handler: 'http',
      payload: { url: 'http://169.254.169.254/latest/meta-data' },
      schedule: { kind: 'delay', delayMs: 1000 },
    });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ path: 'payload.url', message: expect.stringMatching(/HTTP_ALLOW_PRIVATE_NETWORKS=true/) }]);
  });

  it('answers a URL that does not parse with a 400 naming it, not a 500 from the host check', async () => {
    for (const url of ['not a url', 'http://', 'https://[::1']) {
      const res = await api.request('POST', '/api/v1/jobs', {
        name: 'bad',
        handler: 'http',
        payload: { url },
        schedule: { kind: 'delay', delayMs: 1000 },
      });
      expect({ url, status: res.status, paths: res.body.errors?.map((e: { path: string }) => e.path) }).toEqual({
        url,
        status: 400,
        paths: ['payload.url'],
      });
    }
  });

  it('answers 404 for unknown and malformed ids', async () => {
    expect((await api.request('GET', '/api/v1/jobs/000000000000000000000000')).status).toBe(404);
    expect((await api.request('GET', '/api/v1/jobs/not-an-id')).status).toBe(404);
    expect((await api.request('GET', '/api/v1/executions/nope')).status).toBe(404);
    expect((await api.request('POST', '/api/v1/dead-letter/nope/retry')).status).toBe(404);
  });

  it("lists a job's history newest first, page by page and by status; 404 for an unknown or malformed id", async () => {
    const created = await api.request('POST', '/api/v1/jobs', noopCron);
    const id = created.body.id as string;
    const t = Date.now() - 60_000;
    await api.db.models.Execution.collection.insertMany(
      (['succeeded', 'failed', 'succeeded'] as const).map((status, i) => ({
        _id: `${id}-m-${i}.1` as never,
        jobId: new Types.ObjectId(id),
        runId: `${id}-m-${i}`,
        attempt: 1,
        status,
        trigger: 'manual',
        scheduledFor: new Date(t + i * 1000),
        startedAt: new Date(t + i * 1000),
        finishedAt: new Date(t + i * 1000 + 5),
        durationMs: 5,
        driftMs: 0,
        workerId: 'w',
        error: null,
        result: null,
      })),
    );
    const first = await api.request('GET', `/api/v1/jobs/${id}/executions?limit=2`);
    expect(first.status).toBe(200);
    expect(first.body.items.map((r: { runId: string }) => r.runId)).toEqual([`${id}-m-2`, `${id}-m-1`]);
    const rest = await api.request('GET', `/api/v1/jobs/${id}/executions?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`);
    expect(rest.body).toMatchObject({ items: [{ runId: `${id}-m-0` }], nextCursor: null });
    const failed = await api.request('GET', `/api/v1/jobs/${id}/executions?status=failed`);
    expect(failed.body.items.map((r: { runId: string }) => r.runId)).toEqual([`${id}-m-1`]);
    expect((await api.request('GET', `/api/v1/jobs/${id}/executions?cursor=garbage`)).status).toBe(400);

    expect((await api.request('GET', '/api/v1/jobs/000000000000000000000000/executions')).status).toBe(404);
    // Unknown job and a bad cursor: the job's absence is what is answered.
    expect((await api.request('GET', '/api/v1/jobs/000000000000000000000000/executions?cursor=garbage')).status).toBe(404);
    expect((await api.request('GET', '/api/v1/jobs/not-an-id/executions')).status).toBe(404);
  });

  it('keeps operators out of queries', async () => {
    const res = await api.request('GET', '/api/v1/jobs?status[$ne]=x');
    expect(res.status).toBe(400);
    expect((await api.request('GET', '/api/v1/jobs?status=scheduled&status=paused')).status).toBe(400);
  });

  it('pauses, resumes, and refuses to pause a finished job', async () => {
    const created = await api.request('POST', '/api/v1/jobs', noopCron);
    const id = created.body.id;
    const paused = await api.request('POST', `/api/v1/jobs/${id}/pause`);
    expect(paused.body).toMatchObject({ status: 'paused', nextRunAt: null, version: 2 });
    expect(await api.queue.queue.getJobScheduler(id)).toBeUndefined();
    const resumed = await api.request('POST', `/api/v1/jobs/${id}/resume`);
    expect(resumed.body.status).toBe('scheduled');
    expect(await api.queue.queue.getJobScheduler(id)).toBeDefined();

    await api.db.models.Job.updateOne({ _id: id }, { $set: { status: 'completed' } });
    const conflict = await api.request('POST', `/api/v1/jobs/${id}/pause`);
    expect(conflict.status).toBe(409);
  });

  it('PATCH re-registers the BullMQ side and honours If-Match', async () => {
    const created = await api.request('POST', '/api/v1/jobs', {
      name: 'o',
      handler: 'noop',
      schedule: { kind: 'once', runAt: future(60_000) },
    });
    const id = created.body.id;
    const stale = await api.request('PATCH', `/api/v1/jobs/${id}`, { name: 'x' }, { 'if-match': '"7"' });
    expect(stale.status).toBe(412);
    const patched = await api.request(
      'PATCH',
      `/api/v1/jobs/${id}`,
      { schedule: { kind: 'once', runAt: future(120_000) } },
      { 'if-match': '"1"' },
    );
    expect(patched.status).toBe(200);
    expect(patched.headers.get('etag')).toBe('"2"');
    expect(await api.queue.queue.getJob(`${id}-v1`)).toBeUndefined();
    expect(await api.queue.queue.getJob(`${id}-v2`)).toBeDefined();
    const badPayload = await api.request('PATCH', `/api/v1/jobs/${id}`, { payload: { unexpected: true } });
    expect(badPayload.status).toBe(400);
    expect(badPayload.body.errors).toEqual([{ path: 'payload.unexpected', message: 'is not a known field' }]);
  });

  it('DELETE honours If-Match', async () => {
    const created = await api.request('POST', '/api/v1/jobs', noopCron);
    expect((await api.request('DELETE', `/api/v1/jobs/${created.body.id}`, undefined, { 'if-match': '"9"' })).status).toBe(412);
    expect(await api.queue.queue.getJobScheduler(created.body.id)).toBeDefined();
    expect((await api.request('DELETE', `/api/v1/jobs/${created.body.id}`, undefined, { 'if-match': '"1"' })).status).toBe(204);
  });

  it('DELETE removes the definition and its BullMQ counterpart', async () => {
    const created = await api.request('POST', '/api/v1/jobs', noopCron);
    const id = created.body.id;
    expect((await api.request('DELETE', `/api/v1/jobs/${id}`)).status).toBe(204);
    expect(await api.queue.queue.getJobScheduler(id)).toBeUndefined();
    expect((await api.request('GET', `/api/v1/jobs/${id}`)).status).toBe(404);
  });

  it('trigger enqueues one extra run without moving the schedule', async () => {
    const created = await api.request('POST', '/api/v1/jobs', noopCron);
    const before = await api.queue.queue.getJobScheduler(created.body.id);
    const res = await api.request('POST', `/api/v1/jobs/${created.body.id}/trigger`);
    expect(res.status).toBe(202);
    const job = await api.queue.queue.getJob(res.body.runId);
    expect(job?.data).toEqual({ jobId: created.body.id, version: 1, trigger: 'manual' });
    expect((await api.queue.queue.getJobScheduler(created.body.id))?.next).toBe(before?.next);
  });

  it('lists with filters and keyset pagination', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await api.request('POST', '/api/v1/jobs', { ...noopCron, handler: 'simulate' })).body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: { id: string; handler: string }[]; nextCursor: string | null } } = await api.request(
        'GET',
        `/api/v1/jobs?handler=simulate&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.body.items.every((j) => j.handler === 'simulate')).toBe(true);
      seen.push(...res.body.items.map((j) => j.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    const soon = await api.request('GET', `/api/v1/jobs?scheduleKind=cron&nextRunBefore=${encodeURIComponent(future(3_600_000))}`);
    expect(soon.body.items.length).toBeGreaterThanOrEqual(5);
    const times = soon.body.items.map((j: { nextRunAt: string }) => Date.parse(j.nextRunAt));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect((await api.request('GET', '/api/v1/jobs?cursor=garbage')).status).toBe(400);
  });

  it('reports readiness of both dependencies', async () => {
    const res = await api.request('GET', '/health/ready');
    expect(res.status).toBe(200);
    expect(res.body.checks.redis.status).toBe('ok');
    expect(res.body.checks.mongodb.status).toBe('ok');
  });

  it('serves the spec, Swagger UI and Bull Board with nothing from another host, under a CSP', async () => {
    expect((await fetch(`${api.baseUrl}/openapi.yaml`)).status).toBe(200);
    // Without a key, Bull Board sends a browser to the sign-in page.
    const anonymous = await fetch(`${api.baseUrl}/admin/queues`, { redirect: 'manual', headers: { accept: 'text/html' } });
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get('location')).toBe('/login?next=%2Fadmin%2Fqueues');
    for (const page of ['/docs', '/admin/queues']) {
      const res = await fetch(`${api.baseUrl}${page}`, { headers: ADMIN });
      const html = await res.text();
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'.*frame-ancestors 'none'/);
      const refs = [...html.matchAll(/<(?:script|link)\b[^>]*?(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
      expect(refs.length).toBeGreaterThan(2);
      expect({ page, external: refs.filter((u) => /^(https?:)?\/\//.test(u)) }).toEqual({ page, external: [] });
      const base = /<base href="([^"]+)"/.exec(html)?.[1] ?? `${page}/`;
      for (const ref of refs) {
        const asset = await fetch(new URL(ref, new URL(base, api.baseUrl)), { headers: ADMIN });
        expect({ ref, status: asset.status }).toEqual({ ref, status: 200 });
        await asset.arrayBuffer();
      }
    }
    expect(await (await fetch(`${api.baseUrl}/docs`)).text()).toMatch(/swagger-ui-bundle\.js/);
  });

  it("Bull Board is read-only: its actions change nothing; runs carry the definition's name", async () => {
    const once = await api.request('POST', '/api/v1/jobs', {
      name: 'report for Alice',
      handler: 'noop',
      schedule: { kind: 'delay', delayMs: 600_000 },
    });
    const cron = await api.request('POST', '/api/v1/jobs', {
      name: 'nightly',
      handler: 'noop',
      schedule: { kind: 'cron', expression: '0 3 * * *' },
    });
    const runId = `${once.body.id}-v1`;
    const board = (method: string, path: string, body?: unknown) =>
      fetch(`${api.baseUrl}/admin/queues/api/queues/jobs${path}`, {
        method,
        headers: { ...ADMIN, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    expect((await board('PUT', `/${runId}/promote`)).status).toBe(405);
    expect((await board('PATCH', `/job-schedulers/${cron.body.id}`, { every: 5000 })).status).toBe(405);
    expect((await board('PUT', `/job-schedulers/${cron.body.id}/remove`)).status).toBe(405);
    expect((await board('PUT', '/obliterate')).status).toBe(405);
    expect(await api.queue.queue.getJobState(runId)).toBe('delayed');
    const scheduler = await api.queue.queue.getJobScheduler(cron.body.id);
    expect(scheduler).toMatchObject({ pattern: '0 3 * * *', name: 'nightly' });
    expect((await api.queue.queue.getJob(runId))?.name).toBe('report for Alice');
  });
});

describe('when Redis is unreachable', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi({ redisUrl: 'redis://127.0.0.1:1' });
  });
  afterAll(async () => {
    await api.close();
  });

  it('answers 503 with Retry-After within 2.5 s and leaves no half-created job', async () => {
    const started = Date.now();
    const res = await api.request('POST', '/api/v1/jobs', noopCron);
    expect(Date.now() - started).toBeLessThan(2500);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBeTruthy();
    expect(await api.db.models.Job.countDocuments()).toBe(0);
    expect((await api.request('GET', '/health/ready')).status).toBe(503);
    expect((await api.request('GET', '/api/v1/jobs')).status).toBe(200);
  });
});
