/** The operations beside the jobs': an execution record, the dead letter, the health probes and the docs. */
import { z } from 'zod';
import type { ZodOpenApiOperationObject, ZodOpenApiResponsesObject } from 'zod-openapi';
import {
  DeadLetterEntry,
  DeadLetterList,
  DeadLetterListQuery,
  Execution,
  HealthLive,
  HealthReady,
  RetryAfterHeader,
  RunAccepted,
  XRequestIdHeader,
} from '../schemas';
import * as examples from './examples';
import { json, lines, ref, requestIdOnly } from './fragments';
import { FAILURES, problem } from './problems';

export const getExecution: ZodOpenApiOperationObject = {
  tags: ['executions'],
  operationId: 'getExecution',
  summary: 'Get an execution record',
  description: 'One execution record, also for jobs that have been deleted since.',
  responses: {
    '200': {
      description: 'The execution record.',
      headers: requestIdOnly,
      content: json(Execution, {
        examples: { failed: ref('examples', 'ExecutionFailed'), succeeded: ref('examples', 'ExecutionSucceeded') },
      }),
    },
    '404': problem(
      'NotFound',
      'No execution has this id (or the id has characters other than letters, digits and `:._-`, or is longer than 300).',
    ),
    ...FAILURES,
  },
};

export const listDeadLetterEntries: ZodOpenApiOperationObject = {
  tags: ['dead-letter'],
  operationId: 'listDeadLetterEntries',
  summary: 'List dead-letter entries',
  description: 'Entries in one state (`open` unless `state` says otherwise), optionally of one job, newest `failedAt` first.',
  requestParams: { query: DeadLetterListQuery },
  responses: {
    '200': {
      description: 'A page of dead-letter entries.',
      headers: requestIdOnly,
      content: json(DeadLetterList, { examples: { page: ref('examples', 'DeadLetterListPage') } }),
    },
    '400': problem('BadRequest', 'The query string is invalid (e.g. `jobId` is not a job id) or the cursor was not returned by this API.'),
    ...FAILURES,
  },
};

export const getDeadLetterEntry: ZodOpenApiOperationObject = {
  tags: ['dead-letter'],
  operationId: 'getDeadLetterEntry',
  summary: 'Get a dead-letter entry',
  responses: {
    '200': {
      description: 'The entry.',
      headers: requestIdOnly,
      content: json(DeadLetterEntry, {
        examples: { open: ref('examples', 'DeadLetterOpen'), retried: ref('examples', 'DeadLetterRetried') },
      }),
    },
    '404': problem('NotFound', 'No entry has this id.'),
    ...FAILURES,
  },
};

export const dismissDeadLetterEntry: ZodOpenApiOperationObject = {
  tags: ['dead-letter'],
  operationId: 'dismissDeadLetterEntry',
  summary: 'Dismiss (delete) a dead-letter entry',
  description: 'Deletes the entry, in either state. The execution records stay.',
  responses: {
    '204': { description: 'The entry was deleted.', headers: requestIdOnly },
    '404': problem('NotFound', 'No entry has this id.'),
    ...FAILURES,
  },
};

export const retryDeadLetterEntry: ZodOpenApiOperationObject = {
  tags: ['dead-letter'],
  operationId: 'retryDeadLetterEntry',
  summary: 'Retry a dead-letter entry',
  description: lines(
    "Runs the entry's job once more now, with the job's current definition and a fresh set of",
    'attempts (trigger `dead-letter-retry`, run id `<jobId>-r-<random>`), and marks the entry',
    '`retried` (`retriedAt`, `retryRunId`). A successful retry of a `failed` one-time job makes',
    'it `completed`. If the run cannot be queued (Redis unavailable) the entry is reopened and',
    'the answer is `503`. It takes no body: none, or `{}`; a field in it is a `400` naming it.',
  ),
  responses: {
    '202': { description: 'The run was queued.', headers: requestIdOnly, content: json(RunAccepted, { example: examples.retryQueued }) },
    '400': problem('BadRequest', 'A field in the body, or a body that is not valid JSON.'),
    '404': problem('NotFound', 'No entry has this id.'),
    '409': problem('Conflict', 'The entry was already retried, or its job has been deleted (the entry can only be dismissed).'),
    '413': problem('PayloadTooLarge'),
    '415': problem('UnsupportedMediaType'),
    ...FAILURES,
  },
};

export const getLiveness: ZodOpenApiOperationObject = {
  tags: ['health'],
  operationId: 'getLiveness',
  summary: 'Liveness probe',
  description: 'Answers as long as the process serves HTTP; checks no dependency.',
  responses: {
    '200': { description: 'The process is alive.', headers: requestIdOnly, content: json(HealthLive, { example: examples.healthLive }) },
  },
};

export const getReadiness: ZodOpenApiOperationObject = {
  tags: ['health'],
  operationId: 'getReadiness',
  summary: 'Readiness probe',
  description: lines(
    'Pings Redis and MongoDB in parallel; each must answer within 1.5 s. `200` when both do,',
    'else `503` with `Retry-After: 5`. Either way the body reports each check.',
  ),
  responses: {
    '200': {
      description: 'Redis and MongoDB answered.',
      headers: requestIdOnly,
      content: json(HealthReady, { example: examples.healthReady }),
    },
    '503': {
      description: 'At least one dependency did not answer (a JSON health report, not a problem document).',
      headers: z.object({ 'Retry-After': RetryAfterHeader, 'X-Request-Id': XRequestIdHeader }),
      content: json(HealthReady, { example: examples.healthNotReady }),
    },
  },
};

const html = (description: string): ZodOpenApiResponsesObject => ({
  '200': { description, headers: requestIdOnly, content: { 'text/html': { schema: z.string() } } },
});

export const getOpenApiDocument: ZodOpenApiOperationObject = {
  tags: ['docs'],
  operationId: 'getOpenApiDocument',
  summary: 'This OpenAPI document',
  description: 'The contract as YAML, read once when the API starts.',
  responses: {
    '200': { description: 'The OpenAPI 3.1 document.', headers: requestIdOnly, content: { 'application/yaml': { schema: z.string() } } },
  },
};

export const getSwaggerUi: ZodOpenApiOperationObject = {
  tags: ['docs'],
  operationId: 'getSwaggerUi',
  summary: 'Swagger UI',
  description: 'An HTML page with Swagger UI rendering `/openapi.yaml` (also served at `/docs/`).',
  responses: html('The Swagger UI page.'),
};

export const getQueueDashboard: ZodOpenApiOperationObject = {
  tags: ['docs'],
  operationId: 'getQueueDashboard',
  summary: 'Bull Board queue dashboard',
  description: lines(
    'The Bull Board web UI for the BullMQ queue `jobs` (waiting, delayed, active, failed jobs',
    "and Job Schedulers). The UI's own assets and JSON endpoints under `/admin/queues/` are",
    'internal to Bull Board and not part of this contract. It has no authentication.',
  ),
  responses: html('The dashboard page.'),
};

export const getMetrics: ZodOpenApiOperationObject = {
  tags: ['metrics'],
  operationId: 'getMetrics',
  summary: 'Prometheus metrics',
  description: lines(
    "This API process's metrics in the Prometheus text exposition format: requests by route template,",
    'open dead-letter entries and BullMQ run counts by state (sampled on scrape, reused for 5 s), and the',
    'Node.js process metrics. Workers serve their own on `WORKER_METRICS_PORT` (docs/operations.md#metrics).',
    '`404` when `METRICS_ENABLED=false`.',
  ),
  responses: {
    '200': {
      description: 'The metrics, in the Prometheus text exposition format (`text/plain; version=0.0.4; charset=utf-8`).',
      headers: requestIdOnly,
      content: {
        'text/plain': {
          schema: z.string(),
          example: [
            '# HELP tock_http_requests_total API requests, by route template, method and status.',
            '# TYPE tock_http_requests_total counter',
            'tock_http_requests_total{route="/api/v1/jobs/:id",method="GET",status="200",service="tock-api"} 3',
          ].join('\n'),
        },
      },
    },
    '404': problem('NotFound', 'Metrics are turned off (`METRICS_ENABLED=false`).'),
  },
};
