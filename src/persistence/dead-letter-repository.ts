import type { QueryFilter } from 'mongoose';
import type { DeadLetterEntry } from '../domain/execution';
import { decodeCursor, invalidCursor, pageOf, type Page } from './paging';
import { store } from './store-errors';
import { toObjectId } from './job-repository';
import type { DeadLetterDoc, Models } from './models';

export function toDeadLetterEntry(doc: DeadLetterDoc): DeadLetterEntry {
  const { _id, jobId, ...rest } = doc;
  return { id: _id, jobId: jobId.toHexString(), ...rest } as DeadLetterEntry;
}

export function toDeadLetterDoc(e: DeadLetterEntry): DeadLetterDoc {
  const { id, jobId, ...rest } = e;
  return { _id: id, jobId: toObjectId(jobId)!, ...rest } as DeadLetterDoc;
}

export interface DeadLetterListFilter {
  jobId?: string;
  state: 'open' | 'retried';
  limit: number;
  cursor?: string;
}

export function buildDeadLetterQuery(f: Omit<DeadLetterListFilter, 'limit'>): QueryFilter<DeadLetterDoc> {
  const filter: QueryFilter<DeadLetterDoc> = { state: f.state };
  if (f.jobId) filter.jobId = toObjectId(f.jobId);
  if (f.cursor) {
    const [at, id] = decodeCursor(f.cursor, 2);
    const failedAt = new Date(Number(at));
    if (Number.isNaN(failedAt.getTime()) || typeof id !== 'string') throw invalidCursor();
    filter.$or = [{ failedAt: { $lt: failedAt } }, { failedAt, _id: { $lt: id } }];
  }
  return filter;
}

export const DEAD_LETTER_SORT = { failedAt: -1, _id: -1 } as const;

export class DeadLetterRepository {
  constructor(private readonly models: Models) {}

  findById(id: string): Promise<DeadLetterEntry | null> {
    return store(async () => {
      const doc = await this.models.DeadLetter.findById(id).lean<DeadLetterDoc>();
      return doc ? toDeadLetterEntry(doc) : null;
    });
  }

  /** Open entries (served by `deadletters_state_failedAt`). */
  countOpen(): Promise<number> {
    return store(() => this.models.DeadLetter.countDocuments({ state: 'open' }));
  }

  list(f: DeadLetterListFilter): Promise<Page<DeadLetterEntry>> {
    return store(async () => {
      const docs = await this.models.DeadLetter.find(buildDeadLetterQuery(f))
        .sort(DEAD_LETTER_SORT)
        .limit(f.limit + 1)
        .lean<DeadLetterDoc[]>();
      return pageOf(docs, f.limit, toDeadLetterEntry, (last) => [last.failedAt.getTime(), last.id]);
    });
  }

  /** Marks an open entry retried; null when it is not open (already retried, or gone). */
  markRetried(id: string, retryRunId: string, at: Date): Promise<DeadLetterEntry | null> {
    return store(async () => {
      const doc = await this.models.DeadLetter.findOneAndUpdate(
        { _id: id, state: 'open' },
        { $set: { state: 'retried', retriedAt: at, retryRunId } },
        { returnDocument: 'after', lean: true },
      );
      return doc ? toDeadLetterEntry(doc as DeadLetterDoc) : null;
    });
  }

  reopen(id: string): Promise<void> {
    return store(async () => {
      await this.models.DeadLetter.updateOne({ _id: id }, { $set: { state: 'open', retriedAt: null, retryRunId: null } });
    });
  }

  delete(id: string): Promise<boolean> {
    return store(async () => (await this.models.DeadLetter.deleteOne({ _id: id })).deletedCount === 1);
  }
}
