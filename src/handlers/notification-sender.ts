import { attemptSignal } from '../lib/deadlines';
import { sendRequest } from './http-request';
import type { NetworkPolicy } from './network-guard';
import { signatureHeaders } from './webhook-signature';

export interface NotificationRequest {
  url: string;
  /** The JSON body, signed as sent. */
  body: string;
  /** `webhook-id`: unique per delivery. */
  msgId: string;
  /** The job's signing secrets in use, unsealed. */
  secrets: readonly string[];
  timeoutMs: number;
}

/**
 * One notification: a signed JSON POST under the same network rules as http jobs, no redirects
 * followed. Resolves with the status on a 2xx answer, rejects otherwise; it is never retried.
 */
export function createNotificationSender(network: NetworkPolicy) {
  return async (n: NotificationRequest): Promise<number> => {
    const deadline = attemptSignal(n.timeoutMs, new AbortController().signal);
    try {
      const res = await sendRequest({
        url: new URL(n.url),
        method: 'POST',
        jobHeaders: {},
        tockHeaders: {
          'user-agent': 'tock-notify/1',
          'content-type': 'application/json',
          ...signatureHeaders(n.secrets, n.msgId, n.body),
        },
        body: n.body,
        followRedirects: false,
        signal: deadline.signal,
        network,
      });
      if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`unexpected HTTP status ${res.statusCode}`);
      return res.statusCode;
    } catch (err) {
      if (deadline.timedOut()) throw new Error(`no answer within ${n.timeoutMs} ms`, { cause: err });
      throw err;
    } finally {
      deadline.dispose();
    }
  };
}
