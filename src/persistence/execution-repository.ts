import type { QueryFilter } from 'mongoose';
import type { ExecutionRecord } from '../domain/execution';
import type { ExecutionStatus } from '../domain/job-definition';
import type { RunSample } from '../domain/job-stats';
import { decodeCursor, invalidCursor, pageOf, type Page } from './paging';
import { RETENTION_QUERIES } from './retention-queries';
import { store } from './store-errors';
import { toObjectId } from './job-repository';
import type { ExecutionDoc, Models } from './models';

export function toExecutionRecord(doc: ExecutionDoc): ExecutionRecord {
  return {
    id: doc._id,
    jobId: doc.jobId.toHexString(),
    runId: doc.runId,
    attempt: doc.attempt,
    status: doc.status as ExecutionStatus,
    trigger: doc.trigger as ExecutionRecord['trigger'],
    scheduledFor: doc.scheduledFor ?? null,
    startedAt: doc.startedAt,
    finishedAt: doc.finishedAt ?? null,
    durationMs: doc.durationMs ?? null,
    driftMs: doc.driftMs ?? null,
    workerId: doc.workerId,
    error: (doc.error ?? null) as ExecutionRecord['error'],
    result: doc.result ?? null,
  };
}

export function toExecutionDoc(r: ExecutionRecord): ExecutionDoc {
  const { id, jobId, ...rest } = r;
  return { _id: id, jobId: toObjectId(jobId)!, ...rest } as ExecutionDoc;
}

export interface ExecutionListFilter {
  jobId: string;
  status?: ExecutionStatus;
  limit: number;
  cursor?: string;
}

/** Newest first by startedAt, keyed by (startedAt, _id); served by executions_jobId[_status]_startedAt. */
export function buildExecutionQuery(f: Omit<ExecutionListFilter, 'limit'>): QueryFilter<ExecutionDoc> {
  const filter: QueryFilter<ExecutionDoc> = { jobId: toObjectId(f.jobId) };
  if (f.status) filter.status = f.status;
  if (f.cursor) {
    const [at, id] = decodeCursor(f.cursor, 2);
    const startedAt = new Date(Number(at));
    if (Number.isNaN(startedAt.getTime()) || typeof id !== 'string') throw invalidCursor();
    filter.$or = [{ startedAt: { $lt: startedAt } }, { startedAt, _id: { $lt: id } }];
  }
  return filter;
}

export const EXECUTION_SORT = { startedAt: -1, _id: -1 } as const;

/** Records of any of these runs (served by `executions_runId`). */
export function runIdsFilter(runIds: string[]) {
  return { runId: { $in: runIds } };
}

/**
 * The stats read: a job's records that started since `from`, newest first, served by
 * `executions_jobId_startedAt` (equality on jobId, range and sort on startedAt).
 */
export const STATS_QUERY = {
  filter: (jobId: string, from: Date) => ({ jobId: toObjectId(jobId), startedAt: { $gte: from } }),
  sort: { startedAt: -1 } as const,
  projection: { status: 1, startedAt: 1, durationMs: 1, driftMs: 1, error: 1 },
};

/** Records that finished since `from` (served by `executions_finishedAt`). */
export function finishedSince(from: Date) {
  return { finishedAt: { $gte: from } };
}

export class ExecutionRepository {
  constructor(private readonly models: Models) {}

  findById(id: string): Promise<ExecutionRecord | null> {
    return store(async () => {
      const doc = await this.models.Execution.findById(id).lean<ExecutionDoc>();
      return doc ? toExecutionRecord(doc) : null;
    });
  }

  /** What the stats need of the job's records since `from`, the newest `max` of them. */
  samplesSince(jobId: string, from: Date, max: number): Promise<RunSample[]> {
    return store(async () => {
      const docs = await this.models.Execution.find(STATS_QUERY.filter(jobId, from), STATS_QUERY.projection)
        .sort(STATS_QUERY.sort)
        .limit(max)
        .lean<Pick<ExecutionDoc, '_id' | 'status' | 'startedAt' | 'durationMs' | 'driftMs' | 'error'>[]>();
      return docs.map((d) => ({
        id: d._id,
        status: d.status as ExecutionStatus,
        startedAt: d.startedAt,
        durationMs: d.durationMs ?? null,
        driftMs: d.driftMs ?? null,
        error: (d.error ?? null) as RunSample['error'],
      }));
    });
  }

  /** How many records finished since `from`, by status (one `$group` pass). */
  countFinishedSince(from: Date): Promise<Map<ExecutionStatus, number>> {
    return store(async () => {
      const rows = await this.models.Execution.aggregate<{ _id: ExecutionStatus; n: number }>([
        { $match: finishedSince(from) },
        { $group: { _id: '$status', n: { $sum: 1 } } },
      ]);
      return new Map(rows.map((r) => [r._id, r.n]));
    });
  }

  listForJob(f: ExecutionListFilter): Promise<Page<ExecutionRecord>> {
    return store(async () => {
      const docs = await this.models.Execution.find(buildExecutionQuery(f))
        .sort(EXECUTION_SORT)
        .limit(f.limit + 1)
        .lean<ExecutionDoc[]>();
      return pageOf(docs, f.limit, toExecutionRecord, (last) => [last.startedAt.getTime(), last.id]);
    });
  }

  /** Ids among `ids` that have a record; used only when a stalled attempt must be accounted for. */
  existingIds(ids: string[]): Promise<Set<string>> {
    return store(async () => {
      const docs = await this.models.Execution.find({ _id: { $in: ids } }, { _id: 1 }).lean<ExecutionDoc[]>();
      return new Set(docs.map((d) => d._id));
    });
  }

  /** Which of these run ids have at least one execution record. */
  runIdsWithRecords(runIds: string[]): Promise<Set<string>> {
    return store(async () => {
      const docs = await this.models.Execution.find(runIdsFilter(runIds), { runId: 1, _id: 0 }).lean<{ runId: string }[]>();
      return new Set(docs.map((d) => d.runId));
    });
  }

  /** Deletes every record that finished before `cutoff` (served by `executions_finishedAt`); returns how many. */
  deleteFinishedBefore(cutoff: Date): Promise<number> {
    return store(async () => (await this.models.Execution.deleteMany(RETENTION_QUERIES.finishedBefore(cutoff))).deletedCount);
  }

  /**
   * Keeps the job's newest `keep` records and deletes the rest: finds the first one past the limit
   * (served by `executions_jobId_startedAt`) and deletes it and everything that started before.
   */
  trimJob(jobId: string, keep: number): Promise<number> {
    const oid = toObjectId(jobId);
    if (!oid) return Promise.resolve(0);
    return store(async () => {
      const [cut] = await this.models.Execution.find({ jobId: oid }, { startedAt: 1 })
        .sort(RETENTION_QUERIES.newestFirst)
        .skip(keep)
        .limit(1)
        .lean<{ startedAt: Date }[]>();
      if (!cut) return 0;
      return (await this.models.Execution.deleteMany({ jobId: oid, startedAt: { $lte: cut.startedAt } })).deletedCount;
    });
  }
}
