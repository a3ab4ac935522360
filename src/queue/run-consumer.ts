import { DelayedError, UnrecoverableError, Worker, type Job, type MinimalJob } from 'bullmq';
import { AttemptFailedError } from '../domain/errors';
import type { Logger } from '../observability/logger';
import { QUEUE_NAME } from './job-queue';
import { createRedis } from './redis';
import { readRunData, slotFromJobId, type QueuedRun } from './run-data';

export interface RunConsumerSettings {
  prefix: string;
  workerId: string;
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
  /** Failed runs BullMQ keeps (Bull Board shows them); completed ones are removed at once. */
  failedJobRetention: number;
}

/** What the consumer hands runs to: the run use case. */
export interface RunHandler {
  process(run: QueuedRun): Promise<unknown>;
  /** BullMQ failed the run for stalling more often than allowed: record it. */
  onStalledTooOften(run: QueuedRun): Promise<void>;
  backoffDelay(jobId: string, attemptsMade: number, err?: Error): number;
}

const STALLED_LIMIT = /stalled more than allowable limit/i;

type BullJob = Job<unknown, unknown, string>;

/** A BullMQ job as the run use case sees it. */
function queuedRun(job: BullJob, token: string | undefined): QueuedRun {
  const data = readRunData(job.data);
  return {
    id: job.id!,
    data,
    attemptsStarted: job.attemptsStarted,
    attemptsMade: job.attemptsMade,
    maxAttempts: job.opts.attempts ?? 1,
    iterations: (job.opts as { repeat?: { count?: number } }).repeat?.count ?? 0,
    processedOn: job.processedOn,
    dueAt: slotFromJobId(job.id) ?? job.timestamp + (job.opts.delay ?? 0),
    async postpone(delayMs: number): Promise<never> {
      if (!token) throw new Error(`run ${job.id} cannot be postponed without its lock token`);
      await job.updateData({ ...(job.data as object), ...data, postponed: (data.postponed ?? 0) + 1 });
      await job.moveToDelayed(Date.now() + delayMs, token);
      throw new DelayedError();
    },
  };
}

/**
 * The BullMQ Worker that takes runs off the queue and hands them to the run use case. It maps the
 * use case's failures onto BullMQ: a non-retryable attempt fails the job at once (the dead letter
 * is the use case's), a retryable one is retried after the job's backoff.
 */
export class RunConsumer {
  readonly worker: Worker;
  private readonly connection;

  constructor(redisUrl: string, settings: RunConsumerSettings, handler: RunHandler, logger: Logger) {
    this.connection = createRedis(redisUrl, 'worker');
    this.worker = new Worker(
      QUEUE_NAME,
      async (job: BullJob, token?: string) => {
        try {
          return await handler.process(queuedRun(job, token));
        } catch (err) {
          if (err instanceof AttemptFailedError && !err.retryable) throw new UnrecoverableError(err.message);
          throw err;
        }
      },
      {
        connection: this.connection,
        prefix: settings.prefix,
        concurrency: settings.concurrency,
        lockDuration: settings.lockDurationMs,
        stalledInterval: settings.stalledIntervalMs,
        maxStalledCount: settings.maxStalledCount,
        // Retention for every run whose options do not say otherwise (JobQueue.jobOptions leaves it out).
        removeOnComplete: { count: 0 },
        removeOnFail: { count: settings.failedJobRetention },
        name: settings.workerId,
        settings: {
          backoffStrategy: (attemptsMade: number, _type?: string, err?: Error, job?: MinimalJob) =>
            handler.backoffDelay(job ? readRunData(job.data).jobId : '', attemptsMade, err),
        },
      },
    );
    this.worker.on('error', (err) => logger.error({ err }, 'worker error'));
    this.worker.on('failed', (job, err) => {
      if (!job || !STALLED_LIMIT.test(err.message)) return;
      handler
        .onStalledTooOften(queuedRun(job, undefined))
        .catch((e: unknown) => logger.error({ err: e, runId: job.id }, 'could not record stalled run'));
    });
    this.worker.on('stalled', (jobId) => logger.warn({ runId: jobId }, 'job stalled; moved back to wait'));
  }

  start(): Promise<void> {
    return this.worker.waitUntilReady().then(() => undefined);
  }

  /** Stops taking runs; waits for those in flight unless `force`. */
  close(force = false): Promise<void> {
    return this.worker.close(force);
  }

  /** Closes its Redis connection (after close). */
  async disconnect(): Promise<void> {
    await this.connection.quit().catch(() => undefined);
  }
}
