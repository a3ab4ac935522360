import os from 'node:os';
import type { Server } from 'node:http';
import type Koa from 'koa';
import { BOARD_PATH, createApp } from '../api/app';
import type { Config } from '../config/env';
import { builtinHandlers, HandlerRegistry } from '../handlers/registry';
import { NetworkPolicy } from '../handlers/network-guard';
import { RunActivity } from '../lib/run-activity';
import type { Logger } from '../observability/logger';
import { DeadLetterRepository } from '../persistence/dead-letter-repository';
import { ExecutionRepository } from '../persistence/execution-repository';
import { HistoryWriter } from '../persistence/history-writer';
import { IdempotencyRepository } from '../persistence/idempotency-repository';
import { JobRepository } from '../persistence/job-repository';
import type { Database } from '../persistence/mongo';
import { RunStatsCoalescer } from '../persistence/run-stats';
import { bullBoard } from '../queue/board';
import { subscribeInvalidations } from '../queue/invalidations';
import { JobQueue } from '../queue/job-queue';
import { Leases } from '../queue/leases';
import { createRedis, type RedisClient } from '../queue/redis';
import { JobCounts, RateLimit } from '../queue/limits';
import { ApiKeyRepository } from '../persistence/api-key-repository';
import { AuditRepository } from '../persistence/audit-repository';
import { AuditLog } from '../services/audit-log';
import { KeyService } from '../services/key-service';
import { Quotas } from '../services/quotas';
import type { Sealer } from '../lib/sealing';
import { TokenSigner } from '../lib/tokens';
import { DEFAULT_PAYLOAD_LIMITS, type PayloadLimits } from '../domain/job-definition';
import type { AccessOptions } from '../api/app';
import { logDevAdminKey, resolveSecrets } from './secrets';
import { RunConsumer } from '../queue/run-consumer';
import { StatsService } from '../services/stats-service';
import { Notifications } from '../services/notifications';
import { NotifyWindows } from '../queue/notify-windows';
import { createNotificationSender } from '../handlers/notification-sender';
import { DeadLetterService } from '../services/dead-letter-service';
import { DefinitionCache } from '../services/definition-cache';
import { JobService } from '../services/job-service';
import { RunService } from '../services/run-service';
import { WorkerProcess } from '../worker/worker-process';
import { ProbeServer } from '../worker/probe-server';
import { TockMetrics } from '../observability/metrics';
import { checkRedis, connectMongo, redact } from './connections';
import { resolveServers } from './embedded-servers';
import type { Stop } from './lifecycle';
import { startMaintenance } from './maintenance';

/**
 * The composition root: every collaborator is built here, once, from the configuration, and handed
 * to what uses it. The API app and the worker receive their parts, never the configuration.
 */

export interface ApiOptions {
  db: Database;
  queue: JobQueue;
  /** The command connection, for the rate limits and quotas shared by every API process. */
  redis: RedisClient;
  registry: HandlerRegistry;
  logger: Logger;
  adminKey: string;
  sealer: Sealer;
  defaultTimeoutMs: number;
  /** Definitions cached for triggers (kept in step by pub/sub invalidations); without it, a read each. */
  definitions?: DefinitionCache;
  boardActions?: boolean;
  /** Which hosts webhooks and notifications may reach (HTTP_ALLOW_PRIVATE_NETWORKS, HTTP_ALLOWED_NETWORKS); none private by default. */
  network?: NetworkPolicy;
  limits?: Partial<ApiLimits>;
  access?: Partial<AccessOptions>;
  /** The process's metrics (METRICS_ENABLED): GET /metrics, request metrics, queue and dead-letter gauges. */
  metrics?: TockMetrics;
}

export interface ApiLimits {
  requestsPerMinute: number;
  jobsPerKey: number;
  triggersPerMinute: number;
  payload: PayloadLimits;
}

const DEFAULT_LIMITS: ApiLimits = {
  requestsPerMinute: 1200,
  jobsPerKey: 10_000,
  triggersPerMinute: 600,
  payload: DEFAULT_PAYLOAD_LIMITS,
};

export interface ComposedApi {
  app: Koa;
  keys: KeyService;
  /** Flushes what the API buffers (audit entries, keys' lastUsedAt). */
  close(): Promise<void>;
}

/** The API app over a database and a queue (the tests build theirs with it too). */
export function composeApi(o: ApiOptions): ComposedApi {
  const limits = { ...DEFAULT_LIMITS, ...o.limits };
  const prefix = o.queue.prefix;
  const jobs = new JobRepository(o.db.models);
  const executions = new ExecutionRepository(o.db.models);
  const deadLetters = new DeadLetterRepository(o.db.models);
  const quotas = new Quotas(
    {
      jobCounts: new JobCounts(o.redis, prefix),
      triggers: new RateLimit(o.redis, { prefix, name: 'triggers', points: limits.triggersPerMinute, durationS: 60 }),
    },
    { jobsPerKey: limits.jobsPerKey },
  );
  const keys = new KeyService({
    keys: new ApiKeyRepository(o.db.models),
    adminKey: o.adminKey,
    sessions: new TokenSigner(o.sealer.derive('tock session cookies')),
    announceRevoked: (id) => o.queue.keyRevoked(id),
    logger: o.logger,
  });
  const audit = new AuditLog(new AuditRepository(o.db.models), o.logger.child({ component: 'audit' }));
  // Cluster-wide gauges, sampled on scrape: on the API only, so that N workers do not report them N times.
  o.metrics?.queueJobs(() => o.queue.counts());
  o.metrics?.deadLetters(() => deadLetters.countOpen());
  const app = createApp({
    jobs: new JobService({
      jobs,
      executions,
      queue: o.queue,
      handlers: o.registry,
      sealer: o.sealer,
      logger: o.logger,
      defaultTimeoutMs: o.defaultTimeoutMs,
      definitions: o.definitions,
      quotas,
    }),
    deadLetters: new DeadLetterService({ deadLetters, jobs, queue: o.queue, quotas }),
    stats: new StatsService({ jobs, executions, deadLetters, queue: o.queue }),
    idempotency: new IdempotencyRepository(o.db.models, o.sealer),
    handlers: o.registry,
    board: bullBoard(o.queue, { basePath: BOARD_PATH, actions: o.boardActions ?? false }),
    keys,
    audit,
    requestLimit: new RateLimit(o.redis, { prefix, name: 'requests', points: limits.requestsPerMinute, durationS: 60 }),
    payloadLimits: limits.payload,
    hostError: (host) => (o.network ?? new NetworkPolicy(false)).literalHostError(host),
    access: { corsOrigins: [], allowedHosts: [], ...o.access },
    logger: o.logger,
    metrics: o.metrics,
    storeConnected: () => o.db.conn.readyState === 1,
    health: [
      { name: 'redis', check: () => o.queue.ping() },
      { name: 'mongodb', check: () => o.db.ping() },
    ],
  });
  return {
    app,
    keys,
    async close() {
      await Promise.all([audit.close(), keys.close()]);
    },
  };
}

export interface WorkerRuntime {
  workerId: string;
  /** BullMQ's Worker (the benchmark pauses and resumes it). */
  worker: RunConsumer['worker'];
  history: HistoryWriter;
  close(): Promise<void>;
}

/** A worker over Redis and a database, configured by `cfg`; started, taking runs. */
export async function startWorker(
  cfg: Config,
  deps: {
    redisUrl: string;
    db: Database;
    registry: HandlerRegistry;
    sealer: Sealer;
    logger: Logger;
    metrics?: TockMetrics;
    /** Serve the probe and metrics server on WORKER_METRICS_PORT (a worker-only process). */
    probe?: boolean;
  },
): Promise<WorkerRuntime> {
  const workerId = cfg.WORKER_ID ?? `${os.hostname()}:${process.pid}`;
  const logger = deps.logger.child({ component: 'worker', workerId });
  const cache = new DefinitionCache(new JobRepository(deps.db.models));
  const activity = new RunActivity();
  const history = new HistoryWriter(
    deps.db.models,
    {
      flushIntervalMs: cfg.HISTORY_FLUSH_INTERVAL_MS,
      batchSize: cfg.HISTORY_BATCH_SIZE,
      maxBuffered: cfg.HISTORY_MAX_BUFFERED,
      eager: cfg.HISTORY_DURABLE_ACK,
    },
    logger,
    deps.metrics,
  );
  deps.metrics?.historyBuffer(() => history.pending);
  const stats = new RunStatsCoalescer(
    deps.db.models,
    {
      flushIntervalMs: cfg.COUNTER_FLUSH_INTERVAL_MS,
      yieldTo: activity,
      onStoreError: deps.metrics && ((operation) => deps.metrics!.storeError(operation)),
    },
    logger,
  );
  const commands = createRedis(deps.redisUrl, 'worker');
  commands.on('error', () => undefined);
  const notifications = new Notifications({
    windows: new NotifyWindows(commands, cfg.QUEUE_PREFIX, cfg.NOTIFY_WINDOW_MS),
    send: createNotificationSender(new NetworkPolicy(cfg.HTTP_ALLOW_PRIVATE_NETWORKS, cfg.HTTP_ALLOWED_NETWORKS)),
    sealer: deps.sealer,
    timeoutMs: cfg.NOTIFY_TIMEOUT_MS,
    logger: logger.child({ component: 'notifications' }),
    onOutcome: deps.metrics && ((kind, outcome) => deps.metrics!.notification(kind, outcome)),
  });
  const runs = new RunService({
    cache,
    sealer: deps.sealer,
    registry: deps.registry,
    history,
    stats,
    executions: new ExecutionRepository(deps.db.models),
    workerId,
    logger,
    misfireGraceMs: cfg.MISFIRE_GRACE_MS,
    maxStalledCount: cfg.WORKER_MAX_STALLED_COUNT,
    durableAck: cfg.HISTORY_DURABLE_ACK,
    activity,
    running: new Leases(commands, `${cfg.QUEUE_PREFIX}:running`, cfg.WORKER_LOCK_DURATION_MS),
    notifications,
    metrics: deps.metrics,
  });
  const subscriber = subscribeInvalidations(deps.redisUrl, cfg.QUEUE_PREFIX, cache, logger, {
    prefetch: true,
    onCancel: ({ jobId, reason }) => {
      const n = runs.cancel(jobId, reason);
      if (n > 0) logger.info({ jobId, reason, attempts: n }, 'attempts in flight cancelled');
    },
  });
  const consumer = new RunConsumer(
    deps.redisUrl,
    {
      prefix: cfg.QUEUE_PREFIX,
      workerId,
      concurrency: cfg.WORKER_CONCURRENCY,
      lockDurationMs: cfg.WORKER_LOCK_DURATION_MS,
      stalledIntervalMs: cfg.WORKER_STALLED_INTERVAL_MS,
      maxStalledCount: cfg.WORKER_MAX_STALLED_COUNT,
      failedJobRetention: cfg.FAILED_JOB_RETENTION,
    },
    runs,
    logger,
  );
  const quit = (redis: { quit(): Promise<unknown> }) => ({ close: async () => void (await redis.quit()) });
  const probe: ProbeServer | undefined = deps.probe
    ? new ProbeServer({
        port: cfg.WORKER_METRICS_PORT,
        metrics: deps.metrics,
        checks: [
          { name: 'redis', check: async () => void (await commands.ping()) },
          { name: 'mongodb', check: () => deps.db.ping() },
          {
            name: 'consuming',
            // Called only once the server listens, which WorkerProcess.start does: `worker` is set by then.
            check: async (): Promise<boolean> => worker.consuming && consumer.worker.isRunning() && !consumer.worker.isPaused(),
          },
        ],
      })
    : undefined;
  const worker = new WorkerProcess({
    workerId,
    concurrency: cfg.WORKER_CONCURRENCY,
    runs: consumer,
    abortInFlight: (reason) => runs.abortAll(reason),
    history,
    stats,
    connections: [notifications, quit(subscriber), quit(commands)],
    graceMs: cfg.WORKER_SHUTDOWN_GRACE_MS,
    logger: deps.logger,
    probe,
  });
  await worker.start();
  return { workerId, worker: consumer.worker, history, close: () => worker.close() };
}

function serviceName(parts: { api: boolean; worker: boolean }): string {
  return parts.api && parts.worker ? 'tock-all' : parts.api ? 'tock-api' : 'tock-worker';
}

/** Listens with `app` on the configured address; logs where the user goes next. */
async function listen(app: Koa, cfg: Config, logger: Logger): Promise<{ server: Server; base: string }> {
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
    { port, api: `${base}/api/v1`, docs: `${base}/docs`, board: `${base}${BOARD_PATH}` },
    `API listening on ${base}: the API at ${base}/api/v1, its docs at ${base}/docs, Bull Board at ${base}${BOARD_PATH}`,
  );
  return { server, base };
}

/** Starts the API and/or a worker in this process, against configured or embedded servers. */
export async function startProcess(cfg: Config, logger: Logger, parts: { api: boolean; worker: boolean }): Promise<Stop> {
  const servers = await resolveServers(cfg, logger);
  const stops: Stop[] = [servers.stop];
  try {
    await checkRedis(servers.redisUrl, parts.worker && !cfg.REDIS_ALLOW_EVICTION, logger);
    logger.info(
      { redis: redact(servers.redisUrl), mongodb: redact(servers.mongoUrl) },
      `Redis: ${redact(servers.redisUrl)} (${servers.redisOrigin}); MongoDB: ${redact(servers.mongoUrl)} (${servers.mongoOrigin})`,
    );
    const secrets = resolveSecrets(cfg, parts.api);
    // One registry for the whole process (API and worker share it when both run here).
    const metrics = cfg.METRICS_ENABLED ? new TockMetrics({ labels: { service: serviceName(parts) } }) : undefined;
    const db = await connectMongo(servers.mongoUrl, parts.api);
    stops.unshift(() => db.close());
    const registry = new HandlerRegistry(
      builtinHandlers({ allowPrivateNetworks: cfg.HTTP_ALLOW_PRIVATE_NETWORKS, allowedNetworks: cfg.HTTP_ALLOWED_NETWORKS }),
    );
    const network = new NetworkPolicy(cfg.HTTP_ALLOW_PRIVATE_NETWORKS, cfg.HTTP_ALLOWED_NETWORKS);
    const redis = createRedis(servers.redisUrl, 'command');
    redis.on('error', () => undefined);
    const queue = new JobQueue(redis, { prefix: cfg.QUEUE_PREFIX });
    stops.unshift(async () => {
      await queue.close();
      redis.disconnect();
    });

    if (parts.worker) {
      // A worker-only process serves its probes and metrics on WORKER_METRICS_PORT; with the API in
      // the same process, the API's port serves both.
      const worker = await startWorker(cfg, {
        redisUrl: servers.redisUrl,
        db,
        registry,
        sealer: secrets.sealer,
        logger,
        metrics,
        probe: !parts.api,
      });
      stops.unshift(() => worker.close());
    }
    if (parts.api) {
      const definitions = new DefinitionCache(new JobRepository(db.models));
      const api = composeApi({
        db,
        queue,
        redis,
        registry,
        logger,
        adminKey: secrets.adminKey,
        sealer: secrets.sealer,
        defaultTimeoutMs: cfg.DEFAULT_TIMEOUT_MS,
        definitions,
        boardActions: cfg.BULL_BOARD_ACTIONS,
        network,
        limits: {
          requestsPerMinute: cfg.RATE_LIMIT_PER_MINUTE,
          jobsPerKey: cfg.QUOTA_JOBS_PER_KEY,
          triggersPerMinute: cfg.QUOTA_TRIGGERS_PER_MINUTE,
          payload: { maxBytes: cfg.PAYLOAD_MAX_BYTES, maxKeys: cfg.PAYLOAD_MAX_KEYS },
        },
        access: { corsOrigins: cfg.CORS_ORIGINS, allowedHosts: cfg.ALLOWED_HOSTS },
        metrics,
      });
      const subscriber = subscribeInvalidations(servers.redisUrl, cfg.QUEUE_PREFIX, definitions, logger, {
        onKeyRevoked: (id) => api.keys.forget(id),
      });
      stops.unshift(async () => void (await subscriber.quit().catch(() => undefined)));
      const { server, base } = await listen(api.app, cfg, logger);
      logDevAdminKey(secrets, base, logger);
      stops.unshift(async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await api.close();
      });
    }
    stops.unshift(startMaintenance(cfg, { db, queue, redis, logger, metrics }));
  } catch (err) {
    for (const stop of stops) await stop().catch(() => undefined);
    throw err;
  }
  return async () => {
    for (const stop of stops) await stop();
  };
}
