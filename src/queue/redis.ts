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

/** Redis' maxmemory-policy, read from INFO (CONFIG is often disabled on managed Redis). */
export async function maxmemoryPolicy(redis: Redis): Promise<string | null> {
  const info = await redis.info('memory');
  return /^maxmemory_policy:(\S+)/m.exec(info)?.[1] ?? null;
}

/**
 * BullMQ keeps jobs and locks as ordinary keys: a Redis that evicts keys under memory pressure
 * silently loses scheduled jobs. Workers refuse such a Redis unless the operator overrides it.
 */
export function evictionPolicyError(policy: string | null, allowEviction: boolean): string | null {
  if (policy === null || policy === 'noeviction' || allowEviction) return null;
  return (
    `Redis maxmemory-policy is "${policy}"; it must be "noeviction", or Redis may evict queued jobs and locks under memory ` +
    `pressure and scheduled runs would be lost without a trace. Set it with "CONFIG SET maxmemory-policy noeviction" ` +
    `(and in redis.conf), or start with REDIS_ALLOW_EVICTION=true to accept that risk.`
  );
}
