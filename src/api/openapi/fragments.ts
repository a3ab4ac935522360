/** Small pieces the operations and components of the contract share. */
import { z } from 'zod';
import type { oas31 } from 'zod-openapi';
import { ETagHeader, XRequestIdHeader } from '../schemas';

export const ref = (kind: 'schemas' | 'responses' | 'examples', name: string) => ({ $ref: `#/components/${kind}/${name}` });

export const lines = (...text: string[]) => text.join('\n');

export const requestIdOnly = z.object({ 'X-Request-Id': XRequestIdHeader });
export const jobHeaders = z.object({ ETag: ETagHeader, 'X-Request-Id': XRequestIdHeader });

export const json = (schema: z.ZodType, more: { example?: unknown; examples?: oas31.ExamplesObject } = {}) => ({
  'application/json': { schema, ...more },
});
