import Router from '@koa/router';
import { NotFoundError } from '../../domain/errors';
import type { AuditLog } from '../../services/audit-log';
import type { DeadLetterService } from '../../services/dead-letter-service';
import { actorOf, requireScope } from '../middleware/access';
import { noBody, query } from '../middleware/validate';
import { deadLetterResource } from '../serializers';
import { DeadLetterListQuery } from '../schemas';

const ENTRY_ID = /^[A-Za-z0-9:._-]{1,300}$/;

export function deadLetterRoutes(deps: { deadLetters: DeadLetterService; audit: Pick<AuditLog, 'record'> }): Router {
  const router = new Router();
  const read = requireScope('jobs:read');
  const write = requireScope('dead-letter:write');
  const entryId = (id: string) => {
    if (!ENTRY_ID.test(id)) throw new NotFoundError(`Dead-letter entry ${id} does not exist`);
    return id;
  };

  router.get('/dead-letter', read, async (ctx) => {
    const page = await deps.deadLetters.list(query(ctx, DeadLetterListQuery));
    ctx.body = { items: page.items.map(deadLetterResource), nextCursor: page.nextCursor };
  });

  router.get('/dead-letter/:id', read, async (ctx) => {
    ctx.body = deadLetterResource(await deps.deadLetters.get(entryId(ctx.params.id!)));
  });

  router.post('/dead-letter/:id/retry', write, async (ctx) => {
    noBody(ctx);
    const id = entryId(ctx.params.id!);
    const run = await deps.deadLetters.retry(id, actorOf(ctx));
    deps.audit.record(actorOf(ctx), 'dead-letter.retry', { jobId: run.jobId, target: id });
    ctx.status = 202;
    ctx.body = run;
  });

  router.delete('/dead-letter/:id', write, async (ctx) => {
    const id = entryId(ctx.params.id!);
    await deps.deadLetters.dismiss(id);
    deps.audit.record(actorOf(ctx), 'dead-letter.dismiss', { target: id });
    ctx.status = 204;
  });
  return router;
}
