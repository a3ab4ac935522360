import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HandlerError, type HandlerContext } from '../../src/handlers/handler';
import { httpHandler, RESPONSE_BODY_LIMIT, type HttpResult } from '../../src/handlers/http-handler';
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

  const ctx = (signal = AbortSignal.timeout(5000), allowPrivateNetworks = true): HandlerContext => ({
    signal,
    jobId: 'j',
    attempt: 1,
    logger: createLogger('silent'),
    allowPrivateNetworks,
  });
  const run = (payload: object, c = ctx()) => httpHandler.execute(httpHandler.payloadSchema.parse(payload), c);

  it('keeps only the first 4 KB of a 100 MB body', async () => {
    const result = (await run({ url: `${base}/big`, method: 'GET' })) as HttpResult;
    expect(result.statusCode).toBe(200);
    expect(result.body.length).toBe(RESPONSE_BODY_LIMIT);
    expect(result.bodyTruncated).toBe(true);
  });

  it('ends a request that never answers at the timeout with code timeout', async () => {
    const started = Date.now();
    await expect(run({ url: `${base}/hang`, timeoutMs: 300 })).rejects.toMatchObject({ code: 'timeout' });
    expect(Date.now() - started).toBeLessThan(1300);
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

  it('refuses loopback and metadata addresses unless allowed', async () => {
    await expect(run({ url: `${base}/ok` }, ctx(undefined, false))).rejects.toMatchObject({ code: 'blocked-address', retryable: false });
    await expect(run({ url: 'http://localhost:9/x' }, ctx(undefined, false))).rejects.toMatchObject({ code: 'blocked-address' });
    await expect(run({ url: 'http://169.254.169.254/latest/meta-data' }, ctx(undefined, false))).rejects.toMatchObject({
      code: 'blocked-address',
    });
  });
});
