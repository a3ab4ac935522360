import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Pauses in the worker's runs, which counter updates wait for: `quiet` resolves once no run has
 * started for a short while, or after `maxMs`, with how long it waited.
 */
export interface Pauses {
  quiet(maxMs: number): Promise<number>;
}

/** A gap this long between run starts is a pause (a burst starts runs well under 1 ms apart). */
const QUIET_MS = 20;

/**
 * When this worker last started a run. Counter updates wait for a pause in starts, so that a store
 * sharing the machine with the worker (FerretDB, an embedded or single-host setup) does not take
 * CPU from a burst of runs: a thousand schedulers due together, say, whose thousand counter updates
 * would otherwise go out while the next burst runs.
 */
export class RunActivity implements Pauses {
  private last = -Infinity;

  constructor(
    private readonly quietMs = QUIET_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  started(): void {
    this.last = this.now();
  }

  async quiet(maxMs: number): Promise<number> {
    const t0 = this.now();
    for (;;) {
      const now = this.now();
      const waited = now - t0;
      const since = now - this.last;
      if (since >= this.quietMs || waited >= maxMs) return waited;
      await sleep(Math.max(1, Math.min(this.quietMs - since, maxMs - waited)));
    }
  }
}
