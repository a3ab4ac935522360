import type { Actor } from '../domain/access';
import { ConflictError, NotFoundError } from '../domain/errors';
import type { Quotas } from './quotas';
import type { DeadLetterEntry } from '../domain/execution';
import type { Page } from '../persistence/paging';
import type { DeadLetterListFilter, DeadLetterRepository } from '../persistence/dead-letter-repository';
import type { JobRepository } from '../persistence/job-repository';
import type { JobQueue } from '../queue/job-queue';
import { newRunId, type RunAccepted } from './job-service';

/** Runs whose last attempt failed (or that stalled too often): inspect, retry, dismiss. */
export class DeadLetterService {
  constructor(
    private readonly deps: {
      deadLetters: DeadLetterRepository;
      jobs: JobRepository;
      queue: JobQueue;
      quotas?: Pick<Quotas, 'consumeTriggers'>;
      now?: () => number;
    },
  ) {}

  list(filter: DeadLetterListFilter): Promise<Page<DeadLetterEntry>> {
    return this.deps.deadLetters.list(filter);
  }

  async get(id: string): Promise<DeadLetterEntry> {
    const entry = await this.deps.deadLetters.findById(id);
    if (!entry) throw new NotFoundError(`Dead-letter entry ${id} does not exist`);
    return entry;
  }

  /** Runs the job once more (its current definition), as a fresh run with its own attempts. */
  async retry(id: string, by?: Actor): Promise<RunAccepted> {
    const entry = await this.get(id);
    await this.deps.quotas?.consumeTriggers(by, 1);
    if (entry.state !== 'open') throw new ConflictError(`Dead-letter entry ${id} was already retried`);
    const def = await this.deps.jobs.findById(entry.jobId);
    if (!def) throw new ConflictError(`Job ${entry.jobId} was deleted; the entry can only be dismissed`);
    const runId = newRunId(def.id, 'r');
    const marked = await this.deps.deadLetters.markRetried(id, runId, new Date((this.deps.now ?? Date.now)()));
    if (!marked) throw new ConflictError(`Dead-letter entry ${id} was already retried`);
    try {
      await this.deps.queue.enqueueRun(def, runId, 'dead-letter-retry');
    } catch (err) {
      await this.deps.deadLetters.reopen(id).catch(() => undefined);
      throw err;
    }
    return { jobId: def.id, runId };
  }

  async dismiss(id: string): Promise<void> {
    if (!(await this.deps.deadLetters.delete(id))) throw new NotFoundError(`Dead-letter entry ${id} does not exist`);
  }
}
