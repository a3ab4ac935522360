import type { JobDefinition } from '../domain/job-definition';
import type { JobRepository } from './job-repository';

export interface CachedDefinition {
  def: JobDefinition;
  /** The payload parsed by its handler's schema (defaults applied), once per version. */
  payload?: unknown;
}

/**
 * Definitions by id, re-read from MongoDB only when a job carries a newer version than the cached
 * one or when the API announced a change (pub/sub invalidation). An unchanged definition is read
 * once per process, not once per execution. Misses are read one by one (`findById`): batching
 * them into one `$in` query was measured slower on FerretDB, which filters `$in` by scanning the
 * collection but finds by `_id` directly.
 */
export class DefinitionCache {
  private readonly entries = new Map<string, CachedDefinition | null>();
  private readonly loading = new Map<string, Promise<CachedDefinition | null>>();
  reads = 0;

  constructor(
    private readonly jobs: Pick<JobRepository, 'findById'>,
    private readonly maxEntries = 50_000,
  ) {}

  /** The definition at `minVersion` or later; null when it no longer exists. */
  async get(id: string, minVersion: number): Promise<CachedDefinition | null> {
    const hit = this.entries.get(id);
    if (hit === null) return null;
    if (hit && hit.def.version >= minVersion) return hit;
    return this.load(id);
  }

  private load(id: string): Promise<CachedDefinition | null> {
    let p = this.loading.get(id);
    if (!p) {
      this.reads++;
      p = this.jobs
        .findById(id)
        .then((def) => {
          const entry = def ? { def } : null;
          if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
          this.entries.set(id, entry);
          return entry;
        })
        .finally(() => this.loading.delete(id));
      this.loading.set(id, p);
    }
    return p;
  }

  peek(id: string): JobDefinition | undefined {
    return this.entries.get(id)?.def;
  }

  invalidate(id: string): void {
    this.entries.delete(id);
  }

  clear(): void {
    this.entries.clear();
  }
}
