import http from 'node:http';
import os from 'node:os';
import dns from 'node:dns/promises';
import { createLogger } from '../../src/observability/logger';
import type { HandlerContext } from '../../src/handlers/handler';
import { createHttpHandler } from '../../src/handlers/http-handler';
import { figure } from '../helpers/fault';

/**
 * Server-side request forgery: a canary on loopback, and webhook URLs that try to reach it (and
 * the metadata address) in every form a URL parser or resolver accepts. None may reach it: the
 * create-time check refuses literal forms, the run-time lookup refuses names, and redirects are
 * checked hop by hop. A redirector on 127.0.0.2 stands in for a public server (HTTP_ALLOWED_NETWORKS).
 */
describe('SSRF: no address form reaches the canary', () => {
  let canary: http.Server;
  let canary6: http.Server | undefined;
  let redirector: http.Server;
  let port: number;
  let hits = 0;

  beforeAll(async () => {
    const hit: http.RequestListener = (_req, res) => {
      hits++;
      res.end('canary');
    };
    canary = http.createServer(hit);
    await new Promise<void>((r) => canary.listen(0, '127.0.0.1', r));
    port = (canary.address() as { port: number }).port;
    canary6 = http.createServer(hit);
    await new Promise<void>((r, reject) => canary6!.once('error', reject).listen(port, '::1', r)).catch(() => (canary6 = undefined));
    redirector = http.createServer((req, res) => {
      res.statusCode = 302;
      res.setHeader('Location', decodeURIComponent((req.url ?? '/').slice(1)));
      res.end();
    });
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.2', r));
  });
  afterAll(async () => {
    for (const s of [canary, canary6, redirector]) if (s) await new Promise((r) => s.close(r));
  });

  const handler = createHttpHandler({ allowPrivateNetworks: false, allowedNetworks: ['127.0.0.2/32'] });
  const permissive = createHttpHandler({ allowPrivateNetworks: true });
  const ctx = (): HandlerContext => ({
    signal: AbortSignal.timeout(3000),
    jobId: 'ssrf',
    runId: 'ssrf-m-1',
    attempt: 1,
    signingSecrets: [],
    logger: createLogger('silent'),
  });

  it('refuses at least 40 forms, at create or when the job runs, and none reaches the canary', async () => {
    const p = port;
    const literal = [
      `http://127.0.0.1:${p}/`,
      `http://127.1:${p}/`,
      `http://127.0.1:${p}/`,
      `http://2130706433:${p}/`,
      `http://0x7f000001:${p}/`,
      `http://0x7f.0.0.1:${p}/`,
      `http://0177.0.0.1:${p}/`,
      `http://0177.0000.0000.0001:${p}/`,
      `http://017700000001:${p}/`,
      `http://127.000.000.001:${p}/`,
      `http://[::1]:${p}/`,
      `http://[0:0:0:0:0:0:0:1]:${p}/`,
      `http://[::ffff:127.0.0.1]:${p}/`,
      `http://[::ffff:7f00:1]:${p}/`,
      `http://[::127.0.0.1]:${p}/`,
      `http://[::7f00:1]:${p}/`,
      `http://[64:ff9b::7f00:1]:${p}/`,
      `http://[2002:7f00:1::]:${p}/`,
      `http://[::]:${p}/`,
      `http://0.0.0.0:${p}/`,
      `http://0:${p}/`,
      `http://localhost:${p}/`,
      `http://LOCALHOST:${p}/`,
      `http://localhost.:${p}/`,
      `http://tock.localhost:${p}/`,
      `http://169.254.169.254/latest/meta-data/`,
      `http://[::ffff:a9fe:a9fe]/latest/meta-data/`,
      `http://[fe80::1]:${p}/`,
      `http://10.0.0.1:${p}/`,
      `http://172.16.0.1:${p}/`,
      `http://192.168.0.1:${p}/`,
      `http://100.64.0.1:${p}/`,
      `http://[fc00::1]:${p}/`,
      `http://224.0.0.1:${p}/`,
      `http://255.255.255.255:${p}/`,
      `http://example.com@127.0.0.1:${p}/`,
      `http://127.0.0.1:${p}#@example.com/`,
      `http://127.0.0.1:${p}\\@example.com/`,
      `https://127.0.0.1:${p}/`,
    ];
    // Names that resolve to private addresses: refused by the lookup when the job runs.
    const names = [`http://${os.hostname()}:${p}/`, `http://localhost:${p}/`];
    for (const name of names) {
      const host = new URL(name).hostname;
      const addresses = await dns.lookup(host, { all: true }).catch(() => []);
      if (addresses.length === 0) names.splice(names.indexOf(name), 1);
    }
    // Redirects from the "public" redirector to internal addresses.
    const redirects = [`http://127.0.0.1:${p}/`, `http://[::1]:${p}/`, `http://localhost:${p}/`, `http://169.254.169.254/`].map(
      (target) => `http://127.0.0.2:${(redirector.address() as { port: number }).port}/${encodeURIComponent(target)}`,
    );

    const outcomes: string[] = [];
    let tried = 0;
    // At create: the payload schema refuses literal forms (the URL parser normalises them first).
    for (const url of literal) {
      tried++;
      const parsed = handler.payloadSchema.safeParse({ url });
      const atCreate = parsed.success ? 'accepted' : parsed.error.issues.map((i) => i.message).join('; ');
      // When the job runs (a job stored before, or by another deployment): parse leniently, run strictly.
      const lenient = permissive.payloadSchema.safeParse({ url });
      const atRun = lenient.success
        ? await handler.execute(lenient.data, ctx()).then(
            () => 'reached',
            (err: { code?: string }) => err.code ?? 'error',
          )
        : 'not a URL';
      outcomes.push(`${url}: create ${parsed.success ? 'accepted' : `refused (${atCreate})`}, run ${atRun}`);
      expect({ url, atCreate: parsed.success ? 'accepted' : 'refused', reached: atRun === 'reached' }).toEqual({
        url,
        atCreate: 'refused',
        reached: false,
      });
    }
    for (const url of [...names, ...redirects]) {
      tried++;
      const payload = permissive.payloadSchema.parse({ url, followRedirects: true });
      const atRun = await handler.execute(payload, ctx()).then(
        () => 'reached',
        (err: { code?: string }) => err.code ?? 'error',
      );
      outcomes.push(`${url}: run ${atRun}`);
      expect({ url, atRun }).toEqual({ url, atRun: 'blocked-address' });
    }
    figure('ssrf.formsTried', tried);
    figure('ssrf.canaryHits', hits);
    figure('ssrf.outcomes', `\n  ${outcomes.join('\n  ')}`);
    expect(tried).toBeGreaterThanOrEqual(40);
    expect(hits).toBe(0);
  });

  it('the same canary answers a job that is allowed to reach it (so the test above can see a hit)', async () => {
    const before = hits;
    await permissive.execute(permissive.payloadSchema.parse({ url: `http://127.0.0.1:${port}/` }), ctx());
    expect(hits).toBe(before + 1);
  });
});
