import type { ExecutionStatus, JobStatus } from '../domain/job-definition';
import type { Logger } from '../observability/logger';
import { toObjectId } from './job-repository';
import type { Models } from './models';

/** What one finished attempt changes on its definition. */
export interface RunOutcome {
  jobId: string;
  version: number;
  /** The run finished (succeeded, or failed for good): counts towards runCount. */
  finishedRun: boolean;
  failed: boolean;
  status: ExecutionStatus;
  at: Date;
  /** Set for one-time runs that end their definition, or repeats that ran out. */
  finalStatus?: JobStatus;
  /** The next slot; null when nothing more will run; undefined to leave unchanged. */
  nextRunAt?: Date | null;
}

interface Pending {
  version: number;
  runs: number;
  failures: number;
  lastRunAt: Date;
  lastExecutionStatus: ExecutionStatus;
  finalStatus?: JobStatus;
  nextRunAt?: Date | null;
}

/**
 * Coalesces per-definition counters over a short window into one single-statement update per
 * definition (never a multi-statement bulkWrite, which FerretDB cannot take), with bounded
 * concurrency. A status change is applied only if the definition's version is unchanged, so a
 * late result never overrides an operator's pause or edit.
 */
export class RunStatsCoalescer {
  private pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;
  private lastFlushMs = 0;
  updates = 0;

  constructor(
    private readonly models: Models,
    private readonly opts: { flushIntervalMs: number; concurrency?: number },
    private readonly logger: Logger,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  record(o: RunOutcome): void {
    const p = this.pending.get(o.jobId);
    if (!p) {
      this.pending.set(o.jobId, {
        version: o.version,
        runs: o.finishedRun ? 1 : 0,
        failures: o.failed ? 1 : 0,
        lastRunAt: o.at,
        lastExecutionStatus: o.status,
        finalStatus: o.finalStatus,
        nextRunAt: o.nextRunAt,
      });
    } else {
      p.runs += o.finishedRun ? 1 : 0;
      p.failures += o.failed ? 1 : 0;
      if (o.at >= p.lastRunAt) {
        p.lastRunAt = o.at;
        p.lastExecutionStatus = o.status;
      }
      if (o.version >= p.version) {
        p.version = o.version;
        if (o.finalStatus) p.finalStatus = o.finalStatus;
        if (o.nextRunAt !== undefined) p.nextRunAt = o.nextRunAt;
      }
    }
    this.schedule(Math.max(this.opts.flushIntervalMs, PACE * this.lastFlushMs));
  }

  /**
   * Plans the next flush. After a slow one (a store that takes long per update, thousands of busy
   * definitions) the window grows to PACE times that flush's duration, so counter updates take at
   * most about a quarter of the store's time: more outcomes are coalesced into each update instead.
   */
  private schedule(delayMs: number): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delayMs);
    this.timer.unref();
  }

  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const t0 = performance.now();
    this.flushing = this.apply(batch).finally(() => {
      this.flushing = undefined;
      this.lastFlushMs = Math.min(MAX_WINDOW_MS, performance.now() - t0);
    });
    await this.flushing;
  }

  private async apply(batch: Map<string, Pending>): Promise<void> {
    const entries = groupAlike(batch);
    const concurrency = this.opts.concurrency ?? 2;
    let index = 0;
    const failed: [string, Pending][] = [];
    const lane = async () => {
      while (index < entries.length) {
        const entry = entries[index++]!;
        try {
          await this.applyGroup(entry[0], entry[1]);
        } catch (err) {
          for (const id of entry[0]) failed.push([id, entry[1]]);
          this.logger.warn({ err, jobIds: entry[0].slice(0, 10), count: entry[0].length }, 'run stats update failed; will retry');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, entries.length) }, lane));
    for (const [id, p] of failed) this.merge(id, p);
    if (failed.length > 0) this.schedule(1000);
  }

  private merge(id: string, p: Pending): void {
    const cur = this.pending.get(id);
    if (!cur) {
      this.pending.set(id, p);
      return;
    }
    // `cur` holds outcomes newer than `p` (recorded while p's update was failing): its latest-wins
    // fields stay unless it lacks them.
    cur.runs += p.runs;
    cur.failures += p.failures;
    if (p.lastRunAt > cur.lastRunAt) {
      cur.lastRunAt = p.lastRunAt;
      cur.lastExecutionStatus = p.lastExecutionStatus;
    }
    if (cur.version < p.version) {
      cur.version = p.version;
      cur.finalStatus = p.finalStatus ?? cur.finalStatus;
      cur.nextRunAt = p.nextRunAt !== undefined ? p.nextRunAt : cur.nextRunAt;
    } else {
      cur.finalStatus ??= p.finalStatus;
      if (cur.nextRunAt === undefined) cur.nextRunAt = p.nextRunAt;
    }
  }

  /**
   * One update for definitions whose changes are alike (for instance many one-time jobs that
   * completed in the same window): a single-statement updateMany over their ids.
   */
  private async applyGroup(ids: string[], p: Pending): Promise<void> {
    const _id = ids.length === 1 ? toObjectId(ids[0]!) : { $in: ids.map(toObjectId) };
    const inc = { runCount: p.runs, failureCount: p.failures };
    const set: Record<string, unknown> = { lastRunAt: p.lastRunAt, lastExecutionStatus: p.lastExecutionStatus };
    const guarded: Record<string, unknown> = {};
    if (p.finalStatus) guarded.status = p.finalStatus;
    if (p.nextRunAt !== undefined) guarded.nextRunAt = p.nextRunAt;
    this.updates++;
    if (Object.keys(guarded).length > 0) {
      const res = await this.models.Job.updateMany(
        { _id, version: p.version },
        { $inc: inc, $set: { ...set, ...guarded } },
        { timestamps: false },
      );
      if (res.matchedCount === ids.length) return;
      // Edited since these runs were scheduled: counters only, for those not at that version.
      this.updates++;
      await this.models.Job.updateMany({ _id, version: { $ne: p.version } }, { $inc: inc, $set: set }, { timestamps: false });
      return;
    }
    await this.models.Job.updateMany({ _id }, { $inc: inc, $set: set }, { timestamps: false });
  }

  /** Flushes until nothing is pending or `timeoutMs` passes (MongoDB down); returns how many definitions were left. */
  async close(timeoutMs = 10_000): Promise<number> {
    this.closed = true;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      await this.flush();
      if (this.pending.size === 0 || Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size > 0) this.logger.error({ left: this.pending.size }, 'run stats could not be written before exit');
    return this.pending.size;
  }
}

const MAX_GROUP = 500;
/**
 * Smaller groups are written one definition at a time: an `_id` equality is a direct lookup on any
 * store, while `$in` is a scan of the collection on FerretDB (62 ms at 1,000 definitions, against
 * 3 ms for one `_id`), so `$in` pays only for groups this large.
 */
const MIN_GROUP = 50;
/** After a flush that took longer than the window, the next one waits PACE times as long. */
const PACE = 3;
/** The longest flush duration the pacing counts (so the window never exceeds PACE x 10 s). */
const MAX_WINDOW_MS = 10_000;

/**
 * Groups definitions whose pending changes are the same apart from lastRunAt (which becomes the
 * latest of the group: at most one flush window later than the definition's own last run).
 */
function groupAlike(batch: Map<string, Pending>): [string[], Pending][] {
  const out: [string[], Pending][] = [];
  const open = new Map<string, [string[], Pending][]>();
  for (const [id, p] of batch) {
    const nextRunAt = p.nextRunAt === undefined ? 'u' : p.nextRunAt?.getTime();
    const key = [p.version, p.runs, p.failures, p.lastExecutionStatus, p.finalStatus, nextRunAt].join('|');
    const groups = open.get(key) ?? [];
    open.set(key, groups);
    const g = groups[groups.length - 1];
    if (g && g[0].length < MAX_GROUP) {
      g[0].push(id);
      if (p.lastRunAt > g[1].lastRunAt) g[1].lastRunAt = p.lastRunAt;
    } else groups.push([[id], { ...p }]);
  }
  for (const groups of open.values()) {
    for (const [ids, p] of groups) {
      if (ids.length >= MIN_GROUP) out.push([ids, p]);
      else for (const id of ids) out.push([[id], batch.get(id)!]);
    }
  }
  return out;
}
