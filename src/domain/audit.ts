export const AUDIT_ACTIONS = [
  'job.create',
  'job.update',
  'job.pause',
  'job.resume',
  'job.trigger',
  'job.cancel',
  'job.delete',
  'job.signing-secret.rotate',
  'dead-letter.retry',
  'dead-letter.dismiss',
  'key.create',
  'key.revoke',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** One change made through the API: who (the key), what, when, and to which job or key. */
export interface AuditEntry {
  id: string;
  at: Date;
  keyId: string;
  keyName: string;
  action: AuditAction;
  jobId: string | null;
  /** The job's version after the change (before it, for a delete). */
  version: number | null;
  /** What else the change was about: a run's (the first one's, when count > 1), a dead-letter entry's or a key's id. */
  target: string | null;
  /** How many times: triggers of one job by one key within a flush (about 200 ms) share one entry. */
  count: number;
  /** When the last of them happened (`at` when count is 1). */
  lastAt: Date;
}
