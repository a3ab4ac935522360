import { Webhook } from 'standardwebhooks';

/** The headers Tock sets on a signed request: a job may not set them itself. */
export const SIGNATURE_HEADERS = ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const;

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): `webhook-id` (the run's id, the
 * same for every attempt, so receivers can de-duplicate), `webhook-timestamp` (seconds) and
 * `webhook-signature`: `v1,<base64 HMAC-SHA256>` for each secret in use, space-separated, so that a
 * receiver still holding the previous secret verifies a call during a rotation.
 */
export function signatureHeaders(secrets: readonly string[], msgId: string, body: string, at = new Date()): Record<string, string> {
  if (secrets.length === 0) return {};
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((s) => new Webhook(s).sign(msgId, at, body)).join(' '),
  };
}
