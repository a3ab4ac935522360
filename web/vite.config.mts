import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The dashboard: Preact, bundled into dist/web. Everything is served from /ui/ by
 * src/api/routes/web.ts; file names carry a content hash, so they are cached for a year.
 */
const here = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: here,
  base: '/ui/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: path.resolve(here, '../dist/web'),
    emptyOutDir: true,
    assetsDir: 'assets',
    // No inline scripts: the API's Content-Security-Policy allows this origin's files only.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: true,
    target: 'es2022',
  },
  server: {
    // `npm run dev:web`: the API (npm start) on :3000 answers /api and /ui/session.
    proxy: { '/api': 'http://localhost:3000', '/ui/session': 'http://localhost:3000' },
  },
});
