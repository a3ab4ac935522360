import { setTimeout as sleep } from 'node:timers/promises';
import type { Pauses } from '../persistence/pauses';

/** A gap this long between run starts is a pause (a burst starts runs well under 1 ms apart). */
const QUIET_MS = 20;

/**
 * When this worker starts runs. Counter updates wait for a pause in starts, so that a store sharing
 * the machine with the worker (FerretDB, an embedded or single-host setup) does not take CPU from
 * a burst of runs: a thousand schedulers due together, say, whose thousand counter updates would
 * otherwise go out while the next burst runs. A worker that has been starting runs without a pause
 * for long is under steady load, where waiting would only leave the store idle: updates then go
 * out at once.
 */
export class RunActivity implements Pauses {
  private last = -Infinity;
  /** When the current stretch of starts (no gap of QUIET_MS) began. */
  private stretch = -Infinity;

  constructor(
    private readonly quietMs = QUIET_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  started(): void {
    const now = this.now();
    if (now - this.last >= this.quietMs) this.stretch = now;
    this.last = now;
  }

  async quiet(maxBusyMs: number): Promise<number> {
    const t0 = this.now();
    for (;;) {
      const now = this.now();
      const since = now - this.last;
      const busy = now - this.stretch;
      if (since >= this.quietMs || busy >= maxBusyMs) return now - t0;
      await sleep(Math.max(1, Math.min(this.quietMs - since, maxBusyMs - busy)));
    }
  }
}
