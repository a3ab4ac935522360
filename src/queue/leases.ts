import type { Redis } from 'ioredis';

/**
 * Named leases in Redis: a key set with NX and an expiry, renewed while held, so that a holder that
 * dies blocks the name for at most `ttlMs`. Only the holder can renew or release it. Used for
 * `overlap: forbid` (one running occurrence per definition) and for tasks that one process at a
 * time should run (the reconciler, retention).
 */
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;

export interface Lease {
  release(): Promise<void>;
}

export class Leases {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs: number,
  ) {}

  /** Takes the lease on `name` for `holder`, or returns null when someone else holds it. */
  async acquire(name: string, holder: string): Promise<Lease | null> {
    const key = `${this.prefix}:${name}`;
    const ok = await this.redis.set(key, holder, 'PX', this.ttlMs, 'NX');
    if (ok !== 'OK') return null;
    const renew = setInterval(
      () => {
        this.redis.eval(RENEW, 1, key, holder, this.ttlMs).catch(() => undefined);
      },
      Math.max(500, Math.floor(this.ttlMs / 3)),
    );
    renew.unref();
    return {
      release: async () => {
        clearInterval(renew);
        await this.redis.eval(RELEASE, 1, key, holder).catch(() => undefined);
      },
    };
  }
}

/**
 * Times in Redis that every process sees: when a task that one process at a time runs (under a
 * lease) last ran, so that a process that starts does not repeat what another did just before.
 */
export class Marks {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /** When `name` was last set; a mark that does not exist yet is set to `now` first. */
  async since(name: string, now: number): Promise<number> {
    const key = `${this.prefix}:${name}`;
    await this.redis.set(key, String(now), 'NX');
    const at = Number((await this.redis.get(key)) ?? now);
    return Number.isFinite(at) ? at : now;
  }

  async set(name: string, at: number): Promise<void> {
    await this.redis.set(`${this.prefix}:${name}`, String(at));
  }
}
