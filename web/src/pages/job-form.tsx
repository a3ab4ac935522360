import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError, queryString, type FieldError, type Job, type Preview, type Session } from '../api';
import { ErrorNote, Loading } from '../components';
import { when } from '../format';
import { bodyOf, changesOf, EMPTY_FORM, fieldOf, formOf, scheduleOf, type FormState } from '../job-form-model';
import { Link, navigate } from '../router';
import { CONFLICT } from './job';
import { HANDLERS } from './jobs';

const PREVIEW_DEBOUNCE_MS = 400;

/** Random hex for the Idempotency-Key of one form: submitting twice creates one job. */
function randomKey(): string {
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export function JobFormPage({ jobId }: { session: Session; jobId?: string }) {
  const [loaded, setLoaded] = useState<{ job: Job; etag: string | null } | null>(null);
  const [loadError, setLoadError] = useState<Error | undefined>();
  useEffect(() => {
    if (!jobId) return;
    api.getWithEtag<Job>(`/api/v1/jobs/${jobId}`).then((a) => setLoaded({ job: a.body, etag: a.etag }), setLoadError);
  }, [jobId]);
  if (jobId && !loaded) return loadError ? <ErrorNote error={loadError} /> : <Loading />;
  return <JobForm key={jobId ?? 'new'} original={loaded ?? undefined} />;
}

function JobForm({ original }: { original?: { job: Job; etag: string | null } }) {
  const [form, setForm] = useState<FormState>(original ? formOf(original.job) : EMPTY_FORM);
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const idempotencyKey = useMemo(randomKey, []);
  const summary = useRef<HTMLDivElement>(null);

  const set = (field: keyof FormState) => (e: Event) =>
    setForm((f) => ({ ...f, [field]: (e.target as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement).value }));
  const errorsOf = (field: keyof FormState) => errors.filter((e) => fieldOf(e.path) === field);
  const unplaced = errors.filter((e) => !fieldOf(e.path));

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErrors([]);
    setFailure(null);
    try {
      const body = bodyOf(form, original?.job);
      if (original) {
        const changes = changesOf(body, original.job);
        if (Object.keys(changes).length === 0) {
          setFailure('Nothing has changed.');
          return;
        }
        await api.send('PATCH', `/api/v1/jobs/${original.job.id}`, changes, original.etag ? { 'If-Match': original.etag } : {});
        navigate(`/ui/jobs/${original.job.id}`);
      } else {
        const made = await api.send<Job>('POST', '/api/v1/jobs', body, { 'Idempotency-Key': idempotencyKey });
        navigate(`/ui/jobs/${made.body.id}`);
      }
    } catch (err) {
      const status = err instanceof ApiError ? err.status : 0;
      setFailure(status === 412 ? CONFLICT : (err as Error).message);
      if (err instanceof ApiError) setErrors(err.errors);
      summary.current?.focus();
    } finally {
      setBusy(false);
    }
  };

  const field = (id: keyof FormState, label: string, input: ComponentChildren, hint?: string) => (
    <Field id={id} label={label} hint={hint} errors={errorsOf(id)}>
      {input}
    </Field>
  );
  const text = (id: keyof FormState, type: 'text' | 'number' | 'url' | 'datetime-local' = 'text', extra: Record<string, string> = {}) => (
    <input
      id={`f-${id}`}
      name={id}
      type={type as 'text'}
      value={form[id]}
      onInput={set(id)}
      aria-invalid={errorsOf(id).length > 0 ? true : undefined}
      aria-describedby={describedBy(id, errorsOf(id).length > 0)}
      {...extra}
    />
  );
  const select = (id: keyof FormState, options: [string, string][]) => (
    <select
      id={`f-${id}`}
      name={id}
      value={form[id]}
      onChange={set(id)}
      aria-invalid={errorsOf(id).length > 0 ? true : undefined}
      aria-describedby={describedBy(id, errorsOf(id).length > 0)}
    >
      {options.map(([v, l]) => (
        <option key={v} value={v}>
          {l}
        </option>
      ))}
    </select>
  );
  const repeating = form.kind === 'interval' || form.kind === 'cron';

  return (
    <>
      <h1>{original ? `Edit ${original.job.name}` : 'New job'}</h1>
      <div ref={summary} tabIndex={-1}>
        {failure && (
          <div class="note note-error" role="alert">
            <p>{failure}</p>
            {unplaced.length > 0 && (
              <ul>
                {unplaced.map((e) => (
                  <li key={e.path}>
                    <code>{e.path}</code> {e.message}
                  </li>
                ))}
              </ul>
            )}
          </div>
        )}
      </div>
      <form onSubmit={submit} novalidate>
        <fieldset>
          <legend>Job</legend>
          <div class="form-grid">
            {field('name', 'Name', text('name'))}
            {field(
              'handler',
              'Handler',
              select(
                'handler',
                HANDLERS.map((h) => [h, h]),
              ),
            )}
          </div>
          {form.handler === 'http' && (
            <>
              <div class="form-grid">
                {field('url', 'URL', text('url', 'url', { placeholder: 'https://example.com/hooks/tock' }))}
                {field(
                  'method',
                  'Method',
                  select(
                    'method',
                    ['POST', 'GET', 'PUT', 'PATCH', 'DELETE', 'HEAD'].map((m) => [m, m]),
                  ),
                )}
              </div>
              {field(
                'headers',
                'Headers',
                <textarea
                  id="f-headers"
                  name="headers"
                  value={form.headers}
                  onInput={set('headers')}
                  aria-describedby={describedBy('headers', errorsOf('headers').length > 0, true)}
                />,
                'One per line, "Name: value". Header values are kept secret.',
              )}
              {field(
                'body',
                'Body',
                <textarea
                  id="f-body"
                  name="body"
                  value={form.body}
                  onInput={set('body')}
                  aria-describedby={describedBy('body', errorsOf('body').length > 0, true)}
                />,
                'JSON is sent as application/json; anything else as text.',
              )}
            </>
          )}
          {(form.handler === 'sleep' || form.handler === 'simulate') && (
            <div class="form-grid">
              {field('durationMs', 'Duration (ms)', text('durationMs', 'number', { min: '0' }))}
              {form.handler === 'simulate' &&
                field('failureRate', 'Failure rate (0 to 1)', text('failureRate', 'number', { min: '0', max: '1', step: '0.1' }))}
            </div>
          )}
        </fieldset>
        <fieldset>
          <legend>Schedule</legend>
          <div class="form-grid">
            {field(
              'kind',
              'Kind',
              select('kind', [
                ['interval', 'interval: every …'],
                ['cron', 'cron expression'],
                ['once', 'once, at a time'],
                ['delay', 'once, after a delay'],
              ]),
            )}
            {form.kind === 'interval' &&
              field('everySeconds', 'Every (seconds)', text('everySeconds', 'number', { min: '1', step: 'any' }))}
            {form.kind === 'cron' &&
              field('expression', 'Cron expression', text('expression'), '5 fields, or 6 with seconds first; @hourly, @daily…')}
            {form.kind === 'cron' &&
              field('timezone', 'Time zone', text('timezone', 'text', { placeholder: 'UTC' }), 'An IANA name, e.g. Europe/Berlin.')}
            {form.kind === 'once' && field('runAt', 'Run at (your time zone)', text('runAt', 'datetime-local', { step: '1' }))}
            {form.kind === 'delay' && field('delaySeconds', 'Delay (seconds)', text('delaySeconds', 'number', { min: '0', step: 'any' }))}
          </div>
          {repeating && (
            <details open={Boolean(form.startAt || form.endAt || form.limit || form.misfire || form.overlap) || undefined}>
              <summary>Start, end, limit and policies</summary>
              <div class="form-grid">
                {field('startAt', 'Not before', text('startAt', 'datetime-local', { step: '1' }))}
                {field('endAt', 'Not after', text('endAt', 'datetime-local', { step: '1' }))}
                {field('limit', 'At most this many runs', text('limit', 'number', { min: '1' }))}
                {field(
                  'misfire',
                  'A run missed by downtime',
                  select('misfire', [
                    ['', 'skip it (default)'],
                    ['skip', 'skip it'],
                    ['runOnce', 'run it once'],
                  ]),
                )}
                {field(
                  'overlap',
                  'A run due while one runs',
                  select('overlap', [
                    ['', 'run it too (default)'],
                    ['allow', 'run it too'],
                    ['forbid', 'skip it'],
                  ]),
                )}
              </div>
            </details>
          )}
          <SchedulePreview form={form} />
        </fieldset>
        <fieldset>
          <legend>Retries and timeout</legend>
          <div class="form-grid">
            {field('attempts', 'Attempts per run', text('attempts', 'number', { min: '1', max: '25' }))}
            {field(
              'backoffType',
              'Backoff',
              select('backoffType', [
                ['exponential', 'exponential'],
                ['fixed', 'fixed'],
              ]),
            )}
            {field('backoffDelayMs', 'Backoff delay (ms)', text('backoffDelayMs', 'number', { min: '0' }))}
            {field('timeoutMs', 'Timeout per attempt (ms)', text('timeoutMs', 'number', { min: '1', placeholder: 'server default' }))}
          </div>
        </fieldset>
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            {original ? 'Save changes' : 'Create job'}
          </button>
          <Link href={original ? `/ui/jobs/${original.job.id}` : '/ui/jobs'} class="button">
            Cancel
          </Link>
        </div>
      </form>
    </>
  );
}

function describedBy(id: string, hasError: boolean, hasHint = false): string | undefined {
  const ids = [hasHint ? `f-${id}-hint` : '', hasError ? `f-${id}-error` : ''].filter(Boolean);
  return ids.length ? ids.join(' ') : undefined;
}

function Field(props: { id: string; label: string; hint?: string; errors: FieldError[]; children: ComponentChildren }) {
  return (
    <div class="field">
      <label for={`f-${props.id}`}>{props.label}</label>
      {props.children}
      {props.hint && (
        <p class="hint" id={`f-${props.id}-hint`}>
          {props.hint}
        </p>
      )}
      {props.errors.length > 0 && (
        <p class="field-error" id={`f-${props.id}-error`}>
          {props.errors.map((e) => e.message).join('; ')}
        </p>
      )}
    </div>
  );
}

/** When the schedule as typed would fire: the API's own preview, asked again once typing pauses. */
function SchedulePreview({ form }: { form: FormState }) {
  const params = queryString({ ...(scheduleOf(form) as Record<string, string | number>), count: 5 });
  const [state, setState] = useState<{ preview?: Preview; errors?: FieldError[]; error?: string }>({});
  useEffect(() => {
    let current = true;
    const timer = setTimeout(() => {
      api.get<Preview>(`/api/v1/schedules/preview${params}`).then(
        (preview) => current && setState({ preview }),
        (err: unknown) =>
          current && setState(err instanceof ApiError && err.errors.length ? { errors: err.errors } : { error: (err as Error).message }),
      );
    }, PREVIEW_DEBOUNCE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [params]);
  return (
    <div class="preview" aria-live="polite" data-testid="schedule-preview">
      <h2>Preview</h2>
      {state.preview && (
        <>
          <p>
            <strong>{state.preview.description}</strong>
          </p>
          {state.preview.runs.length === 0 ? (
            <p class="muted">It would not run again.</p>
          ) : (
            <ol class="times">
              {state.preview.runs.map((t) => (
                <li key={t}>{when(t)}</li>
              ))}
            </ol>
          )}
        </>
      )}
      {state.errors && (
        <ul class="field-error">
          {state.errors.map((e) => (
            <li key={e.path}>
              {e.path.replace(/^schedule\./, '')} {e.message}
            </li>
          ))}
        </ul>
      )}
      {state.error && <p class="field-error">{state.error}</p>}
    </div>
  );
}
