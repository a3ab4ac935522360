/**
 * The handlers of the registry in the contract: each one's payload (and result) schema as a
 * component, its own variant of the create request, and the rule that ties `payload` to `handler`.
 */
import { z } from 'zod';
import type { oas31 } from 'zod-openapi';
import { createJobSchema, type HandlerCatalog, type HandlerInfo } from '../../domain/job-definition';
import { lines, ref } from './fragments';

/** `http` -> `Http`, `my-handler` -> `MyHandler`. */
export function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
}

export interface HandlerDoc {
  handler: HandlerInfo;
  payloadId: string;
  resultId?: string;
  /** The create request of a job run by this handler. */
  variant: z.ZodObject;
}

export function handlerDocs(registry: HandlerCatalog): HandlerDoc[] {
  const CreateJob = createJobSchema(registry);
  const seen = new Map<string, string>();
  const claim = (id: string, owner: string) => {
    const other = seen.get(id);
    if (other !== undefined && other !== owner) throw new Error(`handlers ${other} and ${owner} both map to the component ${id}`);
    seen.set(id, owner);
    return id;
  };
  return registry.names().map((name) => {
    const handler = registry.get(name)!;
    const own = (schema: z.ZodType) => z.globalRegistry.get(schema)?.id;
    const payloadId = claim(own(handler.payloadSchema) ?? `${pascalCase(name)}Payload`, name);
    const resultId = handler.resultSchema && claim(own(handler.resultSchema) ?? `${pascalCase(name)}Result`, name);
    // createJobSchema applies `payload ?? {}`: a handler whose schema accepts {} needs no payload.
    const payloadOptional = handler.payloadSchema.safeParse({}).success;
    const variant = z
      .strictObject({
        ...CreateJob.shape,
        handler: z.literal(name),
        payload: payloadOptional ? handler.payloadSchema.optional().meta({ default: {} }) : handler.payloadSchema,
      })
      .meta({
        id: claim(`Create${pascalCase(name)}JobRequest`, name),
        title: name,
        description: `A job run by the \`${name}\` handler (${handler.description.replace(/\.$/, '')}).`,
      });
    return { handler, payloadId, resultId, variant };
  });
}

/** `payload` matches the schema of `handler`: one if/then per handler (the Job resource and PATCH). */
export function handlerPayloadRules(docs: HandlerDoc[]): oas31.SchemaObject {
  return {
    description: lines(
      '`payload` must match the schema of `handler`: ' + docs.map((d) => `\`${d.payloadId}\` for \`${d.handler.name}\``).join(', ') + '.',
      'The server validates the payload and reports errors under `payload.*`.',
    ),
    allOf: docs.map((d) => ({
      if: { required: ['handler'], properties: { handler: { const: d.handler.name } } },
      then: { properties: { payload: ref('schemas', d.payloadId) } },
    })),
  };
}
