import http from 'node:http';
import https from 'node:https';
import { z } from 'zod';
import { defineHandler, HandlerError, type HandlerContext } from './handler';
import { assertLiteralAllowed, BlockedAddressError, guardedLookup, literalHostError } from './network-guard';
import { attemptSignal } from '../lib/deadlines';

export const RESPONSE_BODY_LIMIT = 4096;
const MAX_REDIRECTS = 5;
const NON_RETRYABLE_STATUSES = new Set([400, 401, 403, 404, 405, 410, 422]);

const HttpPayloadBase = z.strictObject({
  url: z.url({ protocol: /^https?$/, message: 'must be an http or https URL' }).meta({
    description: 'An absolute `http` or `https` URL.',
    examples: ['https://example.com/hooks/tock'],
    pattern: '^[Hh][Tt][Tt][Pp][Ss]?://', // the protocol check, for the contract
  }),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']).default('POST'),
  headers: z
    .record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'is not a valid header name'), z.string().max(8192))
    .default({})
    .meta({ description: 'Request headers (name to value); `user-agent` defaults to `tock-webhook/1`.' }),
  body: z
    .unknown()
    .optional()
    .meta({
      description:
        'The request body: a string is sent as is (`text/plain` unless a `content-type` header is given), any other JSON value ' +
        'is sent JSON-encoded (`application/json`). Absent: no body.',
    }),
  timeoutMs: z
    .number()
    .int()
    .min(1)
    .max(3_600_000)
    .optional()
    .meta({ description: "Timeout of the HTTP exchange; the job's `timeoutMs` applies as well." }),
  expectedStatus: z
    .array(z.number().int().min(100).max(599))
    .min(1)
    .max(50)
    .optional()
    .meta({ description: 'Statuses that count as success (default any 2xx).' }),
  followRedirects: z.boolean().default(false).meta({ description: 'Follow 3xx redirects (at most 5).' }),
  retryOnClientError: z.boolean().default(false).meta({
    description: 'Also retry after 400, 401, 403, 404, 405, 410 and 422 (otherwise such a run goes straight to the dead letter).',
  }),
});
type HttpPayload = z.infer<typeof HttpPayloadBase>;

const PAYLOAD_META = {
  description:
    'Calls a webhook. The attempt fails on a network error, a timeout, or an unexpected status (anything but 2xx unless ' +
    '`expectedStatus` says otherwise). Unless the server sets `HTTP_ALLOW_PRIVATE_NETWORKS=true`, addresses that are not ' +
    'public (loopback, private, link-local, ...) are refused: a literal one (or a `localhost` name) when the job is ' +
    'created (`400` on `payload.url`), and a name that resolves to one when the job runs (`blocked-address`, not ' +
    'retried). Stored and returned as sent (defaults are applied when the job runs).',
};

export interface HttpHandlerOptions {
  /** HTTP_ALLOW_PRIVATE_NETWORKS: webhooks may call loopback, private and link-local addresses. */
  allowPrivateNetworks: boolean;
}

/** The payload schema; without allowPrivateNetworks, a URL whose host is a private literal is refused at create. */
function payloadSchema(opts: HttpHandlerOptions) {
  if (opts.allowPrivateNetworks) return HttpPayloadBase.meta(PAYLOAD_META);
  return HttpPayloadBase.superRefine((p, ctx) => {
    const error = literalHostError(new URL(p.url).hostname);
    if (error) ctx.addIssue({ code: 'custom', path: ['url'], message: error });
  }).meta(PAYLOAD_META);
}

export interface HttpResult {
  statusCode: number;
  durationMs: number;
  body: string;
  bodyTruncated: boolean;
  url: string;
}

const HttpResultSchema: z.ZodType<HttpResult> = z
  .strictObject({
    statusCode: z.number().int(),
    durationMs: z.number().int().min(0),
    body: z.string().meta({ description: 'The first 4 KB of the response body.' }),
    bodyTruncated: z.boolean(),
    url: z.string().meta({ description: 'The final URL (after redirects).' }),
  })
  .meta({ description: 'The `result` of an `http` execution (on success, and on failure by an unexpected status).' });

interface RawResponse {
  statusCode: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  bodyTruncated: boolean;
}

interface RequestContext {
  signal: AbortSignal;
  allowPrivateNetworks: boolean;
}

function send(url: URL, payload: HttpPayload, body: string | undefined, ctx: RequestContext): Promise<RawResponse> {
  if (!ctx.allowPrivateNetworks) assertLiteralAllowed(url.hostname);
  const client = url.protocol === 'https:' ? https : http;
  const headers: Record<string, string> = { 'user-agent': 'tock-webhook/1', ...payload.headers };
  if (body !== undefined) {
    headers['content-length'] = String(Buffer.byteLength(body));
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['content-type'] = typeof payload.body === 'string' ? 'text/plain' : 'application/json';
    }
  }
  return new Promise((resolve, reject) => {
    const req = client.request(url, {
      method: payload.method,
      headers,
      signal: ctx.signal,
      lookup: ctx.allowPrivateNetworks ? undefined : guardedLookup,
      agent: false,
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      const finish = () => {
        res.removeAllListeners('data');
        resolve({
          statusCode: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).subarray(0, RESPONSE_BODY_LIMIT).toString('utf8'),
          bodyTruncated: truncated,
        });
      };
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= RESPONSE_BODY_LIMIT) {
          // Keep the first 4 KB and stop reading: a huge or endless body costs nothing more.
          truncated = size > RESPONSE_BODY_LIMIT || res.readableLength > 0;
          finish();
          res.destroy();
        }
      });
      res.on('end', finish);
      res.on('error', reject);
    });
    req.end(body);
  });
}

function retryAfterMs(value: string | string[] | undefined): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function classify(err: unknown, signal: AbortSignal): HandlerError {
  if (err instanceof HandlerError) return err;
  if (err instanceof BlockedAddressError) return new HandlerError(err.message, err.code, { retryable: false });
  if (signal.aborted) return new HandlerError('request aborted: attempt timed out', 'timeout', { cause: err });
  const e = err as NodeJS.ErrnoException;
  return new HandlerError(`request failed: ${e.message}`, e.code ?? 'network', { cause: err });
}

export function createHttpHandler(opts: HttpHandlerOptions) {
  return defineHandler({
    name: 'http',
    description: 'Calls an HTTP(S) webhook; fails on an unexpected status (default: anything but 2xx).',
    payloadSchema: payloadSchema(opts),
    resultSchema: HttpResultSchema,
    async execute(payload, ctx: HandlerContext): Promise<HttpResult> {
      // The payload's own timeout, within the attempt's (not AbortSignal.any with AbortSignal.timeout:
      // on Node 20 the timeout signal can be collected before it fires, and the request then hangs).
      const own = payload.timeoutMs ? attemptSignal(payload.timeoutMs, ctx.signal) : undefined;
      try {
        return await request(payload, { signal: own?.signal ?? ctx.signal, allowPrivateNetworks: opts.allowPrivateNetworks });
      } finally {
        own?.dispose();
      }
    },
  });
}

/** One request (and its redirects, when followed), bounded by `context.signal`. */
async function request(payload: HttpPayload, context: RequestContext): Promise<HttpResult> {
  const { signal } = context;
  const body = payload.body === undefined ? undefined : typeof payload.body === 'string' ? payload.body : JSON.stringify(payload.body);
  const started = performance.now();
  let url = new URL(payload.url);
  let res: RawResponse;
  try {
    res = await send(url, payload, body, context);
    for (let hops = 0; payload.followRedirects && res.statusCode >= 300 && res.statusCode < 400; hops++) {
      const location = res.headers.location;
      if (!location) break;
      if (hops >= MAX_REDIRECTS) throw new HandlerError(`more than ${MAX_REDIRECTS} redirects`, 'too-many-redirects');
      url = new URL(location, url);
      res = await send(url, payload, body, context);
    }
  } catch (err) {
    throw classify(err, signal);
  }
  const result: HttpResult = {
    statusCode: res.statusCode,
    durationMs: Math.round(performance.now() - started),
    body: res.body,
    bodyTruncated: res.bodyTruncated,
    url: url.toString(),
  };
  const expected = payload.expectedStatus ? payload.expectedStatus.includes(res.statusCode) : res.statusCode >= 200 && res.statusCode < 300;
  if (!expected) {
    const retryable = payload.retryOnClientError || !NON_RETRYABLE_STATUSES.has(res.statusCode);
    throw new HandlerError(`unexpected HTTP status ${res.statusCode}`, `http-${res.statusCode}`, {
      retryable,
      retryAfterMs: res.statusCode === 429 || res.statusCode === 503 ? retryAfterMs(res.headers['retry-after']) : undefined,
      result,
    });
  }
  return result;
}
