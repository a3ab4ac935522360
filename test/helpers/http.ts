import { ADMIN } from './keys';

/** A response of a Tock API: its status, headers and body (parsed when it is JSON, else the text). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/**
 * One request to the API at `baseUrl`, in process or spawned: an object body is sent as JSON, a
 * string or bytes as they are (as `application/json` unless `headers` give a content type). It
 * carries the test admin key unless `headers` give an `authorization` ('' sends none).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function http<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse<T>> {
  const sent: Record<string, string> = { ...ADMIN, ...headers };
  if (sent.authorization === '') delete sent.authorization;
  const init: RequestInit = { method, headers: sent };
  if (body !== undefined) {
    init.body = typeof body === 'string' || body instanceof Uint8Array ? (body as RequestInit['body']) : JSON.stringify(body);
    sent['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${baseUrl}${path}`, init);
  const text = await res.text();
  const type = res.headers.get('content-type');
  return { status: res.status, headers: res.headers, body: (text && type && /json/.test(type) ? JSON.parse(text) : text) as T };
}
