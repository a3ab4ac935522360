import { isValidObjectId, Types, type QueryFilter, type SortOrder } from 'mongoose';
import type { CreateJobInput, JobDefinition, JobStatus } from '../domain/job-definition';
import type { ScheduleKind } from '../domain/schedule';
import { decodeCursor, encodeCursor, invalidCursor, type Page } from './cursor';
import type { JobDoc, Models } from './models';

export interface JobListFilter {
  status?: JobStatus;
  handler?: string;
  scheduleKind?: ScheduleKind;
  nextRunBefore?: Date;
  limit: number;
  cursor?: string;
}

export interface ListQuery {
  filter: QueryFilter<JobDoc>;
  sort: Record<string, SortOrder>;
}

export function toJobDefinition(doc: JobDoc): JobDefinition {
  return {
    id: doc._id.toHexString(),
    name: doc.name,
    handler: doc.handler,
    payload: (doc.payload ?? {}) as Record<string, unknown>,
    schedule: doc.schedule as JobDefinition['schedule'],
    retry: doc.retry as JobDefinition['retry'],
    timeoutMs: doc.timeoutMs,
    status: doc.status as JobStatus,
    nextRunAt: doc.nextRunAt ?? null,
    dueAt: doc.dueAt ?? null,
    lastRunAt: doc.lastRunAt ?? null,
    lastExecutionStatus: (doc.lastExecutionStatus ?? null) as JobDefinition['lastExecutionStatus'],
    runCount: doc.runCount ?? 0,
    failureCount: doc.failureCount ?? 0,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
    version: doc.version ?? 1,
  };
}

export function toObjectId(id: string): Types.ObjectId | null {
  return /^[0-9a-f]{24}$/i.test(id) && isValidObjectId(id) ? new Types.ObjectId(id) : null;
}

export type NewJob = Omit<
  JobDefinition,
  'id' | 'createdAt' | 'updatedAt' | 'version' | 'runCount' | 'failureCount' | 'lastRunAt' | 'lastExecutionStatus'
>;

/**
 * The list query for a filter: equality filters, and a keyset sort that an index serves
 * (newest first, or soonest first when nextRunBefore is given).
 */
export function buildListQuery(f: Omit<JobListFilter, 'limit'>): ListQuery {
  const filter: QueryFilter<JobDoc> = {};
  if (f.status) filter.status = f.status;
  if (f.handler) filter.handler = f.handler;
  if (f.scheduleKind) filter['schedule.kind'] = f.scheduleKind;
  if (f.nextRunBefore) {
    const range: Record<string, unknown> = { $ne: null, $lt: f.nextRunBefore };
    if (f.cursor) {
      const [at, id] = decodeCursor(f.cursor, 2);
      const after = new Date(Number(at));
      const oid = toObjectId(String(id));
      if (!oid || Number.isNaN(after.getTime())) throw invalidCursor();
      filter.$or = [{ nextRunAt: { $gt: after, $lt: f.nextRunBefore } }, { nextRunAt: after, _id: { $gt: oid } }];
    } else {
      filter.nextRunAt = range;
    }
    return { filter, sort: { nextRunAt: 1, _id: 1 } };
  }
  if (f.cursor) {
    const [id] = decodeCursor(f.cursor, 1);
    const oid = toObjectId(String(id));
    if (!oid) throw invalidCursor();
    filter._id = { $lt: oid };
  }
  return { filter, sort: { _id: -1 } };
}

export class JobRepository {
  constructor(private readonly models: Models) {}

  async create(job: NewJob): Promise<JobDefinition> {
    const doc = await this.models.Job.create({ ...job, version: 1, runCount: 0, failureCount: 0 });
    return toJobDefinition(doc.toObject() as JobDoc);
  }

  async findById(id: string): Promise<JobDefinition | null> {
    const oid = toObjectId(id);
    if (!oid) return null;
    const doc = await this.models.Job.findById(oid).lean<JobDoc>();
    return doc ? toJobDefinition(doc) : null;
  }

  async list(f: JobListFilter): Promise<Page<JobDefinition>> {
    const { filter, sort } = buildListQuery(f);
    const docs = await this.models.Job.find(filter)
      .sort(sort)
      .limit(f.limit + 1)
      .lean<JobDoc[]>();
    const items = docs.slice(0, f.limit).map(toJobDefinition);
    const last = items[items.length - 1];
    const nextCursor =
      docs.length > f.limit && last
        ? f.nextRunBefore
          ? encodeCursor([last.nextRunAt?.getTime() ?? null, last.id])
          : encodeCursor([last.id])
        : null;
    return { items, nextCursor };
  }

  /** Applies `set` when the stored version is `expectedVersion`, bumping it; null when it moved on. */
  async updateIfVersion(id: string, expectedVersion: number, set: Partial<NewJob>): Promise<JobDefinition | null> {
    const oid = toObjectId(id);
    if (!oid) return null;
    const doc = await this.models.Job.findOneAndUpdate(
      { _id: oid, version: expectedVersion },
      { $set: set, $inc: { version: 1 } },
      { returnDocument: 'after', lean: true },
    );
    return doc ? toJobDefinition(doc as JobDoc) : null;
  }

  /** Puts back a previous state (used to undo a write whose queue side failed). */
  async restore(previous: JobDefinition): Promise<void> {
    const { id, createdAt: _c, updatedAt: _u, ...rest } = previous;
    await this.models.Job.replaceOne({ _id: toObjectId(id) }, { ...rest, createdAt: previous.createdAt, updatedAt: previous.updatedAt });
  }

  /** Deletes the definition (only at `version` when given); false when nothing matched. */
  async delete(id: string, version?: number): Promise<boolean> {
    const oid = toObjectId(id);
    if (!oid) return false;
    const res = await this.models.Job.deleteOne(version === undefined ? { _id: oid } : { _id: oid, version });
    return res.deletedCount === 1;
  }
}

export type { CreateJobInput };
