import { bodyOf, canonical, changesOf, EMPTY_FORM, fieldOf, formOf, payloadOf } from '../../web/src/job-form-model';
import type { Job } from '../../web/src/types';

/** The dashboard's form model: what it sends, and where the API's field errors are shown. */
const job: Job = {
  id: '6b0411d5f6f66b9c7ecddd26',
  name: 'hook',
  handler: 'http',
  payload: { url: 'https://example.com/h', method: 'POST', headers: { Authorization: '[redacted]' }, expectedStatus: [202] },
  secretFields: [],
  schedule: { kind: 'interval', everyMs: 300_000, startAt: '2030-01-01T09:00:00+01:00' },
  retry: { attempts: 3, backoff: { type: 'exponential', delayMs: 1000 } },
  timeoutMs: 30_000,
  status: 'scheduled',
  nextRunAt: null,
  lastRunAt: null,
  lastExecutionStatus: null,
  runCount: 0,
  failureCount: 0,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  version: 1,
};

describe('job form model (web/src/job-form-model.ts)', () => {
  it("places each of the API's error paths at the input that holds it", () => {
    expect(fieldOf('schedule.everyMs')).toBe('everySeconds');
    expect(fieldOf('payload.headers.X-Bad name')).toBe('headers');
    expect(fieldOf('retry.backoff.delayMs')).toBe('backoffDelayMs');
    expect(fieldOf('notify.onFailure')).toBeUndefined();
  });

  it('sends seconds as milliseconds and leaves anything but a number for the API to name', () => {
    const body = bodyOf({ ...EMPTY_FORM, name: 'n', handler: 'noop', kind: 'interval', everySeconds: '1.5' });
    expect(body).toMatchObject({ name: 'n', handler: 'noop', payload: {}, schedule: { kind: 'interval', everyMs: 1500 } });
    expect(bodyOf({ ...EMPTY_FORM, kind: 'interval', everySeconds: 'soon' }).schedule).toEqual({ kind: 'interval', everyMs: 'soon' });
    expect(
      payloadOf({ ...EMPTY_FORM, handler: 'http', url: 'https://a.example', headers: 'X-A: 1\nX-B:two: three', body: '{"a":1}' }),
    ).toEqual({
      url: 'https://a.example',
      method: 'POST',
      headers: { 'X-A': '1', 'X-B': 'two: three' },
      body: { a: 1 },
    });
  });

  it('edits send only what changed: the same time written another way, and redacted headers, are unchanged', () => {
    const form = formOf(job);
    expect(changesOf(bodyOf(form, job), job)).toEqual({});
    const renamed = changesOf(bodyOf({ ...form, name: 'hook 2' }, job), job);
    expect(renamed).toEqual({ name: 'hook 2' });
    const moved = changesOf(bodyOf({ ...form, url: 'https://example.com/other' }, job), job);
    // Payload fields the form does not show are kept.
    expect(moved.payload).toEqual({ ...job.payload, url: 'https://example.com/other' });
    expect(canonical({ b: '2030-01-01T08:00:00.000Z', a: 1 })).toBe(canonical({ a: 1, b: '2030-01-01T09:00:00+01:00' }));
  });
});
