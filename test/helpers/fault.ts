import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {
  createPostgresDatabase,
  dropPostgresDatabase,
  freePort,
  startFerretDb,
  startRedisServer,
  type LocalServer,
} from '../../src/embedded/local-servers';
import type { Queue } from 'bullmq';
import { mapLimited } from '../../src/lib/pool';
import type { Database } from '../../src/persistence/mongo';
import type { ExecutionDoc } from '../../src/persistence/models';
import { http } from './http';
import { stopAll, type TockProcess } from './processes';
import { cleanup, newTestContext, openDatabase, openQueue, type TestContext } from './services';

/**
 * Plumbing for the fault suite (test/fault): servers a test may stop and restart on the same port,
 * an HTTP sink, job creation in bulk, percentiles. The spawned API and worker processes are in
 * processes.ts.
 */

/** Prints one figure on its own line so that a run's figures can be grepped: `FIGURE name: value`. */
export function figure(name: string, value: unknown): void {
  process.stdout.write(`FIGURE ${name}: ${typeof value === 'string' ? value : JSON.stringify(value)}\n`);
}

/** A server started for one test file, which the test may stop and start again on the same port. */
export interface RestartableServer {
  url: string;
  port: number;
  readonly running: boolean;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it for good and removes its files (and PostgreSQL database). */
  destroy(): Promise<void>;
}

function restartable(url: string, port: number, launch: () => Promise<LocalServer>, remove: () => Promise<void>) {
  return async (): Promise<RestartableServer> => {
    let current: LocalServer | undefined = await launch();
    return {
      url,
      port,
      get running() {
        return current !== undefined;
      },
      async stop() {
        await current?.stop();
        current = undefined;
      },
      async start() {
        if (!current) current = await launch();
      },
      async destroy() {
        await current?.stop();
        current = undefined;
        await remove();
      },
    };
  };
}

/** A redis-server of this test's own (noeviction, hz 100), in a temporary directory. */
export async function dedicatedRedis(extraArgs: string[] = []): Promise<RestartableServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tock-fault-redis-'));
  const port = await freePort();
  return restartable(
    `redis://127.0.0.1:${port}`,
    port,
    () => startRedisServer({ port, dir, extraArgs }),
    async () => rmSync(dir, { recursive: true, force: true }),
  )();
}

/**
 * A FerretDB of this test's own, on its own PostgreSQL database (SQLite when PostgreSQL is not
 * there). `url` names the database `tock`.
 */
export async function dedicatedFerret(): Promise<RestartableServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tock-fault-ferret-'));
  const pgName = `tock_fault_${process.pid}_${Date.now()}`;
  const postgresUrl = (await createPostgresDatabase(pgName)) ?? undefined;
  const port = await freePort();
  return restartable(
    `mongodb://127.0.0.1:${port}/tock`,
    port,
    () => startFerretDb({ port, dir, postgresUrl }),
    async () => {
      if (postgresUrl) await dropPostgresDatabase(pgName);
      rmSync(dir, { recursive: true, force: true });
    },
  )();
}

/** The environment every spawned Tock process of a fault test gets. */
export function tockEnv(urls: { redisUrl: string; mongoUrl: string; prefix: string }, extra: Record<string, string> = {}) {
  return { REDIS_URL: urls.redisUrl, MONGODB_URL: urls.mongoUrl, QUEUE_PREFIX: urls.prefix, ...extra };
}

/**
 * Creates definitions; returns their ids in order. Uses POST /api/v1/jobs/batch (chunks of 500)
 * when the API has it, else POST /api/v1/jobs with `concurrency` requests at a time.
 */
export async function createJobs(baseUrl: string, bodies: readonly unknown[], concurrency = 16): Promise<string[]> {
  if (bodies.length > 1) {
    const chunks = Array.from({ length: Math.ceil(bodies.length / 500) }, (_, i) => bodies.slice(i * 500, i * 500 + 500));
    const first = await http(baseUrl, 'POST', '/api/v1/jobs/batch', { jobs: chunks[0] });
    if (first.status !== 404 && first.status !== 405) {
      const answers = [first, ...(await mapLimited(chunks.slice(1), 2, (jobs) => http(baseUrl, 'POST', '/api/v1/jobs/batch', { jobs })))];
      return answers.flatMap((a) => {
        if (a.status !== 201) throw new Error(`POST /api/v1/jobs/batch answered ${a.status}: ${JSON.stringify(a.body).slice(0, 2000)}`);
        return (a.body as { results: { job: { id: string } }[] }).results.map((r) => r.job.id);
      });
    }
  }
  return mapLimited(bodies, concurrency, async (body) => {
    const res = await http(baseUrl, 'POST', '/api/v1/jobs', body);
    if (res.status !== 201) throw new Error(`POST /api/v1/jobs answered ${res.status}: ${JSON.stringify(res.body)}`);
    return (res.body as { id: string }).id;
  });
}

/** Every execution record of the database (optionally filtered), oldest attempt first per run. */
export async function executionRecords(db: Database, filter: Record<string, unknown> = {}): Promise<ExecutionDoc[]> {
  return db.models.Execution.find(filter).sort({ runId: 1, attempt: 1 }).lean<ExecutionDoc[]>();
}

export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k);
    if (list) list.push(item);
    else map.set(k, [item]);
  }
  return map;
}

/** Nearest-rank percentile (p in 0..100) of `values`; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** Resident memory of a process in MB, from /proc/<pid>/status (Linux). */
export function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) / 1024;
}

export interface SinkHit {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  at: number;
  body: string;
}

/**
 * A local HTTP server for webhooks to call. Records every request; `respond` decides the answer
 * (default 200 "ok"). Workers need HTTP_ALLOW_PRIVATE_NETWORKS=true to reach it.
 */
export interface Sink {
  url: string;
  hits: SinkHit[];
  server: Server;
  close(): Promise<void>;
}

export async function startSink(respond?: (req: IncomingMessage, res: ServerResponse, hit: SinkHit) => void): Promise<Sink> {
  const hits: SinkHit[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const hit: SinkHit = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        at: Date.now(),
        body: Buffer.concat(chunks).toString(),
      };
      hits.push(hit);
      if (respond) respond(req, res, hit);
      else res.end('ok');
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface FaultContext {
  ctx: TestContext;
  db: Database;
  /** A BullMQ queue on the test's prefix, for looking at jobs from the test. */
  queue: Queue;
  /** Processes the test started; all are sent SIGTERM after the test file. */
  procs: TockProcess[];
}

/**
 * Registers beforeAll/afterAll for a fault test: a fresh database and queue prefix on the test
 * servers, a queue to look at, and cleanup of the processes the test pushes into `procs`. The
 * returned object is filled in before the first test runs.
 */
export function useFaultContext(): FaultContext {
  const f = { procs: [] as TockProcess[] } as FaultContext;
  let closeQueue: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    f.ctx = newTestContext();
    f.db = await openDatabase(f.ctx);
    ({ queue: f.queue, close: closeQueue } = openQueue(f.ctx));
  });
  afterAll(async () => {
    await stopAll(f.procs);
    await closeQueue?.();
    if (f.ctx) await cleanup(f.ctx, f.db);
  });
  return f;
}
