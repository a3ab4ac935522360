import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  createPostgresDatabase,
  ensureFerretDb,
  startFerretDb,
  startRedisServer,
  type LocalServer,
} from '../../src/embedded/local-servers';
import { TEST_ADMIN_KEY, TEST_ENCRYPTION_KEY } from './keys';

/**
 * Starts one redis-server and one FerretDB for the whole run, on free ports in a temporary
 * directory (or uses TEST_REDIS_URL / TEST_MONGODB_URL). Each test file then takes its own queue
 * prefix and database, so files cannot see each other. FerretDB uses the PostgreSQL handler when
 * PostgreSQL answers on 127.0.0.1:5432 (faster and sturdier), else SQLite.
 */
export default async function globalSetup(): Promise<void> {
  // Every Tock process the tests spawn inherits these (nothing is generated in the checkout).
  process.env.TOCK_ADMIN_KEY ??= TEST_ADMIN_KEY;
  process.env.TOCK_ENCRYPTION_KEY ??= TEST_ENCRYPTION_KEY;
  if (process.env.TOCK_TEST_NO_SERVERS === '1') return;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tock-test-'));
  const started: LocalServer[] = [];
  let redisUrl = process.env.TEST_REDIS_URL;
  let mongoUrl = process.env.TEST_MONGODB_URL;
  let pgDatabase: string | undefined;
  if (!redisUrl) {
    const redis = await startRedisServer({ dir: path.join(dir, 'redis') });
    started.push(redis);
    redisUrl = redis.url;
  }
  if (!mongoUrl) {
    await ensureFerretDb((line) => process.stderr.write(`${line}\n`));
    pgDatabase = `tock_test_${process.pid}_${Date.now()}`;
    const postgresUrl = (await createPostgresDatabase(pgDatabase)) ?? undefined;
    if (!postgresUrl) pgDatabase = undefined;
    const ferret = await startFerretDb({ dir: path.join(dir, 'ferretdb'), postgresUrl });
    started.push(ferret);
    mongoUrl = ferret.url;
    process.stderr.write(`\ntest servers: redis ${redisUrl}, FerretDB ${mongoUrl} (${postgresUrl ? 'PostgreSQL' : 'SQLite'} handler)\n`);
  }
  process.env.TOCK_TEST_REDIS_URL = redisUrl;
  process.env.TOCK_TEST_MONGODB_URL = mongoUrl;
  const state = { dir, pids: started.map((s) => s.process.pid), pgDatabase };
  writeFileSync(path.join(os.tmpdir(), `tock-test-state-${process.pid}.json`), JSON.stringify(state));
  (globalThis as { __TOCK_SERVERS__?: LocalServer[] }).__TOCK_SERVERS__ = started;
  (globalThis as { __TOCK_PG_DB__?: string }).__TOCK_PG_DB__ = pgDatabase;
  (globalThis as { __TOCK_DIR__?: string }).__TOCK_DIR__ = dir;
}
