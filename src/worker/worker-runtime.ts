import os from 'node:os';
import { Worker, type MinimalJob } from 'bullmq';
import type { Config } from '../config/env';
import { backoffDelay, DEFAULT_RETRY_POLICY } from '../domain/retry';
import { HandlerError } from '../handlers/handler';
import type { HandlerRegistry } from '../handlers/registry';
import type { Logger } from '../observability/logger';
import type { Database } from '../persistence/mongo';
import { ExecutionRepository } from '../persistence/execution-repository';
import { HistoryWriter } from '../persistence/history-writer';
import { JobRepository } from '../persistence/job-repository';
import { RunStatsCoalescer } from '../persistence/run-stats';
import { QUEUE_NAME, type RunData } from '../queue/job-queue';
import { subscribeInvalidations } from '../queue/invalidations';
import { Leases } from '../queue/leases';
import { createRedis } from '../queue/redis';
import { DefinitionCache } from '../persistence/definition-cache';
import { RunActivity } from '../lib/run-activity';
import { RunProcessor, type RunJob } from './run-processor';

export interface WorkerRuntime {
  workerId: string;
  worker: Worker<RunData>;
  history: HistoryWriter;
  /** Stops taking jobs, lets in-flight ones finish within the grace period, flushes history. */
  close(): Promise<void>;
}

const STALLED_LIMIT = /stalled more than allowable limit/i;

export async function startWorker(
  cfg: Config,
  deps: { redisUrl: string; db: Database; registry: HandlerRegistry; logger: Logger },
): Promise<WorkerRuntime> {
  const workerId = cfg.WORKER_ID ?? `${os.hostname()}:${process.pid}`;
  const logger = deps.logger.child({ component: 'worker', workerId });
  const jobs = new JobRepository(deps.db.models);
  const cache = new DefinitionCache(jobs);
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
  );
  const stats = new RunStatsCoalescer(deps.db.models, { flushIntervalMs: cfg.COUNTER_FLUSH_INTERVAL_MS, yieldTo: activity }, logger);
  const shutdown = new AbortController();
  const commands = createRedis(deps.redisUrl, 'worker');
  commands.on('error', () => undefined);
  const processor = new RunProcessor({
    cache,
    registry: deps.registry,
    history,
    stats,
    executions: new ExecutionRepository(deps.db.models),
    workerId,
    logger,
    shutdownSignal: shutdown.signal,
    misfireGraceMs: cfg.MISFIRE_GRACE_MS,
    maxStalledCount: cfg.WORKER_MAX_STALLED_COUNT,
    durableAck: cfg.HISTORY_DURABLE_ACK,
    activity,
    running: new Leases(commands, `${cfg.QUEUE_PREFIX}:running`, cfg.WORKER_LOCK_DURATION_MS),
  });

  const subscriber = subscribeInvalidations(deps.redisUrl, cfg.QUEUE_PREFIX, cache, logger, {
    prefetch: true,
    onCancel: ({ jobId, reason }) => {
      const n = processor.cancel(jobId, reason);
      if (n > 0) logger.info({ jobId, reason, attempts: n }, 'attempts in flight cancelled');
    },
  });
  const connection = createRedis(deps.redisUrl, 'worker');
  const worker = new Worker<RunData>(QUEUE_NAME, (job, token) => processor.process(job as RunJob, token), {
    connection,
    prefix: cfg.QUEUE_PREFIX,
    concurrency: cfg.WORKER_CONCURRENCY,
    lockDuration: cfg.WORKER_LOCK_DURATION_MS,
    stalledInterval: cfg.WORKER_STALLED_INTERVAL_MS,
    maxStalledCount: cfg.WORKER_MAX_STALLED_COUNT,
    // Retention for every run whose options do not say otherwise (JobQueue.jobOptions leaves it out).
    removeOnComplete: { count: 0 },
    removeOnFail: { count: cfg.FAILED_JOB_RETENTION },
    name: workerId,
    settings: {
      // The definition is cached: its processor just ran. DEFAULT_RETRY_POLICY covers a cache miss.
      backoffStrategy: (attemptsMade: number, _type?: string, err?: Error, job?: MinimalJob) => {
        const def = job ? cache.peek((job.data as RunData).d) : undefined;
        const retryAfter = err instanceof HandlerError ? err.options.retryAfterMs : undefined;
        return backoffDelay(def?.retry ?? DEFAULT_RETRY_POLICY, attemptsMade, retryAfter);
      },
    },
  });
  worker.on('error', (err) => logger.error({ err }, 'worker error'));
  worker.on('failed', (job, err) => {
    if (job && STALLED_LIMIT.test(err.message)) {
      processor
        .onStalledTooOften(job as RunJob)
        .catch((e: unknown) => logger.error({ err: e, runId: job.id }, 'could not record stalled run'));
    }
  });
  worker.on('stalled', (jobId) => logger.warn({ runId: jobId }, 'job stalled; moved back to wait'));
  await worker.waitUntilReady();
  logger.info({ concurrency: cfg.WORKER_CONCURRENCY }, 'worker started');

  return {
    workerId,
    worker,
    history,
    async close() {
      logger.info('worker stopping: no new jobs, finishing in-flight ones');
      const graceful = worker.close();
      const grace = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), cfg.WORKER_SHUTDOWN_GRACE_MS).unref());
      if ((await Promise.race([graceful.then(() => 'done' as const), grace])) === 'timeout') {
        logger.warn('grace period over: aborting in-flight jobs');
        shutdown.abort(new Error('worker shutting down'));
        await worker.close(true);
      }
      await stats.close();
      const left = await history.close();
      if (left > 0) logger.error({ left }, 'execution records could not be written before exit');
      await subscriber.quit().catch(() => undefined);
      await connection.quit().catch(() => undefined);
      await commands.quit().catch(() => undefined);
      logger.info({ written: history.written }, 'worker stopped');
    },
  };
}
