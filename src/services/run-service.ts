import { AttemptFailedError } from '../domain/errors';
import { executionId, type ExecutionError, type ExecutionRecord } from '../domain/execution';
import type { ExecutionStatus, JobDefinition } from '../domain/job-definition';
import { backoffDelay, DEFAULT_RETRY_POLICY } from '../domain/retry';
import { isRepeating, passedOverSlots } from '../domain/schedule';
import { HandlerError, type HandlerContext } from '../handlers/handler';
import type { HandlerRegistry } from '../handlers/registry';
import type { Logger } from '../observability/logger';
import type { ExecutionRepository } from '../persistence/execution-repository';
import type { HistoryWriter } from '../persistence/history-writer';
import type { RunStatsCoalescer } from '../persistence/run-stats';
import type { CancelReason } from '../queue/job-queue';
import { slotFromJobId, type QueuedRun } from '../queue/run-data';
import { attemptOf, deadLetterEntry, runOutcome, runRecord, stalledRecord } from './run-records';
import type { CachedDefinition, DefinitionCache, PreparedDefinition } from './definition-cache';
import { mapPaths, parsePath, scrub, valuesAt } from '../domain/secrets';
import { isSealed, type Sealer } from '../lib/sealing';
import type { Lease, Leases } from '../queue/leases';
import { Deadlines } from '../lib/deadlines';
import type { RunActivity } from '../lib/run-activity';
import type { NotifyKind } from '../domain/notify';
import type { Notifications } from './notifications';
import type { RunMetrics } from '../observability/metrics';

export interface RunServiceDeps {
  cache: DefinitionCache;
  /** Unseals payload secrets and signing secrets, here only. */
  sealer: Pick<Sealer, 'unseal'>;
  registry: HandlerRegistry;
  history: HistoryWriter;
  stats: RunStatsCoalescer;
  executions: Pick<ExecutionRepository, 'existingIds'>;
  workerId: string;
  logger: Logger;
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
  /** Tells jobs' `notify` webhooks of failed attempts, dead-lettered runs and skipped slots. */
  notifications?: Pick<Notifications, 'notify'>;
  /** Counts every execution record handed to the history writer (tock_runs_total and its histograms). */
  metrics?: RunMetrics;
}

/** Bounds the records written for occurrences passed over in one go (a long stall of a 1 s cron). */
const MAX_PASSED_OVER_RECORDS = 100;

export const SKIP_OVERLAP: ExecutionError = {
  code: 'overlap',
  message: 'the previous run of this job was still running (overlap: forbid); skipped',
};

const DURABLE_WAIT_MS = 2000;
const POSTPONE_MAX_MS = 10_000;

function toExecutionError(err: unknown): ExecutionError {
  if (err instanceof HandlerError) return { message: err.message, code: err.code };
  const e = err as { message?: string; code?: unknown; name?: string };
  return { message: String(e?.message ?? err), code: typeof e?.code === 'string' ? e.code : 'error' };
}

/**
 * The worker's use case: execute one run and record it. run -> definition (cached) -> handler ->
 * execution record. Records are handed to the history writer (batched, off this path); a failed
 * attempt is thrown as AttemptFailedError so that the queue (BullMQ) owns retries and backoff.
 */
export class RunService {
  private readonly shutdown = new AbortController();
  private readonly deadlines = new Deadlines(this.shutdown.signal);

  constructor(private readonly deps: RunServiceDeps) {}

  /** Aborts every attempt in flight (the worker's shutdown grace period ran out). */
  abortAll(reason: Error): void {
    this.shutdown.abort(reason);
  }

  /** The retry delay of a run of `jobId` after `attemptsMade` failed attempts (its job's retry policy). */
  backoffDelay(jobId: string, attemptsMade: number, err?: Error): number {
    const retryAfter = err instanceof AttemptFailedError ? err.retryAfterMs : undefined;
    return backoffDelay(this.deps.cache.peek(jobId)?.retry ?? DEFAULT_RETRY_POLICY, attemptsMade, retryAfter);
  }

  /** The run's logger, made when something is logged (a child logger per run cost the hot path). */
  private log(run: QueuedRun): Logger {
    return this.deps.logger.child({ jobId: run.data.jobId, runId: run.id });
  }

  async process(run: QueuedRun): Promise<unknown> {
    const startedAt = new Date();
    this.deps.activity?.started();
    const { jobId: defId, version, trigger } = run.data;
    let cached: CachedDefinition | null;
    try {
      cached = await this.deps.cache.get(defId, version);
    } catch (err) {
      return this.postpone(run, err);
    }
    if (!cached) {
      this.log(run).info('definition deleted; run skipped');
      return { skipped: 'deleted' };
    }
    const { def } = cached;
    if (trigger === 'schedule' && (def.version !== version || def.status !== 'scheduled')) {
      this.log(run).info({ jobVersion: version, version: def.version, status: def.status }, 'superseded run skipped');
      return { skipped: 'superseded' };
    }
    const attempt = attemptOf(run);
    const stalls = attempt - 1 - run.attemptsMade;
    if (stalls > 0) await this.recordStalledAttempts(run, def, attempt);
    if (stalls > this.deps.maxStalledCount) {
      this.log(run).warn({ stalls }, 'run stalled more often than allowed; dead-lettered');
      this.stalledTooOften(run, def, attempt - 1);
      return { deadLettered: 'stalled' };
    }
    this.recordPassedOver(run, def);
    const skip = this.misfired(run, def, startedAt);
    if (skip) return this.skip(run, def, attempt, startedAt, skip);
    let lease: Lease | null = null;
    if (isRepeating(def.schedule) && def.schedule.overlap === 'forbid') {
      lease = await this.deps.running.acquire(def.id, run.id);
      if (!lease) return this.skip(run, def, attempt, startedAt, SKIP_OVERLAP);
    }
    try {
      return await this.execute(run, cached, attempt, startedAt);
    } finally {
      await lease?.release();
    }
  }

  /**
   * BullMQ schedules a repeating job's next occurrence when this one starts; if it starts more
   * than a period late (a busy worker pool), the slots in between never get a job. Record each as
   * skipped, so that no occurrence disappears without a trace.
   */
  private recordPassedOver(run: QueuedRun, def: JobDefinition): void {
    const slot = slotFromJobId(run.id);
    if (run.data.trigger !== 'schedule' || slot === null || attemptOf(run) !== 1 || !run.processedOn) return;
    // Later than the misfire grace, the workers were away: that is a misfire, handled by its policy.
    if (run.processedOn - slot > this.deps.misfireGraceMs) return;
    const passed = passedOverSlots(def.schedule, slot, run.processedOn, MAX_PASSED_OVER_RECORDS);
    if (passed.length === 0) return;
    const late = run.processedOn - slot;
    this.deps.logger.warn({ jobId: def.id, runId: run.id, late, passedOver: passed.length }, 'occurrences passed over');
    let last: ExecutionRecord | undefined;
    for (const t of passed) {
      const runId = `repeat:${def.id}:${t}`;
      const at = new Date(run.processedOn);
      this.write(
        def,
        (last = {
          ...runRecord(run, def, 1, at, this.deps.workerId),
          id: executionId(runId, 1),
          runId,
          scheduledFor: new Date(t),
          driftMs: null,
          status: 'skipped',
          finishedAt: at,
          durationMs: 0,
          error: { code: 'misfire', message: `passed over: the occurrence before it started ${late} ms late` },
        }),
      );
    }
    if (last) this.tell('onMisfire', def, last, passed.length);
  }

  private tell(kind: NotifyKind, def: JobDefinition, record: ExecutionRecord, count = 1): void {
    this.deps.notifications?.notify(
      kind,
      def,
      {
        at: record.finishedAt ?? record.startedAt,
        runId: record.runId,
        executionId: record.id,
        attempt: record.attempt,
        status: record.status,
        trigger: record.trigger,
        scheduledFor: record.scheduledFor,
        error: record.error,
      },
      count,
    );
  }

  /**
   * The definition could not be read (MongoDB unreachable and not cached): put the run back for a
   * few seconds without using up an attempt.
   */
  private postpone(run: QueuedRun, err: unknown): Promise<never> {
    const postponed = (run.data.postponed ?? 0) + 1;
    const delay = Math.min(POSTPONE_MAX_MS, 500 * 2 ** Math.min(postponed, 10));
    this.log(run).warn({ err, postponed, delay }, 'definition unavailable; run postponed');
    this.deps.metrics?.storeError('definition.read');
    return run.postpone(delay);
  }

  /** A scheduled occurrence of a repeating job that starts too late, under the `skip` misfire policy. */
  private misfired(run: QueuedRun, def: JobDefinition, startedAt: Date): ExecutionError | null {
    if (run.data.trigger !== 'schedule' || !isRepeating(def.schedule) || attemptOf(run) !== 1) return null;
    if ((def.schedule.misfire ?? 'skip') !== 'skip') return null;
    const slot = slotFromJobId(run.id);
    const late = slot === null ? 0 : startedAt.getTime() - slot;
    if (late <= this.deps.misfireGraceMs) return null;
    return { code: 'misfire', message: `started ${late} ms after its slot (misfire grace ${this.deps.misfireGraceMs} ms); skipped` };
  }

  private skip(run: QueuedRun, def: JobDefinition, attempt: number, startedAt: Date, reason: ExecutionError) {
    const record = this.finish(def, runRecord(run, def, attempt, startedAt, this.deps.workerId), 'skipped', reason, null);
    this.deps.stats.record(runOutcome(run, def, record, false, false));
    this.tell('onMisfire', def, record);
    this.deps.logger.info({ jobId: def.id, runId: run.id, reason: reason.code }, 'occurrence skipped');
    return { skipped: reason.code };
  }

  private async execute(run: QueuedRun, cached: CachedDefinition, attempt: number, startedAt: Date): Promise<unknown> {
    const { def } = cached;
    const handler = this.deps.registry.get(def.handler);
    const deadline = this.deadlines.start(def.timeoutMs, def.id);
    const base = runRecord(run, def, attempt, startedAt, this.deps.workerId);
    try {
      if (!handler)
        throw new HandlerError(`handler ${def.handler} is not installed on this worker`, 'unknown-handler', { retryable: false });
      const { payload, signingSecrets } = this.prepare(cached, handler.payloadSchema);
      let logger: Logger | undefined;
      const log = () => (logger ??= this.log(run));
      // The signal and the logger are made when the handler first uses them (most fast ones never do).
      const ctx: HandlerContext = {
        get signal() {
          return deadline.signal;
        },
        get logger() {
          return log();
        },
        jobId: def.id,
        runId: run.id,
        attempt,
        signingSecrets,
      };
      const result = await deadline.race(handler.execute(payload, ctx));
      const done = this.finish(def, base, 'succeeded', null, scrub(result, cached.prepared?.secrets ?? []));
      this.deps.stats.record(runOutcome(run, def, done, true, false));
      await this.durable(done);
      return undefined;
    } catch (raw) {
      if (deadline.cancelled) return this.cancelled(run, def, base, deadline.cancelled);
      const err = deadline.timedOut ? new HandlerError(`attempt timed out after ${def.timeoutMs} ms`, 'timeout', { cause: raw }) : raw;
      const retryable = !(err instanceof HandlerError) || err.retryable;
      const final = !retryable || run.attemptsMade + 1 >= run.maxAttempts;
      const secrets = cached.prepared?.secrets ?? [];
      const error = scrub(toExecutionError(err), secrets);
      const record = this.finish(def, base, 'failed', error, scrub(err instanceof HandlerError ? err.options.result : undefined, secrets));
      if (final) this.deps.history.addDeadLetter(deadLetterEntry(run, def, record, 'failed'));
      this.deps.stats.record(runOutcome(run, def, record, final, final));
      this.tell('onFailure', def, record);
      if (final) this.tell('onDeadLetter', def, record);
      this.log(run).warn({ attempt, final, code: error.code, err: error.message }, 'attempt failed');
      await this.durable(record);
      const retryAfterMs = err instanceof HandlerError ? err.options.retryAfterMs : undefined;
      throw new AttemptFailedError(error.message, retryable, retryAfterMs, { cause: err });
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

  private async cancelled(run: QueuedRun, def: JobDefinition, base: ExecutionRecord, why: string): Promise<never> {
    const error = { code: 'cancelled', message: `the attempt was aborted: ${why}` };
    const record = this.finish(def, base, 'cancelled', error, null);
    this.deps.stats.record(runOutcome(run, def, record, true, false));
    this.log(run).info({ attempt: base.attempt, why }, 'attempt cancelled');
    await this.durable(record);
    throw new AttemptFailedError(error.message, false);
  }

  /**
   * The payload as the handler takes it, its secrets unsealed (here only, in the worker that calls
   * the target), once per definition version.
   */
  private prepare(cached: CachedDefinition, schema: { parse(v: unknown): unknown }): PreparedDefinition {
    if (cached.prepared && cached.prepared.until > Date.now()) return cached.prepared;
    const { def } = cached;
    const { sealer } = this.deps;
    const paths = def.secretFields.map(parsePath);
    const plain = paths.length > 0 ? mapPaths(def.payload, paths, (v) => (isSealed(v) ? JSON.parse(sealer.unseal(v)) : v)) : def.payload;
    const now = Date.now();
    const inUse = def.signingSecrets.filter((s) => s.expiresAt === null || s.expiresAt.getTime() > now);
    const signingSecrets = inUse.map((s) => sealer.unseal(s.sealed));
    const until = Math.min(Infinity, ...inUse.map((s) => s.expiresAt?.getTime() ?? Infinity));
    cached.prepared = { payload: schema.parse(plain), secrets: [...valuesAt(plain, paths), ...signingSecrets], signingSecrets, until };
    return cached.prepared;
  }

  private finish(
    def: JobDefinition,
    base: ExecutionRecord,
    status: ExecutionStatus,
    error: ExecutionError | null,
    result: unknown,
  ): ExecutionRecord {
    const finishedAt = new Date();
    const record = {
      ...base,
      status,
      error,
      result: result ?? null,
      finishedAt,
      durationMs: finishedAt.getTime() - base.startedAt.getTime(),
    };
    if (this.deps.durableAck) this.writes.set(record, new Promise((written) => this.write(def, record, written)));
    else this.write(def, record);
    return record;
  }

  /**
   * Hands a record to the history writer and counts it towards its definition's recordCount and
   * tock_runs_total: every record passes here once, so the metric counts exactly the records written.
   */
  private write(def: JobDefinition, record: ExecutionRecord, onWritten?: (written: boolean) => void): void {
    this.deps.history.addExecution(record, onWritten);
    this.deps.stats.countRecord(record.jobId);
    this.deps.metrics?.recorded({
      handler: def.handler,
      scheduleKind: def.schedule.kind,
      status: record.status,
      durationMs: record.durationMs,
      driftMs: record.driftMs,
      error: record.error,
    });
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
   * Attempts that started but neither succeeded nor failed were abandoned by a worker that died
   * (BullMQ moved the job back after its lock expired). Close each one that has no record as
   * `stalled`. Reads MongoDB, but only on this rare path.
   */
  private async recordStalledAttempts(run: QueuedRun, def: JobDefinition, attempt: number): Promise<void> {
    const ids = Array.from({ length: attempt - 1 }, (_, i) => executionId(run.id, i + 1));
    let existing: Set<string>;
    try {
      existing = await this.deps.executions.existingIds(ids);
    } catch (err) {
      this.deps.logger.warn({ err, runId: run.id }, 'could not check stalled attempts');
      return;
    }
    for (let i = 1; i < attempt; i++) {
      if (existing.has(executionId(run.id, i))) continue;
      const record = stalledRecord(run, def, i);
      this.write(def, record);
      this.tell('onFailure', def, record);
    }
  }

  /**
   * BullMQ failed a job for stalling more than maxStalledCount: record it and dead-letter it.
   * BullMQ marks such a job when it finds it stalled and fails it when a worker next takes it, so
   * that last start ran nothing: the abandoned attempts are the ones before it.
   */
  async onStalledTooOften(run: QueuedRun): Promise<void> {
    const cached = await this.deps.cache.get(run.data.jobId, run.data.version);
    if (!cached) return;
    const lastAbandoned = Math.max(1, attemptOf(run) - 1);
    await this.recordStalledAttempts(run, cached.def, lastAbandoned + 1);
    this.stalledTooOften(run, cached.def, lastAbandoned);
  }

  /** Dead-letters a run whose attempt `lastAttempt` was the last one abandoned by a dying worker. */
  private stalledTooOften(run: QueuedRun, def: JobDefinition, lastAttempt: number): void {
    const record = stalledRecord(run, def, lastAttempt);
    this.deps.history.addDeadLetter(deadLetterEntry(run, def, record, 'stalled'));
    this.deps.stats.record(runOutcome(run, def, record, true, true));
    this.tell('onDeadLetter', def, record);
  }
}
