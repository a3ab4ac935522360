import { useState } from 'preact/hooks';
import { api, ApiError, can, queryString, type Execution, type Job, type JobStats, type Page, type Preview, type Session } from '../api';
import { Card, ErrorNote, Figure, Loading, StatusBadge } from '../components';
import { ms, relative, scheduleText, when } from '../format';
import { usePoll } from '../poll';
import { Link, navigate } from '../router';

export const CONFLICT = 'Someone else changed this job; reload to see their change, then try again.';
const HISTORY_PAGE = 20;

/** What a write answered, in words for the page. */
export function writeError(err: unknown): string {
  if (err instanceof ApiError && err.status === 412) return CONFLICT;
  return (err as Error).message;
}

interface Loaded {
  job: Job;
  etag: string | null;
}

export function JobPage({ session, jobId }: { session: Session; jobId: string }) {
  const job = usePoll<Loaded>(async () => {
    const a = await api.getWithEtag<Job>(`/api/v1/jobs/${jobId}`);
    return { job: a.body, etag: a.etag };
  }, jobId);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [busy, setBusy] = useState(false);

  if (!job.data) return job.error ? <ErrorNote error={job.error} /> : <Loading />;
  const { job: j, etag } = job.data;
  const writer = can(session, 'jobs:write');
  const ifMatch = etag ? { 'If-Match': etag } : undefined;

  /** Runs a change and shows its outcome; `gone` when the page leaves (a deleted job has nothing to reload). */
  const act = async (label: string, run: () => Promise<unknown>, gone = false) => {
    setBusy(true);
    setMessage(null);
    try {
      await run();
      if (gone) return;
      setMessage({ kind: 'ok', text: label });
      await job.reload();
    } catch (err) {
      setMessage({ kind: 'error', text: writeError(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <div class="title-row">
        <h1>{j.name}</h1>
        <StatusBadge status={j.status} />
      </div>
      <p class="muted" data-testid="job-schedule">
        {scheduleText(j.schedule)} · {j.handler} · version {j.version}
      </p>
      {writer && (
        <div class="actions" role="group" aria-label="Job actions">
          <button type="button" disabled={busy} onClick={() => act('Run started.', () => api.send('POST', `/api/v1/jobs/${j.id}/trigger`))}>
            Trigger now
          </button>
          {j.status === 'paused' ? (
            <button
              type="button"
              disabled={busy}
              onClick={() => act('Resumed.', () => api.send('POST', `/api/v1/jobs/${j.id}/resume`, {}, ifMatch))}
            >
              Resume
            </button>
          ) : (
            <button
              type="button"
              disabled={busy || j.status !== 'scheduled'}
              onClick={() => act('Paused.', () => api.send('POST', `/api/v1/jobs/${j.id}/pause`, {}, ifMatch))}
            >
              Pause
            </button>
          )}
          <Link href={`/ui/jobs/${j.id}/edit`} class="button">
            Edit
          </Link>
          {!confirmDelete ? (
            <button type="button" class="danger" disabled={busy} onClick={() => setConfirmDelete(true)}>
              Delete
            </button>
          ) : (
            <span class="confirm">
              Delete this job and stop its runs?{' '}
              <button
                type="button"
                class="danger"
                disabled={busy}
                onClick={() =>
                  act(
                    'Deleted.',
                    async () => {
                      await api.send('DELETE', `/api/v1/jobs/${j.id}`, {}, ifMatch);
                      navigate('/ui/jobs');
                    },
                    true,
                  )
                }
              >
                Yes, delete
              </button>{' '}
              <button type="button" onClick={() => setConfirmDelete(false)}>
                Cancel
              </button>
            </span>
          )}
        </div>
      )}
      {message && (
        <p class={`note note-${message.kind}`} role={message.kind === 'error' ? 'alert' : 'status'}>
          {message.text}{' '}
          {message.text === CONFLICT && (
            <button type="button" onClick={() => void job.reload().then(() => setMessage(null))}>
              Reload
            </button>
          )}
        </p>
      )}
      <ErrorNote error={job.error} />
      <div class="grid">
        <Definition job={j} />
        <NextRuns job={j} />
      </div>
      <p>
        <Link href={`/ui/dead-letter?jobId=${j.id}`}>Dead-letter entries of this job</Link>
      </p>
      <Stats jobId={j.id} />
      <History jobId={j.id} />
    </>
  );
}

function Definition({ job }: { job: Job }) {
  return (
    <Card title="Definition">
      <dl class="pairs">
        <dt>Status</dt>
        <dd data-testid="job-status">{job.status}</dd>
        <dt>Schedule</dt>
        <dd>{scheduleText(job.schedule)}</dd>
        <dt>Handler</dt>
        <dd>{job.handler}</dd>
        <dt>Retry</dt>
        <dd>
          {job.retry.attempts} attempt{job.retry.attempts === 1 ? '' : 's'}, {job.retry.backoff.type} backoff from{' '}
          {ms(job.retry.backoff.delayMs)}
        </dd>
        <dt>Timeout</dt>
        <dd>{ms(job.timeoutMs)}</dd>
        <dt>Runs</dt>
        <dd>
          {job.runCount} ({job.failureCount} failed)
        </dd>
        <dt>Last run</dt>
        <dd>
          {job.lastRunAt ? (
            <>
              <StatusBadge status={job.lastExecutionStatus} /> {when(job.lastRunAt)}
            </>
          ) : (
            'never'
          )}
        </dd>
        <dt>Next run</dt>
        <dd>{job.nextRunAt ? `${when(job.nextRunAt)} (${relative(job.nextRunAt)})` : '—'}</dd>
        <dt>Created</dt>
        <dd>{when(job.createdAt)}</dd>
      </dl>
      <details>
        <summary>Payload</summary>
        <pre class="code">{JSON.stringify(job.payload, null, 2)}</pre>
      </details>
    </Card>
  );
}

/** The schedule's parameters for GET /schedules/preview, anchored at the job's next run when it has one. */
export function previewParams(s: Job['schedule'], nextRunAt?: string | null): Record<string, string | number | undefined> {
  switch (s.kind) {
    case 'once':
      return { kind: 'once', runAt: s.runAt };
    case 'delay':
      return { kind: 'delay', delayMs: s.delayMs };
    case 'interval':
      // The slots keep the phase of the job's next run (a preview "now" would start at once).
      return {
        kind: 'interval',
        everyMs: s.everyMs,
        startAt: nextRunAt ?? s.startAt,
        endAt: s.endAt,
        limit: nextRunAt ? undefined : s.limit,
      };
    case 'cron':
      return { kind: 'cron', expression: s.expression, timezone: s.timezone, startAt: s.startAt, endAt: s.endAt, limit: s.limit };
  }
}

function NextRuns({ job }: { job: Job }) {
  const repeating = job.schedule.kind === 'interval' || job.schedule.kind === 'cron';
  const anchor = job.nextRunAt && Date.parse(job.nextRunAt) > Date.now() ? job.nextRunAt : null;
  const path = `/api/v1/schedules/preview${queryString({ ...previewParams(job.schedule, anchor), count: 10 })}`;
  const preview = usePoll(
    () => (repeating && job.status === 'scheduled' ? api.get<Preview>(path) : Promise.resolve(null)),
    `${path}|${job.status}`,
    30_000,
  );
  return (
    <Card title="Next runs">
      {job.status !== 'scheduled' ? (
        <p class="muted">
          The job is {job.status}: no runs are due{job.status === 'paused' ? ' until it is resumed' : ''}.
        </p>
      ) : !repeating ? (
        <p>{job.nextRunAt ? when(job.nextRunAt) : '—'}</p>
      ) : preview.data ? (
        <ol class="times" data-testid="next-runs">
          {preview.data.runs.map((t) => (
            <li key={t}>{when(t)}</li>
          ))}
        </ol>
      ) : (
        <ErrorNote error={preview.error} />
      )}
    </Card>
  );
}

function Stats({ jobId }: { jobId: string }) {
  const [span, setSpan] = useState<'1h' | '24h' | '7d'>('24h');
  const path = `/api/v1/jobs/${jobId}/stats?window=${span}`;
  const { data, error } = usePoll(() => api.get<JobStats>(path), path);
  return (
    <Card title="Stats">
      <div class="field inline">
        <label for="stats-window">Window</label>
        <select id="stats-window" value={span} onChange={(e) => setSpan((e.target as HTMLSelectElement).value as typeof span)}>
          <option value="1h">last hour</option>
          <option value="24h">last 24 hours</option>
          <option value="7d">last 7 days</option>
        </select>
      </div>
      <ErrorNote error={error} />
      {data && (
        <div class="figures">
          <Figure label="attempts" value={data.runs} />
          <Figure label="succeeded" value={data.succeeded} />
          <Figure label="failed" value={data.failed + data.stalled} />
          <Figure label="skipped" value={data.skipped} />
          <Figure label="success rate" value={data.successRate === null ? '—' : `${Math.round(data.successRate * 1000) / 10}%`} />
          <Figure label="duration p50 / p95" value={data.durationMs ? `${ms(data.durationMs.p50)} / ${ms(data.durationMs.p95)}` : '—'} />
          <Figure label="lateness p50 / p95" value={data.latenessMs ? `${ms(data.latenessMs.p50)} / ${ms(data.latenessMs.p95)}` : '—'} />
        </div>
      )}
    </Card>
  );
}

function History({ jobId }: { jobId: string }) {
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const path = `/api/v1/jobs/${jobId}/executions${queryString({ limit: HISTORY_PAGE, cursor })}`;
  const { data, error } = usePoll(() => api.get<Page<Execution>>(path), path);
  return (
    <Card title="History">
      <ErrorNote error={error} />
      {!data ? (
        !error && <Loading />
      ) : data.items.length === 0 ? (
        <p class="empty">No runs yet.</p>
      ) : (
        <div class="table-wrap">
          <table class="history" data-testid="history">
            <caption class="visually-hidden">Executions, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Status</th>
                <th scope="col">Attempt</th>
                <th scope="col">Trigger</th>
                <th scope="col">Duration</th>
                <th scope="col">Lateness</th>
                <th scope="col">Worker</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((x) => (
                <tr key={x.id}>
                  <td data-label="Started">{when(x.startedAt)}</td>
                  <td data-label="Status">
                    <StatusBadge status={x.status} />
                  </td>
                  <td data-label="Attempt">{x.attempt}</td>
                  <td data-label="Trigger">{x.trigger}</td>
                  <td data-label="Duration">{ms(x.durationMs)}</td>
                  <td data-label="Lateness">{ms(x.driftMs)}</td>
                  <td data-label="Worker">
                    <code>{x.workerId}</code>
                  </td>
                  <td data-label="Error">{x.error ? `${x.error.code}: ${x.error.message}` : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="History pages">
        {cursors.length > 0 && (
          <button type="button" onClick={() => setCursors([])}>
            Newest
          </button>
        )}
        {data?.nextCursor && (
          <button type="button" onClick={() => setCursors([...cursors, data.nextCursor!])}>
            Older
          </button>
        )}
      </nav>
    </Card>
  );
}
