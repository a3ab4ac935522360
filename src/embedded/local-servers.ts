import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * Local redis-server and FerretDB processes: the embedded default for a single machine, and what
 * the tests and benchmarks start on free ports.
 */
export interface LocalServer {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

export const INSTALL_FERRETDB_SCRIPT = path.resolve(__dirname, '../../scripts/install-ferretdb.sh');

export function isReachable(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} before listening on ${port}`);
    if (await isReachable('127.0.0.1', port, 200)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not listen on ${port} within ${timeoutMs} ms`);
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
}

export interface RedisServerOptions {
  port?: number;
  dir: string;
  /** Append-only file on (the embedded default keeps schedules across restarts); off for tests. */
  persist?: boolean;
  extraArgs?: string[];
}

/** Starts redis-server with the settings Tock recommends (noeviction, hz 100, hash-max-listpack-value 512). */
export async function startRedisServer(opts: RedisServerOptions): Promise<LocalServer> {
  const port = opts.port ?? (await freePort());
  mkdirSync(opts.dir, { recursive: true });
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    path.resolve(opts.dir),
    '--save',
    '',
    '--appendonly',
    opts.persist ? 'yes' : 'no',
    '--maxmemory-policy',
    'noeviction',
    '--hz',
    '100',
    '--hash-max-listpack-value',
    '512',
    '--protected-mode',
    'no',
    ...(opts.extraArgs ?? []),
  ];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const failed = new Promise<never>((_, reject) =>
    child.once('error', (err) => reject(new Error(`could not start redis-server (is it installed?): ${err.message}`))),
  );
  await Promise.race([waitForPort(port, child, 'redis-server', 10_000), failed]);
  return { url: `redis://127.0.0.1:${port}`, port, process: child, stop: stopper(child) };
}

/** Builds FerretDB into the cache on first use (2-5 minutes), then returns the binary's path. */
export async function ensureFerretDb(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<string> {
  if (process.env.FERRETDB_BIN) return process.env.FERRETDB_BIN;
  const child = spawn('bash', [INSTALL_FERRETDB_SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => d.toString().split('\n').filter(Boolean).forEach(log));
  const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
  if (code !== 0) throw new Error(`building FerretDB failed (exit ${code}); see the lines above`);
  return out.trim().split('\n').pop()!;
}

export interface FerretOptions {
  port?: number;
  dir: string;
  /** postgresql://... to use the PostgreSQL handler; otherwise SQLite under dir. */
  postgresUrl?: string;
  database?: string;
  /** Where the build's progress goes when FerretDB is built first (stderr by default). */
  log?: (line: string) => void;
}

export async function startFerretDb(opts: FerretOptions): Promise<LocalServer> {
  const bin = await ensureFerretDb(opts.log);
  const port = opts.port ?? (await freePort());
  const dir = path.resolve(opts.dir);
  mkdirSync(dir, { recursive: true });
  const handler = opts.postgresUrl
    ? ['--handler=postgresql', `--postgresql-url=${opts.postgresUrl}`]
    : ['--handler=sqlite', `--sqlite-url=file:${dir}/`];
  const args = [
    '--telemetry=disable',
    '--debug-addr=-',
    `--listen-addr=127.0.0.1:${port}`,
    `--state-dir=${dir}`,
    '--log-level=error',
    ...handler,
  ];
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  try {
    await waitForPort(port, child, 'FerretDB', 30_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${stderr}`, { cause: err });
  }
  const db = opts.database ?? 'tock';
  return { url: `mongodb://127.0.0.1:${port}/${db}`, port, process: child, stop: stopper(child) };
}

const execFileP = promisify(execFile);

/** Creates a fresh PostgreSQL database for a FerretDB instance; null when PostgreSQL is not reachable. */
export async function createPostgresDatabase(name: string, host = '127.0.0.1', port = 5432): Promise<string | null> {
  if (!(await isReachable(host, port, 300))) return null;
  try {
    await execFileP('psql', ['-h', host, '-p', String(port), '-U', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', `create database "${name}"`]);
    return `postgres://postgres@${host}:${port}/${name}`;
  } catch {
    return null;
  }
}

export async function dropPostgresDatabase(name: string, host = '127.0.0.1', port = 5432): Promise<void> {
  await execFileP('psql', ['-h', host, '-p', String(port), '-U', 'postgres', '-c', `drop database if exists "${name}" with (force)`]).catch(
    () => undefined,
  );
}
