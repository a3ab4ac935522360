import Router from '@koa/router';
import { NotFoundError } from '../../domain/errors';
import type { ExecutionRepository } from '../../persistence/execution-repository';
import { executionResource } from '../serializers';

const EXECUTION_ID = /^[A-Za-z0-9:._-]{1,300}$/;

export function executionRoutes(deps: { executions: ExecutionRepository }): Router {
  const router = new Router();
  router.get('/executions/:id', async (ctx) => {
    const id = ctx.params.id!;
    const record = EXECUTION_ID.test(id) ? await deps.executions.findById(id) : null;
    if (!record) throw new NotFoundError(`Execution ${id} does not exist`);
    ctx.body = executionResource(record);
  });
  return router;
}
