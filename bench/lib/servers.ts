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

export interface BenchServers {
  redisUrl: string;
  /** mongodb://host:port (no database): each phase picks its own database name. */
  mongoBase: string;
  handler: 'postgresql' | 'sqlite';
  redisArgs: string;
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
  };
}
