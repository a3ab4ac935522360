import type { JobDefinition } from '../domain/job-definition';
import type { JobRepository } from '../persistence/job-repository';

export interface CachedDefinition {
  def: JobDefinition;
  /** What a worker made of it, once per version: the payload unsealed and parsed by its handler's schema. */
  prepared?: PreparedDefinition;
}

export interface PreparedDefinition {
  payload: unknown;
  /** The plain values of its secrets (secret fields, signing secrets): scrubbed from what runs record. */
  secrets: string[];
  /** Signing secrets still in use, newest first. */
  signingSecrets: string[];
  /** When one of them stops being used (prepare again after this). */
  until: number;
}

/** At most this many ids per prefetch query. */
const PREFETCH_CHUNK = 1000;

/**
 * Definitions by id, re-read only when a run carries a newer version than the cached one or the API
 * announced a change (pub/sub): an unchanged definition is read once per process, not per run.
 * Misses are read by `_id` one at a time; definitions announced as new are prefetched with one `$in`
 * per 1,000 (docs/design/definition-cache.md).
 */
export class DefinitionCache {
  private readonly entries = new Map<string, CachedDefinition | null>();
  private readonly loading = new Map<string, Promise<CachedDefinition | null>>();
  private prefetching: Promise<unknown> = Promise.resolve();
  reads = 0;

  constructor(
    private readonly jobs: Pick<JobRepository, 'findById' | 'findByIds'>,
    private readonly maxEntries = 50_000,
  ) {}

  /** The definition at `minVersion` or later; null when it no longer exists. */
  async get(id: string, minVersion: number): Promise<CachedDefinition | null> {
    const hit = this.entries.get(id);
    if (hit === null) return null;
    if (hit && hit.def.version >= minVersion) return hit;
    const loaded = await this.load(id);
    // A read that started before an edit (a prefetch, say) can return the older version: read again.
    return loaded && loaded.def.version < minVersion ? this.load(id) : loaded;
  }

  private load(id: string): Promise<CachedDefinition | null> {
    let p = this.loading.get(id);
    if (!p) {
      this.reads++;
      p = this.jobs
        .findById(id)
        .then((def) => this.store(id, def))
        .finally(() => this.loading.delete(id));
      this.loading.set(id, p);
    }
    return p;
  }

  private store(id: string, def: JobDefinition | null): CachedDefinition | null {
    const entry = def ? { def } : null;
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(id, entry);
    return entry;
  }

  /**
   * Reads the definitions of `ids` that are neither cached nor being read, one `$in` per 1,000,
   * one query at a time. A run that asks for one of them meanwhile waits for that query instead of
   * sending its own. An id the query does not return (or a failed query) falls back to `findById`.
   */
  prefetch(ids: string[]): Promise<void> {
    const wanted = [...new Set(ids)].filter((id) => !this.entries.has(id) && !this.loading.has(id)).slice(0, this.maxEntries);
    const done: Promise<unknown>[] = [];
    for (let i = 0; i < wanted.length; i += PREFETCH_CHUNK) {
      const chunk = wanted.slice(i, i + PREFETCH_CHUNK);
      const batch = this.prefetching.then(() => {
        this.reads++;
        return this.jobs.findByIds(chunk);
      });
      this.prefetching = batch.catch(() => undefined);
      const found = batch.then(
        (defs) => new Map(defs.map((d) => [d.id, d])),
        () => new Map<string, JobDefinition>(),
      );
      for (const id of chunk) {
        const p = found
          .then((m) => {
            const def = m.get(id);
            if (def) return this.store(id, def);
            this.loading.delete(id);
            return this.load(id);
          })
          .finally(() => {
            if (this.loading.get(id) === p) this.loading.delete(id);
          });
        this.loading.set(id, p);
        done.push(p.catch(() => undefined));
      }
    }
    return Promise.all(done).then(() => undefined);
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
