import type { DeadLetterEntry, ExecutionError, ExecutionRecord } from '../domain/execution';
import { executionId } from '../domain/execution';
import type { JobDefinition, JobStatus } from '../domain/job-definition';
import { isRepeating, nextRunAfter } from '../domain/schedule';
import type { RunOutcome } from '../persistence/run-stats';
import { slotFromJobId, type QueuedRun } from '../queue/run-data';

/** What the run use case writes: execution records, dead-letter entries and outcomes, as pure functions. */

export const STALLED_ERROR: ExecutionError = {
  code: 'stalled',
  message: 'the worker running this attempt stopped responding (lock expired); the job was handed to another worker',
};

/** The attempt a start of the run is: the queue's starts, less those postponed before they began. */
export function attemptOf(run: QueuedRun): number {
  return run.attemptsStarted - (run.data.postponed ?? 0);
}

/** The record of an attempt as it starts (`running`). */
export function runRecord(run: QueuedRun, def: JobDefinition, attempt: number, startedAt: Date, workerId: string): ExecutionRecord {
  const due = new Date(run.dueAt);
  return {
    id: executionId(run.id, attempt),
    jobId: def.id,
    runId: run.id,
    attempt,
    status: 'running',
    trigger: run.data.trigger,
    scheduledFor: due,
    startedAt,
    finishedAt: null,
    durationMs: null,
    driftMs: startedAt.getTime() - due.getTime(),
    workerId,
    error: null,
    result: null,
  };
}

/** The record of an attempt abandoned by a worker that died. */
export function stalledRecord(run: QueuedRun, def: JobDefinition, attempt: number): ExecutionRecord {
  const due = new Date(run.dueAt);
  const now = new Date();
  return {
    ...runRecord(run, def, attempt, due, 'unknown'),
    status: 'stalled',
    // When the abandoned attempt started is not known (its worker died), so no drift is claimed.
    startedAt: run.processedOn && run.processedOn < now.getTime() && attemptOf(run) === attempt ? new Date(run.processedOn) : due,
    driftMs: null,
    finishedAt: now,
    durationMs: null,
    workerId: 'unknown',
    error: STALLED_ERROR,
  };
}

/** The dead-letter entry of a run whose last attempt is `last`. */
export function deadLetterEntry(run: QueuedRun, def: JobDefinition, last: ExecutionRecord, reason: 'failed' | 'stalled'): DeadLetterEntry {
  return {
    id: run.id,
    jobId: def.id,
    jobName: def.name,
    handler: def.handler,
    runId: run.id,
    trigger: run.data.trigger,
    reason,
    attempts: last.attempt,
    error: last.error,
    lastExecutionId: last.id,
    failedAt: last.finishedAt ?? new Date(),
    state: 'open',
    retriedAt: null,
    retryRunId: null,
  };
}

/**
 * What a finished attempt changes on its definition: counters, lastRunAt (the run's start), and
 * status/nextRunAt where they move. A one-time definition ends with its scheduled run, or with a
 * dead-letter retry once it has failed: the store's status decides (`fromStatus`), not this
 * worker's cached copy, which does not see status changes made by workers.
 */
export function runOutcome(
  run: QueuedRun,
  def: JobDefinition,
  record: ExecutionRecord,
  finishedRun: boolean,
  failed: boolean,
  at = Date.now(),
): RunOutcome {
  let finalStatus: JobStatus | undefined;
  let fromStatus: JobStatus | undefined;
  let nextRunAt: Date | null | undefined;
  const trigger = run.data.trigger;
  if (!isRepeating(def.schedule)) {
    if (finishedRun && (trigger === 'schedule' || trigger === 'dead-letter-retry')) {
      finalStatus = record.status === 'cancelled' ? 'cancelled' : failed ? 'failed' : 'completed';
      fromStatus = trigger === 'schedule' ? 'scheduled' : 'failed';
    }
  } else if (trigger === 'schedule') {
    const slot = slotFromJobId(run.id);
    if (slot !== null) {
      const iterations = run.iterations;
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
