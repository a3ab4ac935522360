import { Writable } from 'node:stream';
import pino from 'pino';
import { runPeriodically } from '../../src/services/periodic';

/** A real pino logger whose lines are kept for the assertions. */
function capturedLogger() {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

function deferred() {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('runPeriodically', () => {
  it('aborts the running pass on stop and waits for it when it ends in time', async () => {
    const { logger } = capturedLogger();
    let finished = false;
    const task = runPeriodically(
      'pass',
      0,
      (signal) =>
        new Promise<void>((resolve) =>
          signal.addEventListener('abort', () =>
            setTimeout(() => {
              finished = true;
              resolve();
            }, 50),
          ),
        ),
      logger,
      { stopGraceMs: 5000 },
    );
    await task.stop();
    expect(finished).toBe(true);
  });

  it('stops after the grace period when the pass ignores its signal, and does not report its late failure as a warning', async () => {
    const { logger, lines } = capturedLogger();
    const stuck = deferred();
    let calls = 0;
    const task = runPeriodically(
      'retention',
      0,
      () => {
        calls++;
        return stuck.promise;
      },
      logger,
      { stopGraceMs: 100 },
    );
    const t0 = performance.now();
    await task.stop();
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(95);
    expect(ms).toBeLessThan(2000);
    expect(lines.map((l) => l.msg)).toContain('retention still running at shutdown; left to the next run');

    // The cut-off pass fails when the connections close: not a warning, and no new pass starts.
    stuck.reject(new Error('connection closed'));
    await new Promise((resolve) => setImmediate(resolve));
    task.kick();
    expect(calls).toBe(1);
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
    expect(lines.map((l) => l.msg)).toContain('retention cut off by the shutdown');
  });

  it('reports a failure while running as a warning and tries again when kicked', async () => {
    const { logger, lines } = capturedLogger();
    let calls = 0;
    const task = runPeriodically(
      'reconcile',
      0,
      async () => {
        calls++;
        if (calls === 1) throw new Error('Redis is unavailable');
      },
      logger,
    );
    const deadline = Date.now() + 2000;
    while (!lines.some((l) => l.level === 40) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(lines.find((l) => l.level === 40)?.msg).toBe('reconcile failed; will retry');
    task.kick();
    await task.stop();
    expect(calls).toBe(2);
  });

  it('waits one interval before the first run when not immediate', async () => {
    const { logger } = capturedLogger();
    const runs: number[] = [];
    const t0 = performance.now();
    const task = runPeriodically('check', 100, async () => void runs.push(performance.now() - t0), logger, { immediate: false });
    expect(runs).toEqual([]);
    const deadline = Date.now() + 2000;
    while (runs.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await task.stop();
    expect(runs.length).toBeGreaterThanOrEqual(1);
    expect(runs[0]).toBeGreaterThanOrEqual(95);
  });
});
