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
 * once per worker, not once per execution.
 */
const MAX_BATCH = 500;

export class DefinitionCache {
  private readonly entries = new Map<string, CachedDefinition | null>();
  private readonly loading = new Map<string, Promise<CachedDefinition | null>>();
  private batch = new Map<string, { resolve: (e: CachedDefinition | null) => void; reject: (err: unknown) => void }>();
  /** Definitions read, and the queries that read them. */
  private querying = false;
  reads = 0;
  queries = 0;

  constructor(
    private readonly jobs: Pick<JobRepository, 'findByIds'>,
    private readonly maxEntries = 50_000,
  ) {}

  /** The definition at `minVersion` or later; null when it no longer exists. */
  async get(id: string, minVersion: number): Promise<CachedDefinition | null> {
    const hit = this.entries.get(id);
    if (hit === null) return null;
    if (hit && hit.def.version >= minVersion) return hit;
    return this.load(id);
  }

  /**
   * Misses that arrive together (many new one-time jobs starting at once) are read with one
   * `$in` query, at most MAX_BATCH ids at a time, instead of one query each: while a query runs,
   * the next misses gather for the one after it.
   */
  private load(id: string): Promise<CachedDefinition | null> {
    let p = this.loading.get(id);
    if (!p) {
      this.reads++;
      p = new Promise((resolve, reject) => {
        this.batch.set(id, { resolve, reject });
        if (this.batch.size === 1 && !this.querying) queueMicrotask(() => this.readBatch());
      });
      const done = () => this.loading.delete(id);
      p.then(done, done);
      this.loading.set(id, p);
    }
    return p;
  }

  /** One query for the misses gathered so far; misses that arrive meanwhile wait for the next. */
  private readBatch(): void {
    if (this.batch.size === 0 || this.querying) return;
    const ids = [...this.batch.keys()].slice(0, MAX_BATCH);
    const waiting = new Map(ids.map((id) => [id, this.batch.get(id)!]));
    for (const id of ids) this.batch.delete(id);
    this.queries++;
    this.querying = true;
    this.jobs
      .findByIds(ids)
      .finally(() => {
        this.querying = false;
        this.readBatch();
      })
      .then(
        (defs) => {
          const found = new Map(defs.map((def) => [def.id, def]));
          for (const [id, { resolve }] of waiting) {
            const def = found.get(id);
            const entry = def ? { def } : null;
            if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
            this.entries.set(id, entry);
            resolve(entry);
          }
        },
        (err: unknown) => {
          for (const { reject } of waiting.values()) reject(err);
        },
      );
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
