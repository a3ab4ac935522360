import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../observability/logger';
import type { Models, Types } from '../persistence/models';
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
  jobsChecked: number;
}

const DAY_MS = 24 * 3600 * 1000;

/** The queries a pass makes (test/integration/indexes.test.ts checks that an index serves each). */
export const RETENTION_QUERIES = {
  finishedBefore: (cutoff: Date) => ({ finishedAt: { $lt: cutoff } }),
  ranSince: (since: Date) => ({ lastRunAt: { $gte: since } }),
  newestFirst: { startedAt: -1, _id: -1 } as const,
};
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
 * Bounds execution history. Every query is served by an index on MongoDB: the age limit by
 * `executions_finishedAt`, the per-job limit visits only jobs that ran since the last pass
 * (`jobs_lastRunAt`) and finds each one's cut-off through `executions_jobId_startedAt`. No pass
 * scans the history collection. One process at a time runs it (a Redis lease).
 */
export class Retention {
  private readonly holder = `${process.pid}-${randomBytes(4).toString('hex')}`;
  private since = new Date(0);

  constructor(
    private readonly deps: { models: Models; leases: Pick<Leases, 'acquire'>; marks: Pick<Marks, 'since' | 'set'>; logger: Logger },
    private readonly policy: RetentionPolicy,
  ) {}

  /** One pass, if no other process is running one; null when the lease is taken. `signal` ends it early. */
  async run(now = Date.now(), signal?: AbortSignal): Promise<RetentionReport | null> {
    if (this.policy.maxAgeDays <= 0 && this.policy.perJob <= 0) return null;
    const lease = await this.deps.leases.acquire('retention', this.holder);
    if (!lease) return null;
    try {
      const report = { deletedByAge: 0, deletedByCount: 0, jobsChecked: 0 };
      const { Execution, Job } = this.deps.models;
      if (this.policy.maxAgeDays > 0 && now - (await this.deps.marks.since(AGE_MARK, now)) >= AGE_PASS_EVERY_MS) {
        const res = await Execution.deleteMany(RETENTION_QUERIES.finishedBefore(new Date(now - this.policy.maxAgeDays * DAY_MS)));
        report.deletedByAge = res.deletedCount;
        await this.deps.marks.set(AGE_MARK, now);
      }
      if (this.policy.perJob > 0) {
        const since = this.since;
        const ran = await Job.find(RETENTION_QUERIES.ranSince(since), { _id: 1 }).lean<{ _id: Types.ObjectId }[]>();
        for (const { _id: jobId } of ran) {
          // Stopped (the process is shutting down): the next pass starts from the same point.
          if (signal?.aborted) return null;
          const started = performance.now();
          const [cut] = await Execution.find({ jobId }, { startedAt: 1 })
            .sort(RETENTION_QUERIES.newestFirst)
            .skip(this.policy.perJob)
            .limit(1)
            .lean<{ startedAt: Date }[]>();
          if (cut) report.deletedByCount += (await Execution.deleteMany({ jobId, startedAt: { $lte: cut.startedAt } })).deletedCount;
          await rest(PACE * (performance.now() - started), signal);
        }
        report.jobsChecked = ran.length;
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
