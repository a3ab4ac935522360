import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../observability/logger';
import type { ExecutionRepository } from '../persistence/execution-repository';
import type { JobRepository } from '../persistence/job-repository';
import type { Leases, Marks } from '../queue/leases';

export interface RetentionPolicy {
  /** Records that finished longer ago than this are deleted; 0 keeps them forever. */
  maxAgeDays: number;
  /** At most this many records are kept per job (newest first); 0 for no limit. */
  perJob: number;
}

export interface RetentionReport {
  deletedByAge: number;
  deletedByCount: number;
  /** Jobs whose history was read for the per-job limit. */
  jobsChecked: number;
  /** Jobs that ran since the last pass whose history needs no read: within the limit, or too few records since their last check. */
  jobsSkipped: number;
}

const DAY_MS = 24 * 3600 * 1000;

/** Jobs that ran since shortly before the previous pass are checked again (clocks differ a little). */
const OVERLAP_MS = 60_000;
/** After each job's check a pass rests PACE times as long as the check took: at most a quarter of a slow store's time. */
const PACE = 3;
/**
 * The age limit counts days, so it is applied once an hour (kept in Redis for all processes), not on
 * every pass: on a store without indexes that delete reads the whole history.
 */
const AGE_PASS_EVERY_MS = 3_600_000;
const AGE_MARK = 'retention:age';
/** A job is checked again once it has a tenth of the limit more records: its history may exceed the limit by that much. */
const RECHECK_SHARE = 0.1;
/** Jobs that have not run for this long are forgotten (memory stays bounded by the recently busy jobs). */
const FORGET_AFTER_MS = 3_600_000;

/**
 * Bounds execution history, one process at a time (a Redis lease). Every query has an index on
 * MongoDB, and a job's history is not read at all while its `recordCount` is within the limit
 * (docs/design/history-retention.md has the measurements).
 */
export class Retention {
  private readonly holder = `${process.pid}-${randomBytes(4).toString('hex')}`;
  private since = new Date(0);
  /** Per job: its record count (runCount where there is none) when this process last checked it, and when it last saw the job run. */
  private readonly checked = new Map<string, { runs: number; seenAt: number }>();

  constructor(
    private readonly deps: {
      jobs: Pick<JobRepository, 'ranSince'>;
      executions: Pick<ExecutionRepository, 'deleteFinishedBefore' | 'trimJob'>;
      leases: Pick<Leases, 'acquire'>;
      marks: Pick<Marks, 'since' | 'set'>;
      logger: Logger;
    },
    private readonly policy: RetentionPolicy,
  ) {}

  /** One pass, if no other process is running one; null when the lease is taken. `signal` ends it early. */
  async run(now = Date.now(), signal?: AbortSignal): Promise<RetentionReport | null> {
    if (this.policy.maxAgeDays <= 0 && this.policy.perJob <= 0) return null;
    const lease = await this.deps.leases.acquire('retention', this.holder);
    if (!lease) return null;
    try {
      const report = { deletedByAge: 0, deletedByCount: 0, jobsChecked: 0, jobsSkipped: 0 };
      const { jobs, executions } = this.deps;
      if (this.policy.maxAgeDays > 0 && now - (await this.deps.marks.since(AGE_MARK, now)) >= AGE_PASS_EVERY_MS) {
        report.deletedByAge = await executions.deleteFinishedBefore(new Date(now - this.policy.maxAgeDays * DAY_MS));
        await this.deps.marks.set(AGE_MARK, now);
      }
      if (this.policy.perJob > 0) {
        const recheckAfter = Math.max(1, Math.ceil(this.policy.perJob * RECHECK_SHARE));
        for (const { id: jobId, runCount, recordCount } of await jobs.ranSince(this.since)) {
          // Stopped (the process is shutting down): the next pass starts from the same point.
          if (signal?.aborted) return null;
          // Never written more records than the limit keeps: nothing to trim, so nothing to read.
          if (recordCount !== undefined && recordCount <= this.policy.perJob) {
            report.jobsSkipped++;
            continue;
          }
          const seen = this.checked.get(jobId);
          const runs = recordCount ?? runCount;
          // A count that went down (FerretDB's updates are not atomic) is no reason to wait.
          if (seen && runs >= seen.runs && runs - seen.runs < recheckAfter) {
            seen.seenAt = now;
            report.jobsSkipped++;
            continue;
          }
          const started = performance.now();
          report.deletedByCount += await executions.trimJob(jobId, this.policy.perJob);
          this.checked.set(jobId, { runs, seenAt: now });
          report.jobsChecked++;
          await rest(PACE * (performance.now() - started), signal);
        }
        for (const [key, seen] of this.checked) if (now - seen.seenAt > FORGET_AFTER_MS) this.checked.delete(key);
      }
      this.since = new Date(now - OVERLAP_MS);
      if (report.deletedByAge + report.deletedByCount > 0) this.deps.logger.info(report, 'execution history trimmed');
      return report;
    } finally {
      await lease.release();
    }
  }
}

/** Waits `ms`, or less when `signal` aborts. */
async function rest(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms < 1) return;
  await sleep(ms, undefined, { signal }).catch(() => undefined);
}
