import { figure, type BenchContext, type Figure } from '../lib/context';
import { percentile, sleep } from '../lib/stats';
import { createMany, noopJob, type TockCluster } from '../lib/tock';

interface RecordRow {
  jobId: { toHexString(): string };
  startedAt: Date;
  scheduledFor: Date | null;
  driftMs: number | null;
}

/** One-time lateness: `n` one-time definitions created through the API, due evenly over `spanMs`. */
export async function measureLatenessRep(
  ctx: BenchContext,
  c: TockCluster,
  o: { n: number; spanMs: number; leadMs: number },
): Promise<{ p99: number | null; early: number; missing: number; createdLate: number }> {
  const first = Date.now() + o.leadMs;
  const due = Array.from({ length: o.n }, (_, i) => first + Math.floor((i * o.spanMs) / o.n));
  const ids = await createMany(
    c.api.baseUrl,
    due.map((t, i) => noopJob(`late-${i}`, new Date(t))),
  );
  const createdAt = Date.now();
  const createdLate = due.filter((t) => t < createdAt).length;
  const runAt = new Map(ids.map((id, i) => [id, due[i]!]));
  await sleep(Math.max(0, due[due.length - 1]! + 2000 - Date.now()));
  await c.worker!.call('flush');
  // The repetitions share a deployment: only this repetition's records.
  const rows = await c.db.models.Execution.find({ jobId: { $in: ids } }, { jobId: 1, startedAt: 1 }).lean<RecordRow[]>();
  const lateness = rows.map((r) => r.startedAt.getTime() - runAt.get(r.jobId.toHexString())!).filter((x) => Number.isFinite(x));
  const early = lateness.filter((x) => x < 0).length;
  const missing = o.n - new Set(rows.map((r) => r.jobId.toHexString())).size;
  const p99 = percentile(lateness, 99);
  ctx.log(
    `  one-time lateness: ${rows.length} runs of ${o.n}, p50 ${percentile(lateness, 50)} ms, p99 ${p99} ms, ${early} early` +
      (createdLate ? `, ${createdLate} created after their due time` : ''),
  );
  return { p99, early, missing, createdLate };
}

type SchedulerWindow = { missed: number; missedFirst10s: number; duplicates: number; expected: number; p99: number | null };

/**
 * Schedulers: `n` interval definitions every 2 s, created once; `windows` consecutive windows of
 * `windowMs` (starting one period after creation) are judged one by one, each a repetition: every
 * slot of every definition in it must run exactly once. One deployment runs them all, so the later
 * windows also carry what a long-running one does (a history that grows, retention passes).
 */
export async function measureSchedulers(
  ctx: BenchContext,
  c: TockCluster,
  o: { n: number; windowMs: number; windows: number },
): Promise<SchedulerWindow[]> {
  const every = 2000;
  const ids = await createMany(
    c.api.baseUrl,
    Array.from({ length: o.n }, (_, i) => ({ name: `sched-${i}`, handler: 'noop', schedule: { kind: 'interval', everyMs: every } })),
  );
  const tA = Date.now() + every;
  const tB = tA + o.windows * o.windowMs;
  // Read once, after the last window: a read of the growing history between windows would be store
  // work that the next window's schedulers share the machine with.
  await sleep(tB + 2000 - Date.now());
  await c.worker!.call('flush');
  const rows = await c.db.models.Execution.find({ trigger: 'schedule' }, { jobId: 1, scheduledFor: 1, driftMs: 1 }).lean<RecordRow[]>();
  const out: SchedulerWindow[] = [];
  for (let w = 0; w < o.windows; w++) {
    const r = judgeWindow(rows, ids, tA + w * o.windowMs, tA + (w + 1) * o.windowMs, every);
    ctx.log(
      `  schedulers: ${o.n} x every 2 s, window ${w + 1} of ${o.windows} (${o.windowMs / 1000} s): ${r.expected} slots expected, ` +
        `${r.missed} missed (${r.missedFirst10s} of them in the first 10 s), ${r.duplicates} duplicated, lateness p50 ${r.p50} ms, p99 ${r.p99} ms`,
    );
    out.push(r);
  }
  return out;
}

/** Every slot of every definition in [from, to) once: what is missing, duplicated, and how late. */
function judgeWindow(rows: RecordRow[], ids: string[], from: number, to: number, every: number): SchedulerWindow & { p50: number | null } {
  const byDef = new Map<string, number[]>(ids.map((id) => [id, []]));
  const drift: number[] = [];
  for (const r of rows) {
    const slot = r.scheduledFor?.getTime();
    if (slot === undefined || slot < from || slot >= to) continue;
    byDef.get(r.jobId.toHexString())?.push(slot);
    if (r.driftMs !== null) drift.push(r.driftMs);
  }
  let missed = 0;
  let duplicates = 0;
  let expected = 0;
  let missedFirst10s = 0;
  const slotsIn = (phase: number, a: number, b: number) => {
    const first = a + ((((phase - a) % every) + every) % every);
    return first < b ? Math.floor((b - 1 - first) / every) + 1 : 0;
  };
  for (const slots of byDef.values()) {
    const distinct = new Set(slots);
    duplicates += slots.length - distinct.size;
    const phase = slots.length > 0 ? slots[0]! % every : from % every;
    const count = slotsIn(phase, from, to);
    expected += count;
    missed += Math.max(0, count - distinct.size);
    const early = [...distinct].filter((t) => t < from + 10_000).length;
    missedFirst10s += Math.max(0, slotsIn(phase, from, Math.min(to, from + 10_000)) - early);
  }
  return { missed, missedFirst10s, duplicates, expected, p50: percentile(drift, 50), p99: percentile(drift, 99) };
}

export function timingFigures(late: Awaited<ReturnType<typeof measureLatenessRep>>[], sched: SchedulerWindow[]): Record<string, Figure> {
  return {
    latenessP99: figure(
      late.map((r) => r.p99),
      { createdLate: late.map((r) => r.createdLate), missing: late.map((r) => r.missing) },
    ),
    earlyStarts: figure(late.map((r) => r.early)),
    schedulerMissed: figure(
      sched.map((r) => r.missed),
      { expectedSlots: sched.map((r) => r.expected), missedInFirst10s: sched.map((r) => r.missedFirst10s) },
    ),
    schedulerDuplicates: figure(sched.map((r) => r.duplicates)),
    schedulerLatenessP99: figure(sched.map((r) => r.p99)),
  };
}
