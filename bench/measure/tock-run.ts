import { readFileSync } from 'node:fs';
import type { JobDefinition } from '../../src/domain/job-definition';
import { JobQueue, runName } from '../../src/queue/job-queue';
import { runData } from '../../src/queue/run-data';
import { newRunId } from '../../src/services/job-service';
import { judge, TICK_BATCH } from './baseline';
import { figure, type BenchContext, type Figure } from '../lib/context';
import { cpuPerOp, cpuSnapshot, type Role } from '../lib/cpu';
import { storeRoles } from '../lib/servers';
import { paced, request } from '../lib/http';
import { sleep, until } from '../lib/stats';
import { createMany, noopJob, type TockCluster } from '../lib/tock';
import { cpuAtBest, quiesce, searchRate, type StepResult } from './sustained';

export interface TockRunFigures {
  drain: Figure;
  commandsPer1k: Figure;
  readsPerExecution: Figure;
  /** Runs created through POST /jobs/trigger, the runs due in each 5 ms tick in one request. */
  sustained: Figure;
  /** CPU per execution (µs, by process) at the highest rate each repetition held. */
  cpuAtSustained: (Record<string, number> | null)[];
  /** Runs created through POST /jobs/{id}/trigger, one request per run. */
  sustainedSingle: Figure;
  cpuAtSustainedSingle: (Record<string, number> | null)[];
  rssGrowthPct: Figure;
}

function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/**
 * (c) Tock with every attempt recorded: 20 no-op definitions created through the API; their runs are
 * pre-queued exactly as POST /jobs/{id}/trigger enqueues them (JobQueue.enqueueRun's id, data and
 * options), the worker drains them, and the drain ends when the last record is in the store.
 */
export async function measureTockRun(
  ctx: BenchContext,
  c: TockCluster,
  o: { drainReps: number; drainJobs: number; sustainedReps: number; singleReps: number; stepMs: number; firstRate: number; rssMs: number },
): Promise<TockRunFigures> {
  const worker = c.worker!;
  const ids = await createMany(
    c.api.baseUrl,
    Array.from({ length: 20 }, (_, i) => noopJob(`drain-${i}`, new Date(Date.now() + 86_400_000))),
  );
  const defs: JobDefinition[] = [];
  for (const id of ids) defs.push((await request(c.api.baseUrl, 'GET', `/api/v1/jobs/${id}`)).body as JobDefinition);
  const jobQueue = new JobQueue(c.redis, { prefix: c.prefix });

  // Warm the definition cache (one read per definition per worker), then measure.
  await worker.stats(true);
  for (const id of ids) await request(c.api.baseUrl, 'POST', `/api/v1/jobs/${id}/trigger`);
  await until(async () => (await worker.stats()).written >= ids.length, 10_000, 50);
  const cold = await worker.stats(true);
  ctx.log(`  warm-up: ${cold.reads} store reads for ${ids.length} first runs (one per definition)`);

  const drain: (number | null)[] = [];
  const per1k: (number | null)[] = [];
  const reads: (number | null)[] = [];
  const byName: Record<string, number>[] = [];
  for (let rep = 0; rep < o.drainReps; rep++) {
    await worker.call('pause');
    const perDef = Math.ceil(o.drainJobs / defs.length);
    for (let i = 0; i < o.drainJobs; i += 1000) {
      const n = Math.min(1000, o.drainJobs - i);
      await jobQueue.queue.addBulk(
        Array.from({ length: n }, (_, k) => {
          const def = defs[Math.floor((i + k) / perDef)]!;
          return {
            name: runName(def),
            data: runData(def, 'manual'),
            opts: { ...jobQueue.jobOptions(def), jobId: newRunId(def.id, 'm') },
          };
        }),
      );
    }
    const { ms } = await worker.call<{ ms: number | null }>('drain', { n: o.drainJobs });
    await sleep(1500); // the coalesced counter updates of this drain are flushed within 1 s
    const s = await worker.stats(true);
    drain.push(ms === null ? null : (o.drainJobs * 1000) / ms);
    per1k.push((s.commands.total * 1000) / o.drainJobs);
    reads.push(s.reads / o.drainJobs);
    byName.push(s.commands.byName);
    ctx.log(
      `  tock drain rep ${rep + 1}: ${ms === null ? 'timed out' : `${Math.round(drain[rep]!)} jobs/s`}, ` +
        `${s.commands.total} store commands ${JSON.stringify(s.commands.byName)}, ${s.reads} reads`,
    );
  }

  const answer = (r: { status: number; ms: number; body: unknown }) => ({
    ok: r.status === 202,
    ms: r.ms,
    error: r.status === 202 ? undefined : `HTTP ${r.status} ${JSON.stringify(r.body)?.slice(0, 200)}`,
  });
  const trigger = async (i: number) => answer(await request(c.api.baseUrl, 'POST', `/api/v1/jobs/${ids[i % ids.length]}/trigger`));
  // The runs due in a tick, round robin over the definitions, in one POST /jobs/trigger.
  const triggerMany = async (i: number, n: number) =>
    answer(
      await request(c.api.baseUrl, 'POST', '/api/v1/jobs/trigger', {
        jobIds: Array.from({ length: n }, (_, k) => ids[(i + k) % ids.length]!),
      }),
    );
  const roles: Role[] = [
    { name: 'loadgen', pids: [process.pid] },
    { name: 'api', pids: [c.api.child.pid!] },
    { name: 'worker', pids: [worker.child.pid!] },
    { name: 'redis', pids: [ctx.servers.redisPid] },
    ...storeRoles(ctx.servers),
  ];
  const step = async (rate: number, batch: number): Promise<StepResult> => {
    await quiesce(c.queue, async () => (await worker.stats()).pendingRecords === 0);
    await worker.stats(true);
    // The same bound on requests in flight as the baseline's sends; the API must also answer with p99 < 1 s.
    const before = cpuSnapshot(roles);
    const r = await paced(rate, o.stepMs, batch > 1 ? triggerMany : trigger, 2000, batch);
    const cpu = cpuPerOp(before, cpuSnapshot(roles), r.ok);
    const caughtUp = await until(
      async () => {
        const s = await worker.stats();
        return s.completed >= r.ok && s.written >= r.ok;
      },
      3000,
      50,
    );
    const s = await worker.stats(true);
    return {
      ...judge(rate, r, caughtUp, s.lag.p99, r.p99 !== null && r.p99 > 1000 ? `trigger p99 ${Math.round(r.p99)} ms` : undefined),
      cpu,
    };
  };
  // Start the search at 0.45 x this run's drain rate (or firstRate when the drain failed), after a
  // warm-up that is not judged: the API's keep-alive connections and its JIT for the trigger path
  // (the baseline's sender is warm from its drains; the API has served only a few requests so far).
  const first = Math.max(100, Math.round(0.45 * (figure(drain).median ?? 3 * o.firstRate)));
  await paced(first, 3000, triggerMany, 2000, TICK_BATCH);
  await until(async () => (await worker.stats()).written >= 1, 3000, 50);
  const sustained = await searchRate(ctx, 'tock sustained (POST /jobs/trigger per tick)', o.sustainedReps, first, (rate) =>
    step(rate, TICK_BATCH),
  );
  const sus = figure(sustained.values, { steps: sustained.steps, via: 'POST /api/v1/jobs/trigger, the runs due in each 5 ms tick' });
  // One request per run: from half the rate above, by 1.25.
  const firstSingle = Math.max(100, Math.round(0.5 * (sus.median ?? first)));
  await paced(firstSingle, 3000, trigger, 2000);
  const single = await searchRate(
    ctx,
    'tock sustained (POST /jobs/{id}/trigger per run)',
    o.singleReps,
    firstSingle,
    (rate) => step(rate, 1),
    1.25,
  );
  const sus1 = figure(single.values, { steps: single.steps, via: 'POST /api/v1/jobs/{id}/trigger, one request per run' });

  // Worker RSS under steady load at half the rate of one request per run, on a fresh worker process (the drains
  // and the rate search above leave a heap sized for their peaks); the first fifth of the window is
  // its warm-up. The heap in use is sampled too: its troughs (after each major GC) show whether live
  // data grows, where RSS also follows V8's lazily grown heap.
  const rate = Math.max(50, Math.round((sus1.median ?? 200) / 2));
  const fresh = await c.restartWorker();
  const samples: { t: number; rss: number; heapUsed: number }[] = [];
  const t0 = Date.now();
  const sampler = setInterval(() => {
    const rss = rssOf(fresh.pid);
    // stats(true) also drops the lag samples the worker keeps, so they do not count as growth.
    void fresh.stats(true).then((s) => samples.push({ t: Date.now() - t0, rss, heapUsed: s.heapUsed }));
  }, 2000);
  const load = await paced(rate, o.rssMs, trigger, 2000).finally(() => clearInterval(sampler));
  // The first fifth is the warm-up. The rest is split into halves of two minutes and the lowest RSS
  // of each compared: the RSS a major GC leaves, which a leak (live heap or native memory) raises
  // and V8's heap sizing does not. RSS saw-tooths with the heap (a major GC every 40-60 s at this
  // load, the old space between about 30 and 120 MB), and one late major GC with V8's lazy return
  // of the freed pages moved the halves' means by +10 % while the floor moved +0.8 % and the live
  // heap after GC 30.8 -> 31.1 MB. The means and the one-minute fifths' medians stay in the details.
  const warm = Math.max(1, Math.floor(samples.length / 5));
  const half = Math.floor((samples.length - warm) / 2);
  const firstHalf = samples.slice(warm, warm + half);
  const secondHalf = samples.slice(warm + half);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const early = mean(firstHalf.map((s) => s.rss));
  const late = mean(secondHalf.map((s) => s.rss));
  const meanGrowth = ((late - early) / early) * 100;
  const floorEarly = Math.min(...firstHalf.map((s) => s.rss));
  const floorLate = Math.min(...secondHalf.map((s) => s.rss));
  const growth = ((floorLate - floorEarly) / floorEarly) * 100;
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const fifthsGrowth = (med(samples.slice(-warm).map((s) => s.rss)) / med(samples.slice(warm, 2 * warm).map((s) => s.rss)) - 1) * 100;
  const trough = (xs: number[]) => Math.min(...xs);
  const heapEarly = trough(firstHalf.map((s) => s.heapUsed));
  const heapLate = trough(secondHalf.map((s) => s.heapUsed));
  ctx.log(
    `  worker RSS at ${rate}/s for ${o.rssMs / 1000} s (${load.errors} errors${load.firstError ? `, the first: ${load.firstError}` : ''}): lowest ${(floorEarly / 2 ** 20).toFixed(1)} MB -> ` +
      `${(floorLate / 2 ** 20).toFixed(1)} MB (${growth.toFixed(1)}%; means ${(early / 2 ** 20).toFixed(1)} -> ${(late / 2 ** 20).toFixed(1)} MB, ${meanGrowth.toFixed(1)}%; medians of the second and last fifths ${fifthsGrowth.toFixed(1)}%); heap in use after GC ${(heapEarly / 2 ** 20).toFixed(1)} MB -> ` +
      `${(heapLate / 2 ** 20).toFixed(1)} MB`,
  );

  return {
    drain: figure(drain, { jobs: o.drainJobs, definitions: defs.length }),
    commandsPer1k: figure(per1k, { byName }),
    readsPerExecution: figure(reads, { coldReadsForFirstRuns: cold.reads }),
    sustained: sus,
    cpuAtSustained: cpuAtBest(sustained.steps),
    sustainedSingle: sus1,
    cpuAtSustainedSingle: cpuAtBest(single.steps),
    rssGrowthPct: figure([growth], {
      rate,
      seconds: o.rssMs / 1000,
      lowestRssMb: { early: Math.round((floorEarly / 2 ** 20) * 10) / 10, late: Math.round((floorLate / 2 ** 20) * 10) / 10 },
      meanRssMb: { early: Math.round((early / 2 ** 20) * 10) / 10, late: Math.round((late / 2 ** 20) * 10) / 10 },
      meanGrowthPct: Math.round(meanGrowth * 10) / 10,
      fifthsMedianGrowthPct: Math.round(fifthsGrowth * 10) / 10,
      rssMb: samples.map((s) => Math.round((s.rss / 2 ** 20) * 10) / 10),
      heapUsedMb: samples.map((s) => Math.round((s.heapUsed / 2 ** 20) * 10) / 10),
      heapTroughMb: { early: Math.round(heapEarly / 2 ** 20), late: Math.round(heapLate / 2 ** 20) },
    }),
  };
}
