import type { ServerResponse } from 'node:http';
import type { ExecutionDoc } from '../../src/persistence/models';
import { createJobs, executionRecords, figure, rssMb, startSink, tockEnv, useFaultContext, type Sink } from '../helpers/fault';
import { spawnApi, spawnWorkers } from '../helpers/processes';
import { waitFor } from '../helpers/wait-for';

/**
 * Fault 11: hostile webhook targets, called by a real worker process: a server that never answers,
 * one that sends a byte per second, a 100 MB body, a redirect loop. Each attempt ends within its
 * timeout + 1 s, stores at most 4 KB of response, the worker's memory grows by less than 50 MB, and
 * no redirect is followed unless the job asks for it.
 */
const COPIES = 5;
const TIMEOUT_MS = 2000;
const BODY_LIMIT = 4096;
const HUGE = 100 * 1024 * 1024;

/** Bytes the /huge handler managed to hand to the socket before the client went away, by path. */
const hugeSent = new Map<string, number>();

function hostile(path: string, res: ServerResponse): void {
  if (path.startsWith('/never')) return; // headers never come
  if (path.startsWith('/drip')) {
    res.writeHead(200, { 'content-type': 'text/plain' });
    const timer = setInterval(() => res.write('x'), 1000);
    res.on('close', () => clearInterval(timer));
    return;
  }
  if (path.startsWith('/huge')) {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(HUGE) });
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    const pump = () => {
      while (sent < HUGE && !res.destroyed) {
        sent += chunk.length;
        hugeSent.set(path, sent);
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
    return;
  }
  if (path.startsWith('/loop')) {
    res.writeHead(302, { location: path });
    res.end();
    return;
  }
  res.end('ok');
}

describe('fault 11: hostile http targets', () => {
  const f = useFaultContext();
  let sink: Sink;

  beforeAll(async () => {
    sink = await startSink((req, res, hit) => hostile(hit.path, res));
  });
  afterAll(async () => {
    await sink?.close();
  });

  it('bounds time, stored bytes, memory and redirects', async () => {
    const { ctx, db, procs } = f;
    const env = tockEnv(ctx, { HTTP_ALLOW_PRIVATE_NETWORKS: 'true', WORKER_CONCURRENCY: '50' });
    const { api, baseUrl } = await spawnApi(env);
    const [worker] = await spawnWorkers(env, 1);
    procs.push(api, worker!);
    const job = (name: string, path: string, extra: { payload?: Record<string, unknown>; timeoutMs?: number } = {}) => ({
      name,
      handler: 'http',
      payload: { url: `${sink.url}${path}`, method: 'GET', ...extra.payload },
      schedule: { kind: 'delay', delayMs: 0 },
      retry: { attempts: 1 },
      timeoutMs: extra.timeoutMs ?? TIMEOUT_MS,
    });

    // Warm the worker's http path, then take its resident memory as the baseline.
    const [warm] = await createJobs(baseUrl, [job('warm-up', '/ok')]);
    await waitFor('the warm-up call', async () => (await db.models.Execution.countDocuments({ jobId: warm })) === 1);
    const baseline = rssMb(worker!.child.pid!);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(worker!.child.pid!))), 100);

    const cases = [
      ...Array.from({ length: COPIES }, (_, i) => ({ kind: 'never', timeout: TIMEOUT_MS, body: job(`never-${i}`, `/never/${i}`) })),
      // The payload's own timeoutMs, shorter than the attempt's.
      {
        kind: 'never-payload-timeout',
        timeout: 1500,
        body: job('never-payload', '/never/p', { payload: { timeoutMs: 1500 }, timeoutMs: 30_000 }),
      },
      ...Array.from({ length: COPIES }, (_, i) => ({ kind: 'drip', timeout: TIMEOUT_MS, body: job(`drip-${i}`, `/drip/${i}`) })),
      ...Array.from({ length: COPIES }, (_, i) => ({
        kind: 'huge',
        timeout: 10_000,
        body: job(`huge-${i}`, `/huge/${i}`, { timeoutMs: 10_000 }),
      })),
      { kind: 'loop', timeout: TIMEOUT_MS, body: job('loop', '/loop/plain') },
      { kind: 'loop-follow', timeout: TIMEOUT_MS, body: job('loop-follow', '/loop/follow', { payload: { followRedirects: true } }) },
    ];
    const ids = await createJobs(
      baseUrl,
      cases.map((c) => c.body),
      cases.length,
    );
    await waitFor('every hostile call to be recorded', async () => (await db.models.Execution.countDocuments({})) >= cases.length + 1, {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    clearInterval(sampler);
    const after = rssMb(worker!.child.pid!);
    const records = await executionRecords(db);
    const byJob = new Map(records.map((r) => [String(r.jobId), r]));
    const results = cases.map((c, i) => ({ ...c, r: byJob.get(ids[i]!) as ExecutionDoc }));
    const stored = (r: ExecutionDoc) => Buffer.byteLength(((r.result as { body?: string } | null)?.body ?? '') as string);
    const summary = (kind: string) =>
      results
        .filter((x) => x.kind === kind)
        .map((x) => `${x.r.status}/${x.r.error?.code ?? 'ok'} ${x.r.durationMs}ms ${stored(x.r)}B`)
        .join(', ');
    for (const kind of new Set(cases.map((c) => c.kind))) figure(`fault11.${kind}`, summary(kind));
    const loopHits = sink.hits.filter((h) => h.path === '/loop/plain').length;
    const followHits = sink.hits.filter((h) => h.path === '/loop/follow').length;
    figure(
      'fault11.hugeBodyMbSentBeforeClientClosed',
      [...hugeSent.values()].map((b) => Math.round(b / 1e5) / 10),
    );
    figure('fault11.redirectLoopHits', `not following: ${loopHits}; followRedirects: ${followHits}`);
    figure(
      'fault11.workerRssMb',
      `baseline ${baseline.toFixed(1)}, peak ${peak.toFixed(1)} (+${(peak - baseline).toFixed(1)}), after ${after.toFixed(1)}`,
    );

    for (const x of results) {
      expect({ kind: x.kind, ended: x.r.durationMs! <= x.timeout + 1000 }).toEqual({ kind: x.kind, ended: true });
      expect(stored(x.r)).toBeLessThanOrEqual(BODY_LIMIT);
      expect(JSON.stringify(x.r.result ?? null).length).toBeLessThanOrEqual(BODY_LIMIT + 512);
    }
    for (const x of results.filter((y) => y.kind.startsWith('never') || y.kind === 'drip')) {
      expect([x.kind, x.r.status, x.r.error?.code]).toEqual([x.kind, 'failed', 'timeout']);
    }
    for (const x of results.filter((y) => y.kind === 'huge')) {
      expect([x.r.status, stored(x.r), (x.r.result as { bodyTruncated: boolean }).bodyTruncated]).toEqual(['succeeded', BODY_LIMIT, true]);
    }
    // The worker stopped reading after 4 KB: the server could not push the 100 MB (socket buffers only).
    expect(hugeSent.size).toBe(COPIES);
    for (const sent of hugeSent.values()) expect(sent).toBeLessThan(16 * 1024 * 1024);
    const loop = results.find((y) => y.kind === 'loop')!.r;
    expect([loop.status, loop.error?.code]).toEqual(['failed', 'http-302']);
    expect(loopHits).toBe(1);
    const follow = results.find((y) => y.kind === 'loop-follow')!.r;
    expect([follow.status, follow.error?.code]).toEqual(['failed', 'too-many-redirects']);
    expect(followHits).toBe(6); // the call and 5 redirects
    expect(peak - baseline).toBeLessThan(50);
  });
});
