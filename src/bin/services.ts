import path from 'node:path';
import type { Config } from '../config/env';
import { isReachable, startFerretDb, startRedisServer, type LocalServer } from '../embedded/local-servers';
import type { Logger } from '../observability/logger';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_MONGODB_URL = 'mongodb://127.0.0.1:27017/tock';

export interface ResolvedServices {
  redisUrl: string;
  mongoUrl: string;
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
export async function resolveServices(cfg: Config, logger: Logger): Promise<ResolvedServices> {
  const started: LocalServer[] = [];
  const resolve = async (
    given: string | undefined,
    fallback: string,
    defaultPort: number,
    variable: string,
    start: () => Promise<LocalServer>,
  ): Promise<string> => {
    if (given) return given;
    const [host, port] = hostPort(fallback, defaultPort);
    if (await isReachable(host, port)) return fallback;
    if (cfg.NODE_ENV === 'production') {
      throw new Error(`${variable} is not set and nothing answers at ${fallback}; set ${variable} to your server's URL`);
    }
    const server = await start();
    started.push(server);
    return server.url;
  };
  try {
    const redisUrl = await resolve(cfg.REDIS_URL, DEFAULT_REDIS_URL, 6379, 'REDIS_URL', async () => {
      logger.info({ dir: path.join(cfg.DATA_DIR, 'redis') }, 'no Redis at the default address: starting a local redis-server');
      return startRedisServer({ port: 6379, dir: path.join(cfg.DATA_DIR, 'redis'), persist: true });
    });
    const mongoUrl = await resolve(cfg.MONGODB_URL, DEFAULT_MONGODB_URL, 27017, 'MONGODB_URL', async () => {
      logger.info(
        { dir: path.join(cfg.DATA_DIR, 'ferretdb') },
        'no MongoDB at the default address: starting a local FerretDB (SQLite); the first start builds it',
      );
      return startFerretDb({ port: 27017, dir: path.join(cfg.DATA_DIR, 'ferretdb') });
    });
    return {
      redisUrl,
      mongoUrl,
      stop: async () => {
        await Promise.all(started.map((s) => s.stop()));
      },
    };
  } catch (err) {
    await Promise.all(started.map((s) => s.stop()));
    throw err;
  }
}
