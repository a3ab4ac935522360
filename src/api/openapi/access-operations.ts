/** Keys, the audit log, signing in, and what every protected operation adds: 401, 403, 429 and its scope. */
import { z } from 'zod';
import type { ZodOpenApiOperationObject } from 'zod-openapi';
import type { Scope } from '../../domain/access';
import {
  ApiKey,
  AuditList,
  AuditListQuery,
  CreatedKey,
  CreateKeyRequest,
  KeyList,
  KeyListQuery,
  LocationHeader,
  SessionInfo,
  SessionRequest,
  SigningSecretRotated,
  XRequestIdHeader,
} from '../schemas';
import { json, lines, requestIdOnly } from './fragments';
import { FAILURES, problem } from './problems';

/**
 * An operation that needs a key: with `scope`, a key that has it (or `admin`); without, any valid
 * key. It can answer 401 (no key, unknown or revoked), 403 (scope missing) and 429 (rate limit).
 */
export function protect(op: ZodOpenApiOperationObject, scope?: Scope): ZodOpenApiOperationObject {
  const needs = scope ? `Needs a key with the \`${scope}\` scope (or \`admin\`).` : 'Needs a valid key (any scope).';
  const responses = { ...op.responses, '401': problem('Unauthorized'), '429': problem('TooManyRequests') };
  return {
    ...op,
    description: `${op.description ?? ''}\n\n${needs}`.trim(),
    responses: scope ? { ...responses, '403': problem('Forbidden') } : responses,
  };
}

/** A public operation: no key needed. */
export function open(op: ZodOpenApiOperationObject): ZodOpenApiOperationObject {
  return { ...op, security: [] };
}

export const createKey: ZodOpenApiOperationObject = {
  tags: ['access'],
  operationId: 'createKey',
  summary: 'Create an API key',
  description: lines(
    'A new key with the given scopes. The answer carries the key itself, `tock_<id>_<secret>`: the one time',
    'it is shown (only its SHA-256 is stored). Keys created here are rate-limited (`RATE_LIMIT_PER_MINUTE`)',
    'and have quotas (`QUOTA_JOBS_PER_KEY`, `QUOTA_TRIGGERS_PER_MINUTE`); `TOCK_ADMIN_KEY` has neither.',
  ),
  requestBody: {
    required: true,
    content: json(CreateKeyRequest, { example: { name: 'billing-service', scopes: ['jobs:read', 'jobs:write'] } }),
  },
  responses: {
    '201': {
      description: 'The key was created.',
      headers: z.object({ Location: LocationHeader, 'X-Request-Id': XRequestIdHeader }),
      content: json(CreatedKey),
    },
    '400': problem('BadRequest', 'The body is invalid (an unknown scope, say).'),
    '413': problem('PayloadTooLarge'),
    '415': problem('UnsupportedMediaType'),
    ...FAILURES,
  },
};

export const listKeys: ZodOpenApiOperationObject = {
  tags: ['access'],
  operationId: 'listKeys',
  summary: 'List API keys',
  description: 'Every key, newest first, revoked ones included; never the key itself.',
  requestParams: { query: KeyListQuery },
  responses: {
    '200': { description: 'A page of keys.', headers: requestIdOnly, content: json(KeyList) },
    '400': problem('BadRequest', 'The query string is invalid.'),
    ...FAILURES,
  },
};

export const revokeKey: ZodOpenApiOperationObject = {
  tags: ['access'],
  operationId: 'revokeKey',
  summary: 'Revoke an API key',
  description: 'The key stops working at once on every API process (its sessions too).',
  requestParams: { path: z.object({ keyId: z.string().meta({ description: 'The id of the key.' }) }) },
  responses: {
    '204': { description: 'The key was revoked.', headers: requestIdOnly },
    '404': problem('NotFound', 'No key has this id, or it was revoked already.'),
    ...FAILURES,
  },
};

export const listAudit: ZodOpenApiOperationObject = {
  tags: ['access'],
  operationId: 'listAudit',
  summary: 'Read the audit log',
  description: lines(
    'Every change made through the API, newest first: who (the key), what, when, and the job and its',
    'version. Entries are written in batches, within about 200 ms of the change.',
  ),
  requestParams: { query: AuditListQuery },
  responses: {
    '200': { description: 'A page of audit entries.', headers: requestIdOnly, content: json(AuditList) },
    '400': problem('BadRequest', 'The query string is invalid.'),
    ...FAILURES,
  },
};

export const getSession: ZodOpenApiOperationObject = {
  tags: ['access'],
  operationId: 'getSession',
  summary: 'Who am I',
  description: 'The key the request is made with, and its scopes.',
  responses: { '200': { description: 'The key.', headers: requestIdOnly, content: json(SessionInfo) }, ...FAILURES },
};

export const rotateSigningSecret: ZodOpenApiOperationObject = {
  tags: ['jobs'],
  operationId: 'rotateSigningSecret',
  summary: "Rotate a job's webhook signing secret",
  description: lines(
    'A new signing secret, returned once. For 24 hours requests are signed with the new and the previous',
    'secret (two signatures in `webhook-signature`), so that receivers can switch without dropping a call.',
    'It takes no body; `If-Match` applies.',
  ),
  responses: {
    '200': { description: 'The new secret.', headers: requestIdOnly, content: json(SigningSecretRotated) },
    '400': problem('BadRequest', 'Invalid `If-Match` header, or a field in the body.'),
    '404': problem('NotFound', 'No job has this id.'),
    '409': problem('Conflict', 'The job was modified concurrently (without `If-Match`).'),
    '412': problem('PreconditionFailed'),
    '413': problem('PayloadTooLarge'),
    '415': problem('UnsupportedMediaType'),
    ...FAILURES,
  },
};

export const signIn: ZodOpenApiOperationObject = {
  tags: ['access'],
  operationId: 'signIn',
  summary: 'Sign in with an API key (browsers)',
  description: lines(
    'Exchanges an API key for a session cookie (`tock_session`: HttpOnly, SameSite=Strict, Secure over https,',
    '12 hours or until the key is revoked), which the dashboard and Bull Board use. JSON answers 200 with the',
    "key's identity; the form of `GET /login` (urlencoded `apiKey`, `next`) is redirected to `next`. A",
    'change made with the cookie must be sent as `application/json` from this origin.',
  ),
  requestBody: { required: true, content: json(SessionRequest) },
  responses: {
    '200': { description: 'Signed in; the cookie is set.', headers: requestIdOnly, content: json(SessionInfo) },
    '303': { description: 'Signed in with the form; to `next`.' },
    '400': problem('BadRequest'),
    '401': problem('Unauthorized', 'The key is not valid.'),
    '403': problem('Forbidden', 'The request came from another origin.'),
    ...FAILURES,
  },
};

export const signOut: ZodOpenApiOperationObject = {
  tags: ['access'],
  operationId: 'signOut',
  summary: 'Sign out',
  description: 'Clears the session cookie.',
  responses: { '204': { description: 'Signed out.', headers: requestIdOnly } },
};

export const loginPage: ZodOpenApiOperationObject = {
  tags: ['access'],
  operationId: 'loginPage',
  summary: 'The sign-in page',
  description: 'A form (an input `apiKey`) that posts to `/ui/session`; Bull Board sends a browser without a session here.',
  responses: {
    '200': { description: 'The page.', content: { 'text/html': { schema: z.string() } } },
  },
};

export const SECURITY_SCHEMES = {
  bearerAuth: {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key: `Authorization: Bearer <key>` (`TOCK_ADMIN_KEY`, or one made with `POST /api/v1/keys`).',
  },
  basicAuth: { type: 'http', scheme: 'basic', description: 'Any user name and an API key as the password (for Bull Board in scripts).' },
  sessionCookie: { type: 'apiKey', in: 'cookie', name: 'tock_session', description: 'The session set by `POST /ui/session` (browsers).' },
} as const;

export { ApiKey };
