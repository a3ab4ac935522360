import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { UnavailableError } from '../domain/errors';
import type { JobDefinition, Trigger } from '../domain/job-definition';
import { isRepeating } from '../domain/schedule';
import { withTimeout } from './redis';

export const QUEUE_NAME = 'jobs';
export const INVALIDATION_CHANNEL = 'definitions';
const REDIS_TIMEOUT_MS = 2000;

/** What a BullMQ job carries: ids and a version, never the payload (secrets stay out of Redis). */
export interface RunData {
  /** definition id */
  d: string;
  /** definition version the run was scheduled for */
  v: number;
  t: Trigger;
}

export interface QueueSettings {
  prefix: string;
  failedJobRetention: number;
}

export function onceJobId(def: Pick<JobDefinition, 'id' | 'version'>): string {
  return `${def.id}-v${def.version}`;
}

/** Parses the slot time out of a Job Scheduler job id (`repeat:<schedulerId>:<millis>`). */
export function slotFromJobId(jobId: string | undefined): number | null {
  const m = /^repeat:[^:]+:(\d+)$/.exec(jobId ?? '');
  return m ? Number(m[1]) : null;
}

/**
 * The BullMQ side of definitions. Every call is idempotent: a definition's counterpart has an id
 * derived from the definition's id (a Job Scheduler with the same id, or a delayed job
 * `<id>-v<version>`), so repeating a registration is harmless.
 */
export class JobQueue {
  readonly queue: Queue<RunData>;

  constructor(
    private readonly redis: Redis,
    private readonly settings: QueueSettings,
  ) {
    this.queue = new Queue<RunData>(QUEUE_NAME, { connection: redis, prefix: settings.prefix });
    this.queue.on('error', () => undefined);
  }

  jobOptions(def: JobDefinition): JobsOptions {
    return {
      attempts: def.retry.attempts,
      backoff: { type: 'tock', delay: def.retry.backoff.delayMs },
      removeOnComplete: true,
      removeOnFail: { count: this.settings.failedJobRetention },
    };
  }

  /** Runs a Redis operation with a deadline; any failure becomes a 503-mapped UnavailableError. */
  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(fn(), REDIS_TIMEOUT_MS, `${what}: Redis`);
    } catch (err) {
      throw new UnavailableError(`Redis is unavailable (${what})`, 5, { cause: err });
    }
  }

  /** Creates or updates the counterpart of an active definition; returns its next run time. */
  register(def: JobDefinition, now = Date.now()): Promise<Date | null> {
    return this.guard('register', async () => {
      const data: RunData = { d: def.id, v: def.version, t: 'schedule' };
      const s = def.schedule;
      if (isRepeating(s)) {
        const job = await this.queue.upsertJobScheduler(
          def.id,
          s.kind === 'interval'
            ? { every: s.everyMs, startDate: s.startAt, endDate: s.endAt, limit: s.limit }
            : { pattern: s.expression.trim(), tz: s.timezone ?? 'UTC', startDate: s.startAt, endDate: s.endAt, limit: s.limit },
          { name: 'run', data, opts: this.jobOptions(def) },
        );
        const slot = slotFromJobId(job?.id);
        return slot === null ? null : new Date(slot);
      }
      const runAt = def.dueAt?.getTime() ?? (s.kind === 'once' ? Date.parse(s.runAt) : now + s.delayMs);
      await this.queue.add('run', data, { ...this.jobOptions(def), jobId: onceJobId(def), delay: Math.max(0, runAt - now) });
      return new Date(Math.max(runAt, now));
    });
  }

  /** Removes whatever BullMQ holds for the definition at `version` (a running attempt finishes). */
  unregister(def: Pick<JobDefinition, 'id' | 'version' | 'schedule'>): Promise<void> {
    return this.guard('unregister', async () => {
      if (isRepeating(def.schedule)) await this.queue.removeJobScheduler(def.id);
      else await this.queue.remove(onceJobId(def));
    });
  }

  /** One run outside the schedule (manual trigger or dead-letter retry), under a fresh run id. */
  enqueueRun(def: JobDefinition, runId: string, trigger: Trigger): Promise<void> {
    return this.guard('enqueue', async () => {
      await this.queue.add('run', { d: def.id, v: def.version, t: trigger }, { ...this.jobOptions(def), jobId: runId });
    });
  }

  /** Tells workers to drop their cached copy of a definition. */
  invalidate(defId: string): Promise<void> {
    return this.guard('invalidate', async () => {
      await this.redis.publish(`${this.settings.prefix}:${INVALIDATION_CHANNEL}`, defId);
    });
  }

  ping(): Promise<void> {
    return this.guard('ping', async () => {
      await this.redis.ping();
    });
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
