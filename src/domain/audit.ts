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
  /** What else the change was about: a dead-letter entry's or a key's id. */
  target: string | null;
}
