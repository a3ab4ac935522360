import type { Logger } from '../observability/logger';

export interface PeriodicTask {
  /** Runs the task soon (after the current run, if one is going on). */
  kick(): void;
  stop(): Promise<void>;
}

/**
 * Runs `fn` now, then every `intervalMs` (0: only when kicked), never two runs at once. Failures
 * are logged and the next run tries again. `stop` aborts the signal `fn` is given and waits for it.
 */
export function runPeriodically(
  name: string,
  intervalMs: number,
  fn: (signal: AbortSignal) => Promise<unknown>,
  logger: Logger,
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
        (err: unknown) => logger.warn({ err, task: name }, `${name} failed; will retry`),
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
  tick();
  return {
    kick: tick,
    async stop() {
      stopped = true;
      clearInterval(timer);
      stopping.abort();
      await running;
    },
  };
}
