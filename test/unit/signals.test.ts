import { getEventListeners } from 'node:events';
import { attemptSignal } from '../../src/handlers/signals';

describe('attemptSignal', () => {
  it('aborts when the timeout passes, and says so', async () => {
    const shutdown = new AbortController();
    const a = attemptSignal(20, shutdown.signal);
    await new Promise((resolve) => a.signal.addEventListener('abort', resolve, { once: true }));
    expect(a.timedOut()).toBe(true);
    expect((a.signal.reason as DOMException).name).toBe('TimeoutError');
    a.dispose();
  });

  it('aborts with the shutdown reason when the worker shuts down, and not as a timeout', () => {
    const shutdown = new AbortController();
    const a = attemptSignal(60_000, shutdown.signal);
    const reason = new Error('worker shutting down');
    shutdown.abort(reason);
    expect(a.signal.aborted).toBe(true);
    expect(a.signal.reason).toBe(reason);
    expect(a.timedOut()).toBe(false);
    a.dispose();
    // Already shut down: a new attempt starts aborted.
    expect(attemptSignal(60_000, shutdown.signal).signal.aborted).toBe(true);
  });

  it('leaves nothing on the long-lived shutdown signal once disposed', () => {
    const shutdown = new AbortController();
    for (let i = 0; i < 1000; i++) attemptSignal(60_000, shutdown.signal).dispose();
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0);
    const open = attemptSignal(60_000, shutdown.signal);
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(1);
    open.dispose();
  });
});
