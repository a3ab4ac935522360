import path from 'node:path';
import type { Config } from '../config/env';
import { isReachable, startFerretDb, startRedisServer, type LocalServer } from '../embedded/local-servers';
import type { Logger } from '../observability/logger';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_MONGODB_URL = 'mongodb://127.0.0.1:27017/tock';

export interface ResolvedServers {
  redisUrl: string;
  mongoUrl: string;
  /** Where each came from, for the start-up log: the variable, the default address, or started here. */
  redisOrigin: string;
  mongoOrigin: string;
  /** Stops the local servers this process started (none when URLs were given). */
  stop(): Promise<void>;
}

function hostPort(url: string, defaultPort: number): [string, number] {
  const u = new URL(url);
  return [u.hostname || '127.0.0.1', Number(u.port || defaultPort)];
}

/**
 * The embedded default: where REDIS_URL / MONGODB_URL are unset and nothing answers at the default
 * address, start a local redis-server and FerretDB (SQLite) with data under DATA_DIR, and stop
 * them on exit. Never in production: there a missing service is an error naming the URL.
 */
export async function resolveServers(cfg: Config, logger: Logger): Promise<ResolvedServers> {
  const started: LocalServer[] = [];
  const resolve = async (
    given: string | undefined,
    fallback: string,
    defaultPort: number,
    variable: string,
    start: () => Promise<LocalServer>,
  ): Promise<[url: string, origin: string]> => {
    if (given) return [given, `from ${variable}`];
    const [host, port] = hostPort(fallback, defaultPort);
    if (await isReachable(host, port)) return [fallback, `found at the default address (${variable} is not set)`];
    if (cfg.NODE_ENV === 'production') {
      throw new Error(`${variable} is not set and nothing answers at ${fallback}; set ${variable} to your server's URL`);
    }
    const server = await start();
    started.push(server);
    return [server.url, 'embedded'];
  };
  try {
    const redisDir = path.join(cfg.DATA_DIR, 'redis');
    const [redisUrl, redisOrigin] = await resolve(cfg.REDIS_URL, DEFAULT_REDIS_URL, 6379, 'REDIS_URL', async () => {
      logger.info({ dir: redisDir }, 'no Redis at the default address: starting a local redis-server');
      return startRedisServer({ port: 6379, dir: redisDir, persist: true });
    });
    const ferretDir = path.join(cfg.DATA_DIR, 'ferretdb');
    const [mongoUrl, mongoOrigin] = await resolve(cfg.MONGODB_URL, DEFAULT_MONGODB_URL, 27017, 'MONGODB_URL', async () => {
      logger.info({ dir: ferretDir }, 'no MongoDB at the default address: starting a local FerretDB (SQLite)');
      return startFerretDb({ port: 27017, dir: ferretDir, log: (line) => logger.info(line) });
    });
    return {
      redisUrl,
      mongoUrl,
      redisOrigin: redisOrigin === 'embedded' ? `embedded redis-server, data in ${redisDir}` : redisOrigin,
      mongoOrigin: mongoOrigin === 'embedded' ? `embedded FerretDB (SQLite), data in ${ferretDir}` : mongoOrigin,
      stop: async () => {
        await Promise.all(started.map((s) => s.stop()));
      },
    };
  } catch (err) {
    await Promise.all(started.map((s) => s.stop()));
    throw err;
  }
}
