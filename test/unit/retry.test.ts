import { backoffDelay, DEFAULT_RETRY_POLICY, RetryPolicySchema } from '../../src/domain/retry';

describe('retry policy', () => {
  it('defaults to 3 attempts with exponential backoff from 1 s', () => {
    expect(DEFAULT_RETRY_POLICY).toEqual({ attempts: 3, backoff: { type: 'exponential', delayMs: 1000 } });
  });

  it('rejects more than 25 attempts and unknown fields', () => {
    expect(RetryPolicySchema.safeParse({ attempts: 26 }).success).toBe(false);
    expect(RetryPolicySchema.safeParse({ attempts: 0 }).success).toBe(false);
    expect(RetryPolicySchema.safeParse({ attempts: 2, jitter: 1 }).success).toBe(false);
    const r = RetryPolicySchema.safeParse({ backoff: { delayMs: 500, maxDelayMs: 100 } });
    expect(r.success ? [] : r.error.issues.map((i) => i.path.join('.'))).toEqual(['backoff.maxDelayMs']);
  });

  it('fixed backoff waits the same each time', () => {
    const p = RetryPolicySchema.parse({ attempts: 5, backoff: { type: 'fixed', delayMs: 700 } });
    expect([1, 2, 3, 4].map((n) => backoffDelay(p, n))).toEqual([700, 700, 700, 700]);
  });

  it('exponential backoff doubles, capped by maxDelayMs', () => {
    const p = RetryPolicySchema.parse({ attempts: 6, backoff: { type: 'exponential', delayMs: 100, maxDelayMs: 500 } });
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(p, n))).toEqual([100, 200, 400, 500, 500]);
  });

  it('waits at least as long as a Retry-After asks', () => {
    const p = RetryPolicySchema.parse({ backoff: { type: 'fixed', delayMs: 100 } });
    expect(backoffDelay(p, 1, 3000)).toBe(3000);
    expect(backoffDelay(p, 1, 50)).toBe(100);
  });
});
