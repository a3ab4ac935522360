import type { FieldError } from './types';

export type * from './types';

/**
 * Calls to the Tock API from the browser, authenticated by the session cookie. Every change is sent
 * as JSON (the API refuses a cookie-authenticated change in any other form), with `{}` when the
 * operation takes no body.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: FieldError[] = [],
  ) {
    super(message);
  }
}

/** Dispatched on window when the API no longer knows the session. */
export const SIGNED_OUT = 'tock:signed-out';

export type Scope = 'jobs:read' | 'jobs:write' | 'dead-letter:write' | 'admin';
export interface Session {
  keyId: string;
  name: string;
  scopes: Scope[];
}

export function can(session: Session, scope: Scope): boolean {
  return session.scopes.includes('admin') || session.scopes.includes(scope);
}

export interface Answer<T> {
  body: T;
  etag: string | null;
}

async function call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer<T>> {
  const write = method !== 'GET';
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: { Accept: 'application/json', ...(write ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: write ? JSON.stringify(body ?? {}) : undefined,
  });
  const text = res.status === 204 ? '' : await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (a proxy's error page, say): the status alone tells what happened.
  }
  if (!res.ok) {
    // The session ended (expired, key revoked): back to the sign-in form.
    if (res.status === 401 && path.startsWith('/api/')) window.dispatchEvent(new Event(SIGNED_OUT));
    const problem = (parsed ?? {}) as { detail?: string; title?: string; errors?: FieldError[] };
    throw new ApiError(res.status, problem.detail ?? problem.title ?? `${method} ${path} answered ${res.status}`, problem.errors ?? []);
  }
  return { body: parsed as T, etag: res.headers.get('ETag') };
}

export const api = {
  get: <T>(path: string) => call<T>('GET', path).then((a) => a.body),
  getWithEtag: <T>(path: string) => call<T>('GET', path),
  send: <T>(method: 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, headers?: Record<string, string>) =>
    call<T>(method, path, body, headers),
};

/** `?a=1&b=2` of the given values, leaving out empty ones. */
export function queryString(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
