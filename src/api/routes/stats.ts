import Router from '@koa/router';
import { ValidationError } from '../../domain/errors';
import { describeSchedule } from '../../domain/schedule-text';
import { previewRuns, scheduleTimeErrors } from '../../domain/schedule';
import type { StatsService } from '../../services/stats-service';
import { requireScope } from '../middleware/access';
import { query } from '../middleware/validate';
import { executionResource } from '../serializers';
import { SchedulePreviewQuery, StatsQuery } from '../stats-schemas';

/** The read-only views: a job's stats and newest run, the overview, schedule previews. */
export function statsRoutes(deps: { stats: StatsService; now?: () => number }): Router {
  const router = new Router();
  const read = requireScope('jobs:read');
  const now = deps.now ?? Date.now;

  router.get('/jobs/:id/stats', read, async (ctx) => {
    ctx.body = await deps.stats.jobStats(ctx.params.id!, query(ctx, StatsQuery).window);
  });

  router.get('/jobs/:id/executions/latest', read, async (ctx) => {
    ctx.body = executionResource(await deps.stats.latestExecution(ctx.params.id!));
  });

  router.get('/overview', read, async (ctx) => {
    ctx.body = await deps.stats.overview();
  });

  router.get('/schedules/preview', read, (ctx) => {
    const { schedule, count } = query(ctx, SchedulePreviewQuery);
    const at = now();
    const late = scheduleTimeErrors(schedule, at);
    if (late.length > 0)
      throw new ValidationError(
        'The query string is invalid',
        late.map((e) => ({ path: e.field, message: e.message })),
      );
    ctx.body = {
      schedule,
      description: describeSchedule(schedule),
      runs: previewRuns(schedule, at, count).map((t) => new Date(t).toISOString()),
    };
  });
  return router;
}
