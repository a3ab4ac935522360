import { z } from 'zod';
import { abortableSleep, defineHandler, HandlerError } from './handler';

export const simulateHandler = defineHandler({
  name: 'simulate',
  description: 'Waits durationMs, then fails with probability failureRate (0..1); for demos and tests.',
  payloadSchema: z.strictObject({
    durationMs: z.number().int().min(0).max(3_600_000).default(0),
    failureRate: z.number().min(0).max(1).default(0),
  }),
  resultSchema: z.strictObject({ durationMs: z.number().int() }).meta({ description: 'The `result` of a successful `simulate` attempt.' }),
  async execute({ durationMs, failureRate }, { signal }) {
    await abortableSleep(durationMs, signal);
    if (failureRate > 0 && Math.random() < failureRate) {
      throw new HandlerError(`simulated failure (failureRate ${failureRate})`, 'simulated');
    }
    return { durationMs };
  },
});
