import type { Collection, Document } from 'mongodb';
import type { DeadLetterEntry, ExecutionRecord } from '../domain/execution';
import type { Logger } from '../observability/logger';
import type { HistoryMetrics } from '../observability/metrics';
import { toDeadLetterDoc } from './dead-letter-repository';
import { toExecutionDoc } from './execution-repository';
import type { Models } from './models';
import { isDuplicateOnly } from './store-errors';

export interface HistoryWriterOptions {
  flushIntervalMs: number;
  batchSize: number;
  /** Records kept while MongoDB is unreachable; past this the oldest are dropped (and logged). */
  maxBuffered?: number;
  /**
   * Write as soon as the previous write is done instead of every flushIntervalMs: for callers that
   * wait for durability (group commit: records that arrive during a write go in the next one).
   */
  eager?: boolean;
}

interface Buffer<T> {
  collection: Collection<Document>;
  items: T[];
}

/**
 * Append-only history: each finished attempt is written once, in unordered insertMany batches off
 * the job's path (on a timer, when a batch fills, and on close). Ids are deterministic, so a record
 * written twice (a redelivered attempt, a retried batch) is a harmless duplicate-key error.
 * While MongoDB is down, batches stay buffered and are retried with backoff.
 */
export class HistoryWriter {
  private readonly executions: Buffer<Document>;
  private readonly deadLetters: Buffer<Document>;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private failures = 0;
  private closed = false;
  private inFlight = 0;
  /** Callbacks of the records whose writer asked to know (HISTORY_DURABLE_ACK): most never do. */
  private readonly waiters = new Map<Document, (written: boolean) => void>();
  written = 0;
  dropped = 0;

  constructor(
    models: Models,
    private readonly opts: HistoryWriterOptions,
    private readonly logger: Logger,
    /** Times each insertMany (tock_history_flush_seconds) and counts failed ones (tock_store_errors_total). */
    private readonly metrics?: HistoryMetrics,
  ) {
    this.executions = { collection: models.Execution.collection as unknown as Collection<Document>, items: [] };
    this.deadLetters = { collection: models.DeadLetter.collection as unknown as Collection<Document>, items: [] };
  }

  get pending(): number {
    return this.executions.items.length + this.deadLetters.items.length + this.inFlight;
  }

  /** False while writes are failing (MongoDB unreachable): waiting for durability would only stall. */
  get healthy(): boolean {
    return this.failures === 0;
  }

  /**
   * Buffers the record. `onWritten` is called with true once it is in MongoDB, or false if it was
   * dropped because the buffer was full: a caller that must not acknowledge work before its record
   * is durable (a SIGKILL loses the buffer) can wait for it, with a bound.
   */
  addExecution(record: ExecutionRecord, onWritten?: (written: boolean) => void): void {
    this.push(this.executions, toExecutionDoc(record) as unknown as Document, onWritten);
  }

  addDeadLetter(entry: DeadLetterEntry): void {
    this.push(this.deadLetters, toDeadLetterDoc(entry) as unknown as Document);
  }

  private push(buf: Buffer<Document>, doc: Document, onWritten?: (written: boolean) => void): void {
    if (onWritten) this.waiters.set(doc, onWritten);
    buf.items.push(doc);
    this.trim(buf);
    if (buf.items.length >= this.opts.batchSize && this.failures === 0) void this.flush();
    else this.schedule();
  }

  private settle(docs: Document[], written: boolean): void {
    if (this.waiters.size === 0) return;
    for (const doc of docs) {
      this.waiters.get(doc)?.(written);
      this.waiters.delete(doc);
    }
  }

  /** Bounds memory while MongoDB is unreachable: past maxBuffered, the oldest records are dropped. */
  private trim(buf: Buffer<Document>): void {
    const max = this.opts.maxBuffered ?? 100_000;
    if (buf.items.length <= max) return;
    const drop = buf.items.length - max;
    this.settle(buf.items.splice(0, drop), false);
    this.dropped += drop;
    this.logger.error({ dropped: drop, collection: buf.collection.collectionName }, 'history buffer full: oldest records dropped');
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    const delay = this.failures > 0 ? Math.min(5000, 100 * 2 ** this.failures) : this.opts.eager ? 0 : this.opts.flushIntervalMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delay);
    this.timer.unref();
  }

  /** Writes everything buffered; resolves when done (or when this round failed and was rescheduled). */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => (this.pending > 0 && this.failures === 0 ? this.flush() : undefined));
    this.flushing = this.flushAll().finally(() => {
      this.flushing = undefined;
      if (this.pending > 0) this.schedule();
    });
    return this.flushing;
  }

  private async flushAll(): Promise<void> {
    try {
      // Executions first: a dead-letter entry points at its last execution.
      await this.flushBuffer(this.executions);
      await this.flushBuffer(this.deadLetters);
      this.failures = 0;
    } catch (err) {
      this.failures++;
      this.logger.warn({ err, pending: this.pending, failures: this.failures }, 'history flush failed; will retry');
    }
  }

  private async flushBuffer(buf: Buffer<Document>): Promise<void> {
    while (buf.items.length > 0) {
      // Taken out while in flight, so that dropping the oldest (buffer full) cannot touch it; put
      // back in front if the write fails.
      const batch = buf.items.splice(0, this.opts.batchSize);
      this.inFlight = batch.length;
      const started = performance.now();
      try {
        await buf.collection.insertMany(batch, { ordered: false });
        this.metrics?.flushed((performance.now() - started) / 1000);
      } catch (err) {
        this.inFlight = 0;
        this.metrics?.flushed((performance.now() - started) / 1000);
        if (!isDuplicateOnly(err)) {
          this.metrics?.storeError(`history.insert.${buf.collection.collectionName}`);
          buf.items.unshift(...batch);
          this.trim(buf);
          throw err;
        }
      }
      this.inFlight = 0;
      this.written += batch.length;
      this.settle(batch, true);
    }
  }

  /** Flushes until empty or until `timeoutMs` passes; returns how many records were left unwritten. */
  async close(timeoutMs = 10_000): Promise<number> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const deadline = Date.now() + timeoutMs;
    while (this.pending > 0 && Date.now() < deadline) {
      this.failures = 0;
      await this.flush();
      if (this.pending > 0) await new Promise((r) => setTimeout(r, 200));
    }
    return this.pending;
  }
}
