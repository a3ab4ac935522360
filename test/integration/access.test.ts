import { readFileSync } from 'node:fs';
import nodeHttp from 'node:http';
import { parse } from 'yaml';
import { OPENAPI_PATH } from '../../src/api/app';
import { startApi, type ApiHarness } from '../helpers/api-harness';
import { figure } from '../helpers/fault';
import { http } from '../helpers/http';
import { ADMIN } from '../helpers/keys';

/**
 * API keys and scopes, over every route: no key, a key without the scope, a revoked key and the
 * right key each get what they should. Then the rate limit, the quotas, the audit log, sessions
 * and what cross-site requests can do.
 */
const noop = (name: string) => ({ name, handler: 'noop', schedule: { kind: 'cron', expression: '0 3 * * *' } });
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('API keys and scopes', () => {
  let api: ApiHarness;
  const keys: Record<string, string> = {};
  let jobId: string;

  beforeAll(async () => {
    api = await startApi();
    for (const [name, scopes] of Object.entries({
      reader: ['jobs:read'],
      writer: ['jobs:write'],
      retrier: ['dead-letter:write'],
      admin2: ['admin'],
      scraper: ['metrics:read'],
      revoked: ['jobs:read', 'jobs:write', 'dead-letter:write', 'admin'],
    })) {
      const res = await api.request('POST', '/api/v1/keys', { name, scopes });
      expect(res.status).toBe(201);
      expect(res.body.key).toMatch(/^tock_[0-9a-f]{12}_/);
      keys[name] = res.body.key;
    }
    const list = await api.request('GET', '/api/v1/keys?limit=100');
    const revoked = list.body.items.find((k: { name: string }) => k.name === 'revoked');
    expect((await api.request('DELETE', `/api/v1/keys/${revoked.id}`)).status).toBe(204);
    jobId = (await api.request('POST', '/api/v1/jobs', noop('target'))).body.id;
  });
  afterAll(() => api.close());

  it('lists keys without the key itself, and stores only its hash', async () => {
    const list = await api.request('GET', '/api/v1/keys?limit=100');
    expect(list.body.items.map((k: { name: string }) => k.name).sort()).toEqual([
      'admin2',
      'reader',
      'retrier',
      'revoked',
      'scraper',
      'writer',
    ]);
    expect(JSON.stringify(list.body)).not.toMatch(/tock_[0-9a-f]{12}_/);
    const stored = JSON.stringify(await api.db.models.ApiKey.find().lean());
    for (const key of Object.values(keys)) expect(stored).not.toContain(/^tock_[0-9a-f]{12}_(.+)$/.exec(key)![1]);
  });

  it('answers every route: 401 without a key or with a revoked one, 403 without the scope, and serves the right key', async () => {
    const entry = 'no-such-entry';
    // method, path, the scope it needs, a body
    const routes: [string, string, string, unknown?][] = [
      ['GET', '/api/v1/jobs', 'reader'],
      ['POST', '/api/v1/jobs', 'writer', noop('made')],
      ['POST', '/api/v1/jobs/batch', 'writer', { jobs: [noop('batch')] }],
      ['POST', '/api/v1/jobs/trigger', 'writer', { jobIds: [jobId] }],
      ['GET', `/api/v1/jobs/${jobId}`, 'reader'],
      ['PATCH', `/api/v1/jobs/${jobId}`, 'writer', { name: 'renamed' }],
      ['POST', `/api/v1/jobs/${jobId}/pause`, 'writer'],
      ['POST', `/api/v1/jobs/${jobId}/resume`, 'writer'],
      ['POST', `/api/v1/jobs/${jobId}/trigger`, 'writer'],
      ['POST', `/api/v1/jobs/${jobId}/cancel`, 'writer'],
      ['POST', `/api/v1/jobs/${jobId}/signing-secret/rotate`, 'writer'],
      ['GET', `/api/v1/jobs/${jobId}/executions`, 'reader'],
      ['GET', `/api/v1/jobs/${jobId}/executions/latest`, 'reader'],
      ['GET', `/api/v1/jobs/${jobId}/stats`, 'reader'],
      ['GET', '/api/v1/overview', 'reader'],
      ['GET', '/api/v1/schedules/preview?kind=interval&everyMs=60000', 'reader'],
      ['GET', '/api/v1/executions/no-such-run.1', 'reader'],
      ['GET', '/api/v1/dead-letter', 'reader'],
      ['GET', `/api/v1/dead-letter/${entry}`, 'reader'],
      ['POST', `/api/v1/dead-letter/${entry}/retry`, 'retrier'],
      ['DELETE', `/api/v1/dead-letter/${entry}`, 'retrier'],
      ['GET', '/api/v1/keys', 'admin2'],
      ['POST', '/api/v1/keys', 'admin2', { name: 'another', scopes: ['jobs:read'] }],
      ['DELETE', '/api/v1/keys/no-such-key', 'admin2'],
      ['GET', '/api/v1/audit', 'admin2'],
      ['GET', '/admin/queues/api/queues', 'admin2'],
      ['GET', '/metrics', 'scraper'],
      ['DELETE', `/api/v1/jobs/${jobId}`, 'writer'],
    ];
    // Every operation of the contract under /api/v1 is in the matrix, but the one any key may call.
    const anyKey = ['GET /api/v1/session'];
    const contract = parse(readFileSync(OPENAPI_PATH, 'utf8')) as { paths: Record<string, Record<string, unknown>> };
    const template = (path: string) => new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/?]+')}(\\?.*)?$`);
    for (const [path, ops] of Object.entries(contract.paths).filter(([p]) => p.startsWith('/api/v1/'))) {
      for (const method of Object.keys(ops).filter((m) => m !== 'parameters')) {
        const covered =
          anyKey.includes(`${method.toUpperCase()} ${path}`) ||
          routes.some(([m, p]) => m === method.toUpperCase() && template(path).test(p));
        expect({ operation: `${method.toUpperCase()} ${path}`, covered }).toEqual({
          operation: `${method.toUpperCase()} ${path}`,
          covered: true,
        });
      }
    }
    const table: string[] = [];
    for (const [method, path, right, body] of routes) {
      const wrong = right === 'reader' ? 'retrier' : 'reader';
      const call = async (headers: Record<string, string>) => (await http(api.baseUrl, method, path, body, headers)).status;
      const statuses = {
        none: await call({ authorization: '' }),
        wrongScope: await call(bearer(keys[wrong]!)),
        revoked: await call(bearer(keys.revoked!)),
        right: await call(bearer(keys[right]!)),
      };
      table.push(`${method} ${path.replace(jobId, '{id}')}: ${JSON.stringify(statuses)}`);
      expect({ route: `${method} ${path}`, none: statuses.none, wrongScope: statuses.wrongScope, revoked: statuses.revoked }).toEqual({
        route: `${method} ${path}`,
        none: 401,
        wrongScope: 403,
        revoked: 401,
      });
      expect({ route: `${method} ${path}`, authorized: ![401, 403].includes(statuses.right) }).toEqual({
        route: `${method} ${path}`,
        authorized: true,
      });
    }
    figure('access.routeMatrix', `\n  ${table.join('\n  ')}`);
  });

  it('admin may do everything; /health, /openapi.yaml and /docs need no key', async () => {
    expect((await api.request('GET', '/api/v1/jobs', undefined, bearer(keys.admin2!))).status).toBe(200);
    // Checked against the contract (text/plain, the Prometheus format) like every harness request.
    const metrics = await api.request('GET', '/metrics', undefined, bearer(keys.admin2!));
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^tock_http_requests_total\{route="\/api\/v1\/jobs",method="GET",status="200"\} \d+$/m);
    for (const path of ['/health/live', '/health/ready', '/openapi.yaml', '/docs', '/login']) {
      expect({ path, status: (await fetch(`${api.baseUrl}${path}`)).status }).toEqual({ path, status: 200 });
    }
    const res = await api.request('GET', '/api/v1/jobs', undefined, { authorization: '' });
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="tock"');
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });

  it('records who changed what in the audit log, paged', async () => {
    const made = await api.request('POST', '/api/v1/jobs', noop('audited'), bearer(keys.writer!));
    await api.request('POST', `/api/v1/jobs/${made.body.id}/pause`, undefined, bearer(keys.writer!));
    const entries = await waitForAudit(api, made.body.id, 2);
    expect(entries.map((e) => [e.action, e.keyName, e.version])).toEqual([
      ['job.pause', 'writer', 2],
      ['job.create', 'writer', 1],
    ]);
    const page = await api.request('GET', '/api/v1/audit?limit=2');
    expect(page.body.items).toHaveLength(2);
    expect(page.body.nextCursor).toEqual(expect.any(String));
    const next = await api.request('GET', `/api/v1/audit?limit=2&cursor=${page.body.nextCursor}`);
    expect(next.body.items[0].id).not.toBe(page.body.items[1].id);
  });

  it('counts the triggers of one job by one key in one entry instead of one per run', async () => {
    const made = await api.request('POST', '/api/v1/jobs', noop('triggered often'), bearer(keys.writer!));
    const id = made.body.id as string;
    const res = await api.request('POST', '/api/v1/jobs/trigger', { jobIds: [id, id, id, id, id] }, bearer(keys.writer!));
    expect(res.status).toBe(202);
    const entries = (await waitForAudit(api, id, 2)) as unknown as { action: string; count: number; at: string; lastAt: string }[];
    const triggers = entries.filter((e) => e.action === 'job.trigger');
    expect(triggers.map((e) => e.count)).toEqual([5]);
    expect(Date.parse(triggers[0]!.lastAt)).toBeGreaterThanOrEqual(Date.parse(triggers[0]!.at));
    expect(entries.find((e) => e.action === 'job.create')?.count).toBe(1);
  });
});

async function waitForAudit(api: ApiHarness, jobId: string, n: number): Promise<{ action: string; keyName: string; version: number }[]> {
  for (let i = 0; i < 100; i++) {
    const res = await api.request('GET', `/api/v1/audit?jobId=${jobId}`);
    if (res.body.items.length >= n) return res.body.items;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the audit entries were not written');
}

describe('limits per key', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi({ limits: { requestsPerMinute: 10, jobsPerKey: 2, triggersPerMinute: 2 } });
  });
  afterAll(() => api.close());
  const keyWith = async (name: string, scopes: string[]) =>
    (await api.request('POST', '/api/v1/keys', { name, scopes })).body.key as string;

  it('answers 429 with Retry-After past the rate limit; the admin key is not limited', async () => {
    const key = await keyWith('chatty', ['jobs:read']);
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await api.request('GET', '/api/v1/jobs', undefined, bearer(key))).status);
    expect(statuses).toEqual([...Array<number>(10).fill(200), 429, 429]);
    const limited = await api.request('GET', '/api/v1/jobs', undefined, bearer(key));
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    for (let i = 0; i < 10; i++) expect((await api.request('GET', '/api/v1/jobs', undefined, ADMIN)).status).toBe(200);
  });

  it('caps the jobs a key owns and the runs it triggers per minute', async () => {
    const key = await keyWith('busy', ['jobs:write']);
    const a = await api.request('POST', '/api/v1/jobs', noop('a'), bearer(key));
    expect(a.body.ownerKeyId).toEqual(expect.any(String));
    expect((await api.request('POST', '/api/v1/jobs', noop('b'), bearer(key))).status).toBe(201);
    const third = await api.request('POST', '/api/v1/jobs', noop('c'), bearer(key));
    expect(third.status).toBe(429);
    expect(third.body.detail).toMatch(/QUOTA_JOBS_PER_KEY/);
    expect(await api.db.models.Job.countDocuments({ name: 'c' })).toBe(0);
    // Deleting one gives the quota back.
    expect((await api.request('DELETE', `/api/v1/jobs/${a.body.id}`, undefined, bearer(key))).status).toBe(204);
    const again = await api.request('POST', '/api/v1/jobs', noop('c'), bearer(key));
    expect(again.status).toBe(201);
    const triggers = [];
    for (let i = 0; i < 3; i++)
      triggers.push((await api.request('POST', `/api/v1/jobs/${again.body.id}/trigger`, undefined, bearer(key))).status);
    expect(triggers).toEqual([202, 202, 429]);
  });
});

describe('browsers: sessions and cross-site requests', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi({ access: { corsOrigins: ['https://dashboard.example'] } });
  });
  afterAll(() => api.close());

  const signIn = async (apiKey: string) => {
    const res = await fetch(`${api.baseUrl}/ui/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiKey }),
    });
    return { res, cookie: (res.headers.get('set-cookie') ?? '').split(';')[0]! };
  };

  it('exchanges a key for an HttpOnly, SameSite=Strict session; a bad key gets 401', async () => {
    const { res } = await signIn(ADMIN.authorization.slice(7));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ keyId: 'admin', name: 'TOCK_ADMIN_KEY', scopes: ['admin'] });
    expect(res.headers.get('set-cookie')).toMatch(/^tock_session=[^;]+; path=\/; .*samesite=strict; httponly/i);
    expect((await signIn('tock_000000000000_nope-nope-nope-nope-nope-nope-nope')).res.status).toBe(401);
    // A page on another site cannot sign a browser in.
    const foreign = await fetch(`${api.baseUrl}/ui/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body: JSON.stringify({ apiKey: ADMIN.authorization.slice(7) }),
    });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('set-cookie')).toBeNull();
  });

  it('changes made with the session must be JSON from this origin', async () => {
    const { cookie } = await signIn(ADMIN.authorization.slice(7));
    const job = (await api.request('POST', '/api/v1/jobs', noop('csrf'))).body.id;
    const pause = (headers: Record<string, string>) =>
      fetch(`${api.baseUrl}/api/v1/jobs/${job}/pause`, { method: 'POST', headers: { cookie, ...headers } });
    expect((await fetch(`${api.baseUrl}/api/v1/jobs/${job}`, { headers: { cookie } })).status).toBe(200);
    expect((await pause({})).status).toBe(415);
    expect((await pause({ 'content-type': 'text/plain' })).status).toBe(415);
    expect((await pause({ 'content-type': 'application/json', origin: 'https://evil.example' })).status).toBe(403);
    expect((await api.request('GET', `/api/v1/jobs/${job}`)).body.status).toBe('scheduled');
    expect((await pause({ 'content-type': 'application/json', origin: api.baseUrl })).status).toBe(200);
    // A form post never reaches Bull Board's API, even with the session.
    const form = await fetch(`${api.baseUrl}/admin/queues/api/queues/jobs/add`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=x&data=%7B%7D',
    });
    expect(form.status).toBe(415);
  });

  it('signs out, and a revoked key ends its sessions', async () => {
    const made = await api.request('POST', '/api/v1/keys', { name: 'browser', scopes: ['jobs:read'] });
    const { cookie } = await signIn(made.body.key);
    expect((await fetch(`${api.baseUrl}/api/v1/session`, { headers: { cookie } })).status).toBe(200);
    await api.request('DELETE', `/api/v1/keys/${made.body.id}`);
    expect((await fetch(`${api.baseUrl}/api/v1/session`, { headers: { cookie } })).status).toBe(401);
    const out = await fetch(`${api.baseUrl}/ui/session`, { method: 'DELETE' });
    expect(out.headers.get('set-cookie')).toMatch(/^tock_session=;/);
  });

  it('allows only the listed origins cross-origin (CORS), and sends none to others', async () => {
    const preflight = (origin: string) =>
      fetch(`${api.baseUrl}/api/v1/jobs`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
    expect((await preflight('https://dashboard.example')).headers.get('access-control-allow-origin')).toBe('https://dashboard.example');
    expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('Host allowlist (DNS rebinding)', () => {
  it('answers 421 for a Host it does not serve', async () => {
    const api = await startApi({ access: { allowedHosts: ['tock.internal'] } });
    try {
      const get = (host: string) =>
        new Promise<number>((resolve, reject) => {
          const url = new URL(`${api.baseUrl}/health/live`);
          nodeHttp
            .get({ host: url.hostname, port: url.port, path: url.pathname, headers: { host } }, (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            })
            .on('error', reject);
        });
      expect(await get('evil.example')).toBe(421);
      expect(await get('tock.internal')).toBe(200);
    } finally {
      await api.close();
    }
  });
});
