import { rmSync } from 'node:fs';
import { dropPostgresDatabase, type LocalServer } from '../../src/embedded/local-servers';

export default async function globalTeardown(): Promise<void> {
  const g = globalThis as { __TOCK_SERVERS__?: LocalServer[]; __TOCK_PG_DB__?: string; __TOCK_DIR__?: string };
  await Promise.all((g.__TOCK_SERVERS__ ?? []).map((s) => s.stop()));
  if (g.__TOCK_PG_DB__) await dropPostgresDatabase(g.__TOCK_PG_DB__);
  if (g.__TOCK_DIR__) rmSync(g.__TOCK_DIR__, { recursive: true, force: true });
}
