import type { RedisClient as Redis } from '../queue/redis';
import type { Config } from '../config/env';
import type { Logger } from '../observability/logger';
import type { TockMetrics } from '../observability/metrics';
import type { Database } from '../persistence/mongo';
import { ExecutionRepository } from '../persistence/execution-repository';
import { JobRepository } from '../persistence/job-repository';
import type { JobQueue } from '../queue/job-queue';
import { Leases, Marks } from '../queue/leases';
import { JobCounts } from '../queue/limits';
import { runPeriodically } from '../services/periodic';
import { Reconciler } from '../services/reconciler';
import { Retention } from '../services/retention';
import type { Stop } from './lifecycle';

/** How often each process checks the reconciler's canary in Redis (one EXISTS). */
const RECONCILE_CHECK_MS = 5000;

/**
 * Background upkeep that every process offers and one at a time performs (Redis leases): the
 * reconciler (at start, every RECONCILE_INTERVAL_MS, and as soon as Redis is back after an
 * outage) and history retention.
 */
export function startMaintenance(
  cfg: Config,
  deps: { db: Database; queue: JobQueue; redis: Redis; logger: Logger; metrics?: TockMetrics },
): Stop {
  const logger = deps.logger.child({ component: 'maintenance' });
  const leases = new Leases(deps.redis, `${cfg.QUEUE_PREFIX}:lock`, 60_000);
  const jobs = new JobRepository(deps.db.models);
  const executions = new ExecutionRepository(deps.db.models);
  const jobCounts = new JobCounts(deps.redis, cfg.QUEUE_PREFIX);
  const reconciler = new Reconciler({ jobs, executions, queue: deps.queue, leases, logger, jobCounts, metrics: deps.metrics });
  const retention = new Retention(
    { jobs, executions, leases, marks: new Marks(deps.redis, `${cfg.QUEUE_PREFIX}:mark`), logger },
    { maxAgeDays: cfg.EXECUTION_RETENTION_DAYS, perJob: cfg.EXECUTION_RETENTION_PER_JOB },
  );
  // The first passes start when the command connection is up (below), not here.
  const later = { immediate: false };
  const reconcile = runPeriodically('reconcile', cfg.RECONCILE_INTERVAL_MS, () => reconciler.run(), logger, later);
  const trim = runPeriodically('retention', cfg.RETENTION_INTERVAL_MS, (signal) => retention.run(Date.now(), signal), logger, later);
  // Between full passes, one EXISTS every RECONCILE_CHECK_MS notices a Redis that lost its keys.
  const check = runPeriodically(
    'reconcile check',
    RECONCILE_CHECK_MS,
    async () => {
      if (await deps.queue.isReconciled()) return;
      logger.warn('Redis lost the reconciler canary (flushed, or a new server): reconciling');
      reconcile.kick();
    },
    logger,
    later,
  );
  // The command connection queues nothing (enableOfflineQueue: false), and a process that starts
  // quickly (an API) gets here while it is still connecting: passes started now would fail, and
  // the first reconcile would wait for the check above to find no canary, 5 s into the process's
  // life, when it may be busy serving.
  let started = false;
  let lost = false;
  const start = () => {
    started = true;
    lost = false;
    reconcile.kick();
    trim.kick();
  };
  const onClose = () => (lost = true);
  const onReady = () => {
    if (!started) return start();
    if (!lost) return;
    lost = false;
    logger.info('Redis is back: reconciling');
    reconcile.kick();
  };
  deps.redis.on('close', onClose).on('ready', onReady);
  if (deps.redis.status === 'ready') start();
  return async () => {
    deps.redis.off('close', onClose).off('ready', onReady);
    await Promise.all([reconcile.stop(), trim.stop(), check.stop()]);
  };
}
