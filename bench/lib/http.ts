import http from 'node:http';
import { percentile, sleep } from './stats';

let agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** Drops the kept-alive connections (before an API is stopped, so that it need not wait for them). */
export function resetConnections(): void {
  agent.destroy();
  agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
}

export interface Reply {
  status: number;
  body: unknown;
  ms: number;
}

/** One HTTP request on a keep-alive connection; status 0 means a network error. */
export function request(baseUrl: string, method: string, path: string, body?: unknown): Promise<Reply> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.request(
      `${baseUrl}${path}`,
      {
        method,
        agent,
        headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            /* not JSON: keep the text */
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, ms: performance.now() - t0 });
        });
        res.on('error', () => resolve({ status: 0, body: undefined, ms: performance.now() - t0 }));
      },
    );
    req.on('error', (err) => resolve({ status: 0, body: err.message, ms: performance.now() - t0 }));
    if (payload) req.write(payload);
    req.end();
  });
}

export interface PacedResult {
  target: number;
  sent: number;
  ok: number;
  errors: number;
  /** Sends skipped because `maxInFlight` requests were still open: the target was not kept up. */
  skipped: number;
  achievedRate: number;
  p50: number | null;
  p99: number | null;
  firstError?: string;
}

/**
 * Fires `op` at `rate` per second for `durationMs` (on a 5 ms tick, open loop: a slow answer does
 * not slow the sender down), then waits for the stragglers.
 */
export async function paced(
  rate: number,
  durationMs: number,
  op: (i: number) => Promise<{ ok: boolean; ms: number; error?: string }>,
  maxInFlight = 1000,
): Promise<PacedResult> {
  const latencies: number[] = [];
  let sent = 0;
  let ok = 0;
  let errors = 0;
  let skipped = 0;
  let inFlight = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  const pending = new Set<Promise<void>>();
  while (performance.now() - t0 < durationMs) {
    const due = Math.floor((rate * (performance.now() - t0)) / 1000);
    while (sent + skipped < due) {
      if (inFlight >= maxInFlight) {
        skipped++;
        continue;
      }
      const i = sent++;
      inFlight++;
      const p: Promise<void> = op(i).then(
        (r) => {
          latencies.push(r.ms);
          if (r.ok) ok++;
          else {
            errors++;
            firstError ??= r.error;
          }
        },
        (err: unknown) => {
          errors++;
          firstError ??= String(err);
        },
      );
      const tracked = p.finally(() => {
        inFlight--;
        pending.delete(tracked);
      });
      pending.add(tracked);
    }
    await sleep(5);
  }
  const elapsed = performance.now() - t0;
  await Promise.race([Promise.all(pending), sleep(30_000)]);
  return {
    target: rate,
    sent,
    ok,
    errors,
    skipped,
    achievedRate: (sent * 1000) / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    firstError,
  };
}

/** Sequential requests; returns the latency samples of the successful ones and the failures. */
export async function sample(n: number, op: (i: number) => Promise<Reply>): Promise<{ ms: number[]; failures: number }> {
  const ms: number[] = [];
  let failures = 0;
  for (let i = 0; i < n; i++) {
    const r = await op(i);
    if (r.status >= 200 && r.status < 300) ms.push(r.ms);
    else failures++;
  }
  return { ms, failures };
}
