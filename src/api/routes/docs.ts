import { createReadStream, readFileSync } from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import type { Middleware } from 'koa';
import { koaSwagger } from 'koa2-swagger-ui';

/** swagger-ui-dist's files, served from the package so that /docs works offline. */
const DIST = path.dirname(require.resolve('swagger-ui-dist/package.json'));
const VERSION = (JSON.parse(readFileSync(path.join(DIST, 'package.json'), 'utf8')) as { version: string }).version;
/** The names koa2-swagger-ui's page asks for, and the file of the package that each one is. */
const ASSETS: Record<string, { file: string; type: string }> = {
  'swagger-ui.min.css': { file: 'swagger-ui.css', type: 'text/css' },
  'swagger-ui-bundle.js': { file: 'swagger-ui-bundle.js', type: 'application/javascript' },
  'swagger-ui-standalone-preset.js': { file: 'swagger-ui-standalone-preset.js', type: 'application/javascript' },
};

/** Swagger UI at /docs, reading /openapi.yaml, with its scripts and styles served from here. */
export function docsRoutes(): { assets: Router; page: Middleware } {
  const assets = new Router();
  assets.get('/docs/assets/:version/:name', (ctx) => {
    const asset = ASSETS[ctx.params.name!];
    if (!asset || ctx.params.version !== VERSION) return;
    ctx.type = asset.type;
    ctx.set('Cache-Control', 'public, max-age=86400, immutable');
    ctx.body = createReadStream(path.join(DIST, asset.file));
  });
  const page = koaSwagger({
    routePrefix: '/docs',
    title: 'Tock API',
    swaggerCdnUrl: '/docs/assets',
    swaggerVersion: VERSION,
    // The default validator URL would render a badge image from validator.swagger.io.
    swaggerOptions: { url: '/openapi.yaml', validatorUrl: null },
  });
  return { assets, page };
}
