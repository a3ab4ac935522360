import type { QueryFilter } from 'mongoose';
import type { DeadLetterEntry } from '../domain/execution';
import { decodeCursor, encodeCursor, invalidCursor, type Page } from './cursor';
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

  async findById(id: string): Promise<DeadLetterEntry | null> {
    const doc = await this.models.DeadLetter.findById(id).lean<DeadLetterDoc>();
    return doc ? toDeadLetterEntry(doc) : null;
  }

  async list(f: DeadLetterListFilter): Promise<Page<DeadLetterEntry>> {
    const docs = await this.models.DeadLetter.find(buildDeadLetterQuery(f))
      .sort(DEAD_LETTER_SORT)
      .limit(f.limit + 1)
      .lean<DeadLetterDoc[]>();
    const items = docs.slice(0, f.limit).map(toDeadLetterEntry);
    const last = items[items.length - 1];
    return { items, nextCursor: docs.length > f.limit && last ? encodeCursor([last.failedAt.getTime(), last.id]) : null };
  }

  /** Marks an open entry retried; null when it is not open (already retried, or gone). */
  async markRetried(id: string, retryRunId: string, at: Date): Promise<DeadLetterEntry | null> {
    const doc = await this.models.DeadLetter.findOneAndUpdate(
      { _id: id, state: 'open' },
      { $set: { state: 'retried', retriedAt: at, retryRunId } },
      { returnDocument: 'after', lean: true },
    );
    return doc ? toDeadLetterEntry(doc as DeadLetterDoc) : null;
  }

  async reopen(id: string): Promise<void> {
    await this.models.DeadLetter.updateOne({ _id: id }, { $set: { state: 'open', retriedAt: null, retryRunId: null } });
  }

  async delete(id: string): Promise<boolean> {
    const res = await this.models.DeadLetter.deleteOne({ _id: id });
    return res.deletedCount === 1;
  }
}
