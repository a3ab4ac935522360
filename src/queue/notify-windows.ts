import type { Redis } from 'ioredis';

/**
 * Coalescing windows for notifications, shared by every worker: per job and kind, events are
 * counted in Redis and at most one delivery per window is claimed (a key set NX with the window as
 * its expiry). Each script is one atomic round trip.
 *
 * RECORD: KEYS count, latest, claim; ARGV n, latest (JSON), windowMs, keepMs.
 *   Adds n events and keeps the latest; when no delivery was claimed this window, claims one and
 *   returns { count, latest } (the count reset), else nil.
 * FLUSH: KEYS count, latest, claim; ARGV windowMs.
 *   When events are pending and the window is free, claims a delivery and returns { count, latest }.
 */
const RECORD = `
redis.call('incrby', KEYS[1], ARGV[1])
redis.call('pexpire', KEYS[1], ARGV[4])
redis.call('set', KEYS[2], ARGV[2], 'PX', ARGV[4])
if redis.call('set', KEYS[3], '1', 'NX', 'PX', ARGV[3]) then
  return { redis.call('getdel', KEYS[1]), ARGV[2] }
end
return nil`;

const FLUSH = `
local n = redis.call('get', KEYS[1])
if not n then return nil end
if redis.call('set', KEYS[3], '1', 'NX', 'PX', ARGV[1]) then
  redis.call('del', KEYS[1])
  return { n, redis.call('get', KEYS[2]) }
end
return nil`;

/** Pending events are kept this long without a delivery (a worker that died mid-window). */
const KEEP_MS = 3_600_000;

export interface Claimed {
  /** Events since the previous delivery, this one's included. */
  count: number;
  /** The latest event, as recorded (JSON). */
  latest: string;
}

export class NotifyWindows {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    readonly windowMs: number,
  ) {}

  private keys(jobId: string, kind: string): [string, string, string] {
    const base = `${this.prefix}:notify:{${jobId}:${kind}}`;
    return [`${base}:count`, `${base}:latest`, `${base}:claim`];
  }

  /** Counts `n` events; returns a delivery to make now, or null when one was made this window. */
  async record(jobId: string, kind: string, n: number, latest: string): Promise<Claimed | null> {
    const res = (await this.redis.eval(RECORD, 3, ...this.keys(jobId, kind), n, latest, this.windowMs, KEEP_MS)) as [string, string] | null;
    return res ? { count: Number(res[0]), latest: res[1] } : null;
  }

  /** At a window's end: the events counted during it, as one delivery, or null when there were none. */
  async flush(jobId: string, kind: string): Promise<Claimed | null> {
    const res = (await this.redis.eval(FLUSH, 3, ...this.keys(jobId, kind), this.windowMs)) as [string, string | null] | null;
    return res ? { count: Number(res[0]), latest: res[1] ?? '{}' } : null;
  }
}
