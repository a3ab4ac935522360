import Router from '@koa/router';
import { NotFoundError } from '../../domain/errors';
import type { MetricsExposition } from '../../observability/metrics';
import { requireScope } from '../middleware/access';

/** GET /metrics: the process's Prometheus metrics, for a key with `metrics:read` (or `admin`). */
export function metricsRoutes(deps: { metrics?: MetricsExposition }): Router {
  const router = new Router();
  router.get('/metrics', requireScope('metrics:read'), async (ctx) => {
    if (!deps.metrics) throw new NotFoundError('Metrics are turned off (METRICS_ENABLED=false)');
    const body = await deps.metrics.render();
    ctx.body = body;
    ctx.set('Content-Type', deps.metrics.contentType);
    ctx.set('Cache-Control', 'no-store');
  });
  return router;
}
