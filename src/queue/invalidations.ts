import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger';
import { ANNOUNCE_CHANNEL, CANCEL_CHANNEL, INVALIDATION_CHANNEL, KEY_REVOKED_CHANNEL, type CancelRequest } from './job-queue';
import { createRedis } from './redis';

/**
 * Keeps a definition cache in step with edits made by any API process: each change is published
 * on `<prefix>:definitions` with the definition id. With `prefetch`, definitions announced on
 * `<prefix>:definitions:new` (created in bulk, due soon) are read ahead of their first runs. With
 * `onCancel`, requests to abort a definition's attempts in flight (`<prefix>:runs:cancel`) are passed on.
 * Returns the subscriber connection (quit it on shutdown).
 */
export interface DefinitionListener {
  /** A definition changed or was deleted. */
  invalidate(id: string): void;
  /** Messages may have been missed (the connection was (re)made): forget everything. */
  clear(): void;
  /** New definitions due soon, to read ahead (only with `prefetch`). */
  prefetch?(ids: string[]): Promise<void>;
}

export function subscribeInvalidations(
  url: string,
  prefix: string,
  cache: DefinitionListener,
  logger: Logger,
  opts: {
    prefetch?: boolean;
    onCancel?: (request: CancelRequest) => void;
    /** An API key was revoked (its id), or messages may have been missed (undefined). */
    onKeyRevoked?: (keyId?: string) => void;
  } = {},
): Redis {
  const sub = createRedis(url, 'worker');
  const channel = `${prefix}:${INVALIDATION_CHANNEL}`;
  const announced = `${prefix}:${ANNOUNCE_CHANNEL}`;
  const cancel = `${prefix}:${CANCEL_CHANNEL}`;
  const revoked = `${prefix}:${KEY_REVOKED_CHANNEL}`;
  sub.on('message', (from: string, message: string) => {
    if (from === channel) cache.invalidate(message);
    else if (from === announced) {
      cache.prefetch?.(message.split(',')).catch((err: unknown) => logger.debug({ err }, 'prefetch failed'));
    } else if (from === revoked) {
      opts.onKeyRevoked?.(message);
    } else if (from === cancel) {
      try {
        opts.onCancel?.(JSON.parse(message) as CancelRequest);
      } catch (err) {
        logger.warn({ err }, 'unreadable cancel request');
      }
    }
  });
  // Messages sent while disconnected are lost, so start afresh after every (re)connect.
  sub.on('ready', () => {
    cache.clear();
    opts.onKeyRevoked?.();
  });
  sub.on('error', (err: Error) => logger.debug({ err }, 'invalidation subscriber error'));
  sub
    .subscribe(channel, ...(opts.prefetch ? [announced] : []), ...(opts.onCancel ? [cancel] : []), ...(opts.onKeyRevoked ? [revoked] : []))
    .catch((err: unknown) => logger.warn({ err }, 'could not subscribe to invalidations'));
  return sub;
}
