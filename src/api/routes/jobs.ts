import Router from '@koa/router';
import type { Context } from 'koa';
import { ValidationError } from '../../domain/errors';
import type { AuditAction } from '../../domain/audit';
import { createJobSchema, patchJobSchema, type HandlerCatalog, type JobDefinition, type PayloadLimits } from '../../domain/job-definition';
import type { HostCheck } from '../../domain/notify';
import type { Logger } from '../../observability/logger';
import type { IdempotencyStore } from '../../domain/idempotency';
import type { AuditLog } from '../../services/audit-log';
import type { JobService } from '../../services/job-service';
import { actorOf, requireScope } from '../middleware/access';
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
  payloadLimits: PayloadLimits;
  /** Refuses private literal hosts in notification URLs, as the http handler does for its URL. */
  hostError?: HostCheck;
  idempotency: IdempotencyStore;
  audit: Pick<AuditLog, 'record'>;
  logger: Logger;
}

export function jobRoutes(deps: JobRoutesDeps): Router {
  const router = new Router();
  const CreateJob = createJobSchema(deps.handlers, deps.payloadLimits, deps.hostError);
  const PatchJob = patchJobSchema(deps.handlers, deps.payloadLimits, deps.hostError);
  const read = requireScope('jobs:read');
  const write = requireScope('jobs:write');
  addBatchRoute(router, deps, CreateJob, write, idempotency(deps.idempotency, 'POST /jobs/batch', deps.logger));
  addBatchTriggerRoute(router, deps, write);

  const sendJob = (ctx: Context, def: JobDefinition, status = 200) => {
    ctx.status = status;
    ctx.set('ETag', etag(def));
    ctx.body = jobResource(def);
  };
  /** Records the change in the audit log, with the key that made it. */
  const audited = (ctx: Context, action: AuditAction, def: Pick<JobDefinition, 'id' | 'version'>) =>
    deps.audit.record(actorOf(ctx), action, { jobId: def.id, version: def.version });

  router.post('/jobs', write, idempotency(deps.idempotency, 'POST /jobs', deps.logger), async (ctx) => {
    const { job, signingSecret } = await deps.jobs.create(body(ctx, CreateJob), actorOf(ctx));
    audited(ctx, 'job.create', job);
    ctx.set('Location', `/api/v1/jobs/${job.id}`);
    sendJob(ctx, job, 201);
    ctx.body = { ...jobResource(job), signingSecret };
  });

  router.get('/jobs', read, async (ctx) => {
    const page = await deps.jobs.list(query(ctx, JobListQuery));
    ctx.body = { items: page.items.map(jobResource), nextCursor: page.nextCursor };
  });

  router.get('/jobs/:id', read, async (ctx) => {
    const { job, recentExecutions } = await deps.jobs.getWithExecutions(ctx.params.id!);
    ctx.set('ETag', etag(job));
    ctx.body = { ...jobResource(job), recentExecutions: recentExecutions.map(executionResource) };
  });

  router.patch('/jobs/:id', write, async (ctx) => {
    const version = ifMatch(ctx);
    const patch = body(ctx, PatchJob);
    const job = await deps.jobs.update(ctx.params.id!, patch, version);
    audited(ctx, 'job.update', job);
    sendJob(ctx, job);
  });

  router.delete('/jobs/:id', write, async (ctx) => {
    audited(ctx, 'job.delete', await deps.jobs.delete(ctx.params.id!, ifMatch(ctx)));
    ctx.status = 204;
  });

  router.post('/jobs/:id/pause', write, async (ctx) => {
    noBody(ctx);
    const job = await deps.jobs.pause(ctx.params.id!, ifMatch(ctx));
    audited(ctx, 'job.pause', job);
    sendJob(ctx, job);
  });
  router.post('/jobs/:id/resume', write, async (ctx) => {
    noBody(ctx);
    const job = await deps.jobs.resume(ctx.params.id!, ifMatch(ctx));
    audited(ctx, 'job.resume', job);
    sendJob(ctx, job);
  });

  router.post('/jobs/:id/trigger', write, async (ctx) => {
    noBody(ctx);
    const run = await deps.jobs.trigger(ctx.params.id!, actorOf(ctx));
    deps.audit.record(actorOf(ctx), 'job.trigger', { jobId: run.jobId, target: run.runId });
    ctx.status = 202;
    ctx.body = run;
  });

  router.post('/jobs/:id/cancel', write, async (ctx) => {
    noBody(ctx);
    const cancelled = await deps.jobs.cancel(ctx.params.id!);
    deps.audit.record(actorOf(ctx), 'job.cancel', { jobId: cancelled.jobId, target: cancelled.runIds.join(',') || undefined });
    ctx.status = 202;
    ctx.body = cancelled;
  });

  router.post('/jobs/:id/signing-secret/rotate', write, async (ctx) => {
    noBody(ctx);
    const { job, signingSecret } = await deps.jobs.rotateSigningSecret(ctx.params.id!, ifMatch(ctx));
    audited(ctx, 'job.signing-secret.rotate', job);
    ctx.set('ETag', etag(job));
    ctx.body = { jobId: job.id, version: job.version, signingSecret };
  });

  router.get('/jobs/:id/executions', read, async (ctx) => {
    const page = await deps.jobs.listExecutions({ jobId: ctx.params.id!, ...query(ctx, ExecutionListQuery) });
    ctx.body = { items: page.items.map(executionResource), nextCursor: page.nextCursor };
  });

  return router;
}
