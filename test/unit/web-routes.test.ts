import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Koa from 'koa';
import { webRoutes } from '../../src/api/routes/web';

/** The dashboard's route module over a dist/web of the test's own (or none). */
describe('web routes (the dashboard files)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tock-web-'));
  const servers: Server[] = [];
  afterAll(() => {
    servers.forEach((s) => s.close());
    rmSync(dir, { recursive: true, force: true });
  });
  const serve = async (webDir: string) => {
    const app = new Koa();
    app.use(webRoutes({ dir: webDir }).routes());
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise((r) => server.once('listening', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  it('answers 503 saying to run npm run build when the dashboard is not built', async () => {
    const base = await serve(path.join(dir, 'missing'));
    const res = await fetch(`${base}/ui/jobs`);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toContain('npm run build');
  });

  it('answers index.html for / and every /ui page, and hashed assets with a long cache', async () => {
    mkdirSync(path.join(dir, 'built/assets'), { recursive: true });
    writeFileSync(path.join(dir, 'built/index.html'), '<!doctype html><title>Tock</title>');
    writeFileSync(path.join(dir, 'built/assets/index-abc123.js'), 'console.log(1)');
    const base = await serve(path.join(dir, 'built'));
    for (const page of ['/', '/ui', '/ui/jobs', '/ui/jobs/6b0411d5f6f66b9c7ecddd26/edit', '/ui/dead-letter?state=retried']) {
      const res = await fetch(`${base}${page}`);
      expect({ page, status: res.status, type: res.headers.get('content-type') }).toEqual({
        page,
        status: 200,
        type: 'text/html; charset=utf-8',
      });
      expect(res.headers.get('cache-control')).toBe('no-cache');
    }
    const js = await fetch(`${base}/ui/assets/index-abc123.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${base}/ui/assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${base}/ui/assets/..%2Findex.html`)).status).toBe(404);
  });
});
