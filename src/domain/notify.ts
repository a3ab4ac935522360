import { z } from 'zod';

/** What a job may be told about, and where: `notify: { onFailure, onDeadLetter, onMisfire }`. */
export const NOTIFY_KINDS = ['onFailure', 'onDeadLetter', 'onMisfire'] as const;
export type NotifyKind = (typeof NOTIFY_KINDS)[number];
export type NotifyTargets = Partial<Record<NotifyKind, string>>;

/** Why a URL's host may not be called (a private literal, unless the deployment allows it); null when it may. */
export type HostCheck = (hostname: string) => string | null;

/** The event type each kind sends, as receivers see it in the body's `type`. */
export const NOTIFY_EVENT_TYPES: Record<NotifyKind, string> = {
  onFailure: 'job.attempt.failed',
  onDeadLetter: 'job.dead-lettered',
  onMisfire: 'job.slot.skipped',
};

const NotifyUrl = z
  .url({ protocol: /^https?$/, hostname: z.regexes.hostname, error: 'must be an http or https URL' })
  .max(2000)
  .refine((u) => !/^[a-z]+:\/\/[^/]*@/i.test(u), {
    message: 'must not carry credentials (receivers verify the webhook signature instead)',
  });

const NOTIFY_DESCRIPTIONS: Record<NotifyKind, string> = {
  onFailure: 'Called when an attempt fails or stalls (retries included).',
  onDeadLetter: 'Called when a run lands in the dead letter.',
  onMisfire: 'Called when a slot is skipped (misfire, overlap, or passed over while workers were busy).',
};

const NotifyObject = z.strictObject(
  Object.fromEntries(NOTIFY_KINDS.map((k) => [k, NotifyUrl.optional().meta({ description: NOTIFY_DESCRIPTIONS[k] })])) as Record<
    NotifyKind,
    z.ZodOptional<typeof NotifyUrl>
  >,
);

/** The targets as the contract names them (`Notify`); without a host check. */
export const NotifyTargetsSchema = NotifyObject.meta({
  id: 'Notify',
  description:
    'Webhooks told about failures: each a JSON POST signed like http jobs (Standard Webhooks, with the job signing secret) and ' +
    'checked by the same network rules, at most one per job per minute per kind (later events are counted in the next one). ' +
    'Delivery failures are logged and counted, never retried, and never delay a run.',
});

/** The targets, each host checked as an http job's is (a private literal is refused unless allowed). */
export function notifySchema(hostError?: HostCheck) {
  if (!hostError) return NotifyTargetsSchema;
  return NotifyObject.superRefine((targets, ctx) => {
    for (const kind of NOTIFY_KINDS) {
      const url = targets[kind];
      // Refinements run even when a URL failed its own check: only a parsable one is looked at.
      const error = url === undefined || !URL.canParse(url) ? null : hostError(new URL(url).hostname);
      if (error) ctx.addIssue({ code: 'custom', path: [kind], message: error });
    }
  });
}
