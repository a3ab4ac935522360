import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

/**
 * Checks real responses against openapi.yaml: the operation must exist, the status must be
 * documented for it, and the body must match the documented schema for its content type.
 */
interface Spec {
  paths: Record<string, Record<string, { responses: Record<string, { $ref?: string; content?: Record<string, { schema: unknown }> }> }>>;
  components: { responses?: Record<string, { content?: Record<string, { schema: unknown }> }> } & Record<string, unknown>;
}

const spec = parse(readFileSync(path.resolve(__dirname, '../../openapi.yaml'), 'utf8')) as Spec;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: 'spec', components: spec.components });

function rewriteRefs(schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"spec#/components/'));
}

const templates = Object.keys(spec.paths).map((template) => ({
  template,
  regex: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}$`),
}));

// Compiling a schema takes milliseconds; tests check thousands of responses against a few dozen.
const validators = new Map<unknown, ValidateFunction>();
function compiled(schema: unknown): ValidateFunction {
  let v = validators.get(schema);
  if (!v) validators.set(schema, (v = ajv.compile(rewriteRefs(schema) as object)));
  return v;
}

export function findTemplate(urlPath: string): string | undefined {
  const exact = templates.find((t) => t.template === urlPath);
  if (exact) return exact.template;
  return templates
    .filter((t) => t.regex.test(urlPath))
    .sort((a, b) => b.template.split('{').length - a.template.split('{').length)
    .reverse()[0]?.template;
}

export function checkResponse(method: string, urlPath: string, status: number, contentType: string | null, body: unknown): string[] {
  const template = findTemplate(urlPath.split('?')[0]!);
  if (!template) return [`${method} ${urlPath}: no path in openapi.yaml matches`];
  const op = spec.paths[template]?.[method.toLowerCase()];
  if (!op) return [`${method} ${template}: operation not in openapi.yaml`];
  let response = op.responses[String(status)] ?? op.responses.default;
  if (!response) return [`${method} ${template}: status ${status} is not documented`];
  if (response.$ref) response = spec.components.responses?.[response.$ref.split('/').pop()!] ?? {};
  if (status === 204 || body === undefined || body === '') return [];
  const type = (contentType ?? '').split(';')[0]!.trim();
  const media = response.content?.[type];
  if (!media) return [`${method} ${template} ${status}: content type ${type} is not documented`];
  const validate = compiled(media.schema);
  if (validate(body)) return [];
  return (validate.errors ?? []).map(
    (e) => `${method} ${template} ${status}: ${e.instancePath || '(body)'} ${e.message} ${JSON.stringify(e.params)}`,
  );
}
