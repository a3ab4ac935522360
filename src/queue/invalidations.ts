import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger';
import type { DefinitionCache } from '../persistence/definition-cache';
import { INVALIDATION_CHANNEL } from './job-queue';
import { createRedis } from './redis';

/**
 * Keeps a definition cache in step with edits made by any API process: each change is published
 * on `<prefix>:definitions` with the definition id. Returns the subscriber connection (quit it on
 * shutdown).
 */
export function subscribeInvalidations(url: string, prefix: string, cache: DefinitionCache, logger: Logger): Redis {
  const sub = createRedis(url, 'worker');
  const channel = `${prefix}:${INVALIDATION_CHANNEL}`;
  sub.on('message', (_channel: string, id: string) => cache.invalidate(id));
  // Messages sent while disconnected are lost, so start afresh after every (re)connect.
  sub.on('ready', () => cache.clear());
  sub.on('error', (err: Error) => logger.debug({ err }, 'invalidation subscriber error'));
  sub.subscribe(channel).catch((err: unknown) => logger.warn({ err }, 'could not subscribe to invalidations'));
  return sub;
}
