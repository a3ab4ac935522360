import type { ExecutionError } from '../domain/execution';
import type { ExecutionStatus, JobDefinition } from '../domain/job-definition';
import { NOTIFY_EVENT_TYPES, type NotifyKind } from '../domain/notify';
import { limiter } from '../lib/pool';
import { randomHex } from '../lib/random-id';
import type { Sealer } from '../lib/sealing';
import type { Logger } from '../observability/logger';
import type { NotifyWindows } from '../queue/notify-windows';
import type { NotificationRequest } from '../handlers/notification-sender';

/** What happened, as the notification's `latest` tells it. */
export interface NotifyEvent {
  at: Date;
  runId: string;
  executionId: string;
  attempt: number;
  status: ExecutionStatus;
  trigger: string;
  scheduledFor: Date | null;
  error: ExecutionError | null;
}

export type DeliveryOutcome = 'delivered' | 'failed';

export interface NotificationsDeps {
  windows: Pick<NotifyWindows, 'record' | 'flush' | 'windowMs'>;
  send: (n: NotificationRequest) => Promise<unknown>;
  /** Unseals the job's signing secrets, which sign each notification. */
  sealer: Pick<Sealer, 'unseal'>;
  logger: Logger;
  /** How long a receiver has to answer. */
  timeoutMs?: number;
  /** Deliveries at once (each bounded by timeoutMs); more wait their turn. */
  concurrency?: number;
  onOutcome?: (kind: NotifyKind, outcome: DeliveryOutcome) => void;
}

/**
 * Tells a job's `notify` webhooks about failed attempts, dead-lettered runs and skipped slots: at
 * most one delivery per job, kind and window across all workers (NotifyWindows), events in
 * between counted into the next one, which a timer sends at the window's end. Everything happens
 * off the run's path: `notify` returns at once and never throws; failures are logged and counted.
 */
export class Notifications {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** The newest definition seen per job, for the delivery at a window's end. */
  private readonly defs = new Map<string, JobDefinition>();
  private readonly pending = new Set<Promise<void>>();
  private readonly slot: ReturnType<typeof limiter>;
  private closed = false;

  constructor(private readonly deps: NotificationsDeps) {
    this.slot = limiter(deps.concurrency ?? 32);
  }

  notify(kind: NotifyKind, def: JobDefinition, event: NotifyEvent, count = 1): void {
    if (!def.notify[kind] || this.closed) return;
    this.defs.set(def.id, def);
    this.track(
      this.deps.windows
        .record(def.id, kind, count, JSON.stringify(event))
        .then((claimed) => claimed && this.deliver(kind, def.id, claimed)),
      kind,
      def.id,
    );
  }

  private track(work: Promise<unknown>, kind: NotifyKind, jobId: string): void {
    const p = work.then(
      () => undefined,
      (err: unknown) => this.deps.logger.warn({ err, jobId, kind }, 'notification could not be recorded'),
    );
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private async deliver(kind: NotifyKind, jobId: string, claimed: { count: number; latest: string }): Promise<void> {
    this.flushLater(kind, jobId);
    const def = this.defs.get(jobId);
    const url = def?.notify[kind];
    if (!def || !url) return;
    const body = JSON.stringify({
      type: NOTIFY_EVENT_TYPES[kind],
      jobId: def.id,
      jobName: def.name,
      handler: def.handler,
      count: claimed.count,
      windowSeconds: this.deps.windows.windowMs / 1000,
      latest: JSON.parse(claimed.latest) as unknown,
    });
    const now = Date.now();
    const secrets = def.signingSecrets
      .filter((s) => s.expiresAt === null || s.expiresAt.getTime() > now)
      .map((s) => this.deps.sealer.unseal(s.sealed));
    const log = { jobId, kind, count: claimed.count };
    try {
      await this.slot(() =>
        this.deps.send({ url, body, secrets, msgId: `ntf_${jobId}_${randomHex(8)}`, timeoutMs: this.deps.timeoutMs ?? 10_000 }),
      );
      this.deps.onOutcome?.(kind, 'delivered');
      this.deps.logger.info(log, 'notification delivered');
    } catch (err) {
      this.deps.onOutcome?.(kind, 'failed');
      this.deps.logger.warn({ ...log, err: { message: (err as Error).message } }, 'notification not delivered');
    }
  }

  /** At the window's end, the events counted during it go out as one delivery (by whichever worker claims it). */
  private flushLater(kind: NotifyKind, jobId: string): void {
    const key = `${jobId}:${kind}`;
    if (this.timers.has(key) || this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.track(
        this.deps.windows.flush(jobId, kind).then((claimed) => claimed && this.deliver(kind, jobId, claimed)),
        kind,
        jobId,
      );
    }, this.deps.windows.windowMs + 50);
    timer.unref();
    this.timers.set(key, timer);
  }

  /** Stops the window timers (their counts stay in Redis for the next event) and waits for deliveries under way. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.pending]);
  }
}
