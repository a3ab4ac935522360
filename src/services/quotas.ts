import type { Actor } from '../domain/access';
import { TooManyRequestsError } from '../domain/errors';
import type { JobCounts, RateLimit } from '../queue/limits';

export interface QuotaSettings {
  /** QUOTA_JOBS_PER_KEY: jobs a key may own at once. */
  jobsPerKey: number;
}

/**
 * What one client may take: jobs owned at once and runs triggered per minute, per stored key
 * (TOCK_ADMIN_KEY, the operator's, has no quota), so that no client can starve the workers or the store.
 */
export class Quotas {
  constructor(
    private readonly deps: { jobCounts: JobCounts; triggers: RateLimit },
    private readonly settings: QuotaSettings,
  ) {}

  /** Counts `n` new jobs for `by`; TooManyRequestsError when that would pass its quota. */
  async reserveJobs(by: Actor | undefined, n: number): Promise<void> {
    if (!by?.stored || n === 0) return;
    if (!(await this.deps.jobCounts.reserve(by.keyId, n, this.settings.jobsPerKey))) {
      throw new TooManyRequestsError(`Key ${by.keyId} owns its quota of ${this.settings.jobsPerKey} jobs (QUOTA_JOBS_PER_KEY)`, 60);
    }
  }

  async releaseJobs(owner: string | null | undefined, n: number): Promise<void> {
    if (owner) await this.deps.jobCounts.release(owner, n);
  }

  /** `n` runs triggered by `by`; TooManyRequestsError when over its rate (QUOTA_TRIGGERS_PER_MINUTE). */
  async consumeTriggers(by: Actor | undefined, n: number): Promise<void> {
    if (!by?.stored || n === 0) return;
    const r = await this.deps.triggers.consume(by.keyId, n);
    if (!r.allowed) {
      throw new TooManyRequestsError(
        `Key ${by.keyId} triggered its quota of runs this minute (QUOTA_TRIGGERS_PER_MINUTE)`,
        Math.ceil(r.retryAfterMs / 1000),
      );
    }
  }
}
