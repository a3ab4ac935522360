import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  createPostgresDatabase,
  dropPostgresDatabase,
  ensureFerretDb,
  startFerretDb,
  startRedisServer,
} from '../../src/embedded/local-servers';
import { onCleanup, onForcedExit, trackChild } from './cleanup';
import { cpuSnapshot, TICKS_PER_S, type Role } from './cpu';
import { sleep } from './stats';

export interface BenchServers {
  redisUrl: string;
  /** mongodb://host:port (no database): each phase picks its own database name. */
  mongoBase: string;
  handler: 'postgresql' | 'sqlite';
  redisArgs: string;
  /** The FerretDB process, whose CPU (with PostgreSQL's) tells whether the store is still busy. */
  ferretPid: number;
  redisPid: number;
}

export function mongoUrl(servers: BenchServers, db: string): string {
  return `${servers.mongoBase}/${db}`;
}

/** Starts the benchmark's own redis-server and FerretDB (PostgreSQL handler on a fresh database). */
export async function startServers(log: (line: string) => void): Promise<BenchServers> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tock-bench-'));
  onCleanup('temp dir', async () => rmSync(dir, { recursive: true, force: true }));
  onForcedExit(() => rmSync(dir, { recursive: true, force: true }));

  const redis = await startRedisServer({ dir: path.join(dir, 'redis'), persist: false });
  trackChild(redis.process);
  onCleanup('redis-server', () => redis.stop());
  log(`redis-server ${redis.url} (hz 100, maxmemory-policy noeviction, hash-max-listpack-value 512, no persistence)`);

  await ensureFerretDb(log);
  const pgName = `tock_bench_${process.pid}_${Date.now()}`;
  const pgUrl = await createPostgresDatabase(pgName);
  if (pgUrl) {
    onCleanup('postgres database', () => dropPostgresDatabase(pgName));
    // FerretDB is SIGKILLed first on a forced exit, so the database can be dropped synchronously.
    onForcedExit(() =>
      execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-c', `drop database if exists "${pgName}" with (force)`], {
        stdio: 'ignore',
        timeout: 10_000,
      }),
    );
  } else log('PostgreSQL is not reachable on 127.0.0.1:5432: falling back to the SQLite handler (figures are not comparable)');
  const ferret = await startFerretDb({ dir: path.join(dir, 'ferretdb'), postgresUrl: pgUrl ?? undefined });
  trackChild(ferret.process);
  onCleanup('ferretdb', () => ferret.stop());
  const handler = pgUrl ? 'postgresql' : 'sqlite';
  log(`FerretDB 1.24.2 on 127.0.0.1:${ferret.port}, ${handler} handler${pgUrl ? ` (database ${pgName})` : ''}`);
  return {
    redisUrl: redis.url,
    mongoBase: `mongodb://127.0.0.1:${ferret.port}`,
    handler,
    redisArgs: '--hz 100 --maxmemory-policy noeviction --hash-max-listpack-value 512 --save "" --appendonly no',
    ferretPid: ferret.process.pid!,
    redisPid: redis.process.pid!,
  };
}

/**
 * After the RSS phase's ~300,000 inserts the store stays busy past 30 s with work that no phase
 * left in flight (PostgreSQL's own upkeep, most likely); waiting longer than this only lengthens the run.
 */
const SETTLE_MAX_MS = 10_000;

/** The store's processes: FerretDB and every PostgreSQL process. */
export function storeRoles(servers: BenchServers): Role[] {
  return [
    { name: 'ferretdb', pids: [servers.ferretPid] },
    { name: 'postgres', comm: 'postgres' },
  ];
}

/** CPU ticks (user + system) used so far by FerretDB and every PostgreSQL process. */
function storeTicks(servers: BenchServers): number {
  let ticks = 0;
  for (const t of cpuSnapshot(storeRoles(servers)).values()) ticks += t;
  return ticks;
}

/**
 * Waits until the store has been idle (FerretDB and PostgreSQL under a tenth of a core) for two
 * half-second windows, at most 10 s: a phase then does not inherit the store work the one before
 * it left running (a worker stopped during thousands of slow status updates leaves FerretDB
 * finishing the update in flight). Logs how long it waited when that was over a second.
 */
export async function settleStore(servers: BenchServers, log: (line: string) => void, before: string): Promise<void> {
  const t0 = Date.now();
  let quiet = 0;
  let last = storeTicks(servers);
  while (quiet < 2 && Date.now() - t0 < SETTLE_MAX_MS) {
    await sleep(500);
    const now = storeTicks(servers);
    quiet = now - last <= 0.1 * 0.5 * TICKS_PER_S ? quiet + 1 : 0;
    last = now;
  }
  const waited = Date.now() - t0;
  if (waited > 1500) log(`  (the store was busy for ${(waited / 1000).toFixed(1)} s before ${before}${quiet < 2 ? ', and still is' : ''})`);
}
