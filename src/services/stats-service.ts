import { NotFoundError } from '../domain/errors';
import type { ExecutionRecord } from '../domain/execution';
import { isJobId } from '../domain/ids';
import { JOB_STATUSES, type JobStatus } from '../domain/job-definition';
import { STATS_WINDOWS, summarizeRuns, type JobStats, type StatsWindow } from '../domain/job-stats';
import type { DeadLetterRepository } from '../persistence/dead-letter-repository';
import type { ExecutionRepository } from '../persistence/execution-repository';
import type { JobRepository } from '../persistence/job-repository';
import { QUEUE_STATES, type JobQueue, type QueueCounts } from '../queue/job-queue';

export { QUEUE_STATES };

/** The newest records a stats answer reads: a bound on memory and time for jobs that run every second. */
export const STATS_MAX_RECORDS = 50_000;
/** How long an overview is reused: any number of open dashboards cost one set of reads per interval. */
export const OVERVIEW_TTL_MS = 5000;

export interface JobStatsAnswer extends JobStats {
  jobId: string;
  window: StatsWindow;
  from: Date;
  to: Date;
  /** True when the window holds more than STATS_MAX_RECORDS records and only the newest were read. */
  truncated: boolean;
}

export interface Overview {
  jobs: { total: number; byStatus: Record<JobStatus, number> };
  lastHour: { runs: number; succeeded: number; failed: number };
  deadLetter: { open: number };
  queue: QueueCounts;
  workers: { connected: number; ids: string[] };
  at: Date;
}

export interface StatsServiceDeps {
  jobs: Pick<JobRepository, 'findById' | 'countByStatus'>;
  executions: Pick<ExecutionRepository, 'samplesSince' | 'listForJob' | 'countFinishedSince'>;
  deadLetters: Pick<DeadLetterRepository, 'countOpen'>;
  queue: Pick<JobQueue, 'counts' | 'workerIds'>;
  now?: () => number;
}

/** Read-only views for people and dashboards: a job's stats and newest run, the system at a glance. */
export class StatsService {
  private readonly now: () => number;
  private overviewCache: { at: number; value: Promise<Overview> } | null = null;

  constructor(private readonly deps: StatsServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  async jobStats(jobId: string, window: StatsWindow): Promise<JobStatsAnswer> {
    const to = new Date(this.now());
    const from = new Date(to.getTime() - STATS_WINDOWS[window]);
    const reading = this.deps.executions.samplesSince(jobId, from, STATS_MAX_RECORDS + 1);
    reading.catch(() => undefined);
    await this.requireJob(jobId);
    const samples = await reading;
    const truncated = samples.length > STATS_MAX_RECORDS;
    return { jobId, window, from, to, truncated, ...summarizeRuns(truncated ? samples.slice(0, STATS_MAX_RECORDS) : samples) };
  }

  /** The job's newest execution record (by start); NotFoundError when the job or its history is empty. */
  async latestExecution(jobId: string): Promise<ExecutionRecord> {
    await this.requireJob(jobId);
    const [latest] = (await this.deps.executions.listForJob({ jobId, limit: 1 })).items;
    if (!latest) throw new NotFoundError(`Job ${jobId} has no executions yet`);
    return latest;
  }

  overview(): Promise<Overview> {
    const now = this.now();
    if (this.overviewCache && now - this.overviewCache.at < OVERVIEW_TTL_MS) return this.overviewCache.value;
    const value = this.readOverview(now);
    this.overviewCache = { at: now, value };
    value.catch(() => {
      if (this.overviewCache?.value === value) this.overviewCache = null;
    });
    return value;
  }

  private async readOverview(now: number): Promise<Overview> {
    const [byStatus, finished, open, queue, ids] = await Promise.all([
      this.deps.jobs.countByStatus(),
      this.deps.executions.countFinishedSince(new Date(now - 3_600_000)),
      this.deps.deadLetters.countOpen(),
      this.deps.queue.counts(),
      this.deps.queue.workerIds(),
    ]);
    const statuses = Object.fromEntries(JOB_STATUSES.map((s) => [s, byStatus.get(s) ?? 0])) as Record<JobStatus, number>;
    const succeeded = finished.get('succeeded') ?? 0;
    const failed = (finished.get('failed') ?? 0) + (finished.get('stalled') ?? 0);
    let runs = 0;
    for (const n of finished.values()) runs += n;
    return {
      jobs: { total: Object.values(statuses).reduce((a, b) => a + b, 0), byStatus: statuses },
      lastHour: { runs, succeeded, failed },
      deadLetter: { open },
      queue,
      workers: { connected: ids.length, ids },
      at: new Date(now),
    };
  }

  private async requireJob(jobId: string): Promise<void> {
    if (!isJobId(jobId) || !(await this.deps.jobs.findById(jobId))) throw new NotFoundError(`Job ${jobId} does not exist`);
  }
}
