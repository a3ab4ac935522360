import http from 'node:http';
import https from 'node:https';
import { HandlerError } from './handler';
import { BlockedAddressError, type NetworkPolicy } from './network-guard';

export const RESPONSE_BODY_LIMIT = 4096;
const MAX_REDIRECTS = 5;
/** What a redirect to another origin never carries (as browsers do), besides the job's own headers. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

export interface OutgoingRequest {
  url: URL;
  method: string;
  /** The job's own headers (every value secret) and Tock's (user-agent, content-type, signature). */
  jobHeaders: Record<string, string>;
  tockHeaders: Record<string, string>;
  body: string | undefined;
  followRedirects: boolean;
  signal: AbortSignal;
  network: NetworkPolicy;
}

export interface RawResponse {
  statusCode: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  bodyTruncated: boolean;
  /** The URL that answered (after redirects). */
  url: URL;
}

function sendOnce(url: URL, headers: Record<string, string>, o: OutgoingRequest): Promise<Omit<RawResponse, 'url'>> {
  o.network.assertLiteralAllowed(url.hostname);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(url, {
      method: o.method,
      headers: o.body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(o.body)) },
      signal: o.signal,
      lookup: o.network.allowPrivate ? undefined : o.network.lookup,
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
    req.end(o.body);
  });
}

/**
 * One request, and its redirects when followed. A redirect to another origin carries none of the
 * job's headers (they are its secrets), no credentials and no userinfo; every hop is checked
 * against the network policy.
 */
export async function sendRequest(o: OutgoingRequest): Promise<RawResponse> {
  const origin = o.url.origin;
  let url = o.url;
  let res = await sendOnce(url, { ...o.jobHeaders, ...o.tockHeaders }, o);
  for (let hops = 0; o.followRedirects && res.statusCode >= 300 && res.statusCode < 400; hops++) {
    const location = res.headers.location;
    if (!location) break;
    if (hops >= MAX_REDIRECTS) throw new HandlerError(`more than ${MAX_REDIRECTS} redirects`, 'too-many-redirects');
    url = new URL(location, url);
    url.username = '';
    url.password = '';
    const sameOrigin = url.origin === origin;
    const headers = sameOrigin ? { ...o.jobHeaders, ...o.tockHeaders } : crossOriginHeaders(o.tockHeaders);
    res = await sendOnce(url, headers, o);
  }
  return { ...res, url };
}

function crossOriginHeaders(tock: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(tock).filter(([name]) => !CREDENTIAL_HEADERS.has(name.toLowerCase()) && !name.startsWith('webhook-')),
  );
}

/** The URL as an execution records it: no userinfo, and query values replaced (they often carry tokens). */
export function recordedUrl(url: URL): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  for (const key of [...new Set(u.searchParams.keys())]) u.searchParams.set(key, '[redacted]');
  return u.toString();
}

export function classify(err: unknown, signal: AbortSignal): HandlerError {
  if (err instanceof HandlerError) return err;
  if (err instanceof BlockedAddressError) return new HandlerError(err.message, err.code, { retryable: false });
  if (signal.aborted) return new HandlerError('request aborted: attempt timed out', 'timeout', { cause: err });
  const e = err as NodeJS.ErrnoException;
  return new HandlerError(`request failed: ${e.message}`, e.code ?? 'network', { cause: err });
}

export function retryAfterMs(value: string | string[] | undefined): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
