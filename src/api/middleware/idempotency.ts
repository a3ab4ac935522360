import { createHash } from 'node:crypto';
import type { Context, Next } from 'koa';
import { AppError, ConflictError, ValidationError, type FieldError } from '../../domain/errors';
import type { Logger } from '../../observability/logger';
import type { Claim, IdempotencyStore, StoredResponse } from '../../domain/idempotency';
import { storableErrors } from '../../domain/validation';
import { actorOf } from './access';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** 1-255 visible ASCII characters (a UUID is the usual choice). */
const KEY = /^[\x21-\x7e]{1,255}$/;
/** The response headers a replay repeats. */
const REPLAYED_HEADERS = ['location', 'etag'];

export class IdempotencyKeyReusedError extends AppError {
  override name = 'IdempotencyKeyReusedError';
  override readonly status = 422;
  override readonly code = 'idempotency-key-reused';
  readonly errors: FieldError[] = [{ path: IDEMPOTENCY_HEADER, message: 'was already used with a different request body' }];
}

export interface IdempotencyOptions {
  /** How long a request waits for a concurrent one with the same key before answering 409. */
  waitMs: number;
  pollMs: number;
}

/** Canonical JSON (object keys sorted), so that key order does not change the fingerprint. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** What identifies a request under its key: method, path and the canonical body. */
export function requestFingerprint(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${path}\n${canonical(body)}`)
    .digest('base64url');
}

function replay(ctx: Context, response: StoredResponse): void {
  ctx.status = response.status;
  for (const [name, value] of Object.entries(response.headers)) ctx.set(name, value);
  ctx.set('Idempotent-Replayed', 'true');
  ctx.body = response.body;
  ctx.type = 'application/json';
}

/**
 * `Idempotency-Key` for a creating route. The first request with a key claims it (one insert with
 * the key as `_id`), runs, and stores a 2xx response for 24 h; a repeat with the same body gets that
 * response again (status, body, Location, ETag) and creates nothing. A repeat while the first still
 * runs waits for it (up to waitMs, then 409 with Retry-After). The same key with another body is
 * 422. A request that fails (4xx, 5xx, 503) created nothing and gives the key up again.
 */
export function idempotency(
  repo: IdempotencyStore,
  scope: string,
  logger: Logger,
  opts: IdempotencyOptions = { waitMs: 5000, pollMs: 50 },
) {
  return async (ctx: Context, next: Next) => {
    const key = ctx.headers['idempotency-key'];
    if (key === undefined) return next();
    if (typeof key !== 'string' || !KEY.test(key)) {
      throw new ValidationError(`Invalid ${IDEMPOTENCY_HEADER} header`, [
        { path: IDEMPOTENCY_HEADER, message: 'must be 1-255 visible ASCII characters (e.g. a UUID)' },
      ]);
    }
    const body = (ctx.request as { body?: unknown }).body ?? {};
    // A body that cannot be stored is answered 400 by the route and creates nothing: no record needed
    // (and it may be nested too deeply to fingerprint).
    if (storableErrors(body).length > 0) return next();
    const fingerprint = requestFingerprint(ctx.method, ctx.path, body);
    // Keys are per API key: two clients choosing the same value never see each other's answers.
    const id = `${scope} ${actorOf(ctx).keyId} ${key}`;
    const deadline = Date.now() + opts.waitMs;
    for (let turn = 0; ; turn++) {
      const claim = await repo.claim(id, fingerprint);
      if (claim) return run(ctx, next, claim);
      const record = await repo.find(id);
      // Gone (released or expired meanwhile): claim it on the next turn.
      if (!record && turn < 100) continue;
      if (record && record.fingerprint !== fingerprint)
        throw new IdempotencyKeyReusedError(`This ${IDEMPOTENCY_HEADER} was used for another request`);
      if (record?.state === 'done') return replay(ctx, record.response);
      if (Date.now() >= deadline) {
        ctx.set('Retry-After', '1');
        throw new ConflictError(`A request with this ${IDEMPOTENCY_HEADER} is still in progress; retry it later`);
      }
      // Pending elsewhere: wait for its outcome.
      await new Promise((r) => setTimeout(r, opts.pollMs));
    }
  };

  async function run(ctx: Context, next: Next, claim: Claim): Promise<void> {
    let keep = false;
    try {
      await next();
      if (ctx.status >= 200 && ctx.status < 300) {
        // Once something was created the key is never given up: if the response cannot be stored,
        // the pending claim holds the key until its lock runs out.
        keep = true;
        const headers: Record<string, string> = {};
        for (const name of REPLAYED_HEADERS) {
          const value = ctx.response.get(name);
          if (value) headers[name] = value;
        }
        const stored = await repo.complete(claim, { status: ctx.status, headers, body: JSON.stringify(ctx.body) }).catch((err: unknown) => {
          logger.warn({ err, key: claim.id }, 'could not store the idempotent response');
          return true;
        });
        if (!stored) logger.warn({ key: claim.id }, 'idempotency claim was taken over before the response was stored');
      }
    } finally {
      if (!keep)
        await repo.release(claim).catch((err: unknown) => logger.warn({ err, key: claim.id }, 'could not release idempotency key'));
    }
  }
}
