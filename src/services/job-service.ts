import { ConflictError, NotFoundError, PreconditionFailedError, ValidationError, type AppError } from '../domain/errors';
import type { ExecutionRecord } from '../domain/execution';
import { isJobId } from '../domain/ids';
import { randomHex } from '../lib/random-id';
import { payloadErrors, type CreateJobInput, type JobDefinition, type PatchJobInput } from '../domain/job-definition';
import { firstRunAt, isRepeating, type Schedule } from '../domain/schedule';
import type { HandlerRegistry } from '../handlers/registry';
import type { Logger } from '../observability/logger';
import type { Page } from '../persistence/paging';
import type { ExecutionListFilter, ExecutionRepository } from '../persistence/execution-repository';
import { type InsertManyResult, type JobListFilter, type JobRepository, type NewJob } from '../persistence/job-repository';
import type { JobQueue } from '../queue/job-queue';
import type { DefinitionCache } from '../persistence/definition-cache';

export interface JobServiceDeps {
  jobs: JobRepository;
  executions: ExecutionRepository;
  queue: JobQueue;
  registry: HandlerRegistry;
  logger: Logger;
  defaultTimeoutMs: number;
  now?: () => number;
  /** Read-through cache for triggers (kept in step by pub/sub invalidations); without it, a read each. */
  definitions?: Pick<DefinitionCache, 'get' | 'invalidate'>;
}

export interface RunAccepted {
  jobId: string;
  runId: string;
}

/** One item of triggerMany: the queued run, or why none was queued for it. */
export type TriggerOutcome = { index: number; run: RunAccepted; error?: undefined } | { index: number; error: AppError; run?: undefined };

/** Definitions a batch of triggers reads from the store at once (those not in the cache). */
const TRIGGER_READS_IN_FLIGHT = 16;

/** One item of createMany: the created definition, or why it was not created. */
export type CreateOutcome = { index: number; job: JobDefinition; error?: undefined } | { index: number; error: AppError; job?: undefined };

export function newRunId(jobId: string, kind: 'm' | 'r'): string {
  return `${jobId}-${kind}-${randomHex(6)}`;
}

/** One-time definitions created in bulk and due within this long are announced to the workers. */
const PREFETCH_HORIZON_MS = 60_000;
/**
 * A bulk create registers its one-time jobs while MongoDB inserts them when all are due at least
 * this much later: twice the driver's socket timeout, so no such job comes due before the insert
 * has either been acknowledged or given up on (and undone).
 */
export const OVERLAP_LEAD_MS = 60_000;

/** When a one-time schedule is due, fixed at the moment it is (re)scheduled. */
function dueAt(s: Schedule, now: number): Date | null {
  if (s.kind === 'once') return new Date(Date.parse(s.runAt));
  if (s.kind === 'delay') return new Date(now + s.delayMs);
  return null;
}

/**
 * Use cases on definitions. MongoDB is written first and the BullMQ side second; when the second
 * step fails the first is undone, so a definition is either fully registered or not changed.
 */
export class JobService {
  private readonly now: () => number;

  constructor(private readonly deps: JobServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** The document of a new definition (its input validated by createJobSchema). */
  private newJob(input: CreateJobInput, now: number): NewJob {
    const { timeoutMs, ...rest } = input;
    return {
      ...rest,
      timeoutMs: timeoutMs ?? this.deps.defaultTimeoutMs,
      status: 'scheduled',
      nextRunAt: dateOrNull(firstRunAt(input.schedule, now)),
      dueAt: dueAt(input.schedule, now),
    };
  }

  /**
   * One definition, through the same steps as a batch of one: so a one-time job due a minute or more
   * later is registered while MongoDB inserts it, and one due soon is announced to the workers.
   */
  async create(input: CreateJobInput): Promise<JobDefinition> {
    const outcome = (await this.createMany([{ index: 0, input }]))[0]!;
    if (outcome.error) throw outcome.error;
    return outcome.job;
  }

  /**
   * Creates many definitions with one insertMany and one BullMQ registration round (addBulk for the
   * one-time ones, one upsert per repeating one): answered per item, in input order.
   *
   * MongoDB is written before BullMQ, except that when every one-time definition of the batch is
   * due at least OVERLAP_LEAD_MS later, their addBulk runs while the insert runs (the two take
   * about as long as each other). None of those jobs can start before the insert has ended (the
   * driver gives up on a reply after 30 s), and the reconciler leaves such fresh jobs alone for a
   * while. Items whose insert or registration failed are undone on the other side (deleteMany, or
   * removal of their jobs), so no definition is left half-created. A MongoDB failure of the insert
   * itself fails the whole call.
   */
  async createMany(items: { index: number; input: CreateJobInput }[]): Promise<CreateOutcome[]> {
    const now = this.now();
    const outcomes: CreateOutcome[] = [];
    const valid: { index: number; job: NewJob }[] = [];
    for (const { index, input } of items) {
      try {
        valid.push({ index, job: this.newJob(input, now) });
      } catch (err) {
        outcomes.push({ index, error: err as AppError });
      }
    }
    if (valid.length === 0) return outcomes;
    const { jobs, queue, logger } = this.deps;
    const defs = jobs.build(
      valid.map((v) => v.job),
      new Date(now),
    );
    const once = defs.filter((d) => !isRepeating(d.schedule));
    const overlap = once.length > 0 && once.every((d) => (d.dueAt?.getTime() ?? now) - now >= OVERLAP_LEAD_MS);
    const early = overlap ? once : [];
    const earlyIds = new Set(early.map((d) => d.id));
    const registeringEarly = queue.registerMany(early, now);
    let result: InsertManyResult;
    try {
      result = await jobs.insertMany(defs);
    } catch (err) {
      await this.removeEarly(await registeringEarly, early);
      throw err;
    }
    const { inserted, rejected } = result;
    for (const r of rejected) outcomes.push({ index: valid[r.index]!.index, error: r.error });
    const failed = await registeringEarly;
    const refused = rejected.map((r) => defs[r.index]!).filter((d) => earlyIds.has(d.id));
    if (refused.length > 0) await this.removeEarly(failed, refused);
    await this.announce(
      inserted.map((i) => i.def),
      now,
    );
    const late = inserted.map((i) => i.def).filter((d) => !earlyIds.has(d.id));
    // Redis already failed the registration made ahead: fail the rest at once, not after another timeout.
    const earlyError = failed.values().next().value;
    if (earlyError) for (const d of late) failed.set(d.id, earlyError);
    else for (const [id, err] of await queue.registerMany(late, now)) failed.set(id, err);
    const undo = inserted.filter((i) => failed.has(i.def.id)).map((i) => i.def.id);
    if (undo.length > 0) {
      await jobs.deleteMany(undo).catch((err: unknown) => logger.error({ err, count: undo.length }, 'could not undo create'));
    }
    for (const { index, def } of inserted) {
      const error = failed.get(def.id);
      outcomes.push(error ? { index: valid[index]!.index, error } : { index: valid[index]!.index, job: def });
    }
    return outcomes.sort((a, b) => a.index - b.index);
  }

  /** Removes the jobs registered ahead of an insert for definitions that were not stored after all. */
  private async removeEarly(failed: Map<string, unknown>, defs: JobDefinition[]): Promise<void> {
    const registered = defs.filter((d) => !failed.has(d.id));
    const left = await this.deps.queue.unregisterMany(registered);
    if (left > 0) this.deps.logger.warn({ count: left }, 'jobs of definitions not stored were left in Redis; workers skip them');
  }

  /**
   * Tells the workers about new definitions that run soon (repeating ones, and one-time ones due
   * within PREFETCH_HORIZON_MS), before they are registered: the workers read them in one query
   * instead of one read per first run. Best effort: a worker that misses it reads on demand.
   */
  private async announce(defs: JobDefinition[], now: number): Promise<void> {
    const soon = defs.filter((d) => isRepeating(d.schedule) || (d.dueAt?.getTime() ?? now) - now <= PREFETCH_HORIZON_MS);
    if (soon.length === 0) return;
    await this.deps.queue
      .announce(soon.map((d) => d.id))
      .catch((err: unknown) => this.deps.logger.debug({ err }, 'new definitions not announced'));
  }

  async get(id: string): Promise<JobDefinition> {
    const def = await this.deps.jobs.findById(id);
    if (!def) throw new NotFoundError(`Job ${id} does not exist`);
    return def;
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
    this.deps.definitions?.invalidate(cur.id);
    await this.deps.queue
      .invalidate(cur.id)
      .catch((err: unknown) => this.deps.logger.warn({ err, jobId: cur.id }, 'invalidation not published'));
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
      const errors = payloadErrors(this.deps.registry, cur.handler, patch.payload);
      if (errors.length > 0) throw new ValidationError('Invalid payload', errors);
    }
    const set: Partial<NewJob> = { ...patch } as Partial<NewJob>;
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

  async delete(id: string, ifMatch?: number): Promise<void> {
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
    this.deps.definitions?.invalidate(id);
    await this.deps.queue.invalidate(id).catch((err: unknown) => this.deps.logger.warn({ err, jobId: id }, 'invalidation not published'));
    // Its attempts in flight stop too (a deleted job must not hold worker slots).
    await this.deps.queue
      .cancelRuns(id, 'deleted')
      .catch((err: unknown) => this.deps.logger.warn({ err, jobId: id }, 'cancel of runs in flight not published'));
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

  async trigger(id: string): Promise<RunAccepted> {
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
  async triggerMany(ids: string[]): Promise<TriggerOutcome[]> {
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

function dateOrNull(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}
