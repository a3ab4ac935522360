import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../src/embedded/local-servers';
import { waitFor } from './wait-for';

const DIST = path.resolve(__dirname, '../../dist/bin');

export interface TockProcess {
  name: string;
  child: ChildProcess;
  output(): string;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/** Spawns dist/bin/<kind>.js as a real OS process (npm test builds first). */
export function spawnTock(kind: 'api' | 'worker' | 'all', name: string, env: Record<string, string>): TockProcess {
  const child = spawn(process.execPath, [path.join(DIST, `${kind}.js`)], {
    // A free port for each worker's probe server: tests run many workers on one machine.
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'info', WORKER_METRICS_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-200_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return {
    name,
    child,
    output: () => out,
    kill: (signal) =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      }),
  };
}

/** The port a spawned worker's probe and metrics server bound (from its 'worker started' log line). */
export function metricsPortOf(worker: TockProcess): number {
  const line = worker
    .output()
    .split('\n')
    .find((l) => l.includes('"metricsPort"') && l.includes('worker started'));
  if (!line) throw new Error(`${worker.name} logged no metrics port: ${worker.output().slice(-2000)}`);
  return (JSON.parse(line) as { metricsPort: number }).metricsPort;
}

export interface Cluster {
  baseUrl: string;
  api: TockProcess;
  workers: TockProcess[];
  stop(): Promise<void>;
}

/** Spawns the API alone and waits until it is ready; returns it with its base URL. */
export async function spawnApi(env: Record<string, string>): Promise<{ api: TockProcess; baseUrl: string }> {
  const port = await freePort();
  const api = spawnTock('api', 'api', { ...env, PORT: String(port), HOST: '127.0.0.1' });
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitFor(
    'the API to be ready',
    async () => {
      if (api.child.exitCode !== null) throw new Error(`API exited: ${api.output()}`);
      return (await fetch(`${baseUrl}/health/ready`)).ok;
    },
    { timeoutMs: 20_000, intervalMs: 100 },
  );
  return { api, baseUrl };
}

/** Spawns worker processes named `${prefix}1..n` (their WORKER_ID) and waits until each has started. */
export async function spawnWorkers(env: Record<string, string>, n: number, prefix = 'w'): Promise<TockProcess[]> {
  const ws = Array.from({ length: n }, (_, i) => spawnTock('worker', `${prefix}${i + 1}`, { ...env, WORKER_ID: `${prefix}${i + 1}` }));
  await waitFor(
    'workers to start',
    () => {
      const dead = ws.find((w) => w.child.exitCode !== null);
      if (dead) throw new Error(`${dead.name} exited: ${dead.output()}`);
      return ws.every((w) => /worker started/.test(w.output()));
    },
    { timeoutMs: 20_000, intervalMs: 50 },
  );
  return ws;
}

/** The API and `workers` worker processes against the given services. */
export async function startCluster(env: Record<string, string>, workers = 3): Promise<Cluster> {
  const [{ api, baseUrl }, ws] = await Promise.all([spawnApi(env), spawnWorkers(env, workers)]);
  return { baseUrl, api, workers: ws, stop: () => stopAll([api, ...ws]) };
}

/** SIGTERM to each process (those that are gone already are passed over); resolves when all have exited. */
export async function stopAll(processes: (TockProcess | undefined)[]): Promise<void> {
  await Promise.all(processes.map((p) => p?.kill('SIGTERM')));
}
