import type Router from '@koa/router';
import type { Context, Next } from 'koa';
import { z } from 'zod';
import { ValidationError } from '../../domain/errors';
import { fieldErrorsOf, parseInput } from '../../domain/validation';
import type { CreateJobInput } from '../../domain/job-definition';
import type { Logger } from '../../observability/logger';
import type { AuditLog } from '../../services/audit-log';
import type { JobService } from '../../services/job-service';
import { actorOf } from '../middleware/access';
import { problem, problemOf, type Problem } from '../middleware/problem';
import { requestBody } from '../middleware/validate';
import { BatchEnvelope, TriggerEnvelope } from '../schemas';
import { jobResource } from '../serializers';

export type BatchResult =
  | { index: number; status: 201; job: ReturnType<typeof jobResource> & { signingSecret: string } }
  | { index: number; status: number; problem: Problem };

/** The list around the items: checked on its own, so that each item is answered on its own. */
function envelope<S extends z.ZodType>(ctx: Context, schema: S): z.infer<S> {
  const parsed = schema.safeParse(requestBody(ctx));
  if (!parsed.success) throw new ValidationError('The request body is invalid', fieldErrorsOf(parsed.error.issues));
  return parsed.data;
}

/**
 * POST /jobs/batch: up to 1,000 definitions, each validated like POST /jobs and answered per item
 * (201 with the job, or its problem). 201 when every item was created, 207 otherwise.
 */
export function addBatchRoute(
  router: Router,
  deps: { jobs: JobService; logger: Logger; audit: Pick<AuditLog, 'record'> },
  CreateJob: z.ZodType<CreateJobInput>,
  ...middleware: ((ctx: Context, next: Next) => Promise<unknown>)[]
): void {
  router.post('/jobs/batch', ...middleware, async (ctx) => {
    const { jobs } = envelope(ctx, BatchEnvelope);
    const results: BatchResult[] = [];
    const valid: { index: number; input: CreateJobInput }[] = [];
    jobs.forEach((item, index) => {
      // Each item is checked as POST /jobs checks its body, with paths relative to the item.
      const parsed = parseInput(CreateJob, item);
      if ('data' in parsed) valid.push({ index, input: parsed.data });
      else results.push({ index, status: 400, problem: problem(400, 'validation', 'The job is invalid', parsed.errors) });
    });
    let retryAfter: number | undefined;
    const actor = actorOf(ctx);
    for (const outcome of await deps.jobs.createMany(valid, actor)) {
      if (!outcome.error) {
        deps.audit.record(actor, 'job.create', { jobId: outcome.job.id, version: outcome.job.version });
        results.push({ index: outcome.index, status: 201, job: { ...jobResource(outcome.job), signingSecret: outcome.signingSecret } });
        continue;
      }
      const known = problemOf(outcome.error);
      if (!known) deps.logger.error({ err: outcome.error, index: outcome.index }, 'unhandled error in batch item');
      const p = known?.problem ?? problem(500, 'internal', 'An unexpected error occurred; it has been logged.');
      if (known?.retryAfter !== undefined) retryAfter = Math.max(retryAfter ?? 0, known.retryAfter);
      results.push({ index: outcome.index, status: p.status, problem: p });
    }
    results.sort((a, b) => a.index - b.index);
    if (retryAfter !== undefined) ctx.set('Retry-After', String(retryAfter));
    ctx.status = results.every((r) => r.status === 201) ? 201 : 207;
    ctx.body = { results };
  });
}

/**
 * POST /jobs/trigger: a manual run of each listed job (up to 1,000 ids, repeats allowed), queued
 * with one BullMQ `addBulk`, answered per item (202 with the run, or 404). 202 when every run was
 * queued, 207 otherwise.
 */
export function addBatchTriggerRoute(
  router: Router,
  deps: { jobs: JobService; audit: Pick<AuditLog, 'record'> },
  ...middleware: ((ctx: Context, next: Next) => Promise<unknown>)[]
): void {
  router.post('/jobs/trigger', ...middleware, async (ctx) => {
    const { jobIds } = envelope(ctx, TriggerEnvelope);
    const actor = actorOf(ctx);
    const results = (await deps.jobs.triggerMany(jobIds, actor)).map((o) => {
      if (o.run) {
        deps.audit.record(actor, 'job.trigger', { jobId: o.run.jobId, target: o.run.runId });
        return { index: o.index, status: 202, ...o.run };
      }
      const p = problemOf(o.error)!.problem;
      return { index: o.index, status: p.status, problem: p };
    });
    ctx.status = results.every((r) => r.status === 202) ? 202 : 207;
    ctx.body = { results };
  });
}
