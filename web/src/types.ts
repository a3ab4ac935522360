/** The API's resources, as far as the dashboard reads them (openapi.yaml has them in full). */
export interface FieldError {
  path: string;
  message: string;
}

export type Schedule =
  | { kind: 'once'; runAt: string }
  | { kind: 'delay'; delayMs: number }
  | ({ kind: 'interval'; everyMs: number } & Bounds)
  | ({ kind: 'cron'; expression: string; timezone?: string } & Bounds);
export interface Bounds {
  startAt?: string;
  endAt?: string;
  limit?: number;
  misfire?: 'skip' | 'runOnce';
  overlap?: 'allow' | 'forbid';
}

export interface Job {
  id: string;
  name: string;
  handler: string;
  payload: Record<string, unknown>;
  secretFields: string[];
  schedule: Schedule;
  retry: { attempts: number; backoff: { type: 'fixed' | 'exponential'; delayMs: number; maxDelayMs?: number } };
  timeoutMs: number;
  status: string;
  nextRunAt: string | null;
  lastRunAt: string | null;
  lastExecutionStatus: string | null;
  runCount: number;
  failureCount: number;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export interface Execution {
  id: string;
  jobId: string;
  runId: string;
  attempt: number;
  status: string;
  trigger: string;
  scheduledFor: string | null;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  driftMs: number | null;
  workerId: string;
  error: { message: string; code: string } | null;
}

export interface DeadLetterEntry {
  id: string;
  jobId: string;
  jobName: string;
  handler: string;
  runId: string;
  trigger: string;
  reason: 'failed' | 'stalled';
  attempts: number;
  error: { message: string; code: string } | null;
  lastExecutionId: string;
  failedAt: string;
  state: 'open' | 'retried';
  retriedAt: string | null;
  retryRunId: string | null;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Overview {
  jobs: { total: number; byStatus: Record<string, number> };
  lastHour: { runs: number; succeeded: number; failed: number };
  deadLetter: { open: number };
  queue: Record<string, number>;
  workers: { connected: number; ids: string[] };
  at: string;
}

export interface JobStats {
  window: string;
  runs: number;
  succeeded: number;
  failed: number;
  stalled: number;
  skipped: number;
  cancelled: number;
  running: number;
  successRate: number | null;
  durationMs: { p50: number; p95: number; max: number } | null;
  latenessMs: { p50: number; p95: number } | null;
  lastFailure: { at: string; executionId: string; error: { message: string; code: string } | null } | null;
  truncated: boolean;
}

export interface Preview {
  description: string;
  runs: string[];
}
