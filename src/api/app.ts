import { UnavailableError, ValidationError } from '../domain/errors';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { KoaAdapter } from '@bull-board/koa';
import Koa from 'koa';
import { HttpMethodEnum, koaBody } from 'koa-body';
import type { HandlerRegistry } from '../handlers/registry';
import type { Logger } from '../observability/logger';
import type { ExecutionRepository } from '../persistence/execution-repository';
import type { IdempotencyRepository } from '../persistence/idempotency-repository';
import type { JobQueue } from '../queue/job-queue';
import type { DeadLetterService } from '../services/dead-letter-service';
import type { JobService } from '../services/job-service';
import { htmlPages } from './middleware/html-pages';
import { problemMiddleware } from './middleware/problem';
import { docsRoutes } from './routes/docs';
import { deadLetterRoutes } from './routes/dead-letter';
import { executionRoutes } from './routes/executions';
import { healthRoutes, type HealthCheck } from './routes/health';
import { jobRoutes } from './routes/jobs';

export const OPENAPI_PATH = path.resolve(__dirname, '../../openapi.yaml');
export const BODY_LIMIT = '1mb';

export interface AppDeps {
  jobs: JobService;
  deadLetters: DeadLetterService;
  executions: ExecutionRepository;
  idempotency: IdempotencyRepository;
  registry: HandlerRegistry;
  queue: JobQueue;
  health: HealthCheck[];
  logger: Logger;
  /** False while the MongoDB driver knows the server is unreachable: API calls get a 503 at once. */
  storeConnected?: () => boolean;
  /** BULL_BOARD_ACTIONS: Bull Board's buttons (retry, promote, remove, ...) work; read-only otherwise. */
  boardActions?: boolean;
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
  app.use(problemMiddleware(log));
  app.use(htmlPages());
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

  const api = new Router({ prefix: '/api/v1' });
  api.use(async (_ctx, next) => {
    if (deps.storeConnected && !deps.storeConnected()) throw new UnavailableError('MongoDB is unavailable', 5);
    await next();
  });
  for (const r of [jobRoutes({ ...deps, logger: log }), executionRoutes(deps), deadLetterRoutes(deps)])
    api.use(r.routes(), r.allowedMethods());
  app.use(api.routes()).use(api.allowedMethods());

  const root = new Router();
  const health = healthRoutes(deps.health);
  root.use(health.routes());
  const spec = readFileSync(OPENAPI_PATH, 'utf8');
  root.get('/openapi.yaml', (ctx) => {
    ctx.type = 'application/yaml';
    ctx.body = spec;
  });
  app.use(root.routes()).use(root.allowedMethods());
  const docs = docsRoutes();
  app.use(docs.assets.routes()).use(docs.page);

  const board = new KoaAdapter();
  // Read-only unless asked: its buttons act on BullMQ behind Tock's back (see docs/operations.md).
  createBullBoard({ queues: [new BullMQAdapter(deps.queue.queue, { readOnlyMode: !deps.boardActions })], serverAdapter: board });
  board.setBasePath('/admin/queues');
  app.use(board.registerPlugin({ mount: '/admin/queues' }));
  return app;
}
