import { randomBytes } from 'node:crypto';
import type { AppError } from '../domain/errors';
import { secretFieldsOf, type CreateJobInput, type HandlerCatalog, type JobDefinition } from '../domain/job-definition';
import { mapPaths, parsePath } from '../domain/secrets';
import type { Sealer } from '../lib/sealing';
import { firstRunAt, isRepeating, type Schedule } from '../domain/schedule';
import type { Logger } from '../observability/logger';
import type { InsertManyResult, JobRepository, NewJob } from '../persistence/job-repository';
import type { JobQueue } from '../queue/job-queue';

/** One-time definitions due within this long are announced to the workers when created. */
const PREFETCH_HORIZON_MS = 60_000;
/**
 * One-time definitions due at least this much later are registered while MongoDB inserts them:
 * twice the driver's socket timeout, so no such job comes due before the insert has either been
 * acknowledged or given up on (and undone). See docs/design/bulk-create-and-trigger.md.
 */
export const OVERLAP_LEAD_MS = 60_000;

/** A created definition, with its webhook signing secret: the one time it is shown. */
export interface Created {
  job: JobDefinition;
  signingSecret: string;
}

/** One item of createMany: the created definition, or why it was not created. */
export type CreateOutcome = ({ index: number; error?: undefined } & Created) | { index: number; error: AppError; job?: undefined };

export interface JobCreationDeps {
  jobs: JobRepository;
  queue: JobQueue;
  logger: Logger;
  handlers: HandlerCatalog;
  sealer: Sealer;
  defaultTimeoutMs: number;
  now?: () => number;
}

/** A new webhook signing secret (Standard Webhooks: `whsec_` and 24 random bytes in base64). */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/** A payload with its secret fields sealed (each value JSON-encoded, then encrypted). */
export function sealPayload(sealer: Sealer, payload: Record<string, unknown>, secretFields: readonly string[]): Record<string, unknown> {
  if (secretFields.length === 0) return payload;
  return mapPaths(payload, secretFields.map(parsePath), (v) => sealer.seal(JSON.stringify(v)));
}

/** When a one-time schedule is due, fixed at the moment it is (re)scheduled. */
export function dueAt(s: Schedule, now: number): Date | null {
  if (s.kind === 'once') return new Date(Date.parse(s.runAt));
  if (s.kind === 'delay') return new Date(now + s.delayMs);
  return null;
}

export function dateOrNull(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}

/** True when every one-time definition among `defs` is due OVERLAP_LEAD_MS or later (and there is one). */
function dueLater(defs: JobDefinition[], now: number): boolean {
  return defs.length > 0 && defs.every((d) => (d.dueAt?.getTime() ?? now) - now >= OVERLAP_LEAD_MS);
}

/**
 * Creating definitions: MongoDB is written and BullMQ registered, and when the second step fails
 * the first is undone, so a definition is either fully created or not at all. One-time jobs due a
 * minute or more later are registered while they are inserted (the two take about as long); jobs
 * that run soon are announced to the workers, which read them ahead of their first runs.
 */
export class JobCreation {
  private readonly now: () => number;

  constructor(private readonly deps: JobCreationDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** The document of a new definition (its input validated by createJobSchema), its secrets sealed. */
  private newJob(input: CreateJobInput, now: number, owner: string | null): { job: NewJob; signingSecret: string } {
    const { sealer, handlers } = this.deps;
    const { timeoutMs, secretFields: named, ...rest } = input;
    const secretFields = secretFieldsOf(handlers, input.handler, input.payload, named);
    const signingSecret = newSigningSecret();
    const job: NewJob = {
      ...rest,
      payload: sealPayload(sealer, input.payload, secretFields),
      secretFields,
      signingSecrets: [{ sealed: sealer.seal(signingSecret), createdAt: new Date(now), expiresAt: null }],
      ownerKeyId: owner,
      notify: input.notify ?? {},
      timeoutMs: timeoutMs ?? this.deps.defaultTimeoutMs,
      status: 'scheduled',
      nextRunAt: dateOrNull(firstRunAt(input.schedule, now)),
      dueAt: dueAt(input.schedule, now),
    };
    return { job, signingSecret };
  }

  /** One definition: inserted, then registered (both at once when it is a one-time job due later). */
  async create(input: CreateJobInput, owner: string | null = null): Promise<Created> {
    const { jobs, queue } = this.deps;
    const now = this.now();
    const { job, signingSecret } = this.newJob(input, now, owner);
    const [def] = jobs.build([job], new Date(now));
    const ahead = !isRepeating(def!.schedule) && dueLater([def!], now);
    const registering = ahead ? settle(queue.register(def!, now)) : undefined;
    try {
      await jobs.insert(def!);
    } catch (err) {
      if (registering && !(await registering)) await this.removeEarly(new Map(), [def!]);
      throw err;
    }
    if (!ahead) await this.announce([def!], now);
    const error = await (registering ?? settle(queue.register(def!, now)));
    if (error) {
      await this.undo([def!.id]);
      throw error;
    }
    return { job: def!, signingSecret };
  }

  /**
   * Many definitions with one insertMany and one BullMQ registration round (addBulk for the
   * one-time ones, one upsert per repeating one), answered per item in input order. When every
   * one-time definition of the batch is due OVERLAP_LEAD_MS or later, their addBulk runs while the
   * insert runs. Items whose insert or registration failed are undone on the other side. A MongoDB
   * failure of the insert itself fails the whole call.
   */
  async createMany(items: { index: number; input: CreateJobInput }[], owner: string | null = null): Promise<CreateOutcome[]> {
    if (items.length === 0) return [];
    const { jobs, queue } = this.deps;
    const now = this.now();
    const made = items.map((i) => this.newJob(i.input, now, owner));
    const defs = jobs.build(
      made.map((m) => m.job),
      new Date(now),
    );
    const once = defs.filter((d) => !isRepeating(d.schedule));
    const early = dueLater(once, now) ? once : [];
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
    const outcomes: CreateOutcome[] = rejected.map((r) => ({ index: items[r.index]!.index, error: r.error }));
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
    await this.undo(inserted.filter((i) => failed.has(i.def.id)).map((i) => i.def.id));
    for (const { index, def } of inserted) {
      const error = failed.get(def.id);
      const at = items[index]!.index;
      outcomes.push(error ? { index: at, error } : { index: at, job: def, signingSecret: made[index]!.signingSecret });
    }
    return outcomes.sort((a, b) => a.index - b.index);
  }

  /** Deletes definitions that were stored but could not be registered. */
  private async undo(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.deps.jobs
      .deleteMany(ids)
      .catch((err: unknown) => this.deps.logger.error({ err, count: ids.length }, 'could not undo create'));
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
}

/** The promise's failure as a value (null when it succeeded), so that it can be awaited later without an unhandled rejection. */
function settle(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => null,
    (err: unknown) => err,
  );
}
