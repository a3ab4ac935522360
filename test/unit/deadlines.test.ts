import { getEventListeners } from 'node:events';
import { attemptSignal, Deadlines } from '../../src/lib/deadlines';

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

describe('Deadlines', () => {
  it('a deadline that passes ends the race with a TimeoutError, also for a handler that ignores its signal', async () => {
    const deadlines = new Deadlines(new AbortController().signal);
    const d = deadlines.start(20, 'job');
    const ignoring = new Promise(() => undefined);
    await expect(d.race(ignoring)).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(d.timedOut).toBe(true);
    // A signal asked for after the deadline passed is already aborted, with the same reason.
    expect(d.signal.aborted).toBe(true);
    expect((d.signal.reason as DOMException).name).toBe('TimeoutError');
    d.dispose();
    expect(deadlines.size).toBe(0);
  });

  it('passes the handler result through and aborts the signal a handler holds when it ends', async () => {
    const shutdown = new AbortController();
    const deadlines = new Deadlines(shutdown.signal);
    const quick = deadlines.start(60_000, 'job');
    await expect(quick.race(Promise.resolve(42))).resolves.toBe(42);
    quick.dispose();

    const held = deadlines.start(60_000, 'job');
    const signal = held.signal;
    const reason = new Error('worker shutting down');
    shutdown.abort(reason);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(reason);
    expect(held.timedOut).toBe(false);
    held.dispose();
  });

  it('shutdown ends every attempt in flight, not the finished ones, and the ones started after it at once', async () => {
    const shutdown = new AbortController();
    const deadlines = new Deadlines(shutdown.signal);
    const finished = deadlines.start(60_000, 'job');
    finished.dispose();
    const running = [deadlines.start(60_000, 'job'), deadlines.start(60_000, 'other')];
    const races = running.map((d) => d.race(new Promise(() => undefined)));
    expect(deadlines.size).toBe(2);
    const reason = new Error('worker shutting down');
    shutdown.abort(reason);
    for (const r of races) await expect(r).rejects.toBe(reason);
    expect(finished.signal.aborted).toBe(false);
    const late = deadlines.start(60_000, 'job');
    await expect(late.race(Promise.resolve(1))).rejects.toBe(reason);
    for (const d of [...running, late]) d.dispose();
    expect(deadlines.size).toBe(0);
    // One listener on the worker's signal, however many attempts ran.
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(1);
  });

  it('cancel ends the attempts of one job only, with a reason the attempt can tell from a timeout', async () => {
    const deadlines = new Deadlines(new AbortController().signal);
    const [a1, a2, b] = [deadlines.start(60_000, 'a'), deadlines.start(60_000, 'a'), deadlines.start(60_000, 'b')];
    const races = [a1, a2].map((d) => d.race(new Promise(() => undefined)));
    expect(deadlines.cancel('a', 'job deleted')).toBe(2);
    for (const r of races) await expect(r).rejects.toThrow(/cancelled: job deleted/);
    expect([a1.cancelled, a2.cancelled, b.cancelled]).toEqual(['job deleted', 'job deleted', null]);
    expect([a1.timedOut, b.signal.aborted]).toEqual([false, false]);
    for (const d of [a1, a2, b]) d.dispose();
    expect(deadlines.cancel('a', 'again')).toBe(0);
    expect(deadlines.size).toBe(0);
  });
});
