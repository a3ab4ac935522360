import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, isReachable } from '../../src/embedded/local-servers';
import { dedicatedRedis, type RestartableServer } from '../helpers/fault';
import { uniqueName } from '../helpers/services';
import { waitFor } from '../helpers/wait-for';

/**
 * `npm start`, `npm run start:api` and `npm run start:worker` as a process manager or an IDE runs
 * them: a signal to the npm process stops Tock and everything it started (the embedded FerretDB).
 */
const ROOT = path.resolve(__dirname, '../..');

interface NpmRun {
  npm: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function npmRun(script: string, env: Record<string, string>): NpmRun {
  // --ignore-scripts skips the build that prestart runs (npm test has built already), not the script.
  const npm = spawn('npm', ['run', script, '--ignore-scripts'], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'info', WORKER_METRICS_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  npm.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  npm.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
  return { npm, output: () => out, exited };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** The pid of the Tock process that logged `message` (pino's `pid` field). */
function pidOf(output: string, message: RegExp): number | undefined {
  const line = output.split('\n').find((l) => message.test(l));
  return line ? (JSON.parse(line) as { pid: number }).pid : undefined;
}

describe('starting and stopping through npm', () => {
  let redis: RestartableServer;
  let dataDir: string;
  beforeAll(async () => {
    // As the tests' own servers run: appendonly off, which the start-up log warns about.
    redis = await dedicatedRedis();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'tock-start-'));
  });
  afterAll(async () => {
    await redis?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('npm start: the log says where to go and what it connected to; SIGTERM to npm stops Tock and its embedded FerretDB', async () => {
    // The embedded FerretDB listens on MongoDB's default port.
    expect(await isReachable('127.0.0.1', 27017)).toBe(false);
    const port = await freePort();
    const run = npmRun('start', { REDIS_URL: redis.url, PORT: String(port), DATA_DIR: dataDir, QUEUE_PREFIX: uniqueName('start') });
    try {
      await waitFor('the API to listen', () => /API listening on/.test(run.output()), { timeoutMs: 60_000, intervalMs: 100 });
      const out = run.output();
      const base = `http://localhost:${port}`;
      expect(out).toContain(`the API at ${base}/api/v1, its docs at ${base}/docs, Bull Board at ${base}/admin/queues`);
      expect(out).toMatch(
        /Redis: redis:\/\/127\.0\.0\.1:\d+ \(from REDIS_URL\); MongoDB: mongodb:\/\/127\.0\.0\.1:27017\/tock \(embedded FerretDB/,
      );
      expect(out).toMatch(/Redis does not persist its data \(appendonly no\)/);
      expect(out).not.toMatch(/builds it/);
      const node = pidOf(out, /API listening on/)!;
      const ferret = childrenOf(node);
      expect(ferret.length).toBeGreaterThan(0);

      run.npm.kill('SIGTERM');
      await run.exited;
      await waitFor('Tock and FerretDB to exit', () => !alive(node) && ferret.every((pid) => !alive(pid)), { timeoutMs: 15_000 });
      expect(await isReachable('127.0.0.1', port)).toBe(false);
      expect(await isReachable('127.0.0.1', 27017)).toBe(false);
    } finally {
      run.npm.kill('SIGKILL');
    }
  });

  it.each([
    ['start:api', 'SIGINT', /API listening on/],
    ['start:worker', 'SIGTERM', /worker started/],
  ] as const)('npm run %s: %s to npm stops the process', async (script, signal, ready) => {
    const port = await freePort();
    const run = npmRun(script, {
      REDIS_URL: redis.url,
      MONGODB_URL: process.env.TOCK_TEST_MONGODB_URL!,
      PORT: String(port),
      QUEUE_PREFIX: uniqueName('start'),
    });
    try {
      await waitFor(`${script} to start`, () => ready.test(run.output()), { timeoutMs: 30_000, intervalMs: 100 });
      const node = pidOf(run.output(), ready)!;
      run.npm.kill(signal);
      await run.exited;
      await waitFor('the Node process to exit', () => !alive(node), { timeoutMs: 15_000 });
    } finally {
      run.npm.kill('SIGKILL');
    }
  });
});
