import { Pool, type Dispatcher } from 'undici';
import { percentile, sleep } from './stats';

/**
 * One undici pool of keep-alive connections per API. The load generator shares the machine's two
 * cores with what it measures, so it should cost little: about 21 µs of CPU per request against
 * 43-48 µs for `node:http`'s `http.request` with a keep-alive agent (measured on this machine against
 * a bare Node server), about what the baseline's sender spends per `queue.add`.
 */
const pools = new Map<string, Pool>();

function poolFor(baseUrl: string): Pool {
  let pool = pools.get(baseUrl);
  if (!pool) {
    pool = new Pool(baseUrl, { connections: 64 });
    pools.set(baseUrl, pool);
  }
  return pool;
}

/** Drops the kept-alive connections (before an API is stopped, so that it need not wait for them). */
export function resetConnections(): void {
  for (const pool of pools.values()) void pool.destroy().catch(() => undefined);
  pools.clear();
}

export interface Reply {
  status: number;
  body: unknown;
  ms: number;
}

/**
 * The key the benchmark's requests carry: the admin key its API is started with (BENCH_ADMIN_KEY),
 * unless a phase passes another.
 */
export const BENCH_ADMIN_KEY = 'tock_bench_admin_key_0123456789abcdef';

/** One HTTP request on a keep-alive connection; status 0 means a network error. */
export async function request(
  baseUrl: string,
  method: Dispatcher.HttpMethod,
  path: string,
  body?: unknown,
  key = BENCH_ADMIN_KEY,
): Promise<Reply> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const t0 = performance.now();
  const auth = { authorization: `Bearer ${key}` };
  try {
    const res = await poolFor(baseUrl).request({
      path,
      method,
      headers: payload === undefined ? auth : { ...auth, 'content-type': 'application/json' },
      body: payload,
    });
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.statusCode, body: parsed, ms: performance.now() - t0 };
  } catch (err) {
    return { status: 0, body: (err as Error).message, ms: performance.now() - t0 };
  }
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
 * not slow the sender down), then waits for the stragglers. With `batch` > 1 the items due in a
 * tick go out as one call of `op(first, n)` (at most `batch` items); `sent`, `ok`, `errors` and
 * `skipped` count items, latencies are per call. `maxInFlight` bounds the items in flight.
 */
export async function paced(
  rate: number,
  durationMs: number,
  op: (i: number, n: number) => Promise<{ ok: boolean; ms: number; error?: string }>,
  maxInFlight = 1000,
  batch = 1,
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
      const n = Math.min(batch, due - sent - skipped, maxInFlight - inFlight);
      if (n <= 0) {
        skipped += due - sent - skipped;
        break;
      }
      const i = sent;
      sent += n;
      inFlight += n;
      const p: Promise<void> = op(i, n).then(
        (r) => {
          latencies.push(r.ms);
          if (r.ok) ok += n;
          else {
            errors += n;
            firstError ??= r.error;
          }
        },
        (err: unknown) => {
          errors += n;
          firstError ??= String(err);
        },
      );
      const tracked = p.finally(() => {
        inFlight -= n;
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
