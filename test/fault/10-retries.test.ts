import type { ExecutionDoc } from '../../src/persistence/models';
import { createJobs, executionRecords, figure, groupBy, startSink, tockEnv, useFaultContext, type Sink } from '../helpers/fault';
import { spawnApi, spawnWorkers } from '../helpers/processes';
import { waitFor } from '../helpers/wait-for';

/**
 * Fault 10: retries through real worker processes. Exact attempt counts and backoff spacing within
 * ±10% (fixed and exponential; Tock has no jitter setting, so none is added); an http job answered
 * 400/401/403/404/410 is not retried unless `retryOnClientError`; 429/503 with Retry-After wait at
 * least that long.
 */
const TOLERANCE = 0.1;
const BUSY_SLACK_MS = 300;
const CLIENT_ERRORS = [400, 401, 403, 404, 410];
const RETRY_AFTER_S = 2;

interface Case {
  name: string;
  body: Record<string, unknown>;
  attempts: number;
  /** Expected wait before attempt n+1 (index n-1); `min` only for Retry-After. */
  gaps: { ms: number; min?: boolean }[];
}

function simulate(name: string, attempts: number, backoff: { type: 'fixed' | 'exponential'; delayMs: number }): Case {
  const gaps = Array.from({ length: attempts - 1 }, (_, i) => ({
    ms: backoff.type === 'fixed' ? backoff.delayMs : backoff.delayMs * 2 ** i,
  }));
  return {
    name,
    attempts,
    gaps,
    body: { name, handler: 'simulate', payload: { failureRate: 1 }, schedule: { kind: 'delay', delayMs: 0 }, retry: { attempts, backoff } },
  };
}

function httpCase(name: string, url: string, retry: { attempts: number; delayMs: number }, extra: Record<string, unknown> = {}) {
  return {
    name,
    handler: 'http',
    payload: { url, method: 'POST', ...extra },
    schedule: { kind: 'delay', delayMs: 0 },
    retry: { attempts: retry.attempts, backoff: { type: 'fixed', delayMs: retry.delayMs } },
  };
}

describe('fault 10: retries and backoff', () => {
  const f = useFaultContext();
  let sink: Sink;

  beforeAll(async () => {
    sink = await startSink((req, res) => {
      const m = /^\/(status|retry-after)\/(\d{3})$/.exec(req.url ?? '');
      const status = m ? Number(m[2]) : 200;
      if (m?.[1] === 'retry-after') res.setHeader('Retry-After', String(RETRY_AFTER_S));
      res.statusCode = status;
      res.end(`answered ${status}`);
    });
  });
  afterAll(async () => {
    await sink?.close();
  });

  it('retries exactly as configured', async () => {
    const { ctx, db, procs } = f;
    const env = tockEnv(ctx, { HTTP_ALLOW_PRIVATE_NETWORKS: 'true', WORKER_CONCURRENCY: '20' });
    const { api, baseUrl } = await spawnApi(env);
    procs.push(api, ...(await spawnWorkers(env, 2)));

    const cases: Case[] = [
      simulate('fixed', 4, { type: 'fixed', delayMs: 1000 }),
      simulate('exponential', 4, { type: 'exponential', delayMs: 700 }),
      ...CLIENT_ERRORS.map((s) => ({
        name: `http-${s}`,
        attempts: 1,
        gaps: [],
        body: httpCase(`http-${s}`, `${sink.url}/status/${s}`, { attempts: 3, delayMs: 200 }),
      })),
      {
        name: 'http-404-retryOnClientError',
        attempts: 3,
        gaps: [{ ms: 500 }, { ms: 500 }],
        body: httpCase(
          'http-404-retryOnClientError',
          `${sink.url}/status/404`,
          { attempts: 3, delayMs: 500 },
          { retryOnClientError: true },
        ),
      },
      ...[429, 503].map((s) => ({
        name: `http-${s}-retry-after`,
        attempts: 2,
        gaps: [{ ms: RETRY_AFTER_S * 1000, min: true }],
        body: httpCase(`http-${s}-retry-after`, `${sink.url}/retry-after/${s}`, { attempts: 2, delayMs: 100 }),
      })),
    ];
    const ids = await createJobs(
      baseUrl,
      cases.map((c) => c.body),
      cases.length,
    );
    await waitFor('every case to reach the dead letter', async () => (await db.models.DeadLetter.countDocuments({})) >= cases.length, {
      timeoutMs: 40_000,
      intervalMs: 250,
    });
    // Records are written right after the dead-letter entry's batch; wait for the last ones.
    const total = cases.reduce((n, c) => n + c.attempts, 0);
    await waitFor('every attempt to be recorded', async () => (await db.models.Execution.countDocuments({})) >= total, {
      timeoutMs: 5000,
    }).catch(() => undefined);
    const records = groupBy(await executionRecords(db), (r) => String(r.jobId));
    const deadLetters = await db.models.DeadLetter.find({}).lean();

    const results = cases.map((c, i) => {
      const rs = (records.get(ids[i]!) ?? []).sort((a, b) => a.attempt - b.attempt);
      const gaps = rs.slice(1).map((r, n) => r.startedAt.getTime() - (rs[n] as ExecutionDoc).finishedAt!.getTime());
      return { c, rs, gaps, dl: deadLetters.find((d) => String(d.jobId) === ids[i]) };
    });
    for (const { c, rs, gaps, dl } of results) {
      figure(
        `fault10.${c.name}`,
        `attempts ${rs.length} (want ${c.attempts}); gaps ${JSON.stringify(gaps)} (want ${JSON.stringify(c.gaps.map((g) => (g.min ? `>=${g.ms}` : g.ms)))}); dead letter after ${dl?.attempts}`,
      );
    }
    const worstDeviation = Math.max(
      0,
      ...results.flatMap(({ c, gaps }) => gaps.map((g, n) => (c.gaps[n]!.min ? 0 : Math.abs(g - c.gaps[n]!.ms) / c.gaps[n]!.ms))),
    );
    figure('fault10.worstBackoffDeviationPct', Math.round(worstDeviation * 1000) / 10);

    for (const { c, rs, gaps, dl } of results) {
      expect({ name: c.name, attempts: rs.map((r) => [r.attempt, r.status]) }).toEqual({
        name: c.name,
        attempts: Array.from({ length: c.attempts }, (_, n) => [n + 1, 'failed']),
      });
      expect({ name: c.name, deadLetter: dl?.attempts, reason: dl?.reason }).toEqual({
        name: c.name,
        deadLetter: c.attempts,
        reason: 'failed',
      });
      gaps.forEach((g, n) => {
        const want = c.gaps[n]!;
        if (want.min) expect(g).toBeGreaterThanOrEqual(want.ms);
        else {
          expect(g).toBeGreaterThanOrEqual(want.ms * (1 - TOLERANCE));
          // Never early; late by at most the tolerance plus what a busy 2-core machine adds to any timer.
          expect(g).toBeLessThanOrEqual(want.ms * (1 + TOLERANCE) + BUSY_SLACK_MS);
        }
      });
    }
    // The non-retried client errors called the target exactly once each.
    for (const s of CLIENT_ERRORS) expect(sink.hits.filter((h) => h.path === `/status/${s}`)).toHaveLength(s === 404 ? 1 + 3 : 1);
  });
});
