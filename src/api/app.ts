import { UnavailableError, ValidationError } from '../domain/errors';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import cors from '@koa/cors';
import Koa, { type Context, type Middleware, type Next } from 'koa';
import { HttpMethodEnum, koaBody } from 'koa-body';
import type { IdempotencyStore } from '../domain/idempotency';
import type { HostCheck } from '../domain/notify';
import type { HandlerCatalog, PayloadLimits } from '../domain/job-definition';
import type { AuditLog } from '../services/audit-log';
import type { KeyService } from '../services/key-service';
import type { Logger } from '../observability/logger';
import type { HttpMetrics, MetricsExposition } from '../observability/metrics';
import type { DeadLetterService } from '../services/dead-letter-service';
import type { JobService } from '../services/job-service';
import type { StatsService } from '../services/stats-service';
import { authenticate, hostGuard, noFormPosts, rateLimit, requireScope, sameSiteWrites, type RequestLimit } from './middleware/access';
import { htmlPages } from './middleware/html-pages';
import { problemMiddleware } from './middleware/problem';
import { docsRoutes } from './routes/docs';
import { deadLetterRoutes } from './routes/dead-letter';
import { executionRoutes } from './routes/executions';
import { healthRoutes, type HealthCheck } from './routes/health';
import { jobRoutes } from './routes/jobs';
import { metricsRoutes } from './routes/metrics';
import { adminRoutes } from './routes/keys';
import { sessionRoutes } from './routes/session';
import { statsRoutes } from './routes/stats';
import { webRoutes } from './routes/web';

export const OPENAPI_PATH = path.resolve(__dirname, '../../openapi.yaml');
export const BODY_LIMIT = '1mb';

export const BOARD_PATH = '/admin/queues';

/** What the API is made of; the composition root (src/bin) builds each once. */
export interface AppDeps {
  jobs: JobService;
  deadLetters: DeadLetterService;
  stats: StatsService;
  idempotency: IdempotencyStore;
  handlers: HandlerCatalog;
  health: HealthCheck[];
  /** Bull Board, mounted at BOARD_PATH. */
  board: Middleware;
  logger: Logger;
  /** False while the MongoDB driver knows the server is unreachable: API calls get a 503 at once. */
  storeConnected: () => boolean;
  keys: KeyService;
  audit: AuditLog;
  /** RATE_LIMIT_PER_MINUTE per key. */
  requestLimit: RequestLimit;
  payloadLimits: PayloadLimits;
  /** Why a notification URL's host may not be called; null when it may. */
  hostError: HostCheck;
  access: AccessOptions;
  /** The built dashboard (default dist/web). */
  webDir?: string;
  /** Prometheus metrics: GET /metrics and the HTTP request metrics (none when METRICS_ENABLED=false). */
  metrics?: MetricsExposition & HttpMetrics;
}

export interface AccessOptions {
  /** CORS_ORIGINS: origins whose pages may call the API (none by default). */
  corsOrigins: string[];
  /** ALLOWED_HOSTS: the Host names this API answers to (any when empty). */
  allowedHosts: string[];
}

/** The Koa app, not listening. Middleware order: request log, problem+json errors, body, routes. */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.proxy = true;
  const log = deps.logger.child({ component: 'api' });
  app.on('error', () => undefined);

  app.use(async (ctx, next) => {
    const given = ctx.get('X-Request-Id');
    const requestId = /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
    ctx.set('X-Request-Id', requestId);
    const started = performance.now();
    await next();
    log.debug(
      { requestId, method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - started) },
      'request',
    );
  });
  if (deps.metrics) app.use(httpMetrics(deps.metrics));
  app.use(problemMiddleware(log));
  app.use(htmlPages());
  app.use(hostGuard(new Set(deps.access.allowedHosts.map((h) => h.toLowerCase()))));
  const corsOrigins = new Set(deps.access.corsOrigins);
  if (corsOrigins.size > 0) {
    app.use(
      cors({
        origin: (ctx: Context) => (corsOrigins.has(ctx.get('Origin')) ? ctx.get('Origin') : ''),
        allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'If-Match', 'X-Request-Id'],
        exposeHeaders: ['ETag', 'Location', 'Retry-After', 'X-Request-Id', 'Idempotent-Replayed'],
        maxAge: 600,
      }),
    );
  }
  const parseBody = koaBody({
    json: true,
    urlencoded: false,
    text: false,
    multipart: false,
    jsonLimit: BODY_LIMIT,
    jsonStrict: true,
    parsedMethods: [HttpMethodEnum.POST, HttpMethodEnum.PATCH, HttpMethodEnum.PUT],
  });
  app.use(async (ctx, next) => {
    let parsed = false;
    try {
      await parseBody(ctx, () => {
        parsed = true;
        return next();
      });
    } catch (err) {
      // Reading the body failed with no HTTP status (koa-body gives malformed JSON, too large and the
      // like one): a body that does not decompress as its Content-Encoding says. Bad input, not a 500.
      if (!parsed && typeof (err as { status?: unknown }).status !== 'number') {
        throw new ValidationError('The request body does not decompress as its Content-Encoding says', [
          { path: 'body', message: `is not valid ${ctx.get('Content-Encoding') || 'compressed'} data` },
        ]);
      }
      throw err;
    }
  });

  // Public: probes, the contract and its page, signing in, the dashboard's files.
  const root = new Router();
  root.use(healthRoutes(deps.health).routes());
  const spec = readFileSync(OPENAPI_PATH, 'utf8');
  root.get('/openapi.yaml', (ctx) => {
    ctx.type = 'application/yaml';
    ctx.body = spec;
  });
  root.use(sessionRoutes(deps).routes());
  // The dashboard's page and assets (the page signs in, then calls /api/v1 with its cookie).
  root.use(webRoutes({ dir: deps.webDir }).routes());
  app.use(root.routes()).use(root.allowedMethods());
  const docs = docsRoutes();
  app.use(docs.assets.routes()).use(docs.page);

  // Everything else needs a key: a bearer key, HTTP Basic with the key as password, or a session.
  app.use(authenticate(deps.keys));
  app.use(sameSiteWrites(corsOrigins));
  app.use(rateLimit(deps.requestLimit));

  // Beside the API, not under /api/v1: Prometheus's convention, and it answers while MongoDB is down.
  const metrics = metricsRoutes(deps);
  app.use(metrics.routes()).use(metrics.allowedMethods());

  const api = new Router({ prefix: '/api/v1' });
  api.use(async (_ctx, next) => {
    if (!deps.storeConnected()) throw new UnavailableError('MongoDB is unavailable', 5);
    await next();
  });
  const routers = [
    jobRoutes({ ...deps, logger: log }),
    executionRoutes(deps),
    deadLetterRoutes(deps),
    statsRoutes(deps),
    adminRoutes(deps),
  ];
  for (const r of routers) api.use(r.routes(), r.allowedMethods());
  app.use(api.routes()).use(api.allowedMethods());

  app.use(boardGuard());
  app.use(deps.board);
  return app;
}

/**
 * Counts each request by the router's template (`/api/v1/jobs/:id`), never its raw path: a label
 * per job id would grow without bound. Requests no route matched are `unmatched`. Outside the
 * problem middleware, so the status is the one sent.
 */
function httpMetrics(metrics: HttpMetrics): Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const route = (ctx as { _matchedRoute?: unknown })._matchedRoute;
      const seconds = (performance.now() - started) / 1000;
      metrics.observe(typeof route === 'string' ? route : 'unmatched', ctx.method, ctx.status, seconds);
    }
  };
}

/**
 * Bull Board needs the admin scope. A browser without a session is sent to the sign-in page; its API
 * takes no form posts.
 */
function boardGuard() {
  const admin = requireScope('admin');
  const forms = noFormPosts();
  return async (ctx: Context, next: Next) => {
    if (ctx.path !== BOARD_PATH && !ctx.path.startsWith(`${BOARD_PATH}/`)) return next();
    const page = !ctx.path.startsWith(`${BOARD_PATH}/api/`) && ctx.get('Accept').includes('text/html');
    if (!(ctx.state as { actor?: unknown }).actor && ctx.method === 'GET' && page) {
      ctx.redirect(`/login?next=${encodeURIComponent(ctx.originalUrl)}`);
      return;
    }
    await admin(ctx, () => forms(ctx, next));
  };
}
