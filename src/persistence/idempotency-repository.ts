import { randomUUID } from 'node:crypto';
import type { Claim, IdempotencyRecord, IdempotencyStore, StoredResponse } from '../domain/idempotency';
import type { Sealer } from '../lib/sealing';
import type { Models } from './models';
import { isDuplicateKey, store, storeError } from './store-errors';

export interface IdempotencySettings {
  /** How long a completed response is replayed. */
  ttlMs: number;
  /** How long a pending claim blocks others before it counts as abandoned (its owner crashed). */
  lockMs: number;
  /** Prune expired records at most this often (per process). */
  pruneEveryMs: number;
}

export const DEFAULT_IDEMPOTENCY: IdempotencySettings = { ttlMs: 24 * 3600_000, lockMs: 60_000, pruneEveryMs: 60_000 };

/** The prune query: a range on expiresAt, which the named index `idempotencykeys_expiresAt` serves. */
export function pruneFilter(now: Date) {
  return { expiresAt: { $lt: now } };
}

/**
 * Idempotency-Key records, one document per key with the key (in its scope) as `_id`: inserting it
 * is the claim, so of two racing requests exactly one wins, on MongoDB and on FerretDB alike.
 * Expired records count as absent; they are deleted when met and pruned on write, at most once a
 * minute, with one range delete (an index range on MongoDB, never a scan per request).
 */
export class IdempotencyRepository implements IdempotencyStore {
  private lastPrune = 0;

  /** Responses are stored sealed: a create's answer carries the job's signing secret. */
  constructor(
    private readonly models: Models,
    private readonly sealer: Pick<Sealer, 'seal' | 'unseal'>,
    private readonly settings: IdempotencySettings = DEFAULT_IDEMPOTENCY,
    private readonly now: () => number = Date.now,
  ) {}

  /** Claims the key; null when another (live) record holds it. */
  async claim(id: string, fingerprint: string): Promise<Claim | null> {
    const now = this.now();
    const owner = randomUUID();
    this.maybePrune(now);
    try {
      await this.models.Idempotency.collection.insertOne({
        _id: id,
        fingerprint,
        state: 'pending',
        owner,
        lockedUntil: new Date(now + this.settings.lockMs),
        expiresAt: new Date(now + this.settings.ttlMs),
        status: null,
        headers: null,
        body: null,
      } as never);
      return { id, owner };
    } catch (err) {
      if (isDuplicateKey(err)) return null;
      throw storeError(err);
    }
  }

  /** The live record under the key; an expired or abandoned one is deleted and reported as absent. */
  find(id: string): Promise<IdempotencyRecord | null> {
    return store(() => this.read(id));
  }

  private async read(id: string): Promise<IdempotencyRecord | null> {
    const doc = await this.models.Idempotency.findById(id).lean();
    if (!doc) return null;
    const now = this.now();
    const abandoned = doc.state === 'pending' && doc.lockedUntil.getTime() <= now;
    if (doc.expiresAt.getTime() <= now || abandoned) {
      // Only that very record: a fresh claim made meanwhile by someone else stays.
      await this.models.Idempotency.deleteOne({ _id: id, owner: doc.owner });
      return null;
    }
    const base = { fingerprint: doc.fingerprint, owner: doc.owner, lockedUntil: doc.lockedUntil, expiresAt: doc.expiresAt };
    if (doc.state === 'done') {
      const response = {
        status: doc.status!,
        headers: (doc.headers ?? {}) as Record<string, string>,
        body: this.sealer.unseal(doc.body ?? ''),
      };
      return { state: 'done', ...base, response };
    }
    return { state: 'pending', ...base };
  }

  /** Stores the response of a claim; false when the claim was lost (taken over after its lock ran out). */
  complete(claim: Claim, response: StoredResponse): Promise<boolean> {
    return store(async () => {
      const res = await this.models.Idempotency.updateOne(
        { _id: claim.id, owner: claim.owner, state: 'pending' },
        { $set: { state: 'done', status: response.status, headers: response.headers, body: this.sealer.seal(response.body) } },
      );
      return res.matchedCount === 1;
    });
  }

  /** Gives the key up (the request failed and created nothing): the client may retry with it. */
  release(claim: Claim): Promise<void> {
    return store(async () => {
      await this.models.Idempotency.deleteOne({ _id: claim.id, owner: claim.owner, state: 'pending' });
    });
  }

  /** Deletes every expired record now; returns how many. */
  async prune(): Promise<number> {
    this.lastPrune = this.now();
    const res = await this.models.Idempotency.deleteMany(pruneFilter(new Date(this.lastPrune)));
    return res.deletedCount;
  }

  private maybePrune(now: number): void {
    if (now - this.lastPrune < this.settings.pruneEveryMs) return;
    this.lastPrune = now;
    this.prune().catch(() => {
      // Best effort: the next write tries again after pruneEveryMs.
    });
  }
}
