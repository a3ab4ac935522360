import { Redis, type RedisOptions } from 'ioredis';

/**
 * ioredis clients from a URL. Command clients (API, producers) fail fast while Redis is down so
 * requests get a quick 503; blocking clients (workers) retry forever, as BullMQ requires.
 */
export function createRedis(url: string, kind: 'command' | 'worker', extra: RedisOptions = {}): Redis {
  const base: RedisOptions = {
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(100 * 2 ** times, 2000),
    lazyConnect: false,
  };
  const opts: RedisOptions =
    kind === 'command'
      ? { ...base, maxRetriesPerRequest: 1, enableOfflineQueue: false }
      : { ...base, maxRetriesPerRequest: null, enableOfflineQueue: true };
  return new Redis(url, { ...opts, ...extra });
}

/** Runs `p`, rejecting after `ms` so that nothing waits on an unreachable Redis for long. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
