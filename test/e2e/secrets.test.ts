import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Webhook } from 'standardwebhooks';
import { useCluster } from '../helpers/e2e';
import { figure, startSink, type Sink } from '../helpers/fault';
import { http } from '../helpers/http';
import { ADMIN } from '../helpers/keys';
import { waitFor } from '../helpers/wait-for';

/**
 * A job's secrets (webhook headers, a payload field it marks secret, its signing secret) are used
 * where they are needed, the target, and found nowhere else: not in any API answer, MongoDB
 * collection, Redis key, log line or Bull Board page. Every delivery is signed per Standard
 * Webhooks, verified here with the official package, during a rotation too.
 */
describe('secrets and signed webhooks (API + 1 worker as processes)', () => {
  const e = useCluster({ HTTP_ALLOW_PRIVATE_NETWORKS: 'true', LOG_LEVEL: 'debug', COUNTER_FLUSH_INTERVAL_MS: '100' }, 1);
  const token = `tok-${randomBytes(8).toString('hex')}`;
  const apiKeyHeader = `apikey-${randomBytes(8).toString('hex')}`;
  const password = `pw-${randomBytes(8).toString('hex')}`;
  let sink: Sink;
  /** Runs answered 500 once (their first attempt), to see a retry carry the same webhook-id. */
  const failedOnce = new Set<string>();

  beforeAll(async () => {
    sink = await startSink((req, res) => {
      // The target echoes what it got: a record must not repeat it.
      const run = String(req.headers['webhook-id']);
      if (req.url === '/always-fails' || !failedOnce.has(run)) {
        failedOnce.add(run);
        res.statusCode = 500;
      }
      res.end(JSON.stringify({ echo: req.headers }));
    });
  });
  afterAll(() => sink?.close());

  const job = (path: string, attempts: number) => ({
    name: `secret ${path}`,
    handler: 'http',
    payload: {
      url: `${sink.url}${path}?trace=query-value-${path.slice(1)}`,
      headers: { Authorization: `Bearer ${token}`, 'X-Api-Key': apiKeyHeader },
      body: { password, visible: 'shown' },
    },
    secretFields: ['body.password'],
    schedule: { kind: 'delay', delayMs: 0 },
    retry: { attempts, backoff: { type: 'fixed', delayMs: 200 } },
  });

  it('uses the secrets at the target and nowhere else; signs every delivery', async () => {
    const api = e.cluster.baseUrl;
    const answers: unknown[] = [];
    const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
      const res = await http(api, method, path, body, headers);
      answers.push(res.body);
      return res;
    };
    expect((await call('POST', '/api/v1/jobs', { ...job('/x', 1), payload: { url: `http://user:${token}@127.0.0.1/` } })).status).toBe(400);
    const created = await call('POST', '/api/v1/jobs', job('/ok', 2), { 'Idempotency-Key': 'secret-1' });
    expect(created.status).toBe(201);
    const replay = await call('POST', '/api/v1/jobs', job('/ok', 2), { 'Idempotency-Key': 'secret-1' });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const firstSecret = created.body.signingSecret as string;
    expect(replay.body.signingSecret).toBe(firstSecret);
    expect(created.body.payload).toEqual({
      url: `${sink.url}/ok?trace=query-value-ok`,
      headers: { Authorization: '[redacted]', 'X-Api-Key': '[redacted]' },
      body: { password: '[redacted]', visible: 'shown' },
    });
    const failing = await call('POST', '/api/v1/jobs', job('/always-fails', 1));
    const id = created.body.id as string;

    await waitFor('both runs recorded, the failing one dead-lettered', async () => {
      const ok = await e.db.models.Execution.countDocuments({ jobId: id, status: 'succeeded' });
      const dead = await e.db.models.DeadLetter.countDocuments({ jobId: failing.body.id });
      return ok === 1 && dead === 1;
    });
    const deliveredBefore = sink.hits.filter((h) => h.path.startsWith('/ok')).length;
    const rotated = await call('POST', `/api/v1/jobs/${id}/signing-secret/rotate`);
    const secondSecret = rotated.body.signingSecret as string;
    expect(secondSecret).toMatch(/^whsec_/);
    expect(secondSecret).not.toBe(firstSecret);
    expect((await call('POST', `/api/v1/jobs/${id}/trigger`)).status).toBe(202);
    await waitFor(
      'the manual run to succeed',
      async () => (await e.db.models.Execution.countDocuments({ jobId: id, status: 'succeeded' })) === 2,
    );

    // Signatures: every delivery verifies with the secret it was made under; after the rotation, with both.
    const hits = sink.hits.filter((h) => h.path.startsWith('/ok'));
    expect(hits.length).toBe(4);
    let verified = 0;
    for (const [i, hit] of hits.entries()) {
      const secrets = i < deliveredBefore ? [firstSecret] : [firstSecret, secondSecret];
      for (const secret of secrets) {
        expect(new Webhook(secret).verify(hit.body, hit.headers as Record<string, string>)).toEqual({ password, visible: 'shown' });
        verified++;
      }
      expect(hit.headers.authorization).toBe(`Bearer ${token}`);
    }
    // The two attempts of the first run carry the same webhook-id.
    expect(hits[0]!.headers['webhook-id']).toBe(hits[1]!.headers['webhook-id']);
    expect(hits[2]!.headers['webhook-id']).not.toBe(hits[0]!.headers['webhook-id']);
    figure(
      'secrets.signedDeliveriesVerified',
      `${verified} signatures over ${hits.length} deliveries (${hits.length - 2} after the rotation, verified with both secrets)`,
    );

    // A recorded URL keeps no query values (they often carry tokens).
    const records = await e.db.models.Execution.find({ jobId: id, status: 'succeeded' }).lean();
    expect(records.map((r) => (r.result as { url: string }).url)).toEqual([
      `${sink.url}/ok?trace=%5Bredacted%5D`,
      `${sink.url}/ok?trace=%5Bredacted%5D`,
    ]);

    // Now look everywhere else.
    await call('GET', `/api/v1/jobs/${id}`);
    await call('GET', '/api/v1/jobs?limit=100');
    await call('GET', `/api/v1/jobs/${id}/executions`);
    await call('GET', `/api/v1/jobs/${failing.body.id}/executions`);
    const dead = await call('GET', '/api/v1/dead-letter');
    await call('GET', `/api/v1/dead-letter/${dead.body.items[0].id}`);
    await call('GET', '/api/v1/audit');
    const board: string[] = [];
    for (const path of [
      '/admin/queues',
      '/admin/queues/api/queues?activeQueue=jobs&status=latest',
      '/admin/queues/api/queues?activeQueue=jobs&status=failed',
    ]) {
      board.push(await (await fetch(`${api}${path}`, { headers: ADMIN })).text());
    }
    const places: Record<string, string> = {
      'API answers (signing secrets excepted, where they are shown once)': JSON.stringify(answers)
        .replaceAll(firstSecret, '')
        .replaceAll(secondSecret, ''),
      MongoDB: await dumpMongo(e.db.conn.db!),
      Redis: await dumpRedis(e.ctx.redisUrl, e.ctx.prefix),
      'API log': e.cluster.api.output(),
      'worker log': e.cluster.workers.map((w) => w.output()).join('\n'),
      'Bull Board': board.join('\n'),
    };
    const secrets = { token, apiKeyHeader, password, firstSecret, secondSecret };
    const found: string[] = [];
    for (const [place, text] of Object.entries(places)) {
      for (const [name, secret] of Object.entries(secrets)) if (text.includes(secret)) found.push(`${name} in ${place}`);
    }
    figure('secrets.foundAnywhere', found.length === 0 ? 0 : found.join(', '));
    expect(found).toEqual([]);
    // The places were searched, not empty.
    expect(places.MongoDB).toContain('secret /ok');
    expect(places.Redis!.length).toBeGreaterThan(100);
    expect(places['worker log']).toContain('attempt failed');
  });
});

async function dumpMongo(db: import('mongodb').Db): Promise<string> {
  const parts: string[] = [];
  for (const { name } of await db.listCollections().toArray()) {
    parts.push(name, JSON.stringify(await db.collection(name).find().toArray()));
  }
  return parts.join('\n');
}

/** Every value under the queue prefix, whatever its type. */
async function dumpRedis(url: string, prefix: string): Promise<string> {
  const redis = new Redis(url);
  const parts: string[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', '1000');
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        const value =
          type === 'string'
            ? await redis.get(key)
            : type === 'hash'
              ? await redis.hgetall(key)
              : type === 'list'
                ? await redis.lrange(key, 0, -1)
                : type === 'set'
                  ? await redis.smembers(key)
                  : type === 'zset'
                    ? await redis.zrange(key, '0', '-1')
                    : type === 'stream'
                      ? await redis.xrange(key, '-', '+')
                      : null;
        parts.push(key, JSON.stringify(value));
      }
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return parts.join('\n');
}
