import type { z } from 'zod';
import type { HandlerInfo } from '../domain/job-definition';
import type { Logger } from '../observability/logger';

export interface HandlerContext {
  /** Aborted when the attempt times out, is cancelled, or the worker is forced to stop. */
  signal: AbortSignal;
  jobId: string;
  /** The run's id: the same for every attempt of a run (an http job's `webhook-id`). */
  runId: string;
  attempt: number;
  /** The job's webhook signing secrets in use (`whsec_...`), newest first. */
  signingSecrets: readonly string[];
  logger: Logger;
}

/**
 * One handler type. Adding a type is adding one file that exports `defineHandler({...})` and
 * listing it in registry.ts.
 */
export interface Handler<P = unknown> extends HandlerInfo {
  readonly payloadSchema: z.ZodType<P>;
  /** Returns the result recorded with the execution; throws to fail the attempt. */
  execute(payload: P, ctx: HandlerContext): Promise<unknown>;
}

export function defineHandler<S extends z.ZodType>(h: {
  name: string;
  description: string;
  payloadSchema: S;
  resultSchema?: z.ZodType;
  /** The payload's fields that are always secret (dotted path segments). */
  secretPaths?(payload: Record<string, unknown>): string[][];
  execute(payload: z.infer<S>, ctx: HandlerContext): Promise<unknown>;
}): Handler<z.infer<S>> {
  return h as unknown as Handler<z.infer<S>>;
}

/**
 * A failed attempt with a stable code. `retryable: false` sends the occurrence straight to the dead
 * letter; `retryAfterMs` stretches the next backoff (HTTP 429/503 Retry-After).
 */
export class HandlerError extends Error {
  override name = 'HandlerError';
  constructor(
    message: string,
    readonly code: string,
    readonly options: { retryable?: boolean; retryAfterMs?: number; result?: unknown; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
  }
  get retryable(): boolean {
    return this.options.retryable !== false;
  }
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
