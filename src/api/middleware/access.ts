import type { Context, Next } from 'koa';
import { allows, type Actor, type Scope } from '../../domain/access';
import { AppError, ForbiddenError, TooManyRequestsError, UnauthorizedError } from '../../domain/errors';
import { UnsupportedMediaTypeError } from './validate';

export const SESSION_COOKIE = 'tock_session';

/** Who a request comes from: a bearer key, HTTP Basic with a key as the password, or a session cookie. */
export interface Authenticator {
  authenticate(key: string): Promise<Actor | null>;
  fromSession(value: string): Promise<Actor | null>;
}

/** How many requests a key may make (shared by every API process). */
export interface RequestLimit {
  consume(key: string): Promise<{ allowed: boolean; retryAfterMs: number }>;
}

export interface AccessState {
  actor?: Actor;
  /** How the actor was authenticated: a cookie is what a cross-site request could ride on. */
  via?: 'bearer' | 'basic' | 'cookie';
}

function credentials(ctx: Context): { key: string; via: 'bearer' | 'basic' } | { session: string } | null {
  const header = ctx.get('Authorization');
  const bearer = /^Bearer\s+(\S+)$/i.exec(header);
  if (bearer) return { key: bearer[1]!, via: 'bearer' };
  const basic = /^Basic\s+(\S+)$/i.exec(header);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    return { key: decoded.slice(decoded.indexOf(':') + 1), via: 'basic' };
  }
  const session = ctx.cookies.get(SESSION_COOKIE);
  return session ? { session } : null;
}

/**
 * Works out who the request comes from (ctx.state.actor); enforcing is `requireScope`'s. A request
 * with credentials that name no valid key is 401 at once, whatever the route.
 */
export function authenticate(auth: Authenticator) {
  return async (ctx: Context, next: Next) => {
    const given = credentials(ctx);
    const state = ctx.state as AccessState;
    if (given && 'key' in given) {
      const actor = await auth.authenticate(given.key);
      if (!actor) throw unauthorized(ctx, 'The API key is not valid (unknown or revoked)');
      state.actor = actor;
      state.via = given.via;
    } else if (given) {
      const actor = await auth.fromSession(given.session);
      if (actor) {
        state.actor = actor;
        state.via = 'cookie';
      } else ctx.cookies.set(SESSION_COOKIE, null);
    }
    await next();
  };
}

function unauthorized(ctx: Context, message: string): UnauthorizedError {
  ctx.set('WWW-Authenticate', 'Bearer realm="tock"');
  return new UnauthorizedError(message);
}

/** The authenticated actor; 401 without one. */
export function actorOf(ctx: Context): Actor {
  const actor = (ctx.state as AccessState).actor;
  if (!actor) throw unauthorized(ctx, 'This route needs an API key: Authorization: Bearer <key>');
  return actor;
}

/** 401 without a valid key, 403 when the key lacks `scope` (admin has every scope). */
export function requireScope(scope: Scope) {
  return async (ctx: Context, next: Next) => {
    const actor = actorOf(ctx);
    if (!allows(actor, scope)) throw new ForbiddenError(`Key ${actor.keyId} does not have the ${scope} scope`);
    await next();
  };
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Cross-site requests cannot change anything. A state-changing request authenticated by the session
 * cookie (which a browser adds by itself) must say `Content-Type: application/json`, which no form
 * can, and must not come from another origin; a bearer key is never added by a browser.
 */
export function sameSiteWrites(allowedOrigins: ReadonlySet<string>) {
  return async (ctx: Context, next: Next) => {
    const state = ctx.state as AccessState;
    if (!SAFE.has(ctx.method) && state.via === 'cookie') {
      const origin = ctx.get('Origin');
      if (origin && origin !== ownOrigin(ctx) && !allowedOrigins.has(origin)) {
        throw new ForbiddenError(`A request from ${origin} cannot change anything here`);
      }
      if (!ctx.is('application/json', '+json')) {
        throw new UnsupportedMediaTypeError('A change made with a session cookie must be sent as application/json');
      }
    }
    await next();
  };
}

/** Form posts never reach Bull Board's API (its own UI sends JSON). */
export function noFormPosts() {
  return async (ctx: Context, next: Next) => {
    if (!SAFE.has(ctx.method) && ctx.is('application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain')) {
      throw new UnsupportedMediaTypeError('Bull Board accepts no form posts');
    }
    await next();
  };
}

export class MisdirectedRequestError extends AppError {
  override name = 'MisdirectedRequestError';
  override readonly status = 421;
  override readonly code = 'misdirected-request';
}

/** ALLOWED_HOSTS: a request for another Host (a DNS-rebinding page, say) is refused. Empty: any host. */
export function hostGuard(allowed: ReadonlySet<string>) {
  return async (ctx: Context, next: Next) => {
    if (allowed.size > 0 && !allowed.has(ctx.host.toLowerCase()) && !allowed.has(ctx.hostname.toLowerCase())) {
      throw new MisdirectedRequestError(`Host ${ctx.host} is not served here (ALLOWED_HOSTS)`);
    }
    await next();
  };
}

/** RATE_LIMIT_PER_MINUTE per key (TOCK_ADMIN_KEY is not limited): 429 with Retry-After. */
export function rateLimit(limit: RequestLimit) {
  return async (ctx: Context, next: Next) => {
    const actor = (ctx.state as AccessState).actor;
    if (actor?.stored) {
      const r = await limit.consume(actor.keyId);
      if (!r.allowed)
        throw new TooManyRequestsError(
          `Key ${actor.keyId} is over its rate limit (RATE_LIMIT_PER_MINUTE)`,
          Math.ceil(r.retryAfterMs / 1000),
        );
    }
    await next();
  };
}

/** This site's origin, as a browser on it sends it (Koa 3's ctx.origin is the request's Origin header). */
export function ownOrigin(ctx: Context): string {
  return `${ctx.protocol}://${ctx.host}`;
}
