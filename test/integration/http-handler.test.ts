import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HandlerError, type HandlerContext } from '../../src/handlers/handler';
import { createHttpHandler, RESPONSE_BODY_LIMIT, type HttpResult } from '../../src/handlers/http-handler';
import { createLogger } from '../../src/observability/logger';

/** The http handler against a real local server (hostile targets included). */
describe('http handler', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/big') {
        res.writeHead(200);
        const chunk = Buffer.alloc(64 * 1024, 'x');
        let sent = 0;
        const pump = () => {
          while (sent < 100 * 1024 * 1024 && res.write(chunk)) sent += chunk.length;
          if (sent < 100 * 1024 * 1024) res.once('drain', pump);
          else res.end();
        };
        res.on('close', () => (sent = Infinity));
        pump();
      } else if (req.url === '/hang') {
        // never answers
      } else if (req.url === '/redirect') {
        res.writeHead(302, { location: '/redirect' }).end();
      } else if (req.url === '/busy') {
        res.writeHead(503, { 'retry-after': '7' }).end();
      } else {
        res.writeHead(200).end('ok');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });

  const allowed = createHttpHandler({ allowPrivateNetworks: true });
  const guarded = createHttpHandler({ allowPrivateNetworks: false });
  const ctx = (signal = AbortSignal.timeout(5000)): HandlerContext => ({
    signal,
    jobId: 'j',
    runId: 'j-m-1',
    attempt: 1,
    signingSecrets: [],
    logger: createLogger('silent'),
  });
  const run = (payload: object, c = ctx(), handler = allowed) => handler.execute(allowed.payloadSchema.parse(payload), c);

  it('keeps only the first 4 KB of a 100 MB body', async () => {
    const result = (await run({ url: `${base}/big`, method: 'GET' })) as HttpResult;
    expect(result.statusCode).toBe(200);
    expect(result.body.length).toBe(RESPONSE_BODY_LIMIT);
    expect(result.bodyTruncated).toBe(true);
  });

  it('ends a request that never answers at the timeout with code timeout', async () => {
    const started = Date.now();
    await expect(run({ url: `${base}/hang`, timeoutMs: 300 })).rejects.toMatchObject({ code: 'timeout' });
    // The attempt ends at its timeout, not at the target's leisure (bar: timeout + 1 s).
    expect(Date.now() - started).toBeLessThan(300 + 1000);
  });

  it('does not follow redirects unless asked, and stops redirect loops', async () => {
    await expect(run({ url: `${base}/redirect` })).rejects.toMatchObject({ code: 'http-302' });
    await expect(run({ url: `${base}/redirect`, followRedirects: true })).rejects.toMatchObject({ code: 'too-many-redirects' });
  });

  it('passes Retry-After of a 503 on to the backoff', async () => {
    const err = await run({ url: `${base}/busy` }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HandlerError);
    expect((err as HandlerError).options.retryAfterMs).toBe(7000);
    expect((err as HandlerError).retryable).toBe(true);
  });

  it('refuses loopback and metadata addresses unless allowed, naming the setting', async () => {
    const blocked = { code: 'blocked-address', retryable: false, message: expect.stringMatching(/HTTP_ALLOW_PRIVATE_NETWORKS=true/) };
    await expect(run({ url: `${base}/ok` }, ctx(), guarded)).rejects.toMatchObject(blocked);
    await expect(run({ url: 'http://localhost:9/x' }, ctx(), guarded)).rejects.toMatchObject(blocked);
    await expect(run({ url: 'http://169.254.169.254/latest/meta-data' }, ctx(), guarded)).rejects.toMatchObject(blocked);
  });

  it('refuses a private literal host when the job is created, naming the setting; names are left to run time', () => {
    const issues = (url: string) => guarded.payloadSchema.safeParse({ url }).error?.issues.map((i) => [i.path.join('.'), i.message]);
    for (const url of [
      'http://127.0.0.1:8080/x',
      'http://[::1]/',
      'http://10.0.0.7/',
      'http://0x7f.1/',
      'http://localhost/',
      'http://[::127.0.0.1]/',
    ]) {
      expect(issues(url)).toEqual([['url', expect.stringMatching(/HTTP_ALLOW_PRIVATE_NETWORKS=true/)]]);
    }
    expect(issues('https://example.com/hook')).toBeUndefined();
    expect(allowed.payloadSchema.safeParse({ url: 'http://127.0.0.1/' }).success).toBe(true);
  });
});
