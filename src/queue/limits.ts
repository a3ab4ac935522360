import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { UnavailableError } from '../domain/errors';
import type { RedisClient } from './redis';

export interface LimitResult {
  allowed: boolean;
  /** When the next point is available (0 when allowed). */
  retryAfterMs: number;
}

/**
 * A per-key rate limit shared by every API process (rate-limiter-flexible on Redis). While Redis is
 * unreachable each process counts on its own (the insurance limiter), so reads keep working.
 */
export class RateLimit {
  private readonly limiter: RateLimiterRedis;

  constructor(redis: RedisClient, opts: { prefix: string; name: string; points: number; durationS: number }) {
    this.limiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${opts.prefix}:limit:${opts.name}`,
      points: opts.points,
      duration: opts.durationS,
      insuranceLimiter: new RateLimiterMemory({ points: opts.points, duration: opts.durationS }),
    });
  }

  async consume(key: string, points = 1): Promise<LimitResult> {
    try {
      await this.limiter.consume(key, points);
      return { allowed: true, retryAfterMs: 0 };
    } catch (res) {
      if (res instanceof RateLimiterRes) return { allowed: false, retryAfterMs: res.msBeforeNext };
      throw res;
    }
  }
}

/** Reserve `n` if the key's count stays within the limit; -1 (and no change) otherwise. */
const RESERVE = `local cur = tonumber(redis.call('hget', KEYS[1], ARGV[1]) or '0')
if cur + tonumber(ARGV[2]) > tonumber(ARGV[3]) then return -1 end
return redis.call('hincrby', KEYS[1], ARGV[1], ARGV[2])`;

/** How many jobs each key owns: one Redis hash, recounted from MongoDB by the reconciler. */
export class JobCounts {
  private readonly hash: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.hash = `${prefix}:quota:jobs`;
  }

  /** Counts `n` more jobs for the key if it stays within `max`; false when it would not. */
  async reserve(keyId: string, n: number, max: number): Promise<boolean> {
    try {
      return (await this.redis.eval(RESERVE, 1, this.hash, keyId, n, max)) !== -1;
    } catch (err) {
      throw new UnavailableError('Redis is unavailable (quota)', 5, { cause: err });
    }
  }

  async release(keyId: string, n: number): Promise<void> {
    if (n > 0) await this.redis.hincrby(this.hash, keyId, -n).catch(() => undefined);
  }

  /** Sets the counts to what MongoDB holds (keys not listed own none). */
  async reset(counts: Map<string, number>): Promise<void> {
    const tx = this.redis.multi().del(this.hash);
    if (counts.size > 0) tx.hset(this.hash, Object.fromEntries(counts));
    await tx.exec();
  }
}
