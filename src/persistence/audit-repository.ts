import type { AuditEntry } from '../domain/audit';
import { decodeCursor, invalidCursor, pageOf, type Page } from './paging';
import type { AuditDoc, Models } from './models';
import { isDuplicateOnly, store } from './store-errors';

export interface AuditFilter {
  jobId?: string;
  keyId?: string;
  limit: number;
  cursor?: string;
}

function toEntry(doc: AuditDoc): AuditEntry {
  return {
    id: doc._id,
    at: doc.at,
    keyId: doc.keyId,
    keyName: doc.keyName,
    action: doc.action as AuditEntry['action'],
    jobId: doc.jobId ?? null,
    version: doc.version ?? null,
    target: doc.target ?? null,
    count: doc.count ?? 1,
    lastAt: doc.lastAt ?? doc.at,
  };
}

export class AuditRepository {
  constructor(private readonly models: Models) {}

  /** One unordered insertMany; an entry written twice (a retried batch) is a duplicate, ignored. */
  insertMany(entries: AuditEntry[]): Promise<void> {
    return store(async () => {
      await this.models.Audit.collection
        .insertMany(
          entries.map(({ id, ...rest }) => ({ _id: id, ...rest }) as never),
          { ordered: false },
        )
        .catch((err: unknown) => {
          if (!isDuplicateOnly(err)) throw err;
        });
    });
  }

  /** Newest first, keyset paged by (at, _id); served by `audit_at`, `audit_jobId_at`, `audit_keyId_at`. */
  list(f: AuditFilter): Promise<Page<AuditEntry>> {
    return store(async () => {
      const filter: Record<string, unknown> = {};
      if (f.jobId) filter.jobId = f.jobId;
      if (f.keyId) filter.keyId = f.keyId;
      if (f.cursor) {
        const [at, id] = decodeCursor(f.cursor, 2);
        const when = new Date(Number(at));
        if (Number.isNaN(when.getTime()) || typeof id !== 'string') throw invalidCursor();
        filter.$or = [{ at: { $lt: when } }, { at: when, _id: { $lt: id } }];
      }
      const docs = await this.models.Audit.find(filter)
        .sort({ at: -1, _id: -1 })
        .limit(f.limit + 1)
        .lean<AuditDoc[]>();
      return pageOf(docs, f.limit, toEntry, (last) => [last.at.getTime(), last.id]);
    });
  }
}
