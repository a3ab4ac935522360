import { randomBytes } from 'node:crypto';
import { jobIdTime } from '../domain/ids';
import { forEachLimited } from '../lib/pool';
import type { JobDefinition } from '../domain/job-definition';
import { isRepeating, type RepeatingSchedule } from '../domain/schedule';
import type { Logger } from '../observability/logger';
import type { ExecutionRepository } from '../persistence/execution-repository';
import type { JobRepository } from '../persistence/job-repository';
import type { JobQueue } from '../queue/job-queue';
import { onceJobId, type SchedulerState } from '../queue/job-queue';
import type { Leases } from '../queue/leases';

export interface ReconcileReport {
  /** Active definitions seen in MongoDB. */
  active: number;
  /** Counterparts (re)created in Redis: missing, or registered with other settings. */
  registered: number;
  /** Job Schedulers and one-time jobs removed because no active definition wants them. */
  removed: number;
  /** One-time definitions left alone because an execution record shows they already ran. */
  alreadyRan: number;
  ms: number;
}

export interface ReconcilerDeps {
  jobs: Pick<JobRepository, 'listActive' | 'countByOwner'>;
  /** The jobs each API key owns, recounted from MongoDB on every pass (quotas drift with failures). */
  jobCounts?: { reset(counts: Map<string, number>): Promise<void> };
  executions: Pick<ExecutionRepository, 'runIdsWithRecords'>;
  queue: JobQueue;
  leases: Pick<Leases, 'acquire'>;
  logger: Logger;
  /** Counts the counterparts re-registered in Redis (tock_reconciler_restored_total). */
  metrics?: { reconcilerRestored(n: number): void };
}

const ONCE_ID = /^([0-9a-f]{24})-v(\d+)$/;
const REGISTER_CONCURRENCY = 16;
/**
 * A bulk create may register a one-time job while its definition is still being inserted
 * (JobService.createMany): a first-version job whose definition id is younger than this is not an
 * orphan yet. The id is an ObjectId, so its age needs no read.
 */
export const FRESH_ONCE_MS = 2 * 60_000;

/** A pending job that no active definition wants, and that cannot be one still being inserted. */
function isOrphanOnce(jobId: string, wanted: Set<string>, now: number): boolean {
  const m = ONCE_ID.exec(jobId);
  if (!m || wanted.has(jobId)) return false;
  return m[2] !== '1' || jobIdTime(m[1]!) <= now - FRESH_ONCE_MS;
}

/**
 * Makes Redis match MongoDB, the source of truth: every active definition has its Job Scheduler
 * or one-time job (same id, same settings), and nothing is left in Redis for deleted, paused or
 * finished ones. Redis is read before MongoDB, so a definition that appears in Redis is already
 * in MongoDB and is never mistaken for an orphan (bulk creates excepted, see FRESH_ONCE_MS).
 * Registration is idempotent, so racing an API request that registers the same definition is
 * harmless.
 */
export class Reconciler {
  private readonly holder = `${process.pid}-${randomBytes(4).toString('hex')}`;

  constructor(private readonly deps: ReconcilerDeps) {}

  /** One pass, if no other process is running one; null when the lease is taken. */
  async run(now = Date.now()): Promise<ReconcileReport | null> {
    const lease = await this.deps.leases.acquire('reconcile', this.holder);
    if (!lease) return null;
    try {
      return await this.pass(now);
    } finally {
      await lease.release();
    }
  }

  private async pass(now: number): Promise<ReconcileReport> {
    const started = Date.now();
    const { queue } = this.deps;
    // Before anything is read: keys lost from here on take the canary with them (JobQueue.isReconciled).
    await queue.markReconciled();
    const schedulers = new Map((await queue.listSchedulers()).map((s) => [s.id, s]));
    const { known, pending } = await queue.listJobIds();
    const active = await this.deps.jobs.listActive();

    const register: JobDefinition[] = [];
    const wantedSchedulers = new Set<string>();
    const wantedOnce = new Set<string>();
    const missingOnce: JobDefinition[] = [];
    for (const def of active) {
      if (isRepeating(def.schedule)) {
        wantedSchedulers.add(def.id);
        const s = schedulers.get(def.id);
        if (!s || s.version !== def.version || !sameRepeat(s, def.schedule)) register.push(def);
      } else {
        const id = onceJobId(def);
        wantedOnce.add(id);
        if (!known.has(id)) missingOnce.push(def);
      }
    }
    // A one-time job missing from Redis may simply have run (its record proves it): never twice.
    const ran = missingOnce.length > 0 ? await this.deps.executions.runIdsWithRecords(missingOnce.map(onceJobId)) : new Set<string>();
    const alreadyRan = missingOnce.filter((d) => ran.has(onceJobId(d))).length;
    register.push(...missingOnce.filter((d) => !ran.has(onceJobId(d))));

    const orphans: Promise<void>[] = [];
    for (const id of schedulers.keys()) {
      if (!wantedSchedulers.has(id)) orphans.push(queue.removeScheduler(id));
    }
    for (const id of pending) {
      if (isOrphanOnce(id, wantedOnce, now)) orphans.push(queue.removeJob(id));
    }
    await Promise.all(orphans);
    await forEachLimited(register, REGISTER_CONCURRENCY, (def) => queue.register(def, now).then(() => undefined));
    this.deps.metrics?.reconcilerRestored(register.length);
    if (this.deps.jobCounts) await this.deps.jobCounts.reset(await this.deps.jobs.countByOwner());

    const report = { active: active.length, registered: register.length, removed: orphans.length, alreadyRan, ms: Date.now() - started };
    if (report.registered > 0 || report.removed > 0) this.deps.logger.info(report, 'reconciled Redis with MongoDB');
    else this.deps.logger.debug(report, 'reconcile pass: nothing to do');
    return report;
  }
}

function sameRepeat(s: SchedulerState, sched: RepeatingSchedule): boolean {
  if (sched.kind === 'interval') return s.every === sched.everyMs && !s.pattern;
  return s.pattern === sched.expression.trim() && (s.tz ?? 'UTC') === (sched.timezone ?? 'UTC');
}
