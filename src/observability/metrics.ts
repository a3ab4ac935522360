import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Tock's Prometheus metrics: every definition is here, on a Registry of the process's own that the
 * composition root builds (prom-client's global registry is never touched, and importing this
 * module registers nothing). Services and adapters never import this module's prom-client side:
 * they call the small hook interfaces below (RunMetrics, HistoryMetrics, ...), which TockMetrics
 * implements, and which are optional wherever they are taken.
 */

/** Every metric name Tock registers (besides prom-client's default process_* and nodejs_* ones). */
export const METRIC_NAMES = [
  'tock_runs_total',
  'tock_run_duration_seconds',
  'tock_start_lateness_seconds',
  'tock_queue_jobs',
  'tock_dead_letter_entries',
  'tock_history_buffered_records',
  'tock_history_flush_seconds',
  'tock_store_errors_total',
  'tock_misfires_total',
  'tock_reconciler_restored_total',
  'tock_http_requests_total',
  'tock_http_request_duration_seconds',
  'tock_notifications_total',
] as const;

/** How long a sampled gauge reuses its reading: N scrapes in that time cost one read. */
export const SAMPLE_TTL_MS = 5000;

/** What the run use case tells of each execution record it hands to the history writer. */
export interface RecordedRun {
  handler: string;
  /** The definition's schedule kind (once, delay, interval, cron). */
  scheduleKind: string;
  /** The record's status: succeeded, failed, stalled, skipped, cancelled. */
  status: string;
  durationMs: number | null;
  driftMs: number | null;
  error: { code: string } | null;
}

export interface RunMetrics {
  recorded(run: RecordedRun): void;
  /** A store operation of the worker failed (it is retried; this counts the failures). */
  storeError(operation: string): void;
}

export interface HistoryMetrics {
  /** One insertMany of the history writer took `seconds` (successful or not). */
  flushed(seconds: number): void;
  storeError(operation: string): void;
}

export interface HttpMetrics {
  /** A request finished: `route` is the router's template (or "unmatched"), never the raw path. */
  observe(route: string, method: string, status: number, seconds: number): void;
}

/** The Prometheus text exposition of a registry. */
export interface MetricsExposition {
  readonly contentType: string;
  render(): Promise<string>;
}

/**
 * A reading that is reused for `ttlMs`: a collect() callback calls it on every scrape, and the
 * store or Redis is asked at most once per interval. A failed reading is not kept.
 */
export function cachedSample<T>(read: () => Promise<T>, ttlMs = SAMPLE_TTL_MS, now: () => number = Date.now): () => Promise<T> {
  let cache: { at: number; value: Promise<T> } | null = null;
  return () => {
    const t = now();
    if (cache && t - cache.at < ttlMs) return cache.value;
    const value = read();
    const entry = { at: t, value };
    cache = entry;
    value.catch(() => {
      if (cache === entry) cache = null;
    });
    return value;
  };
}

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const LATENESS_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300];
const HTTP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface TockMetricsOptions {
  /** prom-client's process and Node.js metrics (process_cpu_seconds_total, nodejs_eventloop_lag_seconds, ...). */
  defaultMetrics?: boolean;
  /** Added to every series (e.g. `{ service: 'tock-worker' }`). */
  labels?: Record<string, string>;
}

/** The metrics of one process, on its own registry. */
export class TockMetrics implements RunMetrics, HistoryMetrics, HttpMetrics, MetricsExposition {
  readonly registry = new Registry();
  private readonly runs: Counter<'handler' | 'outcome'>;
  private readonly duration: Histogram<'handler'>;
  private readonly lateness: Histogram<'kind'>;
  private readonly flush: Histogram;
  private readonly storeErrors: Counter<'operation'>;
  private readonly misfires: Counter;
  private readonly restored: Counter;
  private readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  private readonly httpDuration: Histogram<'route' | 'method'>;
  private readonly notifications: Counter<'kind' | 'outcome'>;

  constructor(opts: TockMetricsOptions = {}) {
    const registers = [this.registry];
    if (opts.labels) this.registry.setDefaultLabels(opts.labels);
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.runs = new Counter({
      name: 'tock_runs_total',
      help: 'Execution records written (handed to the history writer), by handler and outcome (the record status).',
      labelNames: ['handler', 'outcome'],
      registers,
    });
    this.duration = new Histogram({
      name: 'tock_run_duration_seconds',
      help: 'How long finished attempts ran, by handler.',
      labelNames: ['handler'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.lateness = new Histogram({
      name: 'tock_start_lateness_seconds',
      help: 'How late attempts started after they were due (the record driftMs), by schedule kind.',
      labelNames: ['kind'],
      buckets: LATENESS_BUCKETS,
      registers,
    });
    this.flush = new Histogram({
      name: 'tock_history_flush_seconds',
      help: 'Duration of each insertMany of the history writer.',
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.storeErrors = new Counter({
      name: 'tock_store_errors_total',
      help: 'Failed store operations of the worker (retried), by operation.',
      labelNames: ['operation'],
      registers,
    });
    this.misfires = new Counter({
      name: 'tock_misfires_total',
      help: 'Scheduled occurrences skipped because they started too late or were passed over (records skipped with code misfire).',
      registers,
    });
    this.restored = new Counter({
      name: 'tock_reconciler_restored_total',
      help: 'Queue counterparts (Job Schedulers, one-time jobs) the reconciler re-registered because Redis lacked them or had other settings.',
      registers,
    });
    this.httpRequests = new Counter({
      name: 'tock_http_requests_total',
      help: 'API requests, by route template, method and status.',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'tock_http_request_duration_seconds',
      help: 'API request duration, by route template and method.',
      labelNames: ['route', 'method'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.notifications = new Counter({
      name: 'tock_notifications_total',
      help: 'Notification deliveries, by kind (onFailure, onDeadLetter, onMisfire) and outcome (delivered, failed).',
      labelNames: ['kind', 'outcome'],
      registers,
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  recorded(run: RecordedRun): void {
    this.runs.inc({ handler: run.handler, outcome: run.status });
    if (run.durationMs !== null && run.status !== 'skipped') this.duration.observe({ handler: run.handler }, run.durationMs / 1000);
    if (run.driftMs !== null) this.lateness.observe({ kind: run.scheduleKind }, Math.max(0, run.driftMs) / 1000);
    if (run.status === 'skipped' && run.error?.code === 'misfire') this.misfires.inc();
  }

  flushed(seconds: number): void {
    this.flush.observe(seconds);
  }

  storeError(operation: string): void {
    this.storeErrors.inc({ operation });
  }

  reconcilerRestored(n: number): void {
    if (n > 0) this.restored.inc(n);
  }

  notification(kind: string, outcome: string): void {
    this.notifications.inc({ kind, outcome });
  }

  observe(route: string, method: string, status: number, seconds: number): void {
    this.httpRequests.inc({ route, method, status: String(status) });
    this.httpDuration.observe({ route, method }, seconds);
  }

  /** tock_history_buffered_records: the writer's buffer, read on each scrape. */
  historyBuffer(pending: () => number): void {
    new Gauge({
      name: 'tock_history_buffered_records',
      help: 'Execution records and dead-letter entries buffered by the history writer, not yet in the store.',
      registers: [this.registry],
      collect() {
        this.set(pending());
      },
    });
  }

  /** tock_queue_jobs{state}: BullMQ's counts, sampled on scrape (at most once per SAMPLE_TTL_MS). */
  queueJobs(counts: () => Promise<Record<string, number>>, ttlMs = SAMPLE_TTL_MS): void {
    const sample = cachedSample(counts, ttlMs);
    new Gauge({
      name: 'tock_queue_jobs',
      help: 'BullMQ runs by state (waiting, delayed, active, failed, prioritized), sampled on scrape.',
      labelNames: ['state'],
      registers: [this.registry],
      async collect() {
        // A failed reading leaves the last values: a scrape must not fail because Redis is away.
        const c = await sample().catch(() => null);
        if (c) for (const [state, n] of Object.entries(c)) this.set({ state }, n);
      },
    });
  }

  /** tock_dead_letter_entries: open entries, sampled on scrape (at most once per SAMPLE_TTL_MS). */
  deadLetters(countOpen: () => Promise<number>, ttlMs = SAMPLE_TTL_MS): void {
    const sample = cachedSample(countOpen, ttlMs);
    new Gauge({
      name: 'tock_dead_letter_entries',
      help: 'Open dead-letter entries, sampled on scrape.',
      registers: [this.registry],
      async collect() {
        const n = await sample().catch(() => null);
        if (n !== null) this.set(n);
      },
    });
  }
}
