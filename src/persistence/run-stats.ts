import type { Types } from 'mongoose';
import type { ExecutionStatus, JobStatus } from '../domain/job-definition';
import type { Logger } from '../observability/logger';
import { toObjectId } from './job-repository';
import type { Models } from './models';
import type { Pauses } from '../lib/run-activity';

/** What one finished attempt changes on its definition. */
export interface RunOutcome {
  jobId: string;
  version: number;
  /** The run finished (succeeded, or failed for good): counts towards runCount. */
  finishedRun: boolean;
  failed: boolean;
  status: ExecutionStatus;
  /** When the run started: the definition's lastRunAt, which never moves backwards. */
  startedAt: Date;
  /** Set for one-time runs that end their definition, or repeats that ran out. */
  finalStatus?: JobStatus;
  /** The status the definition must still have for finalStatus to apply (default `scheduled`). */
  fromStatus?: JobStatus;
  /** The next slot; null when nothing more will run; undefined to leave unchanged. */
  nextRunAt?: Date | null;
}

interface Pending {
  version: number;
  runs: number;
  failures: number;
  /** Execution records written for the definition (every attempt, skip and stall): recordCount. */
  records: number;
  lastRunAt: Date;
  lastExecutionStatus: ExecutionStatus;
  finalStatus?: JobStatus;
  fromStatus?: JobStatus;
  nextRunAt?: Date | null;
}

export interface RunStatsOptions {
  flushIntervalMs: number;
  concurrency?: number;
  /** Counter updates go out in pauses between run starts (status changes do not wait). */
  yieldTo?: Pauses;
  /** Told of each failed update (tock_store_errors_total{operation="stats.update"}); it is retried. */
  onStoreError?: (operation: string) => void;
}

/**
 * Coalesces per-definition counters over a short window into one single-statement update per
 * definition (never a multi-statement bulkWrite, which FerretDB cannot take), two at a time, the
 * counters in the pauses between the worker's runs. A status change is applied only if the
 * definition's version is unchanged, so a late result never overrides an operator's pause or edit.
 */
export class RunStatsCoalescer {
  private pending = new Map<string, Pending>();
  /** Records counted (countRecord) since the definition's last outcome, which carries them. */
  private readonly uncounted = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;
  private lastFlushMs = 0;
  private timerAt = 0;
  /** When counters alone are next written (see planStatus). */
  private nextFullAt = 0;
  updates = 0;

  constructor(
    private readonly models: Models,
    private readonly opts: RunStatsOptions,
    private readonly logger: Logger,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  /**
   * One execution record of `jobId` went to the history writer. Counted into the definition's
   * recordCount with its next outcome (every path that writes records ends with one), so that
   * retention reads the history only of definitions that can have more records than it keeps.
   */
  countRecord(jobId: string): void {
    this.uncounted.set(jobId, (this.uncounted.get(jobId) ?? 0) + 1);
  }

  record(o: RunOutcome): void {
    const records = this.uncounted.get(o.jobId) ?? 0;
    this.uncounted.delete(o.jobId);
    const p = this.pending.get(o.jobId);
    if (!p) {
      this.pending.set(o.jobId, {
        version: o.version,
        runs: o.finishedRun ? 1 : 0,
        failures: o.failed ? 1 : 0,
        records,
        lastRunAt: o.startedAt,
        lastExecutionStatus: o.status,
        finalStatus: o.finalStatus,
        fromStatus: o.finalStatus ? o.fromStatus : undefined,
        nextRunAt: o.finalStatus ? null : o.nextRunAt,
      });
    } else {
      p.runs += o.finishedRun ? 1 : 0;
      p.failures += o.failed ? 1 : 0;
      p.records += records;
      mergeLatest(p, { ...o, lastRunAt: o.startedAt, lastExecutionStatus: o.status });
    }
    if (this.pending.get(o.jobId)!.finalStatus) this.planStatus();
    else this.planCounters();
  }

  /**
   * Plans the flush outcomes need: status changes within the window (STATUS_PACE times the last
   * flush when flushes are slow); counters alone at the next full flush, PACE times the last full
   * flush later, so that a slow store spends about a tenth of its time on them
   * (docs/design/counter-coalescing.md).
   */
  private planStatus(): void {
    this.scheduleAt(Date.now() + Math.max(this.opts.flushIntervalMs, Math.min(MAX_PACED_WINDOW_MS, STATUS_PACE * this.lastFlushMs)));
  }

  private planCounters(): void {
    this.scheduleAt(Math.max(this.nextFullAt, Date.now() + this.opts.flushIntervalMs));
  }

  private scheduleAt(at: number): void {
    if (this.closed || (this.timer && this.timerAt <= at)) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        void this.flushDue();
      },
      Math.max(0, at - Date.now()),
    );
    this.timer.unref();
  }

  /**
   * What the timer writes: everything when the next full flush is due, else the status changes.
   * Decided once the flush in flight has ended, which is when the pace for the next one is set:
   * runs recorded during the first flush would otherwise start a second full one right after it.
   */
  private async flushDue(): Promise<void> {
    while (this.flushing) await this.flushing;
    await this.flush(Date.now() < this.nextFullAt);
  }

  /** Writes what is pending: everything, or with `statusOnly` the definitions whose status changes. */
  async flush(statusOnly = false): Promise<void> {
    while (this.flushing) await this.flushing;
    const batch = statusOnly ? new Map([...this.pending].filter(([, p]) => p.finalStatus)) : this.pending;
    if (statusOnly) for (const id of batch.keys()) this.pending.delete(id);
    else this.pending = new Map();
    if (batch.size > 0) {
      let ms = 0;
      this.flushing = this.apply(batch)
        .then((storeMs) => void (ms = storeMs))
        .finally(() => {
          this.flushing = undefined;
          this.lastFlushMs = ms;
          if (!statusOnly) this.nextFullAt = Date.now() + Math.max(this.opts.flushIntervalMs, Math.min(MAX_PACED_WINDOW_MS, PACE * ms));
        });
      await this.flushing;
    }
    if (this.pending.size === 0) return;
    this.planCounters();
    for (const p of this.pending.values()) if (p.finalStatus) return this.planStatus();
  }

  /**
   * Sends the batch's updates, `concurrency` at a time: status changes first, then counters alone,
   * each of which waits for a pause in runs (YIELD_BUDGET_MS in all per flush). Returns the store's
   * time: how long the lanes spent in updates, on average (the pauses are not the store's doing).
   */
  private async apply(batch: Map<string, Pending>): Promise<number> {
    const entries = groupAlike(batch).sort((a, b) => Number(!a[1].finalStatus) - Number(!b[1].finalStatus));
    const lanes = Math.min(this.opts.concurrency ?? 2, entries.length);
    let index = 0;
    let updateMs = 0;
    let yieldLeft = YIELD_BUDGET_MS;
    const failed: [string, Pending][] = [];
    const lane = async () => {
      while (index < entries.length) {
        const entry = entries[index++]!;
        if (this.opts.yieldTo && !entry[1].finalStatus && yieldLeft > 0) {
          const waited = await this.opts.yieldTo.quiet(yieldLeft);
          yieldLeft -= waited;
        }
        const t0 = performance.now();
        try {
          await this.applyGroup(entry[0], entry[1]);
        } catch (err) {
          for (const id of entry[0]) failed.push([id, entry[1]]);
          this.opts.onStoreError?.('stats.update');
          this.logger.warn({ err, jobIds: entry[0].slice(0, 10), count: entry[0].length }, 'run stats update failed; will retry');
        }
        updateMs += performance.now() - t0;
      }
    };
    await Promise.all(Array.from({ length: lanes }, lane));
    for (const [id, p] of failed) this.merge(id, p);
    if (failed.length > 0) this.scheduleAt(Date.now() + 1000);
    return lanes > 0 ? updateMs / lanes : 0;
  }

  private merge(id: string, p: Pending): void {
    const cur = this.pending.get(id);
    if (!cur) {
      this.pending.set(id, p);
      return;
    }
    cur.runs += p.runs;
    cur.failures += p.failures;
    cur.records += p.records;
    mergeLatest(cur, p);
  }

  /**
   * One update for definitions whose changes are alike (for instance many one-time jobs that
   * completed in the same window): a single-statement updateMany over their ids, guarded so that
   * an update that arrives late (another worker's, or a retried flush) never overrides a newer
   * one: see `updatePlan`. Those the guard does not match get their counters only, with a
   * lastRunAt that cannot move backwards. Sent through the driver's collection: mongoose's query
   * casting and hooks cost the worker more than the command.
   */
  private async applyGroup(ids: string[], p: Pending): Promise<void> {
    const jobs = this.models.Job.collection;
    const oids = ids.map(toObjectId).filter((id): id is Types.ObjectId => id !== null);
    if (oids.length === 0) return;
    const _id = oids.length === 1 ? oids[0]! : { $in: oids };
    const plan = updatePlan(p);
    this.updates++;
    const res = await jobs.updateMany({ _id, ...plan.guard }, plan.update);
    if (res.matchedCount === oids.length) return;
    this.updates++;
    const rest = oids.length === 1 ? { _id } : { _id, $nor: [plan.matched] };
    await jobs.updateMany(rest, { $inc: counters(p), $max: { lastRunAt: p.lastRunAt } });
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
/** Smaller groups are written one definition at a time: `_id` equality is a direct lookup, `$in` a scan on FerretDB. */
const MIN_GROUP = 50;
/** After a flush that took longer than the window, the next full one waits PACE times as long. */
const PACE = 9;
/** Status changes wait at most STATUS_PACE times the last flush's duration. */
const STATUS_PACE = 3;
/** The longest window the pacing sets (COUNTER_FLUSH_INTERVAL_MS may set a longer one). */
const MAX_PACED_WINDOW_MS = 30_000;
/**
 * How long the counter updates of one flush wait for pauses in runs, in all: long enough for the
 * bursts of runs a flush meets, short enough that a worker that never pauses still writes them.
 */
const YIELD_BUDGET_MS = 2000;

/**
 * Groups definitions whose pending changes are the same apart from lastRunAt (which becomes the
 * latest of the group: at most one flush window later than the definition's own last run).
 */
function groupAlike(batch: Map<string, Pending>): [string[], Pending][] {
  const out: [string[], Pending][] = [];
  const open = new Map<string, [string[], Pending][]>();
  for (const [id, p] of batch) {
    const nextRunAt = p.nextRunAt === undefined ? 'u' : p.nextRunAt?.getTime();
    const key = [p.version, p.runs, p.failures, p.records, p.lastExecutionStatus, p.finalStatus, p.fromStatus, nextRunAt].join('|');
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

type Latest = Pick<Pending, 'version' | 'lastRunAt' | 'lastExecutionStatus' | 'finalStatus' | 'fromStatus' | 'nextRunAt'>;

/**
 * Folds a definition's other outcome into `p`: the newest start sets lastRunAt and the last
 * status; the newest version's status change and furthest next slot win (a final status ends
 * the schedule: no next slot).
 */
function mergeLatest(p: Latest, o: Latest): void {
  if (o.lastRunAt > p.lastRunAt) {
    p.lastRunAt = o.lastRunAt;
    p.lastExecutionStatus = o.lastExecutionStatus;
  }
  if (o.version < p.version) return;
  if (o.version > p.version) {
    p.version = o.version;
    p.finalStatus = undefined;
    p.fromStatus = undefined;
    p.nextRunAt = undefined;
  }
  if (o.finalStatus && !p.finalStatus) {
    p.finalStatus = o.finalStatus;
    p.fromStatus = o.fromStatus;
  }
  if (p.finalStatus) p.nextRunAt = null;
  else if (o.nextRunAt !== undefined && (p.nextRunAt == null || (o.nextRunAt !== null && o.nextRunAt > p.nextRunAt))) {
    p.nextRunAt = o.nextRunAt;
  }
}

function counters(p: Pending) {
  return { runCount: p.runs, failureCount: p.failures, recordCount: p.records };
}

/**
 * The guarded update of one definition (or a group): `guard` is the state it applies to, and
 * `matched` a filter that the definitions it changed still satisfy afterwards (and those it left
 * alone do not), so that the fallback for the rest can be one statement too.
 * - A status change (a one-time run ended, a repeat ran out) applies to the definition at the
 *   run's version and still in `fromStatus`; it clears nextRunAt.
 * - Otherwise the run's start becomes lastRunAt (with its status) only if no newer run got
 *   there first, and a repeating run's next slot only moves nextRunAt forwards, while the
 *   definition is still scheduled at the run's version.
 */
function updatePlan(p: Pending): { guard: object; matched: object; update: object } {
  const inc = counters(p);
  if (p.finalStatus) {
    return {
      guard: { version: p.version, status: p.fromStatus ?? 'scheduled' },
      matched: { version: p.version, status: p.finalStatus },
      update: {
        $inc: inc,
        $set: { status: p.finalStatus, nextRunAt: null, lastExecutionStatus: p.lastExecutionStatus },
        $max: { lastRunAt: p.lastRunAt },
      },
    };
  }
  const newest = { $or: [{ lastRunAt: null }, { lastRunAt: { $lte: p.lastRunAt } }] };
  const guard = p.nextRunAt === undefined ? newest : { version: p.version, status: 'scheduled', ...newest };
  const update: Record<string, object> = { $inc: inc, $set: { lastRunAt: p.lastRunAt, lastExecutionStatus: p.lastExecutionStatus } };
  if (p.nextRunAt) update.$max = { nextRunAt: p.nextRunAt };
  return { guard, matched: guard, update };
}
