import type { Logger } from '../observability/logger';
import { withTimeout } from '../lib/with-timeout';
import { connectDatabase, type Database } from '../persistence/mongo';
import { createRedis, evictionPolicyError, redisSettings, redisSettingsWarnings, type RedisSettings } from '../queue/redis';

/** A URL as it may be logged: without its credentials. */
export function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/** Connects to MongoDB (creating collections and indexes when asked); the error names the server. */
export async function connectMongo(url: string, ensureIndexes: boolean): Promise<Database> {
  try {
    return await connectDatabase(url, { ensureIndexes });
  } catch (err) {
    throw new Error(`MongoDB at ${redact(url)} did not answer: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Checks that Redis answers and reads the settings Tock depends on. A worker refuses a Redis that
 * may evict keys (unless REDIS_ALLOW_EVICTION); every process warns about the rest.
 */
export async function checkRedis(url: string, refuseEviction: boolean, logger: Logger): Promise<void> {
  const probe = createRedis(url, 'command', { enableOfflineQueue: true, retryStrategy: () => null });
  let settings: RedisSettings;
  try {
    await withTimeout(probe.ping(), 3000, 'ping');
    settings = await withTimeout(redisSettings(probe), 3000, 'INFO');
  } catch (err) {
    throw new Error(`Redis at ${redact(url)} did not answer: ${(err as Error).message}`, { cause: err });
  } finally {
    probe.disconnect();
  }
  if (refuseEviction) {
    const error = evictionPolicyError(settings.maxmemoryPolicy, false);
    if (error) throw new Error(`Redis at ${redact(url)}: ${error}`);
  }
  for (const warning of redisSettingsWarnings(settings)) logger.warn({ redis: redact(url) }, warning);
}
