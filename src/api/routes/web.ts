import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Router from '@koa/router';
import type { Context } from 'koa';

/** Where `npm run build` puts the dashboard (vite build of web/): the same from src/ and dist/. */
export const WEB_DIR = path.resolve(__dirname, '../../../dist/web');

const ASSET = /^[A-Za-z0-9._-]{1,200}$/;
/** Vite names every asset after its content: a changed file gets a new name, so a year is safe. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * The web dashboard: `/` and every `/ui/...` page answer index.html (the pages are drawn in the
 * browser), `/ui/assets/*` the hashed scripts and styles. Nothing is loaded from another host. It
 * needs no key to load: the page signs in through POST /ui/session and calls /api/v1 with the cookie.
 */
export function webRoutes(opts: { dir?: string } = {}): Router {
  const dir = opts.dir ?? WEB_DIR;
  const router = new Router();
  const page = async (ctx: Context) => {
    // Read each time (it is tiny): a rebuild while the API runs names new assets.
    const index = await readFile(path.join(dir, 'index.html'), 'utf8').catch(() => undefined);
    if (index === undefined) {
      ctx.status = 503;
      ctx.type = 'text/plain';
      ctx.body = `The dashboard is not built: run \`npm run build\` (it writes ${path.relative(process.cwd(), dir) || dir}).\n`;
      return;
    }
    ctx.type = 'html';
    // The page is small and names the current assets: always ask again.
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = index;
  };

  router.get('/ui/assets/:name', async (ctx) => {
    const name = ctx.params.name!;
    const file = ASSET.test(name) ? await readFile(path.join(dir, 'assets', name)).catch(() => undefined) : undefined;
    if (!file) {
      ctx.status = 404;
      return;
    }
    ctx.type = path.extname(name);
    ctx.set('Cache-Control', IMMUTABLE);
    ctx.body = file;
  });
  router.get('/', page);
  router.get('/ui', page);
  router.get('/ui/{*rest}', page);
  return router;
}
