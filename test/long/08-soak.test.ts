import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ExecutionDoc } from '../../src/persistence/models';
import { createJobs, executionRecords, figure, groupBy, percentile, tockEnv, useFaultContext } from '../helpers/fault';
import { spawnApi, spawnWorkers, type TockProcess } from '../helpers/processes';

/**
 * Fault 8 (soak): 100 interval jobs every 2 s and 50 cron jobs every second for 5 minutes
 * (TOCK_SOAK_MS), while the API and the workers are restarted every 60 s, one at a time, a
 * replacement started before the old one is stopped. Bars: no occurrence runs twice, none is
 * missed, start lag p99 ≤ 1 s. Writes its figures to test/long/soak-result.json.
 */
const DURATION_MS = Number(process.env.TOCK_SOAK_MS ?? 300_000);
const RESTART_EVERY_MS = 60_000;
const WORKERS = 3;

const f = useFaultContext();

/** Every slot a job should have run in [from, to): interval slots step from its first one, cron every second. */
function expectedSlots(first: number, stepMs: number, from: number, to: number): number[] {
  const slots: number[] = [];
  for (let t = first; t < to; t += stepMs) if (t >= from) slots.push(t);
  return slots;
}

it(`runs every occurrence exactly once through rolling restarts (${DURATION_MS / 1000} s)`, async () => {
  const { ctx, db, procs } = f;
  const env = tockEnv(
    { redisUrl: ctx.redisUrl, mongoUrl: ctx.mongoUrl, prefix: ctx.prefix },
    { WORKER_CONCURRENCY: '50', WORKER_LOCK_DURATION_MS: '5000', WORKER_STALLED_INTERVAL_MS: '2000' },
  );
  const first = await spawnApi(env);
  let api = first.api;
  let workers = await spawnWorkers(env, WORKERS, 'g0-');
  procs.push(api, ...workers);
  const intervalIds = await createJobs(
    first.baseUrl,
    Array.from({ length: 100 }, (_, i) => ({ name: `i${i}`, handler: 'noop', schedule: { kind: 'interval', everyMs: 2000 } })),
  );
  const cronIds = await createJobs(
    first.baseUrl,
    Array.from({ length: 50 }, (_, i) => ({ name: `c${i}`, handler: 'noop', schedule: { kind: 'cron', expression: '* * * * * *' } })),
  );
  const started = Date.now();
  let restarts = 0;
  for (let generation = 1; Date.now() - started < DURATION_MS; generation++) {
    await new Promise((r) => setTimeout(r, Math.min(RESTART_EVERY_MS, DURATION_MS - (Date.now() - started))));
    if (Date.now() - started >= DURATION_MS) break;
    const next: TockProcess[] = [];
    for (let i = 0; i < workers.length; i++) {
      const [fresh] = await spawnWorkers(env, 1, `g${generation}-${i}-`);
      procs.push(fresh!);
      await workers[i]!.kill('SIGTERM');
      next.push(fresh!);
      restarts++;
    }
    workers = next;
    await api.kill('SIGTERM');
    ({ api } = await spawnApi(env));
    procs.push(api);
    restarts++;
  }
  const ended = Date.now();
  // Records are written when an attempt ends, in batches: give the last ones time to land.
  await new Promise((r) => setTimeout(r, 3000));

  const from = started + 5000;
  const to = ended - 3000;
  const records = await executionRecords(db, { scheduledFor: { $gte: new Date(from - 60_000) } });
  const byJob = groupBy(records, (r) => String(r.jobId));
  let missed = 0;
  let unrecorded = 0;
  let duplicates = 0;
  let expected = 0;
  const lags: number[] = [];
  const check = (id: string, stepMs: number) => {
    const rs = (byJob.get(id) ?? []).filter((r: ExecutionDoc) => r.attempt === 1 || r.status !== 'stalled');
    const ran = rs.filter((r) => r.status === 'succeeded');
    const bySlot = groupBy(ran, (r) => String(r.scheduledFor!.getTime()));
    duplicates += [...bySlot.values()].filter((v) => v.length > 1).length;
    const first = Math.min(...ran.map((r) => r.scheduledFor!.getTime()));
    const slots = expectedSlots(first, stepMs, from, to);
    expected += slots.length;
    missed += slots.filter((s) => !bySlot.has(String(s))).length;
    const recorded = new Set(rs.map((r) => r.scheduledFor!.getTime()));
    unrecorded += slots.filter((s) => !recorded.has(s)).length;
    for (const r of ran) if (r.scheduledFor!.getTime() >= from && r.scheduledFor!.getTime() < to) lags.push(r.driftMs!);
  };
  intervalIds.forEach((id) => check(id, 2000));
  cronIds.forEach((id) => check(id, 1000));

  const result = {
    at: new Date().toISOString(),
    durationS: Math.round((ended - started) / 1000),
    restarts,
    occurrencesExpected: expected,
    missed,
    missedWithoutRecord: unrecorded,
    duplicates,
    startLagP50Ms: percentile(lags, 50),
    startLagP99Ms: percentile(lags, 99),
    startLagMaxMs: Math.max(...lags),
  };
  writeFileSync(path.join(__dirname, 'soak-result.json'), `${JSON.stringify(result, null, 2)}\n`);
  for (const [k, v] of Object.entries(result)) figure(`soak: ${k}`, v);
  expect(duplicates).toBe(0);
  expect(unrecorded).toBe(0);
  expect(missed).toBe(0);
  expect(result.startLagP99Ms).toBeLessThanOrEqual(1000);
});
