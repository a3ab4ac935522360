import { z } from 'zod';
import { attemptSignal } from '../lib/deadlines';
import { defineHandler, HandlerError, type HandlerContext } from './handler';
import { classify, recordedUrl, retryAfterMs, sendRequest, RESPONSE_BODY_LIMIT } from './http-request';
import { NetworkPolicy } from './network-guard';
import { signatureHeaders, SIGNATURE_HEADERS } from './webhook-signature';

export { RESPONSE_BODY_LIMIT };
const NON_RETRYABLE_STATUSES = new Set([400, 401, 403, 404, 405, 410, 422]);

/** Headers only Tock sets: framing, routing and the signature (request smuggling starts with the first two). */
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-connection',
  ...SIGNATURE_HEADERS,
]);

const HttpPayloadBase = z.strictObject({
  url: z
    .url({ protocol: /^https?$/, message: 'must be an http or https URL' })
    .refine((u) => {
      // zod runs this even when the format check failed: an unparsable URL is that check's to report.
      if (!URL.canParse(u)) return true;
      const url = new URL(u);
      return url.username === '' && url.password === '';
    }, 'must not carry credentials: send them as headers.Authorization (kept secret)')
    .meta({
      description: 'An absolute `http` or `https` URL, without credentials.',
      examples: ['https://example.com/hooks/tock'],
      pattern: '^[Hh][Tt][Tt][Pp][Ss]?://', // the protocol check, for the contract
    }),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']).default('POST'),
  headers: z
    .record(
      z
        .string()
        .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'is not a valid header name')
        .refine((name) => !RESERVED_HEADERS.has(name.toLowerCase()), 'is set by Tock (framing, host or signature headers cannot be set)'),
      z
        .string()
        .max(8192)
        .regex(/^[^\r\n\0]*$/, 'must not contain CR, LF or NUL'),
    )
    .default({})
    .meta({
      description:
        'Request headers (name to value); `user-agent` defaults to `tock-webhook/1`. Every value is secret: stored encrypted and ' +
        'shown as `[redacted]`. `Host`, `Content-Length`, `Transfer-Encoding`, `Connection` and the `webhook-*` signature ' +
        'headers are set by Tock and refused here.',
    }),
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
    'retried). Every request is signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`) ' +
    "with the job's signing secret. Stored and returned as sent, header values redacted (defaults are applied when the job runs).",
};

export interface HttpHandlerOptions {
  /** HTTP_ALLOW_PRIVATE_NETWORKS: webhooks may call loopback, private and link-local addresses. */
  allowPrivateNetworks: boolean;
  /** HTTP_ALLOWED_NETWORKS: private networks webhooks may call anyway (CIDRs). */
  allowedNetworks?: readonly string[];
}

/** The payload schema; a URL whose host is a private literal is refused at create unless allowed. */
function payloadSchema(network: NetworkPolicy) {
  return HttpPayloadBase.superRefine((p, ctx) => {
    // Refinements run even when the URL failed its own check: only a parsable one is looked at.
    const error = URL.canParse(p.url) ? network.literalHostError(new URL(p.url).hostname) : null;
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
    body: z.string().meta({ description: 'The first 4 KB of the response body (secrets the target echoed are redacted).' }),
    bodyTruncated: z.boolean(),
    url: z.string().meta({ description: 'The final URL (after redirects), without userinfo and with query values redacted.' }),
  })
  .meta({ description: 'The `result` of an `http` execution (on success, and on failure by an unexpected status).' });

export function createHttpHandler(opts: HttpHandlerOptions) {
  const network = new NetworkPolicy(opts.allowPrivateNetworks, opts.allowedNetworks);
  return defineHandler({
    name: 'http',
    description: 'Calls an HTTP(S) webhook, signed; fails on an unexpected status (default: anything but 2xx).',
    payloadSchema: payloadSchema(network),
    resultSchema: HttpResultSchema,
    secretPaths: (payload) => Object.keys((payload.headers as Record<string, unknown> | undefined) ?? {}).map((name) => ['headers', name]),
    async execute(payload, ctx: HandlerContext): Promise<HttpResult> {
      // The payload's own timeout, within the attempt's (not AbortSignal.any with AbortSignal.timeout:
      // on Node 20 the timeout signal can be collected before it fires, and the request then hangs).
      const own = payload.timeoutMs ? attemptSignal(payload.timeoutMs, ctx.signal) : undefined;
      try {
        return await call(payload, ctx, own?.signal ?? ctx.signal, network);
      } finally {
        own?.dispose();
      }
    },
  });
}

/** One webhook call (and its redirects, when followed), bounded by `signal`. */
async function call(payload: HttpPayload, ctx: HandlerContext, signal: AbortSignal, network: NetworkPolicy): Promise<HttpResult> {
  const body = payload.body === undefined ? undefined : typeof payload.body === 'string' ? payload.body : JSON.stringify(payload.body);
  const tockHeaders: Record<string, string> = {
    'user-agent': 'tock-webhook/1',
    ...signatureHeaders(ctx.signingSecrets, ctx.runId, body ?? ''),
  };
  const jobHeaders = { ...payload.headers };
  if (body !== undefined && !Object.keys(jobHeaders).some((h) => h.toLowerCase() === 'content-type')) {
    tockHeaders['content-type'] = typeof payload.body === 'string' ? 'text/plain' : 'application/json';
  }
  for (const name of Object.keys(jobHeaders)) if (name.toLowerCase() === 'user-agent') delete tockHeaders['user-agent'];
  const started = performance.now();
  let res;
  try {
    res = await sendRequest({
      url: new URL(payload.url),
      method: payload.method,
      jobHeaders,
      tockHeaders,
      body,
      followRedirects: payload.followRedirects,
      signal,
      network,
    });
  } catch (err) {
    throw classify(err, signal);
  }
  const result: HttpResult = {
    statusCode: res.statusCode,
    durationMs: Math.round(performance.now() - started),
    body: res.body,
    bodyTruncated: res.bodyTruncated,
    url: recordedUrl(res.url),
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
