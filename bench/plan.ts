/** The benchmark's command line and the sizes of its phases (a full run, or `--quick`). */

/** The phases `--only` can name; the rest report null. */
export type Phase = 'store' | 'baseline' | 'run' | 'once' | 'create' | 'timing' | 'list' | 'metrics';

export interface BenchOptions {
  quick: boolean;
  /** `--only=store,baseline,run,once,create,timing,list,metrics` runs some phases (for investigating). */
  only: string[] | undefined;
  want(phase: Phase): boolean;
}

export function parseOptions(argv: string[]): BenchOptions {
  const only = argv
    .find((a) => a.startsWith('--only='))
    ?.slice(7)
    .split(',');
  return { quick: argv.includes('--quick'), only, want: (phase) => !only || only.includes(phase) };
}

export function benchPlan(quick: boolean) {
  return quick
    ? {
        reps: 3,
        slowReps: 1,
        singleReps: 1,
        listReps: 1,
        list: { definitions: 2000, records: 20_000 },
        drainJobs: 10_000,
        storeRecords: 10_000,
        stepMs: 3000,
        onceN: 1000,
        rssMs: 15_000,
        create: { pendingDefs: 1000, holdMs: 5000, stepMs: 2000, bulkRequests: 2 },
        lateness: { n: 600, spanMs: 6000, leadMs: 6000 },
        schedulers: { n: 1000, windowMs: 12_000 },
        rawSchedulers: { n: 1000, windowMs: 12_000 },
        listSamples: 12,
        statsSamples: 10,
      }
    : {
        reps: 3,
        slowReps: 3,
        singleReps: 1,
        listReps: 3,
        list: { definitions: 5000, records: 50_000 },
        drainJobs: 20_000,
        storeRecords: 20_000,
        stepMs: 10_000,
        onceN: 5000,
        rssMs: 300_000,
        create: { pendingDefs: 2000, holdMs: 20_000, stepMs: 2000, bulkRequests: 5 },
        lateness: { n: 2000, spanMs: 20_000, leadMs: 4000 },
        schedulers: { n: 1000, windowMs: 60_000 },
        rawSchedulers: { n: 1000, windowMs: 8000 },
        listSamples: 15,
        statsSamples: 40,
      };
}

export type BenchPlan = ReturnType<typeof benchPlan>;
