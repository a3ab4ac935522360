import { Types, type QueryFilter, type SortOrder } from 'mongoose';
import { isJobId } from '../domain/ids';
import type { ValidationError } from '../domain/errors';
import type { CreateJobInput, JobDefinition, JobStatus } from '../domain/job-definition';
import type { ScheduleKind } from '../domain/schedule';
import { decodeCursor, invalidCursor, pageOf, type Page } from './paging';
import { RETENTION_QUERIES } from './retention-queries';
import { storeError, storeRejection, store, writeErrorsOf } from './store-errors';
import type { JobDoc, Models } from './models';

export interface JobListFilter {
  status?: JobStatus;
  handler?: string;
  scheduleKind?: ScheduleKind;
  nextRunBefore?: Date;
  /** A case-insensitive substring of the name: a filter on the rows the index yields, not an index key. */
  name?: string;
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
    secretFields: doc.secretFields ?? [],
    signingSecrets: (doc.signingSecrets ?? []) as JobDefinition['signingSecrets'],
    ownerKeyId: doc.ownerKeyId ?? null,
    notify: (doc.notify ?? {}) as JobDefinition['notify'],
  };
}

export function toObjectId(id: string): Types.ObjectId | null {
  return isJobId(id) ? new Types.ObjectId(id) : null;
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
  if (f.name) filter.name = { $regex: escapeRegExp(f.name), $options: 'i' };
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

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface InsertManyResult {
  /** The stored definitions, each with the index of its input. */
  inserted: { index: number; def: JobDefinition }[];
  /** Inputs the store refused, by index. */
  rejected: { index: number; error: ValidationError }[];
}

function newJobDoc(job: NewJob, now: Date) {
  return {
    _id: new Types.ObjectId(),
    ...job,
    lastRunAt: null,
    lastExecutionStatus: null,
    runCount: 0,
    failureCount: 0,
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
}

/** The stored form of a definition (its id as `_id`). */
function toJobDoc({ id, ...fields }: JobDefinition) {
  return { _id: new Types.ObjectId(id), ...fields };
}

/** What the reconciler reads: every scheduled definition (served by `jobs_status_id`). */
export const ACTIVE_JOBS = { filter: { status: 'scheduled' as const }, sort: { _id: -1 } as const };

export class JobRepository {
  constructor(private readonly models: Models) {}

  /** New definitions (version 1) with their ids chosen here, before anything is written. */
  build(jobs: NewJob[], now = new Date()): JobDefinition[] {
    return jobs.map((job) => toJobDefinition(newJobDoc(job, now) as unknown as JobDoc));
  }

  /** Stores one definition made by `build`; a document the store refuses is a ValidationError. */
  insert(def: JobDefinition): Promise<void> {
    return store(async () => {
      // The driver's collection: mongoose's casting and hooks cost more than the command.
      await this.models.Job.collection.insertOne(toJobDoc(def));
    });
  }

  /**
   * One unordered insertMany of definitions made by `build`. Per-document refusals come back by
   * index; any other failure (the server is unreachable) deletes whatever part of the batch may
   * have been written and rethrows.
   */
  async insertMany(defs: JobDefinition[]): Promise<InsertManyResult> {
    const failed = new Map<number, ValidationError>();
    try {
      await this.models.Job.collection.insertMany(defs.map(toJobDoc), { ordered: false });
    } catch (err) {
      const rejections = writeErrorsOf(err).map((w) => [w.index, storeRejection({ code: w.code, errmsg: w.errmsg })] as const);
      if (rejections.length === 0 || rejections.some(([, r]) => r === null)) {
        // Best effort and in the background: the server is most likely unreachable right now.
        this.deleteMany(defs.map((d) => d.id)).catch(() => undefined);
        throw storeError(err);
      }
      for (const [index, rejection] of rejections) failed.set(index, rejection!);
    }
    const result: InsertManyResult = { inserted: [], rejected: [] };
    defs.forEach((def, index) => {
      const rejection = failed.get(index);
      if (rejection) result.rejected.push({ index, error: rejection });
      else result.inserted.push({ index, def });
    });
    return result;
  }

  /** Deletes definitions by id in one command; returns how many were deleted. */
  deleteMany(ids: string[]): Promise<number> {
    const oids = ids.map(toObjectId).filter((o): o is Types.ObjectId => o !== null);
    if (oids.length === 0) return Promise.resolve(0);
    return store(async () => (await this.models.Job.deleteMany({ _id: { $in: oids } })).deletedCount);
  }

  findById(id: string): Promise<JobDefinition | null> {
    const oid = toObjectId(id);
    if (!oid) return Promise.resolve(null);
    return store(async () => {
      const doc = await this.models.Job.findById(oid).lean<JobDoc>();
      return doc ? toJobDefinition(doc) : null;
    });
  }

  /**
   * Definitions by id in one query (`$in`, or an equality for one id: FerretDB scans the collection
   * for any `$in`, but finds one `_id` directly); ids that do not exist are simply absent.
   */
  findByIds(ids: string[]): Promise<JobDefinition[]> {
    const oids = ids.map(toObjectId).filter((o): o is Types.ObjectId => o !== null);
    if (oids.length === 0) return Promise.resolve([]);
    return store(async () => {
      const docs = await this.models.Job.find({ _id: oids.length === 1 ? oids[0] : { $in: oids } }).lean<JobDoc[]>();
      return docs.map(toJobDefinition);
    });
  }

  list(f: JobListFilter): Promise<Page<JobDefinition>> {
    return store(async () => {
      const { filter, sort } = buildListQuery(f);
      const docs = await this.models.Job.find(filter)
        .sort(sort)
        .limit(f.limit + 1)
        .lean<JobDoc[]>();
      return pageOf(docs, f.limit, toJobDefinition, (last) => (f.nextRunBefore ? [last.nextRunAt?.getTime() ?? null, last.id] : [last.id]));
    });
  }

  /** Applies `set` when the stored version is `expectedVersion`, bumping it; null when it moved on. */
  updateIfVersion(id: string, expectedVersion: number, set: Partial<NewJob>): Promise<JobDefinition | null> {
    const oid = toObjectId(id);
    if (!oid) return Promise.resolve(null);
    return store(async () => {
      const doc = await this.models.Job.findOneAndUpdate(
        { _id: oid, version: expectedVersion },
        { $set: set, $inc: { version: 1 } },
        { returnDocument: 'after', lean: true },
      );
      return doc ? toJobDefinition(doc as JobDoc) : null;
    });
  }

  /** Replaces the signing secrets of the definition at `version` (not a new version); null when it moved on. */
  setSigningSecrets(id: string, version: number, signingSecrets: JobDefinition['signingSecrets']): Promise<JobDefinition | null> {
    const oid = toObjectId(id);
    if (!oid) return Promise.resolve(null);
    return store(async () => {
      const doc = await this.models.Job.findOneAndUpdate(
        { _id: oid, version },
        { $set: { signingSecrets } },
        { returnDocument: 'after', lean: true },
      );
      return doc ? toJobDefinition(doc as JobDoc) : null;
    });
  }

  /** Puts back a previous state (used to undo a write whose queue side failed). */
  restore(previous: JobDefinition): Promise<void> {
    const { id, createdAt: _c, updatedAt: _u, ...rest } = previous;
    return store(async () => {
      await this.models.Job.replaceOne({ _id: toObjectId(id) }, { ...rest, createdAt: previous.createdAt, updatedAt: previous.updatedAt });
    });
  }

  /** Deletes the definition (only at `version` when given); false when nothing matched. */
  delete(id: string, version?: number): Promise<boolean> {
    const oid = toObjectId(id);
    if (!oid) return Promise.resolve(false);
    return store(async () => {
      const res = await this.models.Job.deleteOne(version === undefined ? { _id: oid } : { _id: oid, version });
      return res.deletedCount === 1;
    });
  }

  /** Every scheduled definition (what must have a BullMQ counterpart). */
  listActive(): Promise<JobDefinition[]> {
    return store(async () => {
      const docs = await this.models.Job.find(ACTIVE_JOBS.filter).sort(ACTIVE_JOBS.sort).lean<JobDoc[]>();
      return docs.map(toJobDefinition);
    });
  }

  /** How many jobs each key owns (those created with a stored API key). */
  /** How many definitions are in each status (one `$group` pass). */
  countByStatus(): Promise<Map<JobStatus, number>> {
    return store(async () => {
      const rows = await this.models.Job.aggregate<{ _id: JobStatus; n: number }>([{ $group: { _id: '$status', n: { $sum: 1 } } }]);
      return new Map(rows.map((r) => [r._id, r.n]));
    });
  }

  countByOwner(): Promise<Map<string, number>> {
    return store(async () => {
      const rows = await this.models.Job.aggregate<{ _id: string; n: number }>([
        { $match: { ownerKeyId: { $ne: null } } },
        { $group: { _id: '$ownerKeyId', n: { $sum: 1 } } },
      ]);
      return new Map(rows.filter((r) => r._id).map((r) => [r._id, r.n]));
    });
  }

  /** Definitions that ran since `since`, with the counts retention decides by (served by `jobs_lastRunAt`). */
  ranSince(since: Date): Promise<{ id: string; runCount: number; recordCount: number | undefined }[]> {
    return store(async () => {
      const docs = await this.models.Job.find(RETENTION_QUERIES.ranSince(since), { _id: 1, runCount: 1, recordCount: 1 }).lean<
        { _id: Types.ObjectId; runCount?: number; recordCount?: number }[]
      >();
      return docs.map((d) => ({ id: d._id.toHexString(), runCount: d.runCount ?? 0, recordCount: d.recordCount }));
    });
  }
}

export type { CreateJobInput };
