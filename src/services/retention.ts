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
/**
 * After each job's check a pass rests PACE times as long as the check took: on a store that scans
 * (FerretDB: tens of ms per job with thousands of records) the pass then takes at most about a
 * quarter of the store's time instead of all of it; on MongoDB a check takes a millisecond.
 */
const PACE = 3;
/**
 * The age limit counts days, so records past it are deleted once an hour, not on every pass: on a
 * store without indexes (FerretDB) that delete reads the whole history, which took seconds of the
 * store's time every minute beside running jobs. The hour is kept in Redis for all processes, so
 * a process that starts does not repeat the delete another ran minutes before; a deployment's
 * first age pass comes an hour after its first pass.
 */
const AGE_PASS_EVERY_MS = 3_600_000;
const AGE_MARK = 'retention:age';
/**
 * A job checked by this process is checked again once it has a tenth of the per-job limit more
 * records (at least one): a job at its limit that runs once a minute is read every 100 minutes, not
 * every pass (on FerretDB each check reads the job's whole history twice, so checking 1,000 such
 * jobs every minute kept the store busy). Its history may exceed the limit by that tenth in between.
 */
const RECHECK_SHARE = 0.1;
/** Jobs that have not run for this long are forgotten (memory stays bounded by the recently busy jobs). */
const FORGET_AFTER_MS = 3_600_000;

/**
 * Bounds execution history. Every query is served by an index on MongoDB: the age limit by
 * `executions_finishedAt`, the per-job limit visits only jobs that ran since the last pass
 * (`jobs_lastRunAt`) and finds each one's cut-off through `executions_jobId_startedAt`. No pass
 * scans the history collection. A job's history is not read at all while its `recordCount` (every
 * record workers wrote for it, coalesced with its run counters) is within the limit: most jobs, and
 * every new one (on FerretDB, which scans the history for each job read, checking a thousand busy
 * new interval jobs every pass raised their lateness p99 to 300-390 ms, 85 ms without it). A definition
 * stored before recordCount existed starts counting at its next run, so its history can exceed
 * the limit by what it held then, once. One process at a time runs it (a Redis lease).
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
