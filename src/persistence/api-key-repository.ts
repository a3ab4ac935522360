import type { Scope } from '../domain/access';
import { decodeCursor, invalidCursor, pageOf, type Page } from './paging';
import type { ApiKeyDoc, Models } from './models';
import { store } from './store-errors';

/** A stored API key, without the key: its hash only. */
export interface StoredKey {
  id: string;
  name: string;
  scopes: Scope[];
  /** SHA-256 of the key's secret part, hex. */
  hash: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

function toStoredKey(doc: ApiKeyDoc): StoredKey {
  return {
    id: doc._id,
    name: doc.name,
    scopes: doc.scopes as Scope[],
    hash: doc.hash,
    createdAt: doc.createdAt,
    lastUsedAt: doc.lastUsedAt ?? null,
    revokedAt: doc.revokedAt ?? null,
  };
}

export class ApiKeyRepository {
  constructor(private readonly models: Models) {}

  insert(key: StoredKey): Promise<void> {
    return store(async () => {
      const { id, ...rest } = key;
      await this.models.ApiKey.collection.insertOne({ _id: id, ...rest } as never);
    });
  }

  findById(id: string): Promise<StoredKey | null> {
    return store(async () => {
      const doc = await this.models.ApiKey.findById(id).lean<ApiKeyDoc>();
      return doc ? toStoredKey(doc) : null;
    });
  }

  /** Newest first, keyset paged by (createdAt, _id) (served by `apikeys_createdAt`). */
  list(f: { limit: number; cursor?: string }): Promise<Page<StoredKey>> {
    return store(async () => {
      const filter: Record<string, unknown> = {};
      if (f.cursor) {
        const [at, id] = decodeCursor(f.cursor, 2);
        const createdAt = new Date(Number(at));
        if (Number.isNaN(createdAt.getTime()) || typeof id !== 'string') throw invalidCursor();
        filter.$or = [{ createdAt: { $lt: createdAt } }, { createdAt, _id: { $lt: id } }];
      }
      const docs = await this.models.ApiKey.find(filter)
        .sort({ createdAt: -1, _id: -1 })
        .limit(f.limit + 1)
        .lean<ApiKeyDoc[]>();
      return pageOf(docs, f.limit, toStoredKey, (last) => [last.createdAt.getTime(), last.id]);
    });
  }

  /** Marks the key revoked; false when there is no such key (or it was revoked already). */
  revoke(id: string, at: Date): Promise<boolean> {
    return store(async () => {
      const res = await this.models.ApiKey.updateOne({ _id: id, revokedAt: null }, { $set: { revokedAt: at } });
      return res.matchedCount === 1;
    });
  }

  /** lastUsedAt moves forwards only (keys are used by many API processes). */
  touch(id: string, at: Date): Promise<void> {
    return store(async () => {
      await this.models.ApiKey.collection.updateOne({ _id: id } as never, { $max: { lastUsedAt: at } });
    });
  }
}
