import { composeApi } from '../api/compose';
import type { Config } from '../config/env';
import { builtinHandlers, HandlerRegistry } from '../handlers/registry';
import type { Logger } from '../observability/logger';
import { connectDatabase, type Database } from '../persistence/mongo';
import { JobQueue } from '../queue/job-queue';
import { withTimeout } from '../lib/with-timeout';
import { createRedis, evictionPolicyError, redisSettings, redisSettingsWarnings, type RedisSettings } from '../queue/redis';
import { startWorker } from '../worker/worker-runtime';
import { ExecutionRepository } from '../persistence/execution-repository';
import { JobRepository } from '../persistence/job-repository';
import { Leases, Marks } from '../queue/leases';
import { subscribeInvalidations } from '../queue/invalidations';
import { DefinitionCache } from '../persistence/definition-cache';
import { Reconciler } from '../services/reconciler';
import { runPeriodically } from '../services/periodic';
import { Retention } from '../services/retention';
import type { Redis } from 'ioredis';
import { resolveServices } from './services';
import type { Stop } from './lifecycle';

/** How often each process checks the reconciler's canary in Redis (one EXISTS). */
const RECONCILE_CHECK_MS = 5000;

async function connectMongo(url: string, ensureIndexes: boolean): Promise<Database> {
  try {
    return await connectDatabase(url, { ensureIndexes });
  } catch (err) {
    throw new Error(`MongoDB at ${redact(url)} did not answer: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Checks that Redis answers and reads the settings Tock depends on. A worker refuses a Redis that
 * may evict keys (unless REDIS_ALLOW_EVICTION); every process warns about the rest.
 */
async function checkRedis(url: string, refuseEviction: boolean, logger: Logger): Promise<void> {
  const probe = createRedis(url, 'command', { enableOfflineQueue: true, retryStrategy: () => null });
  let settings: RedisSettings;
  try {
    await withTimeout(probe.ping(), 3000, 'ping');
    settings = await withTimeout(redisSettings(probe), 3000, 'INFO');
  } catch (err) {
    throw new Error(`Redis at ${redact(url)} did not answer: ${(err as Error).message}`, { cause: err });
  } finally {
    probe.disconnect();
  }
  if (refuseEviction) {
    const error = evictionPolicyError(settings.maxmemoryPolicy, false);
    if (error) throw new Error(`Redis at ${redact(url)}: ${error}`);
  }
  for (const warning of redisSettingsWarnings(settings)) logger.warn({ redis: redact(url) }, warning);
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/**
 * Background upkeep that every process offers and one at a time performs (Redis leases): the
 * reconciler (at start, every RECONCILE_INTERVAL_MS, and as soon as Redis is back after an
 * outage) and history retention.
 */
function startMaintenance(cfg: Config, deps: { db: Database; queue: JobQueue; redis: Redis; logger: Logger }): Stop {
  const logger = deps.logger.child({ component: 'maintenance' });
  const leases = new Leases(deps.redis, `${cfg.QUEUE_PREFIX}:lock`, 60_000);
  const jobs = new JobRepository(deps.db.models);
  const executions = new ExecutionRepository(deps.db.models);
  const reconciler = new Reconciler({ jobs, executions, queue: deps.queue, leases, logger });
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

/** Starts the API and/or a worker in this process, against configured or embedded services. */
export async function startProcess(cfg: Config, logger: Logger, parts: { api: boolean; worker: boolean }): Promise<Stop> {
  const services = await resolveServices(cfg, logger);
  const stops: Stop[] = [services.stop];
  try {
    await checkRedis(services.redisUrl, parts.worker && !cfg.REDIS_ALLOW_EVICTION, logger);
    logger.info(
      { redis: redact(services.redisUrl), mongodb: redact(services.mongoUrl) },
      `Redis: ${redact(services.redisUrl)} (${services.redisOrigin}); MongoDB: ${redact(services.mongoUrl)} (${services.mongoOrigin})`,
    );
    const db = await connectMongo(services.mongoUrl, parts.api);
    stops.unshift(() => db.close());
    const registry = new HandlerRegistry(builtinHandlers({ allowPrivateNetworks: cfg.HTTP_ALLOW_PRIVATE_NETWORKS }));

    const redis = createRedis(services.redisUrl, 'command');
    redis.on('error', () => undefined);
    const queue = new JobQueue(redis, { prefix: cfg.QUEUE_PREFIX });
    stops.unshift(async () => {
      await queue.close();
      redis.disconnect();
    });

    if (parts.worker) {
      const worker = await startWorker(cfg, { redisUrl: services.redisUrl, db, registry, logger });
      stops.unshift(() => worker.close());
    }
    if (parts.api) {
      const definitions = new DefinitionCache(new JobRepository(db.models));
      const subscriber = subscribeInvalidations(services.redisUrl, cfg.QUEUE_PREFIX, definitions, logger);
      stops.unshift(async () => void (await subscriber.quit().catch(() => undefined)));
      const app = composeApi({
        db,
        queue,
        registry,
        logger,
        defaultTimeoutMs: cfg.DEFAULT_TIMEOUT_MS,
        definitions,
        boardActions: cfg.BULL_BOARD_ACTIONS,
      });
      const server = app.listen(cfg.PORT, cfg.HOST);
      // Longer than the idle timeout of whatever sits in front (60 s for most load balancers): a
      // server that closes an idle connection first races the client reusing it (Node's 5 s default).
      server.keepAliveTimeout = cfg.HTTP_KEEP_ALIVE_TIMEOUT_MS;
      server.headersTimeout = cfg.HTTP_KEEP_ALIVE_TIMEOUT_MS + 1000;
      await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : cfg.PORT;
      const host = cfg.HOST === '0.0.0.0' || cfg.HOST === '::' ? 'localhost' : cfg.HOST;
      const base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
      logger.info(
        { port, api: `${base}/api/v1`, docs: `${base}/docs`, board: `${base}/admin/queues` },
        `API listening on ${base}: the API at ${base}/api/v1, its docs at ${base}/docs, Bull Board at ${base}/admin/queues`,
      );
      stops.unshift(async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
      });
    }
    stops.unshift(startMaintenance(cfg, { db, queue, redis, logger }));
  } catch (err) {
    for (const stop of stops) await stop().catch(() => undefined);
    throw err;
  }
  return async () => {
    for (const stop of stops) await stop();
  };
}
