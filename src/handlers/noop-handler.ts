import { z } from 'zod';
import { defineHandler } from './handler';

export const noopHandler = defineHandler({
  name: 'noop',
  description: 'Does nothing and succeeds; useful for testing schedules.',
  payloadSchema: z.strictObject({}),
  resultSchema: z.strictObject({ ok: z.literal(true) }),
  execute: () => Promise.resolve({ ok: true }),
});
