import Router from '@koa/router';
import type { Context } from 'koa';
import { ValidationError } from '../../domain/errors';
import { createJobSchema, patchJobSchema } from '../../domain/job-definition';
import type { HandlerCatalog } from '../../domain/job-definition';
import type { Logger } from '../../observability/logger';
import type { IdempotencyStore } from '../../domain/idempotency';
import type { JobService } from '../../services/job-service';
import { idempotency } from '../middleware/idempotency';
import { body, noBody, query } from '../middleware/validate';
import { ExecutionListQuery, JobListQuery } from '../schemas';
import { etag, executionResource, jobResource } from '../serializers';
import { addBatchRoute, addBatchTriggerRoute } from './jobs-batch';

/** `If-Match: "3"` (or W/"3", or 3) -> 3; absent or `*` -> undefined. */
export function ifMatch(ctx: Context): number | undefined {
  const raw = ctx.get('If-Match').trim();
  if (raw === '' || raw === '*') return undefined;
  const m = /^(?:W\/)?"?(\d{1,15})"?$/.exec(raw);
  if (!m)
    throw new ValidationError('Invalid If-Match header', [{ path: 'If-Match', message: 'must be an ETag returned by this API, e.g. "3"' }]);
  return Number(m[1]);
}

export interface JobRoutesDeps {
  jobs: JobService;
  handlers: HandlerCatalog;
  idempotency: IdempotencyStore;
  logger: Logger;
}

export function jobRoutes(deps: JobRoutesDeps): Router {
  const router = new Router();
  const CreateJob = createJobSchema(deps.handlers);
  const PatchJob = patchJobSchema(deps.handlers);
  addBatchRoute(router, deps, CreateJob, idempotency(deps.idempotency, 'POST /jobs/batch', deps.logger));
  addBatchTriggerRoute(router, deps);

  const sendJob = (ctx: Context, def: Parameters<typeof jobResource>[0], status = 200) => {
    ctx.status = status;
    ctx.set('ETag', etag(def));
    ctx.body = jobResource(def);
  };

  router.post('/jobs', idempotency(deps.idempotency, 'POST /jobs', deps.logger), async (ctx) => {
    const def = await deps.jobs.create(body(ctx, CreateJob));
    ctx.set('Location', `/api/v1/jobs/${def.id}`);
    sendJob(ctx, def, 201);
  });

  router.get('/jobs', async (ctx) => {
    const page = await deps.jobs.list(query(ctx, JobListQuery));
    ctx.body = { items: page.items.map(jobResource), nextCursor: page.nextCursor };
  });

  router.get('/jobs/:id', async (ctx) => {
    const { job, recentExecutions } = await deps.jobs.getWithExecutions(ctx.params.id!);
    ctx.set('ETag', etag(job));
    ctx.body = { ...jobResource(job), recentExecutions: recentExecutions.map(executionResource) };
  });

  router.patch('/jobs/:id', async (ctx) => {
    const version = ifMatch(ctx);
    const patch = body(ctx, PatchJob);
    sendJob(ctx, await deps.jobs.update(ctx.params.id!, patch, version));
  });

  router.delete('/jobs/:id', async (ctx) => {
    await deps.jobs.delete(ctx.params.id!, ifMatch(ctx));
    ctx.status = 204;
  });

  router.post('/jobs/:id/pause', async (ctx) => {
    noBody(ctx);
    sendJob(ctx, await deps.jobs.pause(ctx.params.id!, ifMatch(ctx)));
  });
  router.post('/jobs/:id/resume', async (ctx) => {
    noBody(ctx);
    sendJob(ctx, await deps.jobs.resume(ctx.params.id!, ifMatch(ctx)));
  });

  router.post('/jobs/:id/trigger', async (ctx) => {
    noBody(ctx);
    ctx.status = 202;
    ctx.body = await deps.jobs.trigger(ctx.params.id!);
  });

  router.post('/jobs/:id/cancel', async (ctx) => {
    noBody(ctx);
    ctx.status = 202;
    ctx.body = await deps.jobs.cancel(ctx.params.id!);
  });

  router.get('/jobs/:id/executions', async (ctx) => {
    const page = await deps.jobs.listExecutions({ jobId: ctx.params.id!, ...query(ctx, ExecutionListQuery) });
    ctx.body = { items: page.items.map(executionResource), nextCursor: page.nextCursor };
  });

  return router;
}
