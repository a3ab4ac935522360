import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsExposition } from '../observability/metrics';

/** One readiness check: resolves when the dependency is fine, rejects (or resolves false) when not. */
export interface ProbeCheck {
  name: string;
  check(): Promise<boolean | void>;
}

export interface ProbeServerOptions {
  port: number;
  host?: string;
  /** Omitted (METRICS_ENABLED=false): /metrics answers 404. */
  metrics?: MetricsExposition;
  /** /health/ready is 200 only when each of these passes (redis, mongodb, consuming). */
  checks: ProbeCheck[];
  checkTimeoutMs?: number;
}

/**
 * The worker's own small HTTP server (node:http, no framework): `/metrics` in the Prometheus text
 * format, `/health/live` (200 while the process runs) and `/health/ready` (200 only while it is
 * connected to Redis and MongoDB and consuming runs, otherwise 503 naming the failed check). It is
 * unauthenticated: it listens on the worker's own port, meant for the cluster network only
 * (docs/design/metrics.md says why).
 */
export class ProbeServer {
  private server: Server | undefined;

  constructor(private readonly opts: ProbeServerOptions) {}

  /** Listens; resolves with the port bound (WORKER_METRICS_PORT=0 picks a free one). */
  async listen(): Promise<number> {
    const server = createServer((req, res) => void this.answer(req, res));
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host ?? '0.0.0.0', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    return (server.address() as AddressInfo).port;
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'method not allowed' }, { Allow: 'GET, HEAD' });
      if (path === '/health/live') return send(res, 200, { status: 'ok' });
      if (path === '/health/ready') return await this.ready(res);
      if (path === '/metrics' && this.opts.metrics) {
        const body = await this.opts.metrics.render();
        res.writeHead(200, { 'Content-Type': this.opts.metrics.contentType });
        res.end(body);
        return;
      }
      send(res, 404, { error: 'not found' });
    } catch (err) {
      send(res, 500, { error: (err as Error).message });
    }
  }

  private async ready(res: ServerResponse): Promise<void> {
    const timeoutMs = this.opts.checkTimeoutMs ?? 1500;
    const results = await Promise.all(
      this.opts.checks.map(async ({ name, check }) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          });
          const ok = await Promise.race([check(), timeout]);
          if (ok === false) return [name, { status: 'unavailable' }] as const;
          return [name, { status: 'ok' }] as const;
        } catch (err) {
          return [name, { status: 'unavailable', error: (err as Error).message }] as const;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const ok = results.every(([, r]) => r.status === 'ok');
    send(res, ok ? 200 : 503, { status: ok ? 'ok' : 'unavailable', checks: Object.fromEntries(results) }, ok ? {} : { 'Retry-After': '5' });
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
