import type Router from '@koa/router';
import type { Context, Next } from 'koa';
import { z } from 'zod';
import { ValidationError } from '../../domain/errors';
import { fieldErrorsOf, parseInput } from '../../domain/validation';
import type { CreateJobInput } from '../../domain/job-definition';
import type { Logger } from '../../observability/logger';
import type { JobService } from '../../services/job-service';
import { problem, problemOf, type Problem } from '../middleware/problem';
import { requestBody } from '../middleware/validate';
import { BatchEnvelope, TriggerEnvelope } from '../schemas';
import { jobResource } from '../serializers';

export type BatchResult =
  { index: number; status: 201; job: ReturnType<typeof jobResource> } | { index: number; status: number; problem: Problem };

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
  deps: { jobs: JobService; logger: Logger },
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
    for (const outcome of await deps.jobs.createMany(valid)) {
      if (outcome.job) {
        results.push({ index: outcome.index, status: 201, job: jobResource(outcome.job) });
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
export function addBatchTriggerRoute(router: Router, deps: { jobs: JobService }): void {
  router.post('/jobs/trigger', async (ctx) => {
    const { jobIds } = envelope(ctx, TriggerEnvelope);
    const results = (await deps.jobs.triggerMany(jobIds)).map((o) => {
      if (o.run) return { index: o.index, status: 202, ...o.run };
      const p = problemOf(o.error)!.problem;
      return { index: o.index, status: p.status, problem: p };
    });
    ctx.status = results.every((r) => r.status === 202) ? 202 : 207;
    ctx.body = { results };
  });
}
