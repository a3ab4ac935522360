/**
 * The examples of the OpenAPI contract: whole request and response bodies as a client sends or
 * gets them (the problem documents' are in problem-examples.ts). The unit test of the contract
 * checks each one against its schema.
 */
import type { oas31 } from 'zod-openapi';

export type Examples = Record<string, oas31.ExampleObject>;

/** Reusable examples (components.examples). */
export const componentExamples: Examples = {
  JobOnce: {
    summary: 'A once job, just created',
    value: {
      id: '6b0411d5f6f66b9c7ecddd25',
      name: 'send-report',
      handler: 'noop',
      payload: {},
      secretFields: [],
      schedule: { kind: 'once', runAt: '2026-11-23T11:13:41.365Z' },
      retry: { attempts: 3, backoff: { type: 'exponential', delayMs: 1000 } },
      timeoutMs: 30000,
      status: 'scheduled',
      nextRunAt: '2026-11-23T11:13:41.365Z',
      lastRunAt: null,
      lastExecutionStatus: null,
      runCount: 0,
      failureCount: 0,
      createdAt: '2026-11-23T10:13:41.388Z',
      updatedAt: '2026-11-23T10:13:41.388Z',
      version: 1,
      ownerKeyId: null,
      notify: { onFailure: 'https://hooks.example.com/tock/failures' },
    },
  },
  CreatedJobOnce: {
    summary: 'A once job, just created, with its signing secret (shown this once)',
    value: {
      id: '6b0411d5f6f66b9c7ecddd25',
      name: 'send-report',
      handler: 'noop',
      payload: {},
      secretFields: [],
      schedule: { kind: 'once', runAt: '2026-11-23T11:13:41.365Z' },
      retry: { attempts: 3, backoff: { type: 'exponential', delayMs: 1000 } },
      timeoutMs: 30000,
      status: 'scheduled',
      nextRunAt: '2026-11-23T11:13:41.365Z',
      lastRunAt: null,
      lastExecutionStatus: null,
      runCount: 0,
      failureCount: 0,
      createdAt: '2026-11-23T10:13:41.388Z',
      updatedAt: '2026-11-23T10:13:41.388Z',
      version: 1,
      ownerKeyId: null,
      notify: {},
      signingSecret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    },
  },
  JobListPage: {
    summary: 'A page of jobs',
    value: {
      items: [
        {
          id: '6b0411d5f6f66b9c7ecddd26',
          name: 'poll-inbox',
          handler: 'simulate',
          payload: { durationMs: 10, failureRate: 1 },
          secretFields: [],
          schedule: { kind: 'interval', everyMs: 1000, limit: 3 },
          retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 10 } },
          timeoutMs: 30000,
          status: 'completed',
          nextRunAt: null,
          lastRunAt: '2026-11-23T10:13:43.612Z',
          lastExecutionStatus: 'failed',
          runCount: 3,
          failureCount: 3,
          createdAt: '2026-11-23T10:13:41.405Z',
          updatedAt: '2026-11-23T10:13:41.405Z',
          version: 1,
          ownerKeyId: null,
          notify: {},
        },
      ],
      nextCursor: 'WyI2YjA0MTFkNWY2ZjY2YjljN2VjZGRkMjYiXQ',
    },
  },
  JobWithExecutions: {
    summary: 'An interval job that ran out, with its executions',
    value: {
      id: '6b0411d5f6f66b9c7ecddd26',
      name: 'poll-inbox',
      handler: 'simulate',
      payload: { durationMs: 10, failureRate: 1 },
      secretFields: [],
      schedule: { kind: 'interval', everyMs: 1000, limit: 3 },
      retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 10 } },
      timeoutMs: 30000,
      status: 'completed',
      nextRunAt: null,
      lastRunAt: '2026-11-23T10:13:43.612Z',
      lastExecutionStatus: 'failed',
      runCount: 3,
      failureCount: 3,
      createdAt: '2026-11-23T10:13:41.405Z',
      updatedAt: '2026-11-23T10:13:41.405Z',
      version: 1,
      ownerKeyId: null,
      notify: {},
      recentExecutions: [
        {
          id: 'repeat:6b0411d5f6f66b9c7ecddd26:1795428823408.2',
          jobId: '6b0411d5f6f66b9c7ecddd26',
          runId: 'repeat:6b0411d5f6f66b9c7ecddd26:1795428823408',
          attempt: 2,
          status: 'failed',
          trigger: 'schedule',
          scheduledFor: '2026-11-23T10:13:43.408Z',
          startedAt: '2026-11-23T10:13:43.602Z',
          finishedAt: '2026-11-23T10:13:43.612Z',
          durationMs: 10,
          driftMs: 194,
          workerId: 'vm:18013',
          error: { message: 'simulated failure (failureRate 1)', code: 'simulated' },
          result: null,
        },
      ],
    },
  },
  ExecutionFailed: {
    summary: 'A failed attempt',
    value: {
      id: 'repeat:6b0411d5f6f66b9c7ecddd26:1795428823408.2',
      jobId: '6b0411d5f6f66b9c7ecddd26',
      runId: 'repeat:6b0411d5f6f66b9c7ecddd26:1795428823408',
      attempt: 2,
      status: 'failed',
      trigger: 'schedule',
      scheduledFor: '2026-11-23T10:13:43.408Z',
      startedAt: '2026-11-23T10:13:43.602Z',
      finishedAt: '2026-11-23T10:13:43.612Z',
      durationMs: 10,
      driftMs: 194,
      workerId: 'vm:18013',
      error: { message: 'simulated failure (failureRate 1)', code: 'simulated' },
      result: null,
    },
  },
  ExecutionSucceeded: {
    summary: 'A successful webhook call',
    value: {
      id: '6b0411d5f6f66b9c7ecddd27-m-9a1c3e5f7b2d.1',
      jobId: '6b0411d5f6f66b9c7ecddd27',
      runId: '6b0411d5f6f66b9c7ecddd27-m-9a1c3e5f7b2d',
      attempt: 1,
      status: 'succeeded',
      trigger: 'manual',
      scheduledFor: '2026-11-23T10:20:00.000Z',
      startedAt: '2026-11-23T10:20:00.012Z',
      finishedAt: '2026-11-23T10:20:00.187Z',
      durationMs: 175,
      driftMs: 12,
      workerId: 'vm:18013',
      error: null,
      result: { statusCode: 200, durationMs: 174, body: '{"ok":true}', bodyTruncated: false, url: 'https://example.com/hooks/tock' },
    },
  },
  DeadLetterOpen: {
    summary: 'An open entry',
    value: {
      id: 'repeat:6b0411d5f6f66b9c7ecddd26:1795428823408',
      jobId: '6b0411d5f6f66b9c7ecddd26',
      jobName: 'poll-inbox',
      handler: 'simulate',
      runId: 'repeat:6b0411d5f6f66b9c7ecddd26:1795428823408',
      trigger: 'schedule',
      reason: 'failed',
      attempts: 2,
      error: { message: 'simulated failure (failureRate 1)', code: 'simulated' },
      lastExecutionId: 'repeat:6b0411d5f6f66b9c7ecddd26:1795428823408.2',
      failedAt: '2026-11-23T10:13:43.612Z',
      state: 'open',
      retriedAt: null,
      retryRunId: null,
    },
  },
  DeadLetterRetried: {
    summary: 'A retried entry',
    value: {
      id: 'repeat:6b0411d5f6f66b9c7ecddd26:1795428823408',
      jobId: '6b0411d5f6f66b9c7ecddd26',
      jobName: 'poll-inbox',
      handler: 'simulate',
      runId: 'repeat:6b0411d5f6f66b9c7ecddd26:1795428823408',
      trigger: 'schedule',
      reason: 'failed',
      attempts: 2,
      error: { message: 'simulated failure (failureRate 1)', code: 'simulated' },
      lastExecutionId: 'repeat:6b0411d5f6f66b9c7ecddd26:1795428823408.2',
      failedAt: '2026-11-23T10:13:43.612Z',
      state: 'retried',
      retriedAt: '2026-11-23T10:13:57.643Z',
      retryRunId: '6b0411d5f6f66b9c7ecddd26-r-39e2b31cd08c',
    },
  },
  ExecutionListPage: {
    summary: 'A page of execution records',
    value: {
      items: [
        {
          id: 'repeat:6b0411d5f6f66b9c7ecddd26:1795428823408.2',
          jobId: '6b0411d5f6f66b9c7ecddd26',
          runId: 'repeat:6b0411d5f6f66b9c7ecddd26:1795428823408',
          attempt: 2,
          status: 'failed',
          trigger: 'schedule',
          scheduledFor: '2026-11-23T10:13:43.408Z',
          startedAt: '2026-11-23T10:13:43.602Z',
          finishedAt: '2026-11-23T10:13:43.612Z',
          durationMs: 10,
          driftMs: 194,
          workerId: 'vm:18013',
          error: { message: 'simulated failure (failureRate 1)', code: 'simulated' },
          result: null,
        },
      ],
      nextCursor: 'WzE3OTU0Mjg4MjM2MDIsInJlcGVhdDo2YjA0MTFkNWY2ZjY2YjljN2VjZGRkMjY6MTc5NTQyODgyMzQwOC4yIl0',
    },
  },
  DeadLetterListPage: {
    summary: 'A page of dead-letter entries',
    value: {
      items: [
        {
          id: 'repeat:6b0411d5f6f66b9c7ecddd26:1795428823408',
          jobId: '6b0411d5f6f66b9c7ecddd26',
          jobName: 'poll-inbox',
          handler: 'simulate',
          runId: 'repeat:6b0411d5f6f66b9c7ecddd26:1795428823408',
          trigger: 'schedule',
          reason: 'failed',
          attempts: 2,
          error: { message: 'simulated failure (failureRate 1)', code: 'simulated' },
          lastExecutionId: 'repeat:6b0411d5f6f66b9c7ecddd26:1795428823408.2',
          failedAt: '2026-11-23T10:13:43.612Z',
          state: 'open',
          retriedAt: null,
          retryRunId: null,
        },
      ],
      nextCursor: null,
    },
  },
};

export const createJob: Examples = {
  once: {
    summary: 'once - run one time at runAt',
    value: { name: 'send-report', handler: 'noop', schedule: { kind: 'once', runAt: '2030-01-01T09:00:00+01:00' } },
  },
  delay: {
    summary: 'delay - run one time, delayMs after creation',
    value: { name: 'warm-cache', handler: 'sleep', payload: { durationMs: 200 }, schedule: { kind: 'delay', delayMs: 5000 } },
  },
  interval: {
    summary: 'interval - every everyMs, with bounds and a retry policy',
    value: {
      name: 'poll-inbox',
      handler: 'simulate',
      payload: { durationMs: 50, failureRate: 0.5 },
      secretFields: [],
      schedule: { kind: 'interval', everyMs: 2000, startAt: '2030-01-01T00:00:00Z', endAt: '2030-01-01T01:00:00Z', limit: 5 },
      retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 500 } },
    },
  },
  cron: {
    summary: 'cron - a cron expression in a time zone',
    value: { name: 'nightly-export', handler: 'noop', schedule: { kind: 'cron', expression: '30 2 * * *', timezone: 'Europe/Berlin' } },
  },
  webhook: {
    summary: 'cron - an HTTP webhook with retries and a timeout',
    value: {
      name: 'ping-partner',
      handler: 'http',
      payload: {
        url: 'https://example.com/hooks/tock',
        method: 'POST',
        headers: { Authorization: 'Bearer s3cret' },
        body: { event: 'tick' },
        timeoutMs: 5000,
      },
      schedule: { kind: 'cron', expression: '*/5 * * * *' },
      retry: { attempts: 5, backoff: { type: 'exponential', delayMs: 1000, maxDelayMs: 60000 } },
      timeoutMs: 10000,
    },
  },
};

export const createJobs: Examples = {
  two: {
    summary: 'two jobs',
    value: {
      jobs: [
        { name: 'send-report', handler: 'noop', schedule: { kind: 'once', runAt: '2030-01-01T09:00:00+01:00' } },
        { name: 'nightly-export', handler: 'noop', schedule: { kind: 'cron', expression: '30 2 * * *' } },
      ],
    },
  },
};

export const createJobsPartial = {
  results: [
    {
      index: 0,
      status: 400,
      problem: {
        type: 'https://tock.dev/problems/validation',
        title: 'Bad Request',
        status: 400,
        detail: 'The job is invalid',
        errors: [{ path: 'schedule.everyMs', message: 'Too small: expected number to be >=1000' }],
      },
    },
  ],
};

export const triggerJobs = { jobIds: ['6b0411d5f6f66b9c7ecddd25', '6b0411d5f6f66b9c7ecddd25', '6b0411d5f6f66b9c7ecddd26'] };

export const triggerJobsQueued = {
  results: [{ index: 0, status: 202, jobId: '6b0411d5f6f66b9c7ecddd25', runId: '6b0411d5f6f66b9c7ecddd25-m-336f7e3510f9' }],
};

export const updateJob: Examples = {
  rename: { summary: 'Rename', value: { name: 'nightly-export-v2' } },
  reschedule: { summary: 'New cron schedule', value: { schedule: { kind: 'cron', expression: '0 3 * * *', timezone: 'Europe/Berlin' } } },
  changeHandler: { summary: 'New handler (payload required)', value: { handler: 'sleep', payload: { durationMs: 1000 } } },
};

export const triggerJobQueued = { jobId: '6b0411d5f6f66b9c7ecddd25', runId: '6b0411d5f6f66b9c7ecddd25-m-336f7e3510f9' };

export const retryQueued = { jobId: '6b0411d5f6f66b9c7ecddd26', runId: '6b0411d5f6f66b9c7ecddd26-r-39e2b31cd08c' };

export const healthLive = { status: 'ok' };

export const healthReady = { status: 'ok', checks: { redis: { status: 'ok', latencyMs: 1 }, mongodb: { status: 'ok', latencyMs: 2 } } };

export const healthNotReady = {
  status: 'unavailable',
  checks: { redis: { status: 'unavailable', error: 'Redis is unavailable (ping)' }, mongodb: { status: 'ok', latencyMs: 2 } },
};
