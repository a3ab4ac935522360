import { z } from 'zod';

/** Retry policy of a definition, mapped onto BullMQ attempts and a custom backoff strategy. */
export const MAX_ATTEMPTS = 25;

/**
 * `.meta` names it in the OpenAPI contract: `RetryPolicyInput` as a request gives it (every field
 * optional), `RetryPolicy` as a response shows it (the defaults filled in).
 */
export const RetryPolicySchema = z
  .strictObject({
    attempts: z.number().int().min(1).max(MAX_ATTEMPTS).default(3).meta({ description: 'Attempts per run, including the first.' }),
    backoff: z
      .strictObject({
        type: z.enum(['fixed', 'exponential']).default('exponential'),
        delayMs: z.number().int().min(0).max(86_400_000).default(1000),
        maxDelayMs: z
          .number()
          .int()
          .min(0)
          .max(86_400_000)
          .meta({ description: 'Optional cap on the delay; must be at least `delayMs`.' })
          .optional(),
      })
      .meta({
        id: 'BackoffInput',
        outputId: 'Backoff',
        description:
          '`exponential` waits `delayMs * 2^(n-1)` after the n-th failed attempt, `fixed` waits `delayMs` each time; both capped by `maxDelayMs`.',
      })
      .prefault({}),
  })
  .superRefine((p, ctx) => {
    if (p.backoff.maxDelayMs !== undefined && p.backoff.maxDelayMs < p.backoff.delayMs) {
      ctx.addIssue({ code: 'custom', path: ['backoff', 'maxDelayMs'], message: 'must be at least delayMs' });
    }
  })
  .meta({
    id: 'RetryPolicyInput',
    outputId: 'RetryPolicy',
    description:
      'How many attempts a run makes and how long to wait between them. In a request every field has a default: `{}` (or omitting ' +
      '`retry`) means 3 attempts with exponential backoff from 1 s; a job shows its policy with the defaults filled in. Some failures ' +
      'are not retried (e.g. HTTP 400, 401, 403, 404, 405, 410, 422); an HTTP `Retry-After` on a 429 or 503 is honoured when it ' +
      'asks for longer than the backoff.',
  });

export type RetryPolicy = z.infer<typeof RetryPolicySchema>;

export const DEFAULT_RETRY_POLICY: RetryPolicy = RetryPolicySchema.parse({});

/**
 * Delay before the next attempt after `attemptsMade` failed attempts (1 after the first failure):
 * fixed waits delayMs each time, exponential waits delayMs * 2^(attemptsMade - 1), both capped by
 * maxDelayMs. A server's Retry-After (429/503) is honoured when it asks for longer.
 */
export function backoffDelay(policy: RetryPolicy, attemptsMade: number, retryAfterMs?: number): number {
  const { type, delayMs, maxDelayMs } = policy.backoff;
  const n = Math.max(1, attemptsMade);
  let delay = type === 'fixed' ? delayMs : delayMs * 2 ** (n - 1);
  if (maxDelayMs !== undefined) delay = Math.min(delay, maxDelayMs);
  if (retryAfterMs !== undefined && retryAfterMs > delay) delay = retryAfterMs;
  return Math.min(Math.round(delay), 2_147_483_647);
}
