import type { Logger } from '../observability/logger';

/** Takes runs off the queue and hands them to the run use case (queue/RunConsumer). */
export interface RunSource {
  start(): Promise<void>;
  /** Stops taking runs; waits for those in flight unless `force`. */
  close(force?: boolean): Promise<void>;
  disconnect(): Promise<void>;
}

/** A buffer of writes that close() flushes, giving up after a while; returns what was left. */
export interface Flushing {
  close(timeoutMs?: number): Promise<number>;
}

export interface WorkerParts {
  workerId: string;
  concurrency: number;
  runs: RunSource;
  /** Aborts the attempts in flight (when the grace period is over). */
  abortInFlight(reason: Error): void;
  history: Flushing & { readonly written: number };
  stats: Flushing;
  /** Closed last: subscriptions and command connections. */
  connections: { close(): Promise<void> }[];
  /** WORKER_SHUTDOWN_GRACE_MS: how long in-flight attempts may take to finish at shutdown. */
  graceMs: number;
  logger: Logger;
  /** The probe and metrics server (WORKER_METRICS_PORT): up before runs are taken, closed last. */
  probe?: { listen(): Promise<number>; close(): Promise<void> };
}

/**
 * A worker process: takes runs until it is closed, then stops in two stages (graceful: no new runs,
 * in-flight ones finish; after the grace period: aborted) and flushes what it buffered.
 */
export class WorkerProcess {
  private readonly logger: Logger;

  constructor(private readonly parts: WorkerParts) {
    this.logger = parts.logger.child({ component: 'worker', workerId: parts.workerId });
  }

  /** False until runs are taken and again from close() on: the probe server's readiness. */
  consuming = false;

  async start(): Promise<void> {
    const metricsPort = this.parts.probe ? await this.parts.probe.listen() : undefined;
    if (metricsPort !== undefined) this.logger.info({ metricsPort }, `probe and metrics server listening on port ${metricsPort}`);
    try {
      await this.parts.runs.start();
    } catch (err) {
      await this.parts.probe?.close();
      throw err;
    }
    this.consuming = true;
    this.logger.info({ concurrency: this.parts.concurrency, metricsPort }, 'worker started');
  }

  async close(): Promise<void> {
    const { runs, history, stats, logger } = { ...this.parts, logger: this.logger };
    logger.info('worker stopping: no new jobs, finishing in-flight ones');
    this.consuming = false;
    const graceful = runs.close();
    const grace = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), this.parts.graceMs).unref());
    if ((await Promise.race([graceful.then(() => 'done' as const), grace])) === 'timeout') {
      logger.warn('grace period over: aborting in-flight jobs');
      this.parts.abortInFlight(new Error('worker shutting down'));
      await runs.close(true);
    }
    await stats.close();
    const left = await history.close();
    if (left > 0) logger.error({ left }, 'execution records could not be written before exit');
    await runs.disconnect();
    for (const c of this.parts.connections) await c.close().catch(() => undefined);
    await this.parts.probe?.close();
    logger.info({ written: history.written }, 'worker stopped');
  }
}
