/** The read-only views: a job's stats and newest execution, the overview, schedule previews. */
import type { ZodOpenApiOperationObject } from 'zod-openapi';
import { Execution } from '../schemas';
import { JobStats, Overview, SchedulePreview, SchedulePreviewQuery, StatsQuery } from '../stats-schemas';
import { json, lines, ref, requestIdOnly } from './fragments';
import { FAILURES, problem } from './problems';

export const getJobStats: ZodOpenApiOperationObject = {
  tags: ['jobs', 'executions'],
  operationId: 'getJobStats',
  summary: "A job's stats over a window",
  description: lines(
    "Counts by status, success rate, duration and lateness percentiles and the last failure, computed from the job's",
    'execution records that started in the window (1 hour, 24 hours or 7 days, ending now). One indexed read',
    '(`executions_jobId_startedAt`) of at most the newest 50,000 records; history retention bounds what there is',
    '(by default the newest 1,000 records per job).',
  ),
  requestParams: { query: StatsQuery },
  responses: {
    '200': { description: 'The figures.', headers: requestIdOnly, content: json(JobStats) },
    '400': problem('BadRequest', '`window` is not one of `1h`, `24h`, `7d`.'),
    '404': problem('NotFound', 'No job has this id.'),
    ...FAILURES,
  },
};

export const getLatestExecution: ZodOpenApiOperationObject = {
  tags: ['jobs', 'executions'],
  operationId: 'getLatestJobExecution',
  summary: "A job's newest execution record",
  description:
    'The record of the attempt that started last. Records are written in batches, so a finished attempt may appear a moment later.',
  responses: {
    '200': {
      description: 'The newest record.',
      headers: requestIdOnly,
      content: json(Execution, { examples: { succeeded: ref('examples', 'ExecutionSucceeded') } }),
    },
    '404': problem('NotFound', 'No job has this id, or it has no execution record yet.'),
    ...FAILURES,
  },
};

export const getOverview: ZodOpenApiOperationObject = {
  tags: ['jobs'],
  operationId: 'getOverview',
  summary: 'The system at a glance',
  description: lines(
    'Jobs by status, execution records finished in the last hour, open dead-letter entries, BullMQ run counts and the',
    'workers connected now. Each API process reads these at most once every 5 seconds and answers the same figures in',
    'between, so any number of open dashboards cost one set of reads.',
  ),
  responses: {
    '200': { description: 'The figures.', headers: requestIdOnly, content: json(Overview) },
    ...FAILURES,
  },
};

export const previewSchedule: ZodOpenApiOperationObject = {
  tags: ['jobs'],
  operationId: 'previewSchedule',
  summary: 'When a schedule would fire',
  description: lines(
    "A schedule's next fire times if it were set now, computed as the workers compute them, and the schedule in words.",
    'The schedule is given as query parameters (its own fields: `kind` and that kind’s fields) and validated as a',
    'create request validates it; errors name the parameter. Example:',
    '`/api/v1/schedules/preview?kind=cron&expression=0%209%20*%20*%201&timezone=Europe/Berlin&count=5`.',
  ),
  requestParams: { query: SchedulePreviewQuery },
  responses: {
    '200': { description: 'The fire times.', headers: requestIdOnly, content: json(SchedulePreview) },
    '400': problem('BadRequest', 'The schedule is invalid (the errors name the parameter), or `count` is out of range.'),
    ...FAILURES,
  },
};
