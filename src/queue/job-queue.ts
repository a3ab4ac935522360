import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { UnavailableError } from '../domain/errors';
import type { JobDefinition, Trigger } from '../domain/job-definition';
import { isRepeating } from '../domain/schedule';
import { withTimeout } from '../lib/with-timeout';
import { onceJobId, readRunData, runData, slotFromJobId, type RunData } from './run-data';

export { onceJobId, slotFromJobId, type RunData };

export const QUEUE_NAME = 'jobs';
export const INVALIDATION_CHANNEL = 'definitions';
/** New definitions due soon, announced so that workers can read them before their first runs. */
export const ANNOUNCE_CHANNEL = 'definitions:new';
/** Asks workers to abort a definition's attempts in flight (a JSON CancelRequest). */
export const CANCEL_CHANNEL = 'runs:cancel';
/** Tells API processes that an API key was revoked (its id). */
export const KEY_REVOKED_CHANNEL = 'keys:revoked';

export type CancelReason = 'deleted' | 'cancelled';
export interface CancelRequest {
  jobId: string;
  reason: CancelReason;
}
/** Set by each reconciler pass; its absence means Redis lost its keys. */
const CANARY_KEY = 'reconciled';
const REDIS_TIMEOUT_MS = 2000;
const PAGE = 500;
/** Finished one-time jobs stay in Redis this long, so that a reconciler never adds one twice. */
const ONCE_KEEP_COMPLETED_S = 3600;

export const QUEUE_STATES = ['waiting', 'delayed', 'active', 'failed', 'prioritized'] as const;
export type QueueCounts = Record<(typeof QUEUE_STATES)[number], number>;

export interface QueueSettings {
  prefix: string;
}

/** A Job Scheduler in Redis, as the reconciler compares it with its definition. */
export interface SchedulerState {
  id: string;
  version: number | null;
  every?: number;
  pattern?: string;
  tz?: string;
}

/** A run's BullMQ name: what Bull Board shows. The definition's name, never its payload. */
export function runName(def: Pick<JobDefinition, 'name'>): string {
  return def.name.length > MAX_NAME ? `${def.name.slice(0, MAX_NAME - 1)}…` : def.name;
}
const MAX_NAME = 80;

/**
 * The BullMQ side of definitions. Every call is idempotent: a definition's counterpart has an id
 * derived from the definition's id (a Job Scheduler with the same id, or a delayed job
 * `<id>-v<version>`), so repeating a registration is harmless.
 */
export class JobQueue {
  readonly queue: Queue<RunData>;
  readonly prefix: string;

  constructor(
    private readonly redis: Redis,
    private readonly settings: QueueSettings,
  ) {
    this.prefix = settings.prefix;
    this.queue = new Queue<RunData>(QUEUE_NAME, { connection: redis, prefix: settings.prefix });
    this.queue.on('error', () => undefined);
  }

  /**
   * What a run carries besides its id and data, kept small (every pending job is a Redis hash):
   * attempts and the custom backoff type only when it retries (the worker's backoff strategy reads
   * the delays from the definition), and no retention settings: workers remove completed runs and
   * keep the last FAILED_JOB_RETENTION failed ones (their Worker options), one-time jobs excepted.
   */
  jobOptions(def: JobDefinition): JobsOptions {
    return def.retry.attempts > 1 ? { attempts: def.retry.attempts, backoff: { type: 'tock' } } : {};
  }

  /** Runs a Redis operation with a deadline; any failure becomes a 503-mapped UnavailableError. */
  private async guard<T>(what: string, fn: () => Promise<T>, timeoutMs = REDIS_TIMEOUT_MS): Promise<T> {
    try {
      return await withTimeout(fn(), timeoutMs, `${what}: Redis`);
    } catch (err) {
      throw new UnavailableError(`Redis is unavailable (${what})`, 5, { cause: err });
    }
  }

  /** Creates or updates the counterpart of an active definition; returns its next run time. */
  register(def: JobDefinition, now = Date.now()): Promise<Date | null> {
    return this.guard('register', async () => {
      if (isRepeating(def.schedule)) return this.upsertScheduler(def);
      const { data, opts, runAt } = this.onceJob(def, now);
      await this.queue.add(runName(def), data, opts);
      return new Date(runAt);
    });
  }

  private async upsertScheduler(def: JobDefinition): Promise<Date | null> {
    const s = def.schedule;
    if (!isRepeating(s)) throw new Error(`${def.id} is not repeating`);
    const data = runData(def, 'schedule');
    const job = await this.queue.upsertJobScheduler(
      def.id,
      s.kind === 'interval'
        ? { every: s.everyMs, startDate: s.startAt, endDate: s.endAt, limit: s.limit }
        : { pattern: s.expression.trim(), tz: s.timezone ?? 'UTC', startDate: s.startAt, endDate: s.endAt, limit: s.limit },
      { name: runName(def), data, opts: this.jobOptions(def) },
    );
    const slot = slotFromJobId(job?.id);
    return slot === null ? null : new Date(slot);
  }

  /** The delayed BullMQ job of a one-time definition (id `<defId>-v<version>`), due at `runAt`. */
  private onceJob(def: JobDefinition, now: number): { data: RunData; opts: JobsOptions; runAt: number } {
    const s = def.schedule;
    const due = def.dueAt?.getTime() ?? (s.kind === 'once' ? Date.parse(s.runAt) : s.kind === 'delay' ? now + s.delayMs : now);
    const opts = { ...this.jobOptions(def), removeOnComplete: { age: ONCE_KEEP_COMPLETED_S } };
    return {
      data: runData(def, 'schedule'),
      // BullMQ runs a delayed job at timestamp + delay; its timestamp defaults to when it is added,
      // which is after the MongoDB write: pin it to `now` so the job is due at `due`, not later.
      opts: { ...opts, jobId: onceJobId(def), delay: Math.max(0, due - now), timestamp: now },
      runAt: Math.max(due, now),
    };
  }

  /**
   * Registers many new definitions in few round trips: every one-time definition in ONE addBulk
   * (all or none), the repeating ones with one upsertJobScheduler each (BullMQ has no bulk form),
   * at most `concurrency` at a time. After the first failure the remaining ones are not tried (Redis
   * is down: fail fast instead of waiting out a timeout per definition). Returns the error of each
   * definition that is not registered, by id; the caller undoes those.
   */
  async registerMany(defs: JobDefinition[], now = Date.now(), concurrency = 16): Promise<Map<string, UnavailableError>> {
    const failed = new Map<string, UnavailableError>();
    const once = defs.filter((d) => !isRepeating(d.schedule));
    const repeating = defs.filter((d) => isRepeating(d.schedule));
    const bulk = async () => {
      if (once.length === 0) return;
      const jobs = once.map((d) => ({ name: runName(d), ...this.onceJob(d, now) }));
      const timeoutMs = REDIS_TIMEOUT_MS + once.length * 5;
      // One job is one script call; addBulk would wrap it in a MULTI pipeline for nothing.
      const add = async () => {
        if (jobs.length === 1) await this.queue.add(jobs[0]!.name, jobs[0]!.data, jobs[0]!.opts);
        else await this.queue.addBulk(jobs);
      };
      await this.guard('register many', add, timeoutMs).catch((err: UnavailableError) => {
        for (const d of once) failed.set(d.id, err);
      });
    };
    let next = 0;
    let firstError: UnavailableError | null = null;
    const lane = async () => {
      while (next < repeating.length) {
        const def = repeating[next++]!;
        if (firstError) {
          failed.set(def.id, firstError);
          continue;
        }
        await this.guard('register', () => this.upsertScheduler(def)).catch((err: UnavailableError) => {
          firstError ??= err;
          failed.set(def.id, err);
        });
      }
    };
    await Promise.all([bulk(), ...Array.from({ length: Math.min(concurrency, repeating.length) }, lane)]);
    return failed;
  }

  /** Removes whatever BullMQ holds for the definition at `version` (a running attempt finishes). */
  unregister(def: Pick<JobDefinition, 'id' | 'version' | 'schedule'>): Promise<void> {
    return this.guard('unregister', async () => {
      if (isRepeating(def.schedule)) await this.queue.removeJobScheduler(def.id);
      else await this.queue.remove(onceJobId(def));
    });
  }

  /** Unregisters many definitions, each on its own (best effort); returns how many failed. */
  async unregisterMany(defs: Pick<JobDefinition, 'id' | 'version' | 'schedule'>[]): Promise<number> {
    const results = await Promise.allSettled(defs.map((d) => this.unregister(d)));
    return results.filter((r) => r.status === 'rejected').length;
  }

  /** One run outside the schedule (manual trigger or dead-letter retry), under a fresh run id. */
  enqueueRun(def: JobDefinition, runId: string, trigger: Trigger): Promise<void> {
    return this.guard('enqueue', async () => {
      const run = this.runJob(def, runId, trigger);
      await this.queue.add(run.name, run.data, run.opts);
    });
  }

  /**
   * Many runs outside the schedule in one BullMQ `addBulk` (one MULTI transaction, one round trip):
   * every run is queued or, when Redis fails, none is.
   */
  enqueueRuns(runs: { def: JobDefinition; runId: string }[], trigger: Trigger): Promise<void> {
    return this.guard('enqueue', async () => {
      await this.queue.addBulk(runs.map(({ def, runId }) => this.runJob(def, runId, trigger)));
    });
  }

  private runJob(def: JobDefinition, runId: string, trigger: Trigger) {
    return {
      name: runName(def),
      data: runData(def, trigger),
      opts: { ...this.jobOptions(def), jobId: runId },
    };
  }

  /** Every Job Scheduler in Redis, with the settings the reconciler compares. */
  listSchedulers(): Promise<SchedulerState[]> {
    return this.guard('list schedulers', async () => {
      const out: SchedulerState[] = [];
      for (let start = 0; ; start += PAGE) {
        const page = await this.queue.getJobSchedulers(start, start + PAGE - 1, true);
        for (const s of page) {
          const id = s.id ?? s.key;
          out.push({
            id,
            version: s.template?.data ? readRunData(s.template.data).version : null,
            every: s.every ?? undefined,
            pattern: s.pattern ?? undefined,
            tz: s.tz ?? undefined,
          });
        }
        if (page.length < PAGE) return out;
      }
    });
  }

  /**
   * Job ids BullMQ knows (`known`: pending, running or kept after finishing) and those it could
   * still start (`pending`: waiting or delayed, safe to remove).
   */
  listJobIds(): Promise<{ known: Set<string>; pending: Set<string> }> {
    return this.guard('list jobs', async () => {
      const pending = new Set(await this.queue.getRanges(['delayed', 'waiting', 'prioritized'], 0, -1));
      const others = await this.queue.getRanges(['active', 'completed', 'failed', 'waiting-children'], 0, -1);
      return { known: new Set([...pending, ...others]), pending };
    });
  }

  removeScheduler(id: string): Promise<void> {
    return this.guard('remove scheduler', async () => {
      await this.queue.removeJobScheduler(id);
    });
  }

  removeJob(id: string): Promise<void> {
    return this.guard('remove job', async () => {
      await this.queue.remove(id);
    });
  }

  /**
   * The reconciler's canary: a key set when a pass starts. Redis that lost its data (flushed, or
   * replaced by an empty server) has lost it too, which one cheap EXISTS shows.
   */
  markReconciled(): Promise<void> {
    return this.guard('mark reconciled', async () => {
      await this.redis.set(`${this.settings.prefix}:${CANARY_KEY}`, new Date().toISOString());
    });
  }

  isReconciled(): Promise<boolean> {
    return this.guard('check reconciled', async () => (await this.redis.exists(`${this.settings.prefix}:${CANARY_KEY}`)) === 1);
  }

  /** Tells workers to drop their cached copy of a definition. */
  invalidate(defId: string): Promise<void> {
    return this.guard('invalidate', async () => {
      await this.redis.publish(`${this.settings.prefix}:${INVALIDATION_CHANNEL}`, defId);
    });
  }

  /** Announces new definitions (comma-separated ids, one message) to the workers' caches. */
  announce(defIds: string[]): Promise<void> {
    return this.guard('announce', async () => {
      if (defIds.length > 0) await this.redis.publish(`${this.settings.prefix}:${ANNOUNCE_CHANNEL}`, defIds.join(','));
    });
  }

  /** Ids of the definition's runs that a worker is running now. */
  activeRunIds(defId: string): Promise<string[]> {
    return this.guard('list active runs', async () => {
      const active = await this.queue.getActive(0, -1);
      return active.filter((j) => readRunData(j.data).jobId === defId).map((j) => j.id!);
    });
  }

  /** Tells every worker to abort the definition's attempts in flight. */
  cancelRuns(defId: string, reason: CancelReason): Promise<void> {
    return this.guard('cancel runs', async () => {
      const request: CancelRequest = { jobId: defId, reason };
      await this.redis.publish(`${this.settings.prefix}:${CANCEL_CHANNEL}`, JSON.stringify(request));
    });
  }

  /** Tells every API process to forget an API key at once. */
  keyRevoked(keyId: string): Promise<void> {
    return this.guard('announce revocation', async () => {
      await this.redis.publish(`${this.settings.prefix}:${KEY_REVOKED_CHANNEL}`, keyId);
    });
  }

  /** How many runs are in each state BullMQ keeps (one round trip). */
  counts(): Promise<QueueCounts> {
    return this.guard('count runs', async () => {
      const c = await this.queue.getJobCounts(...QUEUE_STATES);
      return Object.fromEntries(QUEUE_STATES.map((s) => [s, c[s] ?? 0])) as QueueCounts;
    });
  }

  /** The ids of the workers connected to the queue now (from CLIENT LIST; a worker names its connections). */
  workerIds(): Promise<string[]> {
    return this.guard('list workers', async () => {
      const clients = (await this.queue.getWorkers()) as { rawname?: string }[];
      const ids = clients.map((c) => c.rawname?.split(':w:')[1]).filter((id): id is string => Boolean(id));
      return [...new Set(ids)].sort();
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
