/**
 * The signal of one attempt, or of a deadline within it: aborted when `timeoutMs` passes or when
 * `parent` aborts (the worker shutting down, the attempt ending); dispose() when done. Built by hand
 * rather than with AbortSignal.timeout + AbortSignal.any: on Node 20, `any` keeps every derived
 * signal in a set on a long-lived parent (the heap in use grew by ~56 bytes per execution, 20 MB over
 * the benchmark's 5-minute run), a timeout signal that only `any` refers to can be collected before
 * it fires (a request then hangs past its timeout), and a timeout timer outlives a fast attempt.
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

/** Handlers should honour their signal; this makes sure an attempt ends even when one does not. */
export function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
