import Router from '@koa/router';
import type { AuditLog } from '../../services/audit-log';
import type { KeyService } from '../../services/key-service';
import { actorOf, requireScope } from '../middleware/access';
import { body, query } from '../middleware/validate';
import { AuditListQuery, CreateKeyRequest, KeyListQuery } from '../schemas';

/** API keys and the audit log: admin only. */
export function adminRoutes(deps: { keys: KeyService; audit: Pick<AuditLog, 'record' | 'list'> }): Router {
  const router = new Router();
  const admin = requireScope('admin');

  router.post('/keys', admin, async (ctx) => {
    const { name, scopes } = body(ctx, CreateKeyRequest);
    const created = await deps.keys.create(name, [...new Set(scopes)]);
    deps.audit.record(actorOf(ctx), 'key.create', { target: created.id });
    ctx.status = 201;
    ctx.set('Location', `/api/v1/keys/${created.id}`);
    // The key itself appears here, once; it is stored hashed.
    ctx.body = created;
  });

  router.get('/keys', admin, async (ctx) => {
    ctx.body = await deps.keys.list(query(ctx, KeyListQuery));
  });

  router.delete('/keys/:id', admin, async (ctx) => {
    await deps.keys.revoke(ctx.params.id!);
    deps.audit.record(actorOf(ctx), 'key.revoke', { target: ctx.params.id! });
    ctx.status = 204;
  });

  router.get('/audit', admin, async (ctx) => {
    ctx.body = await deps.audit.list(query(ctx, AuditListQuery));
  });

  /** Who the caller is: the dashboard asks, to offer only what the key's scopes allow. */
  router.get('/session', async (ctx) => {
    const { keyId, name, scopes } = actorOf(ctx);
    ctx.body = { keyId, name, scopes };
  });
  return router;
}
