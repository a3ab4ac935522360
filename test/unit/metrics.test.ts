import { register } from 'prom-client';
import { cachedSample, TockMetrics, type RecordedRun } from '../../src/observability/metrics';
import { ProbeServer } from '../../src/worker/probe-server';
import { parseExposition, sumBy, sumOf } from '../helpers/prometheus';

const run = (over: Partial<RecordedRun>): RecordedRun => ({
  handler: 'noop',
  scheduleKind: 'once',
  status: 'succeeded',
  durationMs: 20,
  driftMs: 150,
  error: null,
  ...over,
});

describe('TockMetrics', () => {
  it('counts each record once by handler and outcome, and observes its duration and lateness', async () => {
    const m = new TockMetrics({ defaultMetrics: false });
    m.recorded(run({}));
    m.recorded(run({ handler: 'http', status: 'failed', durationMs: 2500, scheduleKind: 'cron' }));
    m.recorded(run({ status: 'skipped', durationMs: 0, driftMs: null, error: { code: 'misfire' } }));
    m.recorded(run({ status: 'skipped', durationMs: 0, driftMs: 9000, error: { code: 'overlap' }, scheduleKind: 'interval' }));
    m.recorded(run({ status: 'stalled', durationMs: null, driftMs: null }));
    const s = parseExposition(await m.render());
    expect(sumBy(s, 'tock_runs_total', 'outcome')).toEqual({ succeeded: 1, failed: 1, skipped: 2, stalled: 1 });
    expect(sumOf(s, 'tock_runs_total', { handler: 'http', outcome: 'failed' })).toBe(1);
    // Skipped attempts ran nothing and stalled ones have no known duration.
    expect(sumOf(s, 'tock_run_duration_seconds_count')).toBe(2);
    expect(sumOf(s, 'tock_run_duration_seconds_sum')).toBeCloseTo(2.52);
    expect(sumOf(s, 'tock_run_duration_seconds_bucket', { handler: 'http', le: '2.5' })).toBe(1);
    expect(sumBy(s, 'tock_start_lateness_seconds_count', 'kind')).toEqual({ once: 1, cron: 1, interval: 1 });
    expect(sumOf(s, 'tock_start_lateness_seconds_sum', { kind: 'interval' })).toBe(9);
    expect(sumOf(s, 'tock_misfires_total')).toBe(1);
  });

  it('keeps a registry of its own: two instances never share a series, the global registry stays empty', async () => {
    const a = new TockMetrics({ defaultMetrics: false });
    const b = new TockMetrics({ defaultMetrics: false });
    a.observe('/api/v1/jobs/:id', 'GET', 200, 0.01);
    expect(sumOf(parseExposition(await a.render()), 'tock_http_requests_total')).toBe(1);
    expect(sumOf(parseExposition(await b.render()), 'tock_http_requests_total')).toBe(0);
    expect(await register.getMetricsAsJSON()).toEqual([]);
  });

  it('samples gauges on scrape, reading the source at most once per interval', async () => {
    const m = new TockMetrics({ defaultMetrics: false });
    let reads = 0;
    m.queueJobs(async () => ({ waiting: ++reads, delayed: 2 }), 60_000);
    m.deadLetters(async () => {
      throw new Error('store down');
    });
    let pending = 3;
    m.historyBuffer(() => pending);
    for (let i = 0; i < 5; i++) await m.render();
    const s = parseExposition(await m.render());
    expect(reads).toBe(1);
    expect(sumBy(s, 'tock_queue_jobs', 'state')).toEqual({ waiting: 1, delayed: 2 });
    expect(sumOf(s, 'tock_history_buffered_records')).toBe(3);
    pending = 0;
    expect(sumOf(parseExposition(await m.render()), 'tock_history_buffered_records')).toBe(0);
  });
});

describe('cachedSample', () => {
  it('reuses a reading for its interval, and forgets a failed one', async () => {
    let t = 0;
    let n = 0;
    let fail = false;
    const sample = cachedSample(
      async () => {
        n++;
        if (fail) throw new Error('down');
        return n;
      },
      5000,
      () => t,
    );
    expect(await sample()).toBe(1);
    t = 4999;
    expect(await sample()).toBe(1);
    t = 5000;
    fail = true;
    await expect(sample()).rejects.toThrow('down');
    fail = false;
    expect(await sample()).toBe(3);
  });
});

describe('ProbeServer', () => {
  it('answers live always, ready only when every check passes (naming the one that failed), and /metrics', async () => {
    let consuming = false;
    const metrics = new TockMetrics({ defaultMetrics: false });
    const probe = new ProbeServer({
      port: 0,
      host: '127.0.0.1',
      metrics,
      checks: [
        { name: 'redis', check: async () => undefined },
        { name: 'consuming', check: async () => consuming },
        { name: 'slow', check: () => new Promise((r) => setTimeout(r, 50)) },
      ],
      checkTimeoutMs: 1000,
    });
    const port = await probe.listen();
    try {
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/health/live`)).status).toBe(200);
      const notReady = await fetch(`${base}/health/ready`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toEqual({
        status: 'unavailable',
        checks: { redis: { status: 'ok' }, consuming: { status: 'unavailable' }, slow: { status: 'ok' } },
      });
      consuming = true;
      expect((await fetch(`${base}/health/ready`)).status).toBe(200);
      const res = await fetch(`${base}/metrics`);
      expect(res.headers.get('content-type')).toBe(metrics.contentType);
      expect(await res.text()).toMatch(/^# TYPE tock_runs_total counter$/m);
      expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      await probe.close();
    }
  });
});
