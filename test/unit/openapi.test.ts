import { readFileSync } from 'node:fs';
import type Router from '@koa/router';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { z } from 'zod';
import { OPENAPI_PATH } from '../../src/api/app';
import { problem } from '../../src/api/middleware/problem';
import { buildOpenApiDocument, renderOpenApiYaml, type OpenApiDocument } from '../../src/api/openapi/document';
import { deadLetterRoutes } from '../../src/api/routes/dead-letter';
import { executionRoutes } from '../../src/api/routes/executions';
import { healthRoutes } from '../../src/api/routes/health';
import { metricsRoutes } from '../../src/api/routes/metrics';
import { jobRoutes, type JobRoutesDeps } from '../../src/api/routes/jobs';
import { adminRoutes } from '../../src/api/routes/keys';
import { statsRoutes } from '../../src/api/routes/stats';
import { sessionRoutes } from '../../src/api/routes/session';
import { PROBLEM_CODES, PROBLEM_STATUSES, PROBLEM_TITLES, problemTypeUri } from '../../src/api/schemas';
import { createJobSchema, patchJobSchema } from '../../src/domain/job-definition';
import { defineHandler } from '../../src/handlers/handler';
import { builtinHandlers, HandlerRegistry } from '../../src/handlers/registry';

/* eslint-disable @typescript-eslint/no-explicit-any -- the document is walked as plain JSON */

const builtins = builtinHandlers({ allowPrivateNetworks: false });
const registry = new HandlerRegistry(builtins);
const doc = buildOpenApiDocument(registry) as any;

/** An ajv that resolves `#/components/...` of `document` (as test/helpers/contract.ts does). */
function validatorOf(document: OpenApiDocument) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: 'spec', components: (document as any).components });
  const rewrite = (schema: unknown) => JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"spec#/components/')) as object;
  return (schema: unknown, value: unknown): string[] => {
    const validate = ajv.compile(rewrite(schema));
    return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}`);
  };
}
const check = validatorOf(doc);
const component = (name: string) => ({ $ref: `#/components/schemas/${name}` });

describe('openapi.yaml', () => {
  it('is what `npm run openapi` writes from the schemas', () => {
    const committed = readFileSync(OPENAPI_PATH, 'utf8');
    const generated = renderOpenApiYaml(registry);
    if (committed !== generated) {
      const a = committed.split('\n');
      const b = generated.split('\n');
      const line = a.findIndex((l, i) => l !== b[i]);
      throw new Error(
        'openapi.yaml differs from the contract generated from the zod schemas: run `npm run openapi` and commit the result.\n' +
          `First difference at line ${line + 1}:\n  committed: ${a[line]}\n  generated: ${b[line]}`,
      );
    }
  });

  it('parses as the document that was built', () => {
    expect(parse(readFileSync(OPENAPI_PATH, 'utf8'))).toEqual(JSON.parse(JSON.stringify(doc)));
  });
});

describe('the generated contract', () => {
  it('has every path and method the routers serve, and no other API operation', () => {
    const deps = {
      handlers: registry,
      jobs: {},
      idempotency: {},
      logger: {},
      deadLetters: {},
      executions: {},
      keys: {},
      audit: {},
    } as unknown as JobRoutesDeps;
    const served = new Set<string>();
    const add = (prefix: string, router: Router) => {
      for (const layer of router.stack) {
        for (const method of layer.methods.filter((m) => m !== 'HEAD'))
          served.add(`${method} ${prefix}${String(layer.path).replace(/:\w+/g, '{}')}`);
      }
    };
    for (const r of [
      jobRoutes(deps),
      executionRoutes(deps as any),
      deadLetterRoutes(deps as any),
      statsRoutes(deps as any),
      adminRoutes(deps as any),
    ])
      add('/api/v1', r);
    add('', healthRoutes([]));
    add('', sessionRoutes(deps as any));
    add('', metricsRoutes({}));
    ['GET /openapi.yaml', 'GET /docs', 'GET /admin/queues'].forEach((op) => served.add(op));

    const documented = new Set<string>();
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const method of Object.keys(item).filter((k) => k !== 'parameters'))
        documented.add(`${method.toUpperCase()} ${path.replace(/\{\w+\}/g, '{}')}`);
    }
    expect([...documented].sort()).toEqual([...served].sort());
  });

  it('lists every handler of the registry, with its payload and its own create request', () => {
    const names = registry.names();
    expect(doc.components.schemas.HandlerName.enum).toEqual(names);
    const create = doc.components.schemas.CreateJobRequest;
    expect(Object.keys(create.discriminator.mapping)).toEqual(names);
    expect(create.oneOf).toHaveLength(names.length);
    const rules = doc.components.schemas.HandlerPayloadRules.allOf.map((r: any) => r.if.properties.handler.const);
    expect(rules).toEqual(names);
    for (const name of names) {
      const variant = doc.components.schemas[create.discriminator.mapping[name].split('/').pop()];
      expect(variant.properties.handler.const).toBe(name);
      expect(doc.components.schemas[variant.properties.payload.$ref.split('/').pop()]).toBeDefined();
    }
  });

  it('includes a handler added to the registry', () => {
    const echo = defineHandler({
      name: 'echo-test',
      description: 'Returns its message.',
      payloadSchema: z.strictObject({ message: z.string().min(1).max(50) }),
      execute: ({ message }) => Promise.resolve({ message }),
    });
    const extended = buildOpenApiDocument(new HandlerRegistry([...builtins, echo] as never[])) as any;
    expect(extended.components.schemas.HandlerName.enum).toEqual([...registry.names(), 'echo-test']);
    expect(extended.components.schemas.HandlerName.description).toContain('`echo-test`: Returns its message.');
    expect(extended.components.schemas.EchoTestPayload).toMatchObject({
      type: 'object',
      properties: { message: { type: 'string', minLength: 1, maxLength: 50 } },
      required: ['message'],
      additionalProperties: false,
    });
    expect(extended.components.schemas.CreateJobRequest.discriminator.mapping['echo-test']).toBe(
      '#/components/schemas/CreateEchoTestJobRequest',
    );
    expect(extended.components.schemas.CreateEchoTestJobRequest.required).toEqual(['name', 'handler', 'payload', 'schedule']);

    const checkExtended = validatorOf(extended);
    const job = { name: 'e', handler: 'echo-test', schedule: { kind: 'delay', delayMs: 1 } };
    expect(checkExtended(component('CreateJobRequest'), { ...job, payload: { message: 'hi' } })).toEqual([]);
    expect(checkExtended(component('CreateJobRequest'), { ...job, payload: { message: '' } })).not.toEqual([]);
    expect(check(component('CreateJobRequest'), { ...job, payload: { message: 'hi' } })).not.toEqual([]);
  });

  it('validates create requests as the API does', () => {
    const CreateJob = createJobSchema(registry);
    const delay = { kind: 'delay', delayMs: 1000 };
    const bodies: unknown[] = [
      ...Object.values<any>(doc.paths['/api/v1/jobs'].post.requestBody.content['application/json'].examples).map((e) => e.value),
      { name: 'n', handler: 'noop', schedule: delay, payload: {} },
      { name: 'n', handler: 'noop', schedule: delay, payload: { extra: 1 } },
      { name: 'n', handler: 'sleep', schedule: delay },
      { name: 'n', handler: 'sleep', schedule: delay, payload: { durationMs: -1 } },
      { name: 'n', handler: 'simulate', schedule: delay },
      { name: 'n', handler: 'simulate', schedule: delay, payload: { failureRate: 2 } },
      { name: 'n', handler: 'http', schedule: delay, payload: { url: 'https://example.com', method: 'TRACE' } },
      { name: 'n', handler: 'nope', schedule: delay },
      { name: 'n', handler: 'noop', schedule: delay, extra: true },
      { name: 'n', handler: 'noop', schedule: { kind: 'interval', everyMs: 999 } },
      { name: 'n', handler: 'noop', schedule: { kind: 'once', runAt: '2030-01-01T00:00:00' } },
      { name: 'n', handler: 'noop', schedule: delay, retry: { attempts: 0 } },
      { name: 'n', handler: 'noop', schedule: delay, retry: { backoff: { type: 'linear' } } },
      { name: 'n', handler: 'noop', schedule: delay, timeoutMs: 0 },
      { handler: 'noop', schedule: delay },
      { name: '   ', handler: 'noop', schedule: delay },
      { name: 'n', handler: 'http', schedule: delay, payload: { url: 'ftp://example.com/x' } },
      { name: 'n', handler: 'http', schedule: delay, payload: { url: 'HTTPS://example.com/x', headers: { 'a b': 'c' } } },
      { name: 'n', handler: 'http', schedule: delay, payload: { url: 'HTTPS://example.com/x', headers: { 'x-a': 'c' } } },
    ];
    for (const body of bodies) {
      const api = CreateJob.safeParse(body).success;
      expect({ body, valid: check(component('CreateJobRequest'), body).length === 0 }).toEqual({ body, valid: api });
    }
  });

  it('validates change requests as the API does', () => {
    const PatchJob = patchJobSchema(registry);
    const bodies: unknown[] = [
      ...Object.values<any>(doc.paths['/api/v1/jobs/{jobId}'].patch.requestBody.content['application/json'].examples).map((e) => e.value),
      {},
      { name: 'n' },
      { payload: { anything: 1 } },
      { handler: 'sleep' },
      { handler: 'sleep', payload: {} },
      { handler: 'sleep', payload: { durationMs: 5 } },
      { handler: 'nope', payload: {} },
      { timeoutMs: 3_600_001 },
      { retry: {} },
      { extra: 1 },
    ];
    for (const body of bodies) {
      const api = PatchJob.safeParse(body).success;
      expect({ body, valid: check(component('UpdateJobRequest'), body).length === 0 }).toEqual({ body, valid: api });
    }
  });

  it('has examples that match their schemas', () => {
    const problems: string[] = [];
    const examplesOf = (media: any) =>
      media.examples
        ? Object.entries<any>(media.examples).map(([name, e]) => [
            name,
            e.$ref ? doc.components.examples[e.$ref.split('/').pop()].value : e.value,
          ])
        : 'example' in media
          ? [['example', media.example]]
          : [];
    const visit = (where: string, content: Record<string, any> | undefined) => {
      for (const [type, media] of Object.entries(content ?? {})) {
        for (const [name, value] of examplesOf(media)) {
          for (const p of check(media.schema, value)) problems.push(`${where} ${type} ${name}: ${p}`);
        }
      }
    };
    let count = 0;
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        if (method === 'parameters') continue;
        visit(`${method} ${path} request`, op.requestBody?.content);
        for (const [status, response] of Object.entries<any>(op.responses))
          if (!response.$ref) visit(`${method} ${path} ${status}`, response.content);
        count++;
      }
    }
    for (const [name, response] of Object.entries<any>(doc.components.responses)) visit(`response ${name}`, response.content);
    expect(count).toBeGreaterThan(15);
    expect(problems).toEqual([]);
  });

  it("describes every problem the API writes, with problem.ts's titles", () => {
    for (const status of PROBLEM_STATUSES) expect(PROBLEM_TITLES).toContain(problem(status, 'internal', 'x').title);
    expect(problem(400, 'validation', 'x').type).toBe(problemTypeUri('validation'));
    const types = doc.components.schemas.Problem.properties.type.enum;
    expect(types).toEqual(PROBLEM_CODES.map(problemTypeUri));
  });

  it('gives the Idempotency-Key no example (Swagger UI would send the same key every time)', () => {
    const key = doc.components.parameters.IdempotencyKey;
    expect(key.name).toBe('Idempotency-Key');
    expect(JSON.stringify(key)).not.toMatch(/"examples?"/);
    expect(key.description).toMatch(/unique value per logical request, e\.g\. a UUID/);
  });
});
