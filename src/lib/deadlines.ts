/**
 * The signal of a deadline within an attempt (the http handler's own timeout): aborted when
 * `timeoutMs` passes or `parent` aborts; dispose() when done. Not AbortSignal.any + timeout: on
 * Node 20 those leak on a long-lived parent and can be collected before they fire
 * (docs/design/worker-hot-path.md).
 */
export function attemptSignal(timeoutMs: number, parent: AbortSignal): { signal: AbortSignal; timedOut(): boolean; dispose(): void } {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException(`The operation timed out after ${timeoutMs} ms`, 'TimeoutError'));
  }, timeoutMs);
  timer.unref();
  const onParent = () => controller.abort(parent.reason);
  if (parent.aborted) onParent();
  else parent.addEventListener('abort', onParent, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    dispose() {
      clearTimeout(timer);
      parent.removeEventListener('abort', onParent);
    },
  };
}

/**
 * The deadline of one attempt run by a worker: it passes after `timeoutMs`, or is cut short by a
 * cancel or the worker's shutdown (Deadlines). The AbortSignal is made only when a handler asks for
 * it (most fast ones never do), and `race` ends an attempt whose handler ignores its signal.
 */
export class Deadline {
  private controller: AbortController | undefined;
  private reason: unknown;
  private ended = false;
  private rejectRace: ((reason: unknown) => void) | undefined;
  private readonly timer: NodeJS.Timeout;
  timedOut = false;
  /** Why the attempt was cancelled (its job deleted, or POST /jobs/{id}/cancel); null if it was not. */
  cancelled: string | null = null;

  constructor(
    private readonly timeoutMs: number,
    private readonly onDispose: (d: Deadline) => void,
  ) {
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.abort(new DOMException(`The operation timed out after ${this.timeoutMs} ms`, 'TimeoutError'));
    }, timeoutMs);
    this.timer.unref();
  }

  /** Aborted when the deadline passes, the attempt is cancelled or the worker stops waiting; made on first use. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.ended) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.reason = reason;
    this.controller?.abort(reason);
    this.rejectRace?.(reason);
  }

  cancel(why: string): void {
    if (this.ended) return;
    this.cancelled = why;
    this.abort(new DOMException(`The attempt was cancelled: ${why}`, 'AbortError'));
  }

  /** `p`, or a rejection with the abort reason if the deadline ends first (a handler that ignores its signal). */
  race<T>(p: Promise<T>): Promise<T> {
    if (this.ended) {
      p.catch(() => undefined);
      return Promise.reject(this.reason as Error);
    }
    return new Promise<T>((resolve, reject) => {
      this.rejectRace = reject;
      p.then(resolve, reject);
    });
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.onDispose(this);
    this.rejectRace = undefined;
  }
}

/**
 * The deadlines of a worker's attempts in flight, by job: `shutdown` aborting ends every one with
 * its reason, and `cancel` ends those of one job.
 */
export class Deadlines {
  private readonly live = new Map<string, Set<Deadline>>();
  private count = 0;

  constructor(private readonly shutdown: AbortSignal) {
    shutdown.addEventListener('abort', () => {
      for (const set of [...this.live.values()]) for (const d of [...set]) d.abort(shutdown.reason);
    });
  }

  start(timeoutMs: number, jobId: string): Deadline {
    const d = new Deadline(timeoutMs, (done) => {
      const set = this.live.get(jobId);
      if (set?.delete(done)) this.count--;
      if (set?.size === 0) this.live.delete(jobId);
    });
    let set = this.live.get(jobId);
    if (!set) this.live.set(jobId, (set = new Set()));
    set.add(d);
    this.count++;
    if (this.shutdown.aborted) d.abort(this.shutdown.reason);
    return d;
  }

  /** Cancels the attempts of `jobId` in flight; returns how many. */
  cancel(jobId: string, why: string): number {
    const set = this.live.get(jobId);
    if (!set) return 0;
    for (const d of [...set]) d.cancel(why);
    return set.size;
  }

  get size(): number {
    return this.count;
  }
}
