import type { ExecutionError } from './execution';
import type { ExecutionStatus } from './job-definition';

export const STATS_WINDOWS = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 } as const;
export type StatsWindow = keyof typeof STATS_WINDOWS;

/** What the stats need of one execution record. */
export interface RunSample {
  id: string;
  status: ExecutionStatus;
  startedAt: Date;
  durationMs: number | null;
  driftMs: number | null;
  error: ExecutionError | null;
}

export interface JobStats {
  runs: number;
  succeeded: number;
  failed: number;
  stalled: number;
  skipped: number;
  cancelled: number;
  running: number;
  /** succeeded / (succeeded + failed + stalled); null when none of those. */
  successRate: number | null;
  durationMs: { p50: number; p95: number; max: number } | null;
  latenessMs: { p50: number; p95: number } | null;
  lastFailure: { at: Date; executionId: string; error: ExecutionError | null } | null;
}

/** Nearest-rank percentile of sorted values (p in 0..100). */
export function percentile(sorted: number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** Summarises execution records (one per attempt); `samples` may come in any order. */
export function summarizeRuns(samples: RunSample[]): JobStats {
  const count = (status: ExecutionStatus) => samples.filter((s) => s.status === status).length;
  const [succeeded, failed, stalled] = [count('succeeded'), count('failed'), count('stalled')];
  const durations = samples
    .filter((s) => s.status === 'succeeded' || s.status === 'failed')
    .flatMap((s) => (s.durationMs === null ? [] : [s.durationMs]))
    .sort((a, b) => a - b);
  const lateness = samples.flatMap((s) => (s.driftMs === null ? [] : [s.driftMs])).sort((a, b) => a - b);
  let lastFailure: RunSample | undefined;
  for (const s of samples) {
    if ((s.status === 'failed' || s.status === 'stalled') && (!lastFailure || s.startedAt > lastFailure.startedAt)) lastFailure = s;
  }
  const judged = succeeded + failed + stalled;
  return {
    runs: samples.length,
    succeeded,
    failed,
    stalled,
    skipped: count('skipped'),
    cancelled: count('cancelled'),
    running: count('running'),
    successRate: judged === 0 ? null : succeeded / judged,
    durationMs: durations.length
      ? { p50: percentile(durations, 50), p95: percentile(durations, 95), max: durations[durations.length - 1]! }
      : null,
    latenessMs: lateness.length ? { p50: percentile(lateness, 50), p95: percentile(lateness, 95) } : null,
    lastFailure: lastFailure ? { at: lastFailure.startedAt, executionId: lastFailure.id, error: lastFailure.error } : null,
  };
}
