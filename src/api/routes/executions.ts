import Router from '@koa/router';
import type { JobService } from '../../services/job-service';
import { requireScope } from '../middleware/access';
import { executionResource } from '../serializers';

export function executionRoutes(deps: { jobs: Pick<JobService, 'getExecution'> }): Router {
  const router = new Router();
  router.get('/executions/:id', requireScope('jobs:read'), async (ctx) => {
    ctx.body = executionResource(await deps.jobs.getExecution(ctx.params.id!));
  });
  return router;
}
