import { z } from 'zod';

/** Retry policy of a definition, mapped onto BullMQ attempts and a custom backoff strategy. */
export const MAX_ATTEMPTS = 25;

export const RetryPolicySchema = z
  .strictObject({
    attempts: z.number().int().min(1).max(MAX_ATTEMPTS).default(3),
    backoff: z
      .strictObject({
        type: z.enum(['fixed', 'exponential']).default('exponential'),
        delayMs: z.number().int().min(0).max(86_400_000).default(1000),
        maxDelayMs: z.number().int().min(0).max(86_400_000).optional(),
      })
      .prefault({}),
  })
  .superRefine((p, ctx) => {
    if (p.backoff.maxDelayMs !== undefined && p.backoff.maxDelayMs < p.backoff.delayMs) {
      ctx.addIssue({ code: 'custom', path: ['backoff', 'maxDelayMs'], message: 'must be at least delayMs' });
    }
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
