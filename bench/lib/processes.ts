import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../src/embedded/local-servers';
import { withTimeout } from '../../src/lib/with-timeout';
import { onCleanup, trackChild } from './cleanup';
import { BENCH_ADMIN_KEY } from './http';

/** The keys a production-mode Tock needs (the benchmark's own; nothing real is sealed with them). */
export const BENCH_SECRETS = {
  TOCK_ADMIN_KEY: BENCH_ADMIN_KEY,
  TOCK_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
  // The keys it makes through the API must not be held back by their limits, only pay for them.
  RATE_LIMIT_PER_MINUTE: '10000000',
  QUOTA_JOBS_PER_KEY: '10000000',
  QUOTA_TRIGGERS_PER_MINUTE: '10000000',
};
import { sleep } from './stats';

const ROOT = path.resolve(__dirname, '../..');

/** BENCH_CPU_PROF=<dir>: the API and worker processes write V8 CPU profiles there (for investigating). */
function profileArgs(name: string): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(dir)}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`] : [];
}

function stopChild(child: ChildProcess, graceMs = 20_000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export interface WorkerStats {
  completed: number;
  written: number;
  pendingRecords: number;
  commands: { total: number; byName: Record<string, number> };
  reads: number;
  rss: number;
  heapUsed: number;
  external: number;
  lag: { count: number; p50: number | null; p99: number | null; max: number | null };
}

/** The worker process of bench/worker-child.ts (raw BullMQ or Tock), driven over IPC. */
export class BenchWorker {
  logTail = '';
  logLines = 0;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private readonly unregister: () => void;

  private constructor(
    readonly child: ChildProcess,
    readonly mode: 'bullmq' | 'tock',
  ) {
    child.on('message', (msg: { id?: number; result?: unknown; error?: string }) => {
      const w = msg.id === undefined ? undefined : this.waiting.get(msg.id);
      if (!w) return;
      this.waiting.delete(msg.id!);
      if (msg.error) w.reject(new Error(msg.error));
      else w.resolve(msg.result);
    });
    child.once('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`bench worker exited (${code})`));
      this.waiting.clear();
    });
    this.unregister = onCleanup(`${mode} worker`, () => stopChild(child));
  }

  static async start(mode: 'bullmq' | 'tock', env: Record<string, string>): Promise<BenchWorker> {
    const child = spawn(
      process.execPath,
      [...profileArgs('worker'), '--require', 'tsx/cjs', path.join(__dirname, '..', 'worker-child.ts')],
      {
        cwd: ROOT,
        env: { ...process.env, ...BENCH_SECRETS, ...env, BENCH_MODE: mode, WORKER_CONCURRENCY: '50', LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      },
    );
    trackChild(child);
    const w = new BenchWorker(child, mode);
    // Tock logs at warn level (e.g. occurrences passed over): keep a tail and a count, not the flood.
    const keep = (d: Buffer) => {
      const text = d.toString();
      w.logTail = (w.logTail + text).slice(-20_000);
      w.logLines += text.split('\n').filter(Boolean).length;
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const ready = new Promise<void>((resolve, reject) => {
      child.on('message', (m: { ready?: boolean }) => m.ready && resolve());
      child.once('exit', (code) => reject(new Error(`bench worker exited with ${code} before it was ready:\n${w.logTail}`)));
    });
    await withTimeout(ready, 30_000, 'the bench worker start');
    return w;
  }

  call<T>(cmd: string, arg: Record<string, number | boolean> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, cmd, arg });
    });
  }

  stats(reset = false): Promise<WorkerStats> {
    return this.call<WorkerStats>('stats', { reset });
  }

  get pid(): number {
    return this.child.pid!;
  }

  async stop(): Promise<void> {
    await Promise.race([this.call('close').catch(() => undefined), sleep(25_000)]);
    // It exits by itself once closed (writing its CPU profile when asked to); signal it only if not.
    await Promise.race([new Promise((r) => this.child.once('exit', r)), sleep(5000)]);
    await stopChild(this.child);
    this.unregister();
  }
}

export interface ApiProcess {
  baseUrl: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** The real API process: dist/bin/api.js (built by `npm run build`). */
export async function startApi(env: Record<string, string>): Promise<ApiProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...profileArgs('api'), path.join(ROOT, 'dist/bin/api.js')], {
    cwd: ROOT,
    env: { ...process.env, ...BENCH_SECRETS, NODE_ENV: 'production', LOG_LEVEL: 'warn', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const unregister = onCleanup('api', () => stopChild(child));
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`API exited (${child.exitCode}):\n${out}`);
    const ok = await fetch(`${baseUrl}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`API did not become ready:\n${out}`);
    await sleep(100);
  }
  return {
    baseUrl,
    child,
    output: () => out,
    stop: async () => {
      await stopChild(child);
      unregister();
    },
  };
}
