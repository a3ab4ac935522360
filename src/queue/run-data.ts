import type { JobDefinition, Trigger } from '../domain/job-definition';

/** What a BullMQ job carries: the definition's id and version, never its payload (secrets stay out of Redis). */
export interface RunData {
  jobId: string;
  /** The definition's version when the run was queued. */
  version: number;
  trigger: Trigger;
  /** Starts put back because the definition could not be read (not attempts). */
  postponed?: number;
}

/** Runs queued before the fields had names (`{ d, v, t, p }`) are read as well. */
interface LegacyRunData {
  d: string;
  v: number;
  t: Trigger;
  p?: number;
}

export function runData(def: Pick<JobDefinition, 'id' | 'version'>, trigger: Trigger): RunData {
  return { jobId: def.id, version: def.version, trigger };
}

export function readRunData(raw: unknown): RunData {
  const data = (raw ?? {}) as Partial<RunData & LegacyRunData>;
  if (typeof data.jobId === 'string') return data as RunData;
  return { jobId: String(data.d ?? ''), version: Number(data.v ?? 0), trigger: data.t ?? 'manual', postponed: data.p };
}

export function onceJobId(def: Pick<JobDefinition, 'id' | 'version'>): string {
  return `${def.id}-v${def.version}`;
}

/** Parses the slot time out of a Job Scheduler job id (`repeat:<schedulerId>:<millis>`). */
export function slotFromJobId(jobId: string | undefined): number | null {
  const m = /^repeat:[^:]+:(\d+)$/.exec(jobId ?? '');
  return m ? Number(m[1]) : null;
}

/**
 * A run as a worker receives it from the queue: what the run use case reads of BullMQ's job, and
 * the one thing it may ask of it (RunConsumer adapts a BullMQ job to this).
 */
export interface QueuedRun {
  readonly id: string;
  readonly data: RunData;
  /** Starts so far, this one included (BullMQ's attemptsStarted). */
  readonly attemptsStarted: number;
  /** Attempts that ended, failed or succeeded (BullMQ's attemptsMade). */
  readonly attemptsMade: number;
  /** Attempts the run may make. */
  readonly maxAttempts: number;
  /** Occurrences its Job Scheduler had produced when it was queued (0 for other runs). */
  readonly iterations: number;
  /** When a worker took it (ms since the epoch). */
  readonly processedOn: number | undefined;
  /** When it was due (ms since the epoch): its scheduler slot, or when the delayed job came due. */
  readonly dueAt: number;
  /** Puts the run back for `delayMs` without using up an attempt; never returns. */
  postpone(delayMs: number): Promise<never>;
}
