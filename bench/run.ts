/**
 * `npm run bench [-- --quick]`: Tock beside raw BullMQ and beside its own store, in one run, on its
 * own redis-server and FerretDB (PostgreSQL handler). Prints every figure of issue 6 with its bar
 * and ratio and writes bench/results.json. BENCHMARKS.md explains each figure.
 */
import { ensureBuilt } from './lib/build';
import { cleanupAll, installSignalHandlers } from './lib/cleanup';
import type { BenchContext } from './lib/context';
import { startServers } from './lib/servers';
import { baselinePhase, createPhase, listPhase, metricsPhase, oncePhase, storePhase, timingPhase, tockRunPhase } from './phases';
import { benchPlan, parseOptions } from './plan';
import { report } from './results';

const options = parseOptions(process.argv);
const { quick, only, want } = options;
const plan = benchPlan(quick);

const started = Date.now();
const notes: string[] = [];
const note = (line: string) => void notes.push(line);
const log = (line: string) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}\n`);

async function main(): Promise<void> {
  installSignalHandlers();
  if (only) note(`only the phases ${only.join(', ')} ran (--only): the other figures are null`);
  log(`Tock benchmark${quick ? ' --quick: FEWER REPETITIONS AND SHORTER WINDOWS (a smoke run; use the full run for figures)' : ''}`);
  ensureBuilt(log, note);
  const servers = await startServers(log);
  const ctx: BenchContext = { servers, quick, log, note };

  const store = await storePhase(ctx, plan, want('store'));
  const baseline = await baselinePhase(ctx, plan, want('baseline'));
  const tock = await tockRunPhase(ctx, plan, want('run'));
  const once = await oncePhase(ctx, plan, want('once'));
  const create = await createPhase(ctx, plan, want('create'));
  const { timing, rawSchedulerP99 } = await timingPhase(ctx, plan, want('timing'));
  const list = await listPhase(ctx, plan, want('list'));
  const metrics = await metricsPhase(ctx, plan, want('metrics'));

  await report(
    plan,
    { store, baseline, tock, once, create, timing, rawSchedulerP99, list, metrics },
    { options, started, servers, notes, log },
  );
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`benchmark failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanupAll().then(() => process.exit()));
