import Router from '@koa/router';
import { withTimeout } from '../../lib/with-timeout';

export interface HealthCheck {
  name: string;
  check(): Promise<void>;
}

/** Liveness (the process answers) and readiness (each dependency answers within 1.5 s). */
export function healthRoutes(checks: HealthCheck[]): Router {
  const router = new Router();
  router.get('/health/live', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/health/ready', async (ctx) => {
    const results = await Promise.all(
      checks.map(async ({ name, check }) => {
        const started = performance.now();
        try {
          await withTimeout(check(), 1500, name);
          return [name, { status: 'ok', latencyMs: Math.round(performance.now() - started) }] as const;
        } catch (err) {
          return [name, { status: 'unavailable', error: (err as Error).message }] as const;
        }
      }),
    );
    const ok = results.every(([, r]) => r.status === 'ok');
    ctx.status = ok ? 200 : 503;
    if (!ok) ctx.set('Retry-After', '5');
    ctx.body = { status: ok ? 'ok' : 'unavailable', checks: Object.fromEntries(results) };
  });
  return router;
}
