import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tockEnv, useFaultContext } from '../helpers/fault';
import { http } from '../helpers/http';
import { spawnApi, spawnTock } from '../helpers/processes';
import { waitFor } from '../helpers/wait-for';

/** API keys across API processes, and where the admin and encryption keys come from. */
describe('API keys (API processes)', () => {
  const f = useFaultContext();

  it('a revoked key stops working at once on every API process', async () => {
    const [a, b] = await Promise.all([spawnApi(tockEnv(f.ctx)), spawnApi(tockEnv(f.ctx))]);
    f.procs.push(a.api, b.api);
    const made = await http(a.baseUrl, 'POST', '/api/v1/keys', { name: 'shared', scopes: ['jobs:read'] });
    const key = { authorization: `Bearer ${made.body.key}` };
    // B has looked the key up and caches it.
    expect((await http(b.baseUrl, 'GET', '/api/v1/jobs', undefined, key)).status).toBe(200);
    expect((await http(a.baseUrl, 'DELETE', `/api/v1/keys/${made.body.id}`)).status).toBe(204);
    // Pub/sub carries the revocation within milliseconds; the cache would keep it for a minute.
    const started = Date.now();
    await waitFor('B to refuse the key', async () => (await http(b.baseUrl, 'GET', '/api/v1/jobs', undefined, key)).status === 401, {
      timeoutMs: 3000,
      intervalMs: 20,
    });
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('the admin and encryption keys', () => {
  it('in development: generated once under DATA_DIR, readable by its owner only, and printed with a curl line', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tock-keys-'));
    const env = {
      ...tockEnv({ redisUrl: process.env.TOCK_TEST_REDIS_URL!, mongoUrl: process.env.TOCK_TEST_MONGODB_URL!, prefix: 'keys-dev' }),
      NODE_ENV: 'development',
      DATA_DIR: dataDir,
      TOCK_ADMIN_KEY: '',
      TOCK_ENCRYPTION_KEY: '',
    };
    try {
      const { api, baseUrl } = await spawnApi(env);
      try {
        const key = readFileSync(path.join(dataDir, 'admin-key'), 'utf8').trim();
        expect(statSync(path.join(dataDir, 'admin-key')).mode & 0o777).toBe(0o600);
        expect(statSync(path.join(dataDir, 'encryption-key')).mode & 0o777).toBe(0o600);
        expect(statSync(dataDir).mode & 0o777).toBe(0o700);
        expect(api.output()).toContain(`curl -H \\"Authorization: Bearer $(cat ${path.join(dataDir, 'admin-key')})\\" ${baseUrl}`);
        expect((await http(baseUrl, 'GET', '/api/v1/jobs', undefined, { authorization: `Bearer ${key}` })).status).toBe(200);
        expect((await http(baseUrl, 'GET', '/api/v1/jobs')).status).toBe(401);
      } finally {
        await api.kill('SIGTERM');
      }
      // A second start keeps the same keys.
      const before = readFileSync(path.join(dataDir, 'admin-key'), 'utf8');
      const again = await spawnApi(env);
      await again.api.kill('SIGTERM');
      expect(readFileSync(path.join(dataDir, 'admin-key'), 'utf8')).toBe(before);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it.each([
    ['api', { TOCK_ADMIN_KEY: '' }, /TOCK_ADMIN_KEY is not set/],
    ['api', { TOCK_ENCRYPTION_KEY: '' }, /TOCK_ENCRYPTION_KEY is not set/],
    ['worker', { TOCK_ENCRYPTION_KEY: '' }, /TOCK_ENCRYPTION_KEY is not set/],
  ] as const)('in production, a %s without %j refuses to start and names the variable', async (kind, unset, message) => {
    const env = {
      ...tockEnv({ redisUrl: process.env.TOCK_TEST_REDIS_URL!, mongoUrl: process.env.TOCK_TEST_MONGODB_URL!, prefix: 'keys-prod' }),
      NODE_ENV: 'production',
      ...unset,
    };
    const proc = spawnTock(kind, `${kind}-prod`, env);
    const code = await new Promise<number | null>((resolve) => proc.child.once('exit', resolve));
    expect(code).not.toBe(0);
    expect(proc.output()).toMatch(message);
  });
});
