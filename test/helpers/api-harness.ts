import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { composeApi } from '../../src/bin/container';
import { builtinHandlers, HandlerRegistry } from '../../src/handlers/registry';
import { createLogger } from '../../src/observability/logger';
import type { Database } from '../../src/persistence/mongo';
import { JobQueue } from '../../src/queue/job-queue';
import { createRedis } from '../../src/queue/redis';
import { checkResponse } from './contract';
import { cleanup, newTestContext, openDatabase, type TestContext } from './services';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface ApiHarness {
  ctx: TestContext;
  db: Database;
  queue: JobQueue;
  baseUrl: string;
  /** Every response is checked against openapi.yaml; a mismatch fails the call. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  request<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse<T>>;
  close(): Promise<void>;
}

/** The real app on an ephemeral port, against the test Redis and FerretDB (no worker). */
export async function startApi(opts: { redisUrl?: string } = {}): Promise<ApiHarness> {
  const ctx = newTestContext();
  const db = await openDatabase(ctx);
  const redis = createRedis(opts.redisUrl ?? ctx.redisUrl, 'command');
  redis.on('error', () => undefined);
  const queue = new JobQueue(redis, { prefix: ctx.prefix });
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const app = composeApi({
    db,
    queue,
    registry: new HandlerRegistry(builtinHandlers({ allowPrivateNetworks: false })),
    logger,
    defaultTimeoutMs: 30_000,
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    ctx,
    db,
    queue,
    baseUrl,
    async request(method, path, body, headers = {}) {
      const init: RequestInit = { method, headers: { ...headers } };
      if (body !== undefined) {
        init.body = typeof body === 'string' || body instanceof Uint8Array ? (body as RequestInit['body']) : JSON.stringify(body);
        (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
      }
      const res = await fetch(`${baseUrl}${path}`, init);
      const text = await res.text();
      const type = res.headers.get('content-type');
      const parsed: unknown = text && type && /json/.test(type) ? JSON.parse(text) : text;
      const problems = checkResponse(method, path, res.status, type, parsed);
      if (problems.length > 0)
        throw new Error(`response does not match openapi.yaml:\n${problems.join('\n')}\nbody: ${text.slice(0, 1000)}`);
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      return { status: res.status, headers: res.headers, body: parsed as any };
    },
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await queue.close();
      redis.disconnect();
      await cleanup(ctx, db);
    },
  };
}
