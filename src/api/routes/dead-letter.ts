import Router from '@koa/router';
import { NotFoundError } from '../../domain/errors';
import type { DeadLetterService } from '../../services/dead-letter-service';
import { noBody, query } from '../middleware/validate';
import { deadLetterResource } from '../serializers';
import { DeadLetterListQuery } from '../schemas';

const ENTRY_ID = /^[A-Za-z0-9:._-]{1,300}$/;

export function deadLetterRoutes(deps: { deadLetters: DeadLetterService }): Router {
  const router = new Router();
  const entryId = (id: string) => {
    if (!ENTRY_ID.test(id)) throw new NotFoundError(`Dead-letter entry ${id} does not exist`);
    return id;
  };

  router.get('/dead-letter', async (ctx) => {
    const page = await deps.deadLetters.list(query(ctx, DeadLetterListQuery));
    ctx.body = { items: page.items.map(deadLetterResource), nextCursor: page.nextCursor };
  });

  router.get('/dead-letter/:id', async (ctx) => {
    ctx.body = deadLetterResource(await deps.deadLetters.get(entryId(ctx.params.id!)));
  });

  router.post('/dead-letter/:id/retry', async (ctx) => {
    noBody(ctx);
    ctx.status = 202;
    ctx.body = await deps.deadLetters.retry(entryId(ctx.params.id!));
  });

  router.delete('/dead-letter/:id', async (ctx) => {
    await deps.deadLetters.dismiss(entryId(ctx.params.id!));
    ctx.status = 204;
  });
  return router;
}
