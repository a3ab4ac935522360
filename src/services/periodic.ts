import type { Logger } from '../observability/logger';
import { withTimeout } from '../lib/with-timeout';

export interface PeriodicTask {
  /** Runs the task soon (after the current run, if one is going on). */
  kick(): void;
  stop(): Promise<void>;
}

export interface PeriodicOptions {
  /**
   * How long `stop` waits for a run that is still going after its signal was aborted. A run stuck
   * in one long store query (a scan on a store without indexes) is then left to fail when the
   * connections close, instead of holding up the shutdown. Every task here can be cut off at any
   * point: the next run (in this process or another) starts over.
   */
  stopGraceMs?: number;
  /** Whether the first run starts at once (the default) or after the first interval. */
  immediate?: boolean;
}

/**
 * Runs `fn` now, then every `intervalMs` (0: only when kicked), never two runs at once. Failures
 * are logged and the next run tries again. `stop` aborts the signal `fn` is given and waits for it,
 * at most `stopGraceMs`.
 */
export function runPeriodically(
  name: string,
  intervalMs: number,
  fn: (signal: AbortSignal) => Promise<unknown>,
  logger: Logger,
  { stopGraceMs = 2000, immediate = true }: PeriodicOptions = {},
): PeriodicTask {
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  const stopping = new AbortController();
  const tick = (): void => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = fn(stopping.signal)
      .then(
        () => undefined,
        (err: unknown) =>
          stopped
            ? logger.debug({ err, task: name }, `${name} cut off by the shutdown`)
            : logger.warn({ err, task: name }, `${name} failed; will retry`),
      )
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          tick();
        }
      });
  };
  const timer = intervalMs > 0 ? setInterval(tick, intervalMs) : undefined;
  timer?.unref();
  if (immediate) tick();
  return {
    kick: tick,
    async stop() {
      stopped = true;
      clearInterval(timer);
      stopping.abort();
      if (!running) return;
      // `running` never rejects (failures are logged above): a rejection is the grace running out.
      await withTimeout(running, stopGraceMs, name).catch(() =>
        logger.info({ task: name, graceMs: stopGraceMs }, `${name} still running at shutdown; left to the next run`),
      );
    },
  };
}
