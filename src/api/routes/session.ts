import Router from '@koa/router';
import type { Context } from 'koa';
import { HttpMethodEnum, koaBody } from 'koa-body';
import { ForbiddenError, UnauthorizedError } from '../../domain/errors';
import { parseInput } from '../../domain/validation';
import type { KeyService } from '../../services/key-service';
import { SESSION_TTL_MS } from '../../services/key-service';
import { ownOrigin, SESSION_COOKIE } from '../middleware/access';
import { requestBody } from '../middleware/validate';
import { SessionRequest } from '../schemas';
import { loginPage } from '../pages/login';

/** Where a sign-in may send the browser next: a path on this site. */
function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?!\/)[^\s\\]*$/.test(next) ? next : '/';
}

/**
 * Signing in with an API key, for browsers (the dashboard and Bull Board): the key is exchanged for
 * an HttpOnly, SameSite=Strict session cookie (Secure over https). `GET /login` is a plain form.
 */
export function sessionRoutes(deps: { keys: Pick<KeyService, 'startSession'> }): Router {
  const router = new Router();
  // The sign-in form posts urlencoded (JSON is parsed for every route already); every other route takes JSON only.
  const formOrJson = koaBody({ json: false, urlencoded: true, text: false, multipart: false, parsedMethods: [HttpMethodEnum.POST] });

  router.get('/login', (ctx) => {
    ctx.type = 'html';
    ctx.body = loginPage({ next: safeNext(ctx.query.next) });
  });

  router.post('/ui/session', formOrJson, async (ctx) => {
    const origin = ctx.get('Origin');
    if (origin && origin !== ownOrigin(ctx)) throw new ForbiddenError(`A sign-in from ${origin} is not accepted`);
    const isForm = ctx.is('application/x-www-form-urlencoded') !== false;
    const raw = isForm ? (ctx.request as { body?: unknown }).body : requestBody(ctx);
    const parsed = parseInput(SessionRequest, isForm ? { apiKey: (raw as { apiKey?: unknown })?.apiKey } : raw);
    const started = 'data' in parsed ? await deps.keys.startSession(parsed.data.apiKey) : null;
    if (!started) {
      if (!isForm) throw new UnauthorizedError('The API key is not valid (unknown or revoked)');
      ctx.status = 401;
      ctx.type = 'html';
      ctx.body = loginPage({ next: safeNext((raw as { next?: unknown })?.next), error: 'That key is not valid (unknown or revoked).' });
      return;
    }
    setSession(ctx, started.session);
    if (isForm) {
      ctx.status = 303;
      ctx.redirect(safeNext((raw as { next?: unknown })?.next));
      return;
    }
    const { keyId, name, scopes } = started.actor;
    ctx.body = { keyId, name, scopes };
  });

  router.delete('/ui/session', (ctx) => {
    ctx.cookies.set(SESSION_COOKIE, null);
    ctx.status = 204;
  });
  return router;
}

function setSession(ctx: Context, value: string): void {
  ctx.cookies.set(SESSION_COOKIE, value, {
    httpOnly: true,
    sameSite: 'strict',
    secure: ctx.secure,
    path: '/',
    maxAge: SESSION_TTL_MS,
    overwrite: true,
  });
}
