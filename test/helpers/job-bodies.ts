/** Bodies of POST /api/v1/jobs that the API tests share: valid no-op jobs with the given name. */

/** A one-time job due in 10 minutes. */
export const once = (name: string) => ({
  name,
  handler: 'noop',
  schedule: { kind: 'once', runAt: new Date(Date.now() + 600_000).toISOString() },
});

/** A daily cron job. */
export const cron = (name: string) => ({ name, handler: 'noop', schedule: { kind: 'cron', expression: '0 9 * * *' } });
