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
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'info', ...env },
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

export interface Cluster {
  baseUrl: string;
  api: TockProcess;
  workers: TockProcess[];
  stop(): Promise<void>;
}

/** The API and `workers` worker processes against the given services. */
export async function startCluster(env: Record<string, string>, workers = 3): Promise<Cluster> {
  const port = await freePort();
  const api = spawnTock('api', 'api', { ...env, PORT: String(port), HOST: '127.0.0.1' });
  const ws = Array.from({ length: workers }, (_, i) => spawnTock('worker', `w${i + 1}`, { ...env, WORKER_ID: `w${i + 1}` }));
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitFor(
    'the API to be ready',
    async () => {
      if (api.child.exitCode !== null) throw new Error(`API exited: ${api.output()}`);
      return (await fetch(`${baseUrl}/health/ready`)).ok;
    },
    { timeoutMs: 20_000, intervalMs: 100 },
  );
  await waitFor('workers to start', () => ws.every((w) => /worker started/.test(w.output())), { timeoutMs: 20_000 });
  return {
    baseUrl,
    api,
    workers: ws,
    async stop() {
      await Promise.all([api, ...ws].map((p) => p.kill('SIGTERM')));
    },
  };
}

export async function http<T = any>(baseUrl: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
