import { isValidObjectId, Types, type QueryFilter, type SortOrder } from 'mongoose';
import { ValidationError } from '../domain/errors';
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

/** Server codes for a document the store refuses (BadValue, e.g. FerretDB's nested arrays). */
const REJECTED_CODES = new Set([2, 17419, 17260]);

/** A document the server (or the BSON encoder) refuses to store, as a 400 instead of a 500. */
export function storeRejection(err: unknown): ValidationError | null {
  const e = err as { name?: string; code?: unknown; message?: string; errmsg?: string };
  const rejected = e?.name === 'BSONError' || (typeof e?.code === 'number' && REJECTED_CODES.has(e.code));
  if (!rejected) return null;
  const reason = String(e.errmsg ?? e.message ?? 'rejected').slice(0, 300);
  return new ValidationError('The definition cannot be stored', [{ path: '(root)', message: `was refused by the store: ${reason}` }]);
}

/** The per-document refusals of an unordered insertMany, by index (null: not a refusal). */
function writeRejections(err: unknown): (readonly [number, ValidationError | null])[] {
  const writeErrors = (err as { writeErrors?: unknown }).writeErrors;
  const list = (Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : []) as {
    index: number;
    code?: number;
    errmsg?: string;
  }[];
  return list.map((w) => [w.index, storeRejection({ code: w.code, errmsg: w.errmsg })] as const);
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

  /**
   * One unordered insertMany of definitions made by `build` (no mongoose hydration). Per-document
   * refusals come back by index; any other failure (the server is unreachable) deletes whatever
   * part of the batch may have been written and rethrows.
   */
  async insertMany(defs: JobDefinition[]): Promise<InsertManyResult> {
    const docs = defs.map(toJobDoc);
    const failed = new Map<number, ValidationError>();
    try {
      // One document goes as insertOne: the driver's bulk machinery costs more than the command.
      if (docs.length === 1) await this.models.Job.collection.insertOne(docs[0]!);
      else await this.models.Job.collection.insertMany(docs, { ordered: false });
    } catch (err) {
      const rejections = docs.length === 1 ? [[0, storeRejection(err)] as const] : writeRejections(err);
      if (rejections.length === 0 || rejections.some(([, r]) => r === null)) {
        // Best effort and in the background: the server is most likely unreachable right now.
        this.deleteMany(defs.map((d) => d.id)).catch(() => undefined);
        throw err;
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
  async deleteMany(ids: string[]): Promise<number> {
    const oids = ids.map(toObjectId).filter((o): o is Types.ObjectId => o !== null);
    if (oids.length === 0) return 0;
    const res = await this.models.Job.deleteMany({ _id: { $in: oids } });
    return res.deletedCount;
  }

  async findById(id: string): Promise<JobDefinition | null> {
    const oid = toObjectId(id);
    if (!oid) return null;
    const doc = await this.models.Job.findById(oid).lean<JobDoc>();
    return doc ? toJobDefinition(doc) : null;
  }

  /**
   * Definitions by id in one query (`$in`, or an equality for one id: FerretDB scans the collection
   * for any `$in`, but finds one `_id` directly); ids that do not exist are simply absent.
   */
  async findByIds(ids: string[]): Promise<JobDefinition[]> {
    const oids = ids.map(toObjectId).filter((o): o is Types.ObjectId => o !== null);
    if (oids.length === 0) return [];
    const docs = await this.models.Job.find({ _id: oids.length === 1 ? oids[0] : { $in: oids } }).lean<JobDoc[]>();
    return docs.map(toJobDefinition);
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
    ).catch((err: unknown) => {
      throw storeRejection(err) ?? err;
    });
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

  /** Every scheduled definition (what must have a BullMQ counterpart). */
  async listActive(): Promise<JobDefinition[]> {
    const docs = await this.models.Job.find(ACTIVE_JOBS.filter).sort(ACTIVE_JOBS.sort).lean<JobDoc[]>();
    return docs.map(toJobDefinition);
  }
}

export type { CreateJobInput };
