import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { composeApi, type ApiOptions, type ComposedApi } from '../../src/bin/container';
import { builtinHandlers, HandlerRegistry } from '../../src/handlers/registry';
import { createLogger } from '../../src/observability/logger';
import { TockMetrics } from '../../src/observability/metrics';
import { connectDatabase, type Database } from '../../src/persistence/mongo';
import { JobQueue } from '../../src/queue/job-queue';
import { createRedis } from '../../src/queue/redis';
import { checkResponse } from './contract';
import { http, type ApiResponse } from './http';
import { TEST_ADMIN_KEY, testSealer } from './keys';
import { cleanup, newTestContext, type TestContext } from './services';

export type { ApiResponse };

export interface ApiHarness {
  ctx: TestContext;
  db: Database;
  queue: JobQueue;
  baseUrl: string;
  keys: ComposedApi['keys'];
  /** Every response is checked against openapi.yaml (unless `checkContract: false`); a mismatch fails the call. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  request<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse<T>>;
  close(): Promise<void>;
}

export interface StartApiOptions {
  /** The Redis of the API's queue; by default the test server (an address nothing answers on plays an outage). */
  redisUrl?: string;
  /** A MongoDB of the test's own to serve (connected here, its database dropped on close); by default a fresh database on the test server. */
  mongoUrl?: string;
  /** Another harness's database and queue prefix, which that harness keeps owning: close() leaves them alone. */
  shared?: Pick<ApiHarness, 'ctx' | 'db'>;
  /** Connect with the driver's command monitoring on, for a test that watches every command (`commandStarted`). */
  monitorCommands?: boolean;
  /** How long a request waits on Redis or MongoDB (composeApi's defaultTimeoutMs); default 30 s. */
  defaultTimeoutMs?: number;
  /** The app's log level; default TEST_LOG_LEVEL, else silent. */
  logLevel?: string;
  /** Check each response against openapi.yaml; default true. A test that checks them itself, with its own exemptions, turns it off. */
  checkContract?: boolean;
  /** Rate limits and quotas (composeApi's defaults otherwise). */
  limits?: ApiOptions['limits'];
  /** CORS origins and the Host allowlist (none by default). */
  access?: ApiOptions['access'];
}

function ownContext(mongoUrl?: string): TestContext {
  const fresh = newTestContext();
  return mongoUrl ? { ...fresh, mongoUrl, dbName: new URL(mongoUrl).pathname.slice(1) } : fresh;
}

/** The real app on an ephemeral port (no worker), against the test Redis and FerretDB unless `opts` say otherwise. */
export async function startApi(opts: StartApiOptions = {}): Promise<ApiHarness> {
  const ctx = opts.shared?.ctx ?? ownContext(opts.mongoUrl);
  const monitor = opts.monitorCommands ? `${ctx.mongoUrl.includes('?') ? '&' : '?'}monitorCommands=true` : '';
  const db = opts.shared?.db ?? (await connectDatabase(`${ctx.mongoUrl}${monitor}`, { ensureIndexes: true }));
  const redis = createRedis(opts.redisUrl ?? ctx.redisUrl, 'command');
  redis.on('error', () => undefined);
  const queue = new JobQueue(redis, { prefix: ctx.prefix });
  const api = composeApi({
    db,
    queue,
    redis,
    registry: new HandlerRegistry(builtinHandlers({ allowPrivateNetworks: false })),
    logger: createLogger(opts.logLevel ?? process.env.TEST_LOG_LEVEL ?? 'silent'),
    adminKey: TEST_ADMIN_KEY,
    sealer: testSealer(),
    defaultTimeoutMs: opts.defaultTimeoutMs ?? 30_000,
    limits: opts.limits,
    access: opts.access,
    metrics: new TockMetrics({ defaultMetrics: false }),
  });
  const server: Server = await new Promise((resolve) => {
    const s = api.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    ctx,
    db,
    queue,
    baseUrl,
    async request(method, path, body, headers = {}) {
      const res = await http(baseUrl, method, path, body, headers);
      if (opts.checkContract === false) return res;
      const problems = checkResponse(method, path, res.status, res.headers.get('content-type'), res.body);
      if (problems.length > 0) {
        const text = typeof res.body === 'string' ? res.body : JSON.stringify(res.body);
        throw new Error(`response does not match openapi.yaml:\n${problems.join('\n')}\nbody: ${text.slice(0, 1000)}`);
      }
      return res;
    },
    keys: api.keys,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await api.close();
      await queue.close();
      redis.disconnect();
      if (!opts.shared) await cleanup(ctx, db);
    },
  };
}

/** The API over the database and queue prefix of `over`, with a Redis that does not answer (1 s timeouts). */
export function startApiWithoutRedis(over: ApiHarness): Promise<ApiHarness> {
  return startApi({ shared: over, redisUrl: 'redis://127.0.0.1:1', defaultTimeoutMs: 1000, logLevel: 'silent' });
}
