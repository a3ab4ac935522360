/**
 * One worker process at concurrency 50, controlled by the benchmark over IPC. BENCH_MODE=bullmq runs
 * a raw BullMQ Worker with a no-op processor (no Tock code); BENCH_MODE=tock runs Tock's own
 * startWorker from dist/ (the code dist/bin/worker.js runs) on a mongoose connection opened with the same
 * options as connectDatabase plus `monitorCommands: true`, so every store command it sends is counted.
 */
import { Worker, type Job } from 'bullmq';
import mongoose from 'mongoose';
import path from 'node:path';
import type { Database } from '../src/persistence/mongo';
import type { WorkerRuntime } from '../src/bin/container';
import { percentile, sleep } from './lib/stats';

/** Tock's modules as built (the code dist/bin/worker.js runs), typed by their sources. */
const DIST = path.resolve(__dirname, '../dist');
const fromDist = async <T>(module: string): Promise<T> => {
  const m = (await import(path.join(DIST, module))) as { default?: T } & T;
  return m.default ?? m;
};
const QUEUE_NAME = 'jobs';

const READS = new Set(['find', 'aggregate', 'count', 'distinct', 'getMore']);
const mode = process.env.BENCH_MODE === 'tock' ? 'tock' : 'bullmq';
const redisUrl = process.env.REDIS_URL!;
const prefix = process.env.QUEUE_PREFIX!;
const concurrency = Number(process.env.WORKER_CONCURRENCY ?? 50);

let completed = 0;
let lags: number[] = [];
/**
 * Job Scheduler runs (raw mode): [slot, start - slot], the slot from the `repeat:<id>:<slot>` job id
 * and the start taken when the processor is called, as Tock's record takes its startedAt.
 */
let slotDrifts: [number, number][] = [];
let commands: Record<string, number> = {};
let reads = 0;
let writtenBase = 0;
let runtime: WorkerRuntime | undefined;
let worker: Worker;

function onCompleted(job: Job): void {
  completed++;
  if (job.processedOn && job.timestamp && !job.opts.delay) lags.push(job.processedOn - job.timestamp);
}

/** The raw processor: no work, except noting when a Job Scheduler run starts. */
async function rawProcessor(job: Job): Promise<undefined> {
  if (job.id?.startsWith('repeat:')) {
    const slot = Number(job.id.slice(job.id.lastIndexOf(':') + 1));
    slotDrifts.push([slot, Date.now() - slot]);
  }
  return undefined;
}

/** Lateness of the scheduler runs whose slot is in [from, to): how many, p50, p99. */
function schedulerDrift(from: number, to: number) {
  const drift = slotDrifts.filter(([slot]) => slot >= from && slot < to).map(([, d]) => d);
  slotDrifts = [];
  return { runs: drift.length, p50: percentile(drift, 50), p99: percentile(drift, 99) };
}

async function openMonitoredDatabase(url: string): Promise<Database> {
  const { createModels } = await fromDist<typeof import('../src/persistence/models')>('persistence/models.js');
  const conn = mongoose.createConnection(url, {
    serverSelectionTimeoutMS: 2000,
    connectTimeoutMS: 2000,
    socketTimeoutMS: 30_000,
    maxPoolSize: 20,
    autoIndex: false,
    autoCreate: false,
    bufferCommands: false,
    monitorCommands: true,
  });
  await conn.asPromise();
  conn.getClient().on('commandStarted', (ev) => {
    commands[ev.commandName] = (commands[ev.commandName] ?? 0) + 1;
    if (READS.has(ev.commandName)) reads++;
  });
  return {
    conn,
    models: createModels(conn),
    ping: async () => void (await conn.db!.admin().command({ ping: 1 })),
    close: () => conn.close(),
  };
}

async function start(): Promise<void> {
  if (mode === 'tock') {
    const { loadConfig } = await fromDist<typeof import('../src/config/env')>('config/env.js');
    const { HandlerRegistry, builtinHandlers } = await fromDist<typeof import('../src/handlers/registry')>('handlers/registry.js');
    const { createLogger } = await fromDist<typeof import('../src/observability/logger')>('observability/logger.js');
    const { startWorker } = await fromDist<typeof import('../src/bin/container')>('bin/container.js');
    const { Sealer, sealingKey } = await fromDist<typeof import('../src/lib/sealing')>('lib/sealing.js');
    const { TockMetrics } = await fromDist<typeof import('../src/observability/metrics')>('observability/metrics.js');
    const cfg = loadConfig({
      REDIS_URL: redisUrl,
      MONGODB_URL: process.env.MONGODB_URL,
      QUEUE_PREFIX: prefix,
      WORKER_CONCURRENCY: String(concurrency),
      LOG_LEVEL: 'warn',
      WORKER_ID: 'bench-worker',
      NODE_ENV: 'production',
      TOCK_ENCRYPTION_KEY: process.env.TOCK_ENCRYPTION_KEY,
      METRICS_ENABLED: process.env.METRICS_ENABLED,
      WORKER_METRICS_PORT: '0',
    });
    const db = await openMonitoredDatabase(cfg.MONGODB_URL!);
    runtime = await startWorker(cfg, {
      redisUrl,
      db,
      registry: new HandlerRegistry(builtinHandlers({ allowPrivateNetworks: cfg.HTTP_ALLOW_PRIVATE_NETWORKS })),
      sealer: new Sealer(sealingKey(cfg.TOCK_ENCRYPTION_KEY!)),
      logger: createLogger('warn'),
      // As dist/bin/worker.js runs it: metrics (METRICS_ENABLED) and the probe server.
      metrics: cfg.METRICS_ENABLED ? new TockMetrics({ labels: { service: 'tock-worker' } }) : undefined,
      probe: cfg.METRICS_ENABLED,
    });
    worker = runtime.worker as unknown as Worker;
    const close = runtime.close;
    runtime.close = async () => {
      await close();
      await db.close();
    };
  } else {
    const { createRedis } = await fromDist<typeof import('../src/queue/redis')>('queue/redis.js');
    worker = new Worker(QUEUE_NAME, rawProcessor, {
      connection: createRedis(redisUrl, 'worker'),
      prefix,
      concurrency,
      removeOnComplete: { count: 0 },
      removeOnFail: { count: 1000 },
      settings: { backoffStrategy: () => 1000 },
    });
    worker.on('error', () => undefined);
    await worker.waitUntilReady();
  }
  worker.on('completed', onCompleted);
}

function written(): number {
  return (runtime?.history.written ?? 0) - writtenBase;
}

function stats(reset: boolean) {
  const total = Object.values(commands).reduce((a, b) => a + b, 0);
  const out = {
    completed,
    written: written(),
    pendingRecords: runtime?.history.pending ?? 0,
    commands: { total, byName: { ...commands } },
    reads,
    rss: process.memoryUsage().rss,
    heapUsed: process.memoryUsage().heapUsed,
    external: process.memoryUsage().external,
    lag: { count: lags.length, p50: percentile(lags, 50), p99: percentile(lags, 99), max: percentile(lags, 100) },
  };
  if (reset) {
    completed = 0;
    lags = [];
    commands = {};
    reads = 0;
    writtenBase = runtime?.history.written ?? 0;
  }
  return out;
}

/** Resumes the paused worker and times how long `n` jobs take to run (and, for Tock, to be recorded). */
async function drain(n: number, timeoutMs: number): Promise<{ ms: number | null }> {
  stats(true);
  const t0 = performance.now();
  await worker.resume();
  const deadline = Date.now() + timeoutMs;
  while (completed < n || (runtime && written() < n)) {
    if (Date.now() > deadline) return { ms: null };
    await sleep(2);
  }
  return { ms: performance.now() - t0 };
}

const commandsByName: Record<string, (arg: Record<string, number | boolean>) => Promise<unknown>> = {
  stats: async (a) => stats(Boolean(a.reset)),
  pause: async () => worker.pause(),
  resume: async () => worker.resume(),
  drain: async (a) => drain(Number(a.n), Number(a.timeoutMs ?? 120_000)),
  flush: async () => runtime?.history.flush(),
  schedulerDrift: async (a) => schedulerDrift(Number(a.from), Number(a.to)),
  close: async () => {
    if (runtime) await runtime.close();
    else await worker.close();
    setTimeout(() => process.exit(0), 50);
  },
};

process.on('message', (msg: { id: number; cmd: string; arg?: Record<string, number | boolean> }) => {
  const fn = commandsByName[msg.cmd];
  if (!fn) return process.send!({ id: msg.id, error: `unknown command ${msg.cmd}` });
  fn(msg.arg ?? {}).then(
    (result) => process.send!({ id: msg.id, result: result ?? null }),
    (err: unknown) => process.send!({ id: msg.id, error: String((err as Error)?.stack ?? err) }),
  );
});
process.on('disconnect', () => process.exit(0));

start().then(
  () => process.send!({ ready: true }),
  (err: unknown) => {
    process.stderr.write(`bench worker (${mode}) failed to start: ${(err as Error).stack}\n`);
    process.exit(1);
  },
);
