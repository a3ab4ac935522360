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

export interface RedisSettings {
  /** maxmemory-policy; null when INFO does not say. */
  maxmemoryPolicy: string | null;
  /** appendonly (AOF persistence); null when INFO does not say. */
  appendonly: boolean | null;
}

/** The settings Tock depends on, read from INFO (CONFIG is often disabled on managed Redis). */
export async function redisSettings(redis: Redis): Promise<RedisSettings> {
  const [memory, persistence] = await Promise.all([redis.info('memory'), redis.info('persistence')]);
  const aof = /^aof_enabled:(\d)/m.exec(persistence)?.[1];
  return {
    maxmemoryPolicy: /^maxmemory_policy:(\S+)/m.exec(memory)?.[1] ?? null,
    appendonly: aof === undefined ? null : aof === '1',
  };
}

/**
 * What a Redis without the recommended settings risks, for the start-up log (processes that do
 * not refuse such a Redis warn instead).
 */
export function redisSettingsWarnings(settings: RedisSettings): string[] {
  const warnings: string[] = [];
  if (settings.appendonly === false) {
    warnings.push(
      'Redis does not persist its data (appendonly no): if it restarts, manual runs and dead-letter retries waiting ' +
        'in it and retries in backoff are lost, and schedules stop until the reconciler restores them from MongoDB. ' +
        'Set "appendonly yes".',
    );
  }
  const policy = settings.maxmemoryPolicy;
  if (policy !== null && policy !== 'noeviction') {
    warnings.push(
      `Redis maxmemory-policy is "${policy}": under memory pressure it may evict queued runs and locks, which are then lost ` +
        'without a trace. Set "maxmemory-policy noeviction".',
    );
  }
  return warnings;
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
export type { Redis as RedisClient } from 'ioredis';
