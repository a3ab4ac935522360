import type { ExecutionStatus, Trigger } from './job-definition';

export interface ExecutionError {
  message: string;
  code: string;
}

/** One attempt of one run (occurrence). `id` is `${runId}.${attempt}`: a redelivery reuses it. */
export interface ExecutionRecord {
  id: string;
  jobId: string;
  runId: string;
  attempt: number;
  status: ExecutionStatus;
  trigger: Trigger;
  scheduledFor: Date | null;
  startedAt: Date;
  finishedAt: Date | null;
  durationMs: number | null;
  driftMs: number | null;
  workerId: string;
  error: ExecutionError | null;
  result: unknown;
}

export interface DeadLetterEntry {
  id: string;
  jobId: string;
  jobName: string;
  handler: string;
  runId: string;
  trigger: Trigger;
  reason: 'failed' | 'stalled';
  attempts: number;
  error: ExecutionError | null;
  lastExecutionId: string;
  failedAt: Date;
  state: 'open' | 'retried';
  retriedAt: Date | null;
  retryRunId: string | null;
}

export function executionId(runId: string, attempt: number): string {
  return `${runId}.${attempt}`;
}
