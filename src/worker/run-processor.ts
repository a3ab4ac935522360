import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { executionId, type ExecutionError, type ExecutionRecord } from '../domain/execution';
import type { ExecutionStatus, JobDefinition, JobStatus } from '../domain/job-definition';
import { isRepeating, nextRunAfter, passedOverSlots } from '../domain/schedule';
import { HandlerError, type HandlerContext } from '../handlers/handler';
import type { HandlerRegistry } from '../handlers/registry';
import type { Logger } from '../observability/logger';
import type { ExecutionRepository } from '../persistence/execution-repository';
import type { HistoryWriter } from '../persistence/history-writer';
import type { RunOutcome, RunStatsCoalescer } from '../persistence/run-stats';
import { slotFromJobId, type CancelReason, type RunData } from '../queue/job-queue';
import type { CachedDefinition, DefinitionCache } from '../persistence/definition-cache';
import type { Lease, Leases } from '../queue/leases';
import { Deadlines } from '../lib/deadlines';
import type { RunActivity } from '../lib/run-activity';

export interface ProcessorDeps {
  cache: DefinitionCache;
  registry: HandlerRegistry;
  history: HistoryWriter;
  stats: RunStatsCoalescer;
  executions: Pick<ExecutionRepository, 'existingIds'>;
  workerId: string;
  logger: Logger;
  /** Aborted when shutdown's grace period runs out: in-flight handlers stop. */
  shutdownSignal: AbortSignal;
  /** A scheduled occurrence starting later than this after its slot has misfired. */
  misfireGraceMs: number;
  /** BullMQ's maxStalledCount, applied here to Job Scheduler runs, which BullMQ does not fail for stalling. */
  maxStalledCount: number;
  /** Leases named after definition ids: one running occurrence of an `overlap: forbid` job. */
  running: Pick<Leases, 'acquire'>;
  /** Hold BullMQ's acknowledgement until the attempt's record is in MongoDB (HISTORY_DURABLE_ACK). */
  durableAck: boolean;
  /** Told of every start, so that background store writes can wait for a pause. */
  activity?: Pick<RunActivity, 'started'>;
}

export const STALLED_ERROR: ExecutionError = {
  code: 'stalled',
  message: 'the worker running this attempt stopped responding (lock expired); the job was handed to another worker',
};

/** Bounds the records written for occurrences passed over in one go (a long stall of a 1 s cron). */
const MAX_PASSED_OVER_RECORDS = 100;

export const SKIP_OVERLAP: ExecutionError = {
  code: 'overlap',
  message: 'the previous run of this job was still running (overlap: forbid); skipped',
};

const DURABLE_WAIT_MS = 2000;
const POSTPONE_MAX_MS = 10_000;

export type RunJob = Job<RunData, unknown, string>;

/** The attempt a start of the job is: BullMQ's starts, less those postponed before they began. */
export function attemptOf(job: RunJob): number {
  return job.attemptsStarted - (job.data.p ?? 0);
}

/** When the occurrence was due: the scheduler slot, or the delayed job's due time. */
export function scheduledFor(job: RunJob): Date {
  return new Date(slotFromJobId(job.id) ?? job.timestamp + (job.opts.delay ?? 0));
}

function toExecutionError(err: unknown): ExecutionError {
  if (err instanceof HandlerError) return { message: err.message, code: err.code };
  const e = err as { message?: string; code?: unknown; name?: string };
  return { message: String(e?.message ?? err), code: typeof e?.code === 'string' ? e.code : 'error' };
}

/**
 * job -> definition (cached) -> handler -> execution record. Records are handed to the history
 * writer (batched, off this path); failures are rethrown so that BullMQ owns retries and backoff.
 */
export class RunProcessor {
  private readonly deadlines: Deadlines;

  constructor(private readonly deps: ProcessorDeps) {
    this.deadlines = new Deadlines(deps.shutdownSignal);
  }

  /** The run's logger, made when something is logged (a child logger per run cost the hot path). */
  private log(job: RunJob): Logger {
    return this.deps.logger.child({ jobId: job.data.d, runId: job.id });
  }

  async process(job: RunJob, token?: string): Promise<unknown> {
    const startedAt = new Date();
    this.deps.activity?.started();
    const { d: defId, v: version, t: trigger } = job.data;
    let cached: CachedDefinition | null;
    try {
      cached = await this.deps.cache.get(defId, version);
    } catch (err) {
      return this.postpone(job, token, err);
    }
    if (!cached) {
      this.log(job).info('definition deleted; run skipped');
      return { skipped: 'deleted' };
    }
    const { def } = cached;
    if (trigger === 'schedule' && (def.version !== version || def.status !== 'scheduled')) {
      this.log(job).info({ jobVersion: version, version: def.version, status: def.status }, 'superseded run skipped');
      return { skipped: 'superseded' };
    }
    const attempt = attemptOf(job);
    const stalls = attempt - 1 - job.attemptsMade;
    if (stalls > 0) await this.recordStalledAttempts(job, def, attempt);
    if (stalls > this.deps.maxStalledCount) {
      this.log(job).warn({ stalls }, 'run stalled more often than allowed; dead-lettered');
      this.stalledTooOften(job, def, attempt - 1);
      return { deadLettered: 'stalled' };
    }
    this.recordPassedOver(job, def);
    const skip = this.misfired(job, def, startedAt);
    if (skip) return this.skip(job, def, attempt, startedAt, skip);
    let lease: Lease | null = null;
    if (isRepeating(def.schedule) && def.schedule.overlap === 'forbid') {
      lease = await this.deps.running.acquire(def.id, job.id!);
      if (!lease) return this.skip(job, def, attempt, startedAt, SKIP_OVERLAP);
    }
    try {
      return await this.execute(job, cached, attempt, startedAt);
    } finally {
      await lease?.release();
    }
  }

  /**
   * BullMQ schedules a repeating job's next occurrence when this one starts; if it starts more
   * than a period late (a busy worker pool), the slots in between never get a job. Record each as
   * skipped, so that no occurrence disappears without a trace.
   */
  private recordPassedOver(job: RunJob, def: JobDefinition): void {
    const slot = slotFromJobId(job.id);
    if (job.data.t !== 'schedule' || slot === null || attemptOf(job) !== 1 || !job.processedOn) return;
    // Later than the misfire grace, the workers were away: that is a misfire, handled by its policy.
    if (job.processedOn - slot > this.deps.misfireGraceMs) return;
    const passed = passedOverSlots(def.schedule, slot, job.processedOn, MAX_PASSED_OVER_RECORDS);
    if (passed.length === 0) return;
    const late = job.processedOn - slot;
    this.deps.logger.warn({ jobId: def.id, runId: job.id, late, passedOver: passed.length }, 'occurrences passed over');
    for (const t of passed) {
      const runId = `repeat:${def.id}:${t}`;
      const at = new Date(job.processedOn);
      this.write({
        ...this.baseRecord(job, def, 1, at),
        id: executionId(runId, 1),
        runId,
        scheduledFor: new Date(t),
        driftMs: null,
        status: 'skipped',
        finishedAt: at,
        durationMs: 0,
        error: { code: 'misfire', message: `passed over: the occurrence before it started ${late} ms late` },
      });
    }
  }

  /**
   * The definition could not be read (MongoDB unreachable and not cached): put the run back for a
   * few seconds without using up an attempt. `p` counts such starts, which are not attempts.
   */
  private async postpone(job: RunJob, token: string | undefined, err: unknown): Promise<never> {
    if (!token) throw err;
    const postponed = (job.data.p ?? 0) + 1;
    const delay = Math.min(POSTPONE_MAX_MS, 500 * 2 ** Math.min(postponed, 10));
    this.log(job).warn({ err, postponed, delay }, 'definition unavailable; run postponed');
    await job.updateData({ ...job.data, p: postponed });
    await job.moveToDelayed(Date.now() + delay, token);
    throw new DelayedError();
  }

  /** A scheduled occurrence of a repeating job that starts too late, under the `skip` misfire policy. */
  private misfired(job: RunJob, def: JobDefinition, startedAt: Date): ExecutionError | null {
    if (job.data.t !== 'schedule' || !isRepeating(def.schedule) || attemptOf(job) !== 1) return null;
    if ((def.schedule.misfire ?? 'skip') !== 'skip') return null;
    const slot = slotFromJobId(job.id);
    const late = slot === null ? 0 : startedAt.getTime() - slot;
    if (late <= this.deps.misfireGraceMs) return null;
    return { code: 'misfire', message: `started ${late} ms after its slot (misfire grace ${this.deps.misfireGraceMs} ms); skipped` };
  }

  private skip(job: RunJob, def: JobDefinition, attempt: number, startedAt: Date, reason: ExecutionError) {
    const record = this.finish(this.baseRecord(job, def, attempt, startedAt), 'skipped', reason, null);
    this.deps.stats.record(this.outcome(job, def, record, false, false));
    this.deps.logger.info({ jobId: def.id, runId: job.id, reason: reason.code }, 'occurrence skipped');
    return { skipped: reason.code };
  }

  private async execute(job: RunJob, cached: CachedDefinition, attempt: number, startedAt: Date): Promise<unknown> {
    const { def } = cached;
    const handler = this.deps.registry.get(def.handler);
    const deadline = this.deadlines.start(def.timeoutMs, def.id);
    const base = this.baseRecord(job, def, attempt, startedAt);
    try {
      if (!handler)
        throw new HandlerError(`handler ${def.handler} is not installed on this worker`, 'unknown-handler', { retryable: false });
      const payload = this.payloadOf(cached, handler.payloadSchema);
      let logger: Logger | undefined;
      const log = () => (logger ??= this.log(job));
      // The signal and the logger are made when the handler first uses them (most fast ones never do).
      const ctx: HandlerContext = {
        get signal() {
          return deadline.signal;
        },
        get logger() {
          return log();
        },
        jobId: def.id,
        attempt,
      };
      const result = await deadline.race(handler.execute(payload, ctx));
      const done = this.finish(base, 'succeeded', null, result);
      this.deps.stats.record(this.outcome(job, def, done, true, false));
      await this.durable(done);
      return undefined;
    } catch (raw) {
      if (deadline.cancelled) return this.cancelled(job, def, base, deadline.cancelled);
      const err = deadline.timedOut ? new HandlerError(`attempt timed out after ${def.timeoutMs} ms`, 'timeout', { cause: raw }) : raw;
      const retryable = !(err instanceof HandlerError) || err.retryable;
      const final = !retryable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const error = toExecutionError(err);
      const record = this.finish(base, 'failed', error, err instanceof HandlerError ? err.options.result : undefined);
      if (final) this.deadLetter(job, def, record, 'failed');
      this.deps.stats.record(this.outcome(job, def, record, final, final));
      this.log(job).warn({ attempt, final, code: error.code, err: error.message }, 'attempt failed');
      await this.durable(record);
      if (!retryable) throw new UnrecoverableError(error.message);
      throw err instanceof Error ? err : new Error(error.message);
    } finally {
      deadline.dispose();
    }
  }

  /**
   * Aborts this worker's attempts of `jobId` in flight (the job was deleted, or an operator
   * cancelled its run); each is recorded `cancelled` and not retried. Returns how many.
   */
  cancel(jobId: string, reason: CancelReason): number {
    return this.deadlines.cancel(jobId, reason === 'deleted' ? 'its job was deleted' : 'cancelled through the API');
  }

  private async cancelled(job: RunJob, def: JobDefinition, base: ExecutionRecord, why: string): Promise<never> {
    const error = { code: 'cancelled', message: `the attempt was aborted: ${why}` };
    const record = this.finish(base, 'cancelled', error, null);
    this.deps.stats.record(this.outcome(job, def, record, true, false));
    this.log(job).info({ attempt: base.attempt, why }, 'attempt cancelled');
    await this.durable(record);
    throw new UnrecoverableError(error.message);
  }

  private payloadOf(cached: CachedDefinition, schema: { parse(v: unknown): unknown }): unknown {
    if (!('payload' in cached)) cached.payload = schema.parse(cached.def.payload);
    return cached.payload;
  }

  private baseRecord(job: RunJob, def: JobDefinition, attempt: number, startedAt: Date): ExecutionRecord {
    const due = scheduledFor(job);
    return {
      id: executionId(job.id!, attempt),
      jobId: def.id,
      runId: job.id!,
      attempt,
      status: 'running',
      trigger: job.data.t,
      scheduledFor: due,
      startedAt,
      finishedAt: null,
      durationMs: null,
      driftMs: startedAt.getTime() - due.getTime(),
      workerId: this.deps.workerId,
      error: null,
      result: null,
    };
  }

  private finish(base: ExecutionRecord, status: ExecutionStatus, error: ExecutionError | null, result: unknown): ExecutionRecord {
    const finishedAt = new Date();
    const record = {
      ...base,
      status,
      error,
      result: result ?? null,
      finishedAt,
      durationMs: finishedAt.getTime() - base.startedAt.getTime(),
    };
    if (this.deps.durableAck) this.writes.set(record, new Promise((written) => this.write(record, written)));
    else this.write(record);
    return record;
  }

  /** Hands a record to the history writer and counts it towards its definition's recordCount. */
  private write(record: ExecutionRecord, onWritten?: (written: boolean) => void): void {
    this.deps.history.addExecution(record, onWritten);
    this.deps.stats.countRecord(record.jobId);
  }

  /** With HISTORY_DURABLE_ACK: each record's write, which the acknowledgement waits for. */
  private readonly writes = new WeakMap<ExecutionRecord, Promise<boolean>>();

  /**
   * With HISTORY_DURABLE_ACK, holds BullMQ's acknowledgement until the attempt's record is in
   * MongoDB (a SIGKILL loses the writer's buffer), for at most DURABLE_WAIT_MS, and not at all while
   * MongoDB is failing.
   */
  private async durable(record: ExecutionRecord): Promise<void> {
    const written = this.writes.get(record);
    if (!written || !this.deps.history.healthy) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([written, new Promise((r) => (timer = setTimeout(r, DURABLE_WAIT_MS)))]);
    clearTimeout(timer);
  }

  /**
   * What a finished attempt changes on its definition: counters, lastRunAt (the run's start), and
   * status/nextRunAt where they move. A one-time definition ends with its scheduled run, or with a
   * dead-letter retry once it has failed: the store's status decides (`fromStatus`), not this
   * worker's cached copy, which does not see status changes made by workers.
   */
  outcome(job: RunJob, def: JobDefinition, record: ExecutionRecord, finishedRun: boolean, failed: boolean): RunOutcome {
    const at = Date.now();
    let finalStatus: JobStatus | undefined;
    let fromStatus: JobStatus | undefined;
    let nextRunAt: Date | null | undefined;
    const trigger = job.data.t;
    if (!isRepeating(def.schedule)) {
      if (finishedRun && (trigger === 'schedule' || trigger === 'dead-letter-retry')) {
        finalStatus = record.status === 'cancelled' ? 'cancelled' : failed ? 'failed' : 'completed';
        fromStatus = trigger === 'schedule' ? 'scheduled' : 'failed';
      }
    } else if (trigger === 'schedule') {
      const slot = slotFromJobId(job.id);
      if (slot !== null) {
        const iterations = (job.opts as { repeat?: { count?: number } }).repeat?.count ?? 0;
        const next = nextRunAfter(def.schedule, slot, iterations, at);
        nextRunAt = next === null ? null : new Date(next);
        if (next === null && finishedRun) finalStatus = 'completed';
      }
    }
    return {
      jobId: def.id,
      version: def.version,
      finishedRun,
      failed,
      status: record.status,
      startedAt: record.startedAt,
      finalStatus,
      fromStatus,
      nextRunAt,
    };
  }

  deadLetter(job: RunJob, def: JobDefinition, last: ExecutionRecord, reason: 'failed' | 'stalled'): void {
    this.deps.history.addDeadLetter({
      id: job.id!,
      jobId: def.id,
      jobName: def.name,
      handler: def.handler,
      runId: job.id!,
      trigger: job.data.t,
      reason,
      attempts: last.attempt,
      error: last.error,
      lastExecutionId: last.id,
      failedAt: last.finishedAt ?? new Date(),
      state: 'open',
      retriedAt: null,
      retryRunId: null,
    });
  }

  /**
   * Attempts that started but neither succeeded nor failed were abandoned by a worker that died
   * (BullMQ moved the job back after its lock expired). Close each one that has no record as
   * `stalled`. Reads MongoDB, but only on this rare path.
   */
  private async recordStalledAttempts(job: RunJob, def: JobDefinition, attempt: number): Promise<void> {
    const ids = Array.from({ length: attempt - 1 }, (_, i) => executionId(job.id!, i + 1));
    let existing: Set<string>;
    try {
      existing = await this.deps.executions.existingIds(ids);
    } catch (err) {
      this.deps.logger.warn({ err, runId: job.id }, 'could not check stalled attempts');
      return;
    }
    for (let i = 1; i < attempt; i++) {
      if (!existing.has(executionId(job.id!, i))) this.write(this.stalledRecord(job, def, i));
    }
  }

  stalledRecord(job: RunJob, def: JobDefinition, attempt: number): ExecutionRecord {
    const due = scheduledFor(job);
    const now = new Date();
    return {
      ...this.baseRecord(job, def, attempt, due),
      status: 'stalled',
      // When the abandoned attempt started is not known (its worker died), so no drift is claimed.
      startedAt: job.processedOn && job.processedOn < now.getTime() && attemptOf(job) === attempt ? new Date(job.processedOn) : due,
      driftMs: null,
      finishedAt: now,
      durationMs: null,
      workerId: 'unknown',
      error: STALLED_ERROR,
    };
  }

  /**
   * BullMQ failed a job for stalling more than maxStalledCount: record it and dead-letter it.
   * BullMQ marks such a job when it finds it stalled and fails it when a worker next takes it, so
   * that last start ran nothing: the abandoned attempts are the ones before it.
   */
  async onStalledTooOften(job: RunJob): Promise<void> {
    const cached = await this.deps.cache.get(job.data.d, job.data.v);
    if (!cached) return;
    const lastAbandoned = Math.max(1, attemptOf(job) - 1);
    await this.recordStalledAttempts(job, cached.def, lastAbandoned + 1);
    this.stalledTooOften(job, cached.def, lastAbandoned);
  }

  /** Dead-letters a run whose attempt `lastAttempt` was the last one abandoned by a dying worker. */
  private stalledTooOften(job: RunJob, def: JobDefinition, lastAttempt: number): void {
    const record = this.stalledRecord(job, def, lastAttempt);
    this.deadLetter(job, def, record, 'stalled');
    this.deps.stats.record(this.outcome(job, def, record, true, true));
  }
}
