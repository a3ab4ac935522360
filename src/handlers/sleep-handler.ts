import { z } from 'zod';
import { abortableSleep, defineHandler } from './handler';

export const sleepHandler = defineHandler({
  name: 'sleep',
  description: 'Waits durationMs, then succeeds.',
  payloadSchema: z.strictObject({ durationMs: z.number().int().min(0).max(3_600_000) }),
  resultSchema: z.strictObject({ sleptMs: z.number().int() }),
  async execute({ durationMs }, { signal }) {
    await abortableSleep(durationMs, signal);
    return { sleptMs: durationMs };
  },
});
