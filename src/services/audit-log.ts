import type { Actor } from '../domain/access';
import type { AuditAction, AuditEntry } from '../domain/audit';
import { randomHex } from '../lib/random-id';
import type { Logger } from '../observability/logger';
import type { AuditFilter, AuditRepository } from '../persistence/audit-repository';
import type { Page } from '../persistence/paging';

const FLUSH_MS = 200;
const BATCH = 500;
/** Entries kept while the store is unreachable; past this the oldest are dropped (and logged). */
const MAX_BUFFERED = 50_000;

/**
 * The audit log: every change made through the API, with the key that made it. Entries are
 * buffered and written in insertMany batches (at most FLUSH_MS later), never one write per request;
 * while the store is down they wait, and are written on close. Triggers of one job by one key
 * within a flush share one entry with a count: otherwise a busy trigger load writes an audit
 * document per run beside its execution record, halving what the store can take.
 */
export class AuditLog {
  private buffer: AuditEntry[] = [];
  /** The buffered trigger entries, by key and job, that later triggers are counted into. */
  private triggers = new Map<string, AuditEntry>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly repo: AuditRepository,
    private readonly logger: Logger,
  ) {}

  record(by: Actor, action: AuditAction, about: { jobId?: string; version?: number; target?: string } = {}): void {
    const at = new Date();
    const coalesce = action === 'job.trigger' && about.jobId !== undefined ? `${by.keyId}\0${about.jobId}` : undefined;
    const same = coalesce === undefined ? undefined : this.triggers.get(coalesce);
    if (same) {
      same.count += 1;
      same.lastAt = at;
      return;
    }
    const entry: AuditEntry = {
      id: `${at.getTime().toString(36)}-${randomHex(6)}`,
      at,
      keyId: by.keyId,
      keyName: by.name,
      action,
      jobId: about.jobId ?? null,
      version: about.version ?? null,
      target: about.target ?? null,
      count: 1,
      lastAt: at,
    };
    this.buffer.push(entry);
    if (coalesce !== undefined) this.triggers.set(coalesce, entry);
    if (this.buffer.length > MAX_BUFFERED) {
      const dropped = this.buffer.splice(0, this.buffer.length - MAX_BUFFERED).length;
      this.triggers.clear();
      this.logger.error({ dropped }, 'audit buffer full: oldest entries dropped');
    }
    if (this.buffer.length >= BATCH) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS).unref();
  }

  list(filter: AuditFilter): Promise<Page<AuditEntry>> {
    return this.repo.list(filter);
  }

  /** Writes what is buffered; on failure it stays buffered for the next flush. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer.length === 0) return;
    const batch = this.buffer.splice(0, BATCH);
    // Counting into an entry that is being written would lose the count.
    this.triggers.clear();
    this.flushing = this.repo
      .insertMany(batch)
      .catch((err: unknown) => {
        this.buffer.unshift(...batch);
        this.logger.warn({ err, pending: this.buffer.length }, 'audit entries not written; will retry');
        this.timer ??= setTimeout(() => void this.flush(), 2000).unref();
      })
      .finally(() => (this.flushing = undefined));
    await this.flushing;
    if (this.buffer.length >= BATCH) await this.flush();
  }

  /** Flushes until empty or `timeoutMs` passes. */
  async close(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.buffer.length > 0 && Date.now() < deadline) {
      await this.flush();
      if (this.buffer.length > 0) await new Promise((r) => setTimeout(r, 200));
    }
    if (this.timer) clearTimeout(this.timer);
  }
}
