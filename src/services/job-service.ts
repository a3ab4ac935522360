import { ConflictError, NotFoundError, PreconditionFailedError, ValidationError, type AppError } from '../domain/errors';
import type { ExecutionRecord } from '../domain/execution';
import { isJobId } from '../domain/ids';
import { randomHex } from '../lib/random-id';
import { dateOrNull, dueAt, JobCreation, newSigningSecret, type CreateOutcome, type Created } from './job-creation';
import type { Actor } from '../domain/access';
import {
  payloadErrors,
  secretFieldsOf,
  type CreateJobInput,
  type HandlerCatalog,
  type JobDefinition,
  type PatchJobInput,
} from '../domain/job-definition';
import { firstRunAt, isRepeating } from '../domain/schedule';
import { hasPath, mapPaths, parsePath, REDACTED, valueAt } from '../domain/secrets';
import type { Sealer } from '../lib/sealing';
import type { Quotas } from './quotas';
import type { Logger } from '../observability/logger';
import type { Page } from '../persistence/paging';
import type { ExecutionListFilter, ExecutionRepository } from '../persistence/execution-repository';
import { type JobListFilter, type JobRepository, type NewJob } from '../persistence/job-repository';
import type { JobQueue } from '../queue/job-queue';
import type { DefinitionCache } from '../services/definition-cache';

export interface JobServiceDeps {
  jobs: JobRepository;
  executions: ExecutionRepository;
  queue: JobQueue;
  handlers: HandlerCatalog;
  sealer: Sealer;
  logger: Logger;
  defaultTimeoutMs: number;
  now?: () => number;
  /** Read-through cache for triggers (kept in step by pub/sub invalidations); without it, a read each. */
  definitions?: Pick<DefinitionCache, 'get' | 'invalidate'>;
  /** Per-key quotas; without them, none. */
  quotas?: Pick<Quotas, 'reserveJobs' | 'releaseJobs' | 'consumeTriggers'>;
}

export interface RunAccepted {
  jobId: string;
  runId: string;
}

/** One item of triggerMany: the queued run, or why none was queued for it. */
export type TriggerOutcome = { index: number; run: RunAccepted; error?: undefined } | { index: number; error: AppError; run?: undefined };

/** Definitions a batch of triggers reads from the store at once (those not in the cache). */
const TRIGGER_READS_IN_FLIGHT = 16;

export function newRunId(jobId: string, kind: 'm' | 'r'): string {
  return `${jobId}-${kind}-${randomHex(6)}`;
}

/** After a rotation the previous signing secret signs beside the new one this long. */
export const SIGNING_OVERLAP_MS = 24 * 3600_000;

/** What an execution id may look like (`<runId>.<attempt>`); anything else is not looked up. */
const EXECUTION_ID = /^[A-Za-z0-9:._-]{1,300}$/;

/**
 * Use cases on definitions. MongoDB is written first and the BullMQ side second; when the second
 * step fails the first is undone, so a definition is either fully registered or not changed.
 */
export class JobService {
  private readonly now: () => number;
  private readonly creation: JobCreation;

  constructor(private readonly deps: JobServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.creation = new JobCreation(deps);
  }

  /** One definition, stored and registered (JobCreation); `by` owns it when it is a stored key. */
  async create(input: CreateJobInput, by?: Actor): Promise<Created> {
    await this.deps.quotas?.reserveJobs(by, 1);
    try {
      return await this.creation.create(input, ownerOf(by));
    } catch (err) {
      await this.deps.quotas?.releaseJobs(ownerOf(by), 1);
      throw err;
    }
  }

  /** Many definitions, answered per item in input order (JobCreation). */
  async createMany(items: { index: number; input: CreateJobInput }[], by?: Actor): Promise<CreateOutcome[]> {
    await this.deps.quotas?.reserveJobs(by, items.length);
    let outcomes: CreateOutcome[] = [];
    try {
      outcomes = await this.creation.createMany(items, ownerOf(by));
      return outcomes;
    } finally {
      await this.deps.quotas?.releaseJobs(ownerOf(by), items.length - outcomes.filter((o) => !o.error).length);
    }
  }

  async get(id: string): Promise<JobDefinition> {
    const def = await this.deps.jobs.findById(id);
    if (!def) throw new NotFoundError(`Job ${id} does not exist`);
    return def;
  }

  /** One execution record, also of a job deleted since. */
  async getExecution(id: string): Promise<ExecutionRecord> {
    const record = EXECUTION_ID.test(id) ? await this.deps.executions.findById(id) : null;
    if (!record) throw new NotFoundError(`Execution ${id} does not exist`);
    return record;
  }

  async getWithExecutions(id: string, recent = 10): Promise<{ job: JobDefinition; recentExecutions: ExecutionRecord[] }> {
    const [job, page] = await this.withDefinition(id, () => this.deps.executions.listForJob({ jobId: id, limit: recent }));
    return { job, recentExecutions: page.items };
  }

  /** A page of the job's history; NotFoundError when the job does not exist. */
  async listExecutions(filter: ExecutionListFilter): Promise<Page<ExecutionRecord>> {
    const [, page] = await this.withDefinition(filter.jobId, () => this.deps.executions.listForJob(filter));
    return page;
  }

  /**
   * The definition and `read` of its history, sent together: the answer waits for the slower of
   * the two instead of both in turn. A malformed id is answered 404 without reading anything.
   */
  private async withDefinition<T>(id: string, read: () => Promise<T>): Promise<[JobDefinition, T]> {
    if (!isJobId(id)) throw new NotFoundError(`Job ${id} does not exist`);
    const reading = read();
    reading.catch(() => undefined);
    return [await this.get(id), await reading];
  }

  list(filter: JobListFilter): Promise<Page<JobDefinition>> {
    return this.deps.jobs.list(filter);
  }

  private checkVersion(def: JobDefinition, ifMatch: number | undefined): void {
    if (ifMatch !== undefined && ifMatch !== def.version) {
      throw new PreconditionFailedError(`Job ${def.id} is at version ${def.version}, not ${ifMatch}`);
    }
  }

  /** Writes `set` at the current version, then brings BullMQ in line; undoes the write if that fails. */
  private async transition(cur: JobDefinition, set: Partial<NewJob>, ifMatch: number | undefined): Promise<JobDefinition> {
    const next = await this.deps.jobs.updateIfVersion(cur.id, cur.version, set);
    if (!next) {
      if (ifMatch !== undefined) throw new PreconditionFailedError(`Job ${cur.id} was modified concurrently`);
      throw new ConflictError(`Job ${cur.id} was modified concurrently; retry the request`);
    }
    try {
      await this.syncQueue(cur, next);
    } catch (err) {
      await this.deps.jobs.restore(cur).catch((e: unknown) => this.deps.logger.error({ err: e, jobId: cur.id }, 'could not undo update'));
      throw err;
    }
    await this.invalidate(cur.id);
    return next;
  }

  private async syncQueue(prev: JobDefinition, next: JobDefinition): Promise<void> {
    const { queue } = this.deps;
    if (next.status === 'scheduled') await queue.register(next, this.now());
    const wasActive = prev.status === 'scheduled';
    const sameCounterpart = isRepeating(prev.schedule) && isRepeating(next.schedule) && next.status === 'scheduled';
    if (wasActive && !sameCounterpart) await queue.unregister(prev);
  }

  async update(id: string, patch: PatchJobInput, ifMatch?: number): Promise<JobDefinition> {
    const cur = await this.get(id);
    this.checkVersion(cur, ifMatch);
    if (patch.payload !== undefined && patch.handler === undefined) {
      const errors = payloadErrors(this.deps.handlers, cur.handler, patch.payload);
      if (errors.length > 0) throw new ValidationError('Invalid payload', errors);
    }
    const set: Partial<NewJob> = { ...patch } as Partial<NewJob>;
    if (patch.notify !== undefined) set.notify = patch.notify ?? {};
    if (patch.payload !== undefined)
      Object.assign(set, this.patchedPayload(cur, patch.handler ?? cur.handler, patch.payload, patch.secretFields));
    if (patch.schedule) {
      const now = this.now();
      set.dueAt = dueAt(patch.schedule, now);
      // A new schedule brings a finished job back to life; a paused one stays paused.
      if (cur.status === 'completed' || cur.status === 'failed' || cur.status === 'cancelled') set.status = 'scheduled';
      const active = (set.status ?? cur.status) === 'scheduled';
      set.nextRunAt = active ? dateOrNull(firstRunAt(patch.schedule, now)) : null;
    }
    return this.transition(cur, set, ifMatch);
  }

  /**
   * A new payload with its secret fields sealed. A secret field sent as REDACTED (as the API shows
   * it) keeps the value stored for it, so that a client can edit a job without knowing its secrets.
   */
  private patchedPayload(cur: JobDefinition, handler: string, payload: Record<string, unknown>, named?: string[]) {
    const kept = named ?? cur.secretFields.filter((f) => hasPath(payload, parsePath(f)));
    const secretFields = secretFieldsOf(this.deps.handlers, handler, payload, kept);
    const stored = new Set(cur.secretFields);
    const sealed = mapPaths(payload, secretFields.map(parsePath), (v, path) =>
      v === REDACTED && stored.has(path.join('.')) ? valueAt(cur.payload, path) : this.deps.sealer.seal(JSON.stringify(v)),
    );
    return { secretFields, payload: sealed };
  }

  async pause(id: string, ifMatch?: number): Promise<JobDefinition> {
    const cur = await this.get(id);
    this.checkVersion(cur, ifMatch);
    if (cur.status === 'paused') return cur;
    if (cur.status !== 'scheduled') throw new ConflictError(`Job ${id} is ${cur.status}; only scheduled jobs can be paused`);
    return this.transition(cur, { status: 'paused', nextRunAt: null }, ifMatch);
  }

  async resume(id: string, ifMatch?: number): Promise<JobDefinition> {
    const cur = await this.get(id);
    this.checkVersion(cur, ifMatch);
    if (cur.status === 'scheduled') return cur;
    if (cur.status !== 'paused') throw new ConflictError(`Job ${id} is ${cur.status}; only paused jobs can be resumed`);
    const now = this.now();
    const nextRunAt = isRepeating(cur.schedule)
      ? dateOrNull(firstRunAt(cur.schedule, now))
      : new Date(Math.max(cur.dueAt?.getTime() ?? now, now));
    return this.transition(cur, { status: 'scheduled', nextRunAt }, ifMatch);
  }

  /** Deletes the job (and its schedule), aborts its attempts in flight; returns what was deleted. */
  async delete(id: string, ifMatch?: number): Promise<JobDefinition> {
    const cur = await this.get(id);
    this.checkVersion(cur, ifMatch);
    // BullMQ first: if Redis is down nothing changes and the client can retry.
    if (cur.status === 'scheduled') await this.deps.queue.unregister(cur);
    if (!(await this.deps.jobs.delete(id, cur.version))) {
      // It changed between the read and the delete: put its BullMQ side back and let the client decide.
      const now = await this.deps.jobs.findById(id);
      if (now?.status === 'scheduled') await this.deps.queue.register(now);
      if (!now) throw new NotFoundError(`Job ${id} does not exist`);
      throw ifMatch !== undefined
        ? new PreconditionFailedError(`Job ${id} was modified concurrently`)
        : new ConflictError(`Job ${id} was modified concurrently; retry the request`);
    }
    await this.invalidate(id);
    // Its attempts in flight stop too (a deleted job must not hold worker slots).
    await this.deps.queue
      .cancelRuns(id, 'deleted')
      .catch((err: unknown) => this.deps.logger.warn({ err, jobId: id }, 'cancel of runs in flight not published'));
    await this.deps.quotas?.releaseJobs(cur.ownerKeyId, 1);
    return cur;
  }

  /**
   * A new webhook signing secret for the job, returned once. The previous one keeps signing beside it
   * for SIGNING_OVERLAP_MS, so that receivers can switch without dropping a call; older ones go.
   */
  async rotateSigningSecret(id: string, ifMatch?: number): Promise<{ job: JobDefinition; signingSecret: string }> {
    const cur = await this.get(id);
    this.checkVersion(cur, ifMatch);
    const now = this.now();
    const signingSecret = newSigningSecret();
    const kept = cur.signingSecrets
      .filter((s) => s.expiresAt === null || s.expiresAt.getTime() > now)
      .slice(0, 1)
      .map((s) => ({ ...s, expiresAt: s.expiresAt ?? new Date(now + SIGNING_OVERLAP_MS) }));
    const signingSecrets = [{ sealed: this.deps.sealer.seal(signingSecret), createdAt: new Date(now), expiresAt: null }, ...kept];
    // Not a new version: the schedule and the runs queued for it stay as they are; workers re-read it.
    const job = await this.deps.jobs.setSigningSecrets(cur.id, cur.version, signingSecrets);
    if (!job) throw new ConflictError(`Job ${cur.id} was modified concurrently; retry the request`);
    await this.invalidate(cur.id);
    return { job, signingSecret };
  }

  /** Tells the workers (and this process's cache) that the definition changed. */
  private async invalidate(id: string): Promise<void> {
    this.deps.definitions?.invalidate(id);
    await this.deps.queue.invalidate(id).catch((err: unknown) => this.deps.logger.warn({ err, jobId: id }, 'invalidation not published'));
  }

  /**
   * Aborts the job's attempts in flight on every worker (recorded `cancelled`, not retried); the job
   * itself stays as it is. Returns the runs that were in flight.
   */
  async cancel(id: string): Promise<{ jobId: string; runIds: string[] }> {
    const def = await this.get(id);
    const runIds = await this.deps.queue.activeRunIds(def.id);
    if (runIds.length > 0) await this.deps.queue.cancelRuns(def.id, 'cancelled');
    return { jobId: def.id, runIds };
  }

  async trigger(id: string, by?: Actor): Promise<RunAccepted> {
    await this.deps.quotas?.consumeTriggers(by, 1);
    const def = await this.findForTrigger(id);
    if (!def) throw new NotFoundError(`Job ${id} does not exist`);
    const runId = newRunId(def.id, 'm');
    await this.deps.queue.enqueueRun(def, runId, 'manual');
    return { jobId: def.id, runId };
  }

  /**
   * A manual run of each listed job (an id may repeat: one run per occurrence), queued with one
   * BullMQ `addBulk`. An id with no job is answered on its own (404); a store or Redis failure
   * fails the whole call and queues nothing.
   */
  async triggerMany(ids: string[], by?: Actor): Promise<TriggerOutcome[]> {
    await this.deps.quotas?.consumeTriggers(by, ids.length);
    const defs = new Map<string, JobDefinition | null>();
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += TRIGGER_READS_IN_FLIGHT) {
      const chunk = unique.slice(i, i + TRIGGER_READS_IN_FLIGHT);
      const found = await Promise.all(chunk.map((id) => this.findForTrigger(id)));
      chunk.forEach((id, k) => defs.set(id, found[k]!));
    }
    const outcomes: TriggerOutcome[] = [];
    const runs: { def: JobDefinition; runId: string }[] = [];
    ids.forEach((id, index) => {
      const def = defs.get(id);
      if (!def) {
        outcomes.push({ index, error: new NotFoundError(`Job ${id} does not exist`) });
        return;
      }
      const run = { def, runId: newRunId(def.id, 'm') };
      runs.push(run);
      outcomes.push({ index, run: { jobId: def.id, runId: run.runId } });
    });
    if (runs.length > 0) await this.deps.queue.enqueueRuns(runs, 'manual');
    return outcomes;
  }

  /** The definition to trigger: from the cache when there is one, else read; null when there is no such job. */
  private async findForTrigger(id: string): Promise<JobDefinition | null> {
    if (this.deps.definitions) return (await this.deps.definitions.get(id, 0))?.def ?? null;
    return this.deps.jobs.findById(id);
  }
}

/** The key that owns what `by` creates: stored keys only (TOCK_ADMIN_KEY owns nothing). */
function ownerOf(by: Actor | undefined): string | null {
  return by?.stored ? by.keyId : null;
}
