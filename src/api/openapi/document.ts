import { z } from 'zod';
import { createDocument, type ZodOpenApiOverrideContext } from 'zod-openapi';
import { stringify } from 'yaml';
import { patchJobSchema, type HandlerCatalog } from '../../domain/job-definition';
import {
  BatchItem,
  DeadLetterEntryIdParam,
  ExecutionIdParam,
  HandlerName,
  Job,
  JobIdParam,
  JobWithExecutions,
  XRequestIdParam,
} from '../schemas';
import * as examples from './examples';
import { lines, ref } from './fragments';
import { handlerDocs, handlerPayloadRules, type HandlerDoc } from './handlers';
import { INFO_DESCRIPTION, TAGS } from './info';
import { jobOperations } from './job-operations';
import * as others from './other-operations';
import { PROBLEM_RESPONSES } from './problems';
import * as access from './access-operations';
import * as stats from './stats-operations';
import { open, protect } from './access-operations';
const { SECURITY_SCHEMES } = access;

/**
 * The OpenAPI 3.1 contract of the API, built from the zod schemas the routes validate with
 * (domain: createJobSchema, patchJobSchema, ScheduleSchema, RetryPolicySchema; each handler's
 * payloadSchema; schemas.ts: queries, envelopes, responses) by zod-openapi. `npm run openapi`
 * writes it to openapi.yaml, which the API serves; a unit test fails when the two differ.
 *
 * The handlers come from the registry: each one gets its payload (and result) schema as a
 * component and its own variant of the create request, and `HandlerName` lists them all. A new
 * handler in the registry is in the contract once it is regenerated.
 */

export type OpenApiDocument = ReturnType<typeof createDocument>;

/** Presentation of what zod renders: no safe-integer bounds nor date-time regex (`format` says it). */
function tidy({ jsonSchema }: ZodOpenApiOverrideContext): void {
  const s = jsonSchema as Record<string, unknown>;
  if (s.maximum === Number.MAX_SAFE_INTEGER) delete s.maximum;
  if (s.minimum === Number.MIN_SAFE_INTEGER) delete s.minimum;
  if (s.format === 'date-time') delete s.pattern;
}

/** The OpenAPI 3.1 document of the API with the handlers of `registry`. */
export function buildOpenApiDocument(registry: HandlerCatalog): OpenApiDocument {
  const docs = handlerDocs(registry);
  if (docs.length === 0) throw new Error('the registry has no handler');

  const CreateJobRequest = z.discriminatedUnion('handler', docs.map((d) => d.variant) as [z.ZodObject, ...z.ZodObject[]]).meta({
    id: 'CreateJobRequest',
    description: lines(
      "A new job definition: one variant per handler, told apart by `handler`. `payload` must match that handler's",
      'payload schema; it may be left out when the schema accepts `{}`.',
    ),
  });
  const PatchJob = patchJobSchema(registry);
  const UpdateJobRequest = z.strictObject({ ...PatchJob.shape, handler: HandlerName.optional() }).meta({
    id: 'UpdateJobRequest',
    description: lines(
      'The fields to change, at least one. Each replaces the stored value as a whole. `handler`',
      "requires `payload`; a `payload` without `handler` is validated against the job's",
      'current handler.',
    ),
    minProperties: 1,
    dependentRequired: { handler: ['payload'] },
  });
  const withPayloadRules = new Set<unknown>([Job, JobWithExecutions, UpdateJobRequest]);
  const payloads = new Map<unknown, HandlerDoc>(docs.map((d) => [d.handler.payloadSchema, d]));
  const results = new Map<unknown, HandlerDoc>(docs.filter((d) => d.handler.resultSchema).map((d) => [d.handler.resultSchema, d]));

  const override = (ctx: ZodOpenApiOverrideContext) => {
    tidy(ctx);
    const s = ctx.jsonSchema as Record<string, unknown>;
    const zodSchema: unknown = ctx.zodSchema;
    if (zodSchema === HandlerName) {
      delete s.minLength;
      delete s.maxLength;
      s.enum = docs.map((d) => d.handler.name);
      s.description = lines(
        'The handler that runs the job:',
        '',
        ...docs.map((d) => `- \`${d.handler.name}\`: ${d.handler.description} Payload: \`${d.payloadId}\`.`),
      );
    } else if (zodSchema === BatchItem) {
      s.$ref = ref('schemas', 'CreateJobRequest').$ref;
    } else if (withPayloadRules.has(zodSchema)) {
      s.allOf = [ref('schemas', 'HandlerPayloadRules')];
    }
    const payload = payloads.get(zodSchema);
    if (payload) {
      s.title ??= `${payload.handler.name} payload`;
      s.description = `Payload of the \`${payload.handler.name}\` handler. ${(s.description as string | undefined) ?? payload.handler.description}`;
    }
    const result = results.get(zodSchema);
    if (result) {
      s.title ??= `${result.handler.name} result`;
      s.description ??= `The \`result\` of a \`${result.handler.name}\` execution.`;
    }
  };

  return createDocument(
    {
      openapi: '3.1.0',
      info: {
        title: 'Tock',
        version: '0.1.0',
        summary: 'Job scheduler and execution engine (Koa REST API over MongoDB and BullMQ).',
        description: INFO_DESCRIPTION,
        license: { name: 'MIT', identifier: 'MIT' },
      },
      security: [{ bearerAuth: [] }, { sessionCookie: [] }],
      servers: [{ url: 'http://localhost:3000', description: 'Local instance (`npm start`); the default PORT is 3000.' }],
      tags: TAGS,
      paths: pathsOf(jobOperations(CreateJobRequest, UpdateJobRequest)),
      components: {
        schemas: {
          HandlerPayloadRules: handlerPayloadRules(docs),
          ...Object.fromEntries(docs.map((d) => [d.payloadId, d.handler.payloadSchema])),
          ...Object.fromEntries(docs.filter((d) => d.resultId).map((d) => [d.resultId!, d.handler.resultSchema!])),
        },
        responses: PROBLEM_RESPONSES,
        securitySchemes: SECURITY_SCHEMES,
        examples: examples.componentExamples,
      },
    },
    { override },
  );
}

function pathsOf(jobs: ReturnType<typeof jobOperations>) {
  const api = [XRequestIdParam];
  const job = [JobIdParam, XRequestIdParam];
  const entry = [DeadLetterEntryIdParam, XRequestIdParam];
  const [read, write, retry, admin] = ['jobs:read', 'jobs:write', 'dead-letter:write', 'admin'] as const;
  return {
    '/api/v1/jobs': { parameters: api, get: protect(jobs.listJobs, read), post: protect(jobs.createJob, write) },
    '/api/v1/jobs/batch': { parameters: api, post: protect(jobs.createJobs, write) },
    '/api/v1/jobs/trigger': { parameters: api, post: protect(jobs.triggerJobs, write) },
    '/api/v1/jobs/{jobId}': {
      parameters: job,
      get: protect(jobs.getJob, read),
      patch: protect(jobs.updateJob, write),
      delete: protect(jobs.deleteJob, write),
    },
    '/api/v1/jobs/{jobId}/pause': { parameters: job, post: protect(jobs.pauseJob, write) },
    '/api/v1/jobs/{jobId}/resume': { parameters: job, post: protect(jobs.resumeJob, write) },
    '/api/v1/jobs/{jobId}/trigger': { parameters: job, post: protect(jobs.triggerJob, write) },
    '/api/v1/jobs/{jobId}/cancel': { parameters: job, post: protect(jobs.cancelJobRuns, write) },
    '/api/v1/jobs/{jobId}/signing-secret/rotate': { parameters: job, post: protect(access.rotateSigningSecret, write) },
    '/api/v1/jobs/{jobId}/executions': { parameters: job, get: protect(jobs.listJobExecutions, read) },
    '/api/v1/jobs/{jobId}/executions/latest': { parameters: job, get: protect(stats.getLatestExecution, read) },
    '/api/v1/jobs/{jobId}/stats': { parameters: job, get: protect(stats.getJobStats, read) },
    '/api/v1/overview': { parameters: api, get: protect(stats.getOverview, read) },
    '/api/v1/schedules/preview': { parameters: api, get: protect(stats.previewSchedule, read) },
    '/api/v1/executions/{executionId}': { parameters: [ExecutionIdParam, XRequestIdParam], get: protect(others.getExecution, read) },
    '/api/v1/dead-letter': { parameters: api, get: protect(others.listDeadLetterEntries, read) },
    '/api/v1/dead-letter/{entryId}': {
      parameters: entry,
      get: protect(others.getDeadLetterEntry, read),
      delete: protect(others.dismissDeadLetterEntry, retry),
    },
    '/api/v1/dead-letter/{entryId}/retry': { parameters: entry, post: protect(others.retryDeadLetterEntry, retry) },
    '/api/v1/keys': { parameters: api, get: protect(access.listKeys, admin), post: protect(access.createKey, admin) },
    '/api/v1/keys/{keyId}': { parameters: api, delete: protect(access.revokeKey, admin) },
    '/api/v1/audit': { parameters: api, get: protect(access.listAudit, admin) },
    '/api/v1/session': { parameters: api, get: protect(access.getSession) },
    '/login': { get: open(access.loginPage) },
    '/ui/session': { parameters: api, post: open(access.signIn), delete: open(access.signOut) },
    '/health/live': { parameters: api, get: open(others.getLiveness) },
    '/health/ready': { parameters: api, get: open(others.getReadiness) },
    '/openapi.yaml': { get: open(others.getOpenApiDocument) },
    '/docs': { get: open(others.getSwaggerUi) },
    '/admin/queues': { get: protect(others.getQueueDashboard, admin) },
    '/metrics': { parameters: api, get: protect(others.getMetrics, 'metrics:read') },
  };
}

/** Object keys in a fixed order: components by name, everything else as built. */
function sortComponents(doc: OpenApiDocument): OpenApiDocument {
  const components = Object.fromEntries(
    Object.entries(doc.components ?? {}).map(([kind, items]) => [
      kind,
      Object.fromEntries(Object.entries(items as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b, 'en'))),
    ]),
  );
  return { ...doc, components };
}

// It names src/api/openapi.ts, which is now this folder: changing the line changes openapi.yaml, so it waits
// for the next change of the contract.
export const OPENAPI_HEADER = [
  '# Generated from the zod schemas (src/api/schemas.ts, src/domain, the handlers) by src/api/openapi.ts.',
  '# Do not edit by hand: change the schemas, then run `npm run openapi` to regenerate this file.',
].join('\n');

/** openapi.yaml as `npm run openapi` writes it. */
export function renderOpenApiYaml(registry: HandlerCatalog): string {
  const body = stringify(sortComponents(buildOpenApiDocument(registry)), {
    schema: 'yaml-1.1',
    lineWidth: 0,
    aliasDuplicateObjects: false,
  });
  return `${OPENAPI_HEADER}\n${body}`;
}
