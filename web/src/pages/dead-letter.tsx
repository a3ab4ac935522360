import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { api, can, queryString, type DeadLetterEntry, type Execution, type Page, type Session } from '../api';
import { ErrorNote, Loading, StatusBadge } from '../components';
import { ms, relative, when } from '../format';
import { usePoll } from '../poll';
import { Link, navigate } from '../router';
import { Select } from './jobs';

const PAGE_SIZE = 25;

/** Runs that failed for good: GET /dead-letter, with retry and dismiss for keys that may. */
export function DeadLetterPage({ session, query }: { session: Session; query: URLSearchParams }) {
  const filters = { state: query.get('state') ?? 'open', jobId: query.get('jobId') ?? '' };
  const cursor = query.get('cursor') ?? '';
  const path = `/api/v1/dead-letter${queryString({ ...filters, cursor, limit: PAGE_SIZE })}`;
  const { data, error, reload } = usePoll(() => api.get<Page<DeadLetterEntry>>(path), path);
  const [open, setOpen] = useState<string | null>(null);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const writer = can(session, 'dead-letter:write');

  const act = async (text: string, run: () => Promise<unknown>) => {
    setMessage(null);
    try {
      await run();
      setMessage({ kind: 'ok', text });
      await reload();
    } catch (err) {
      setMessage({ kind: 'error', text: (err as Error).message });
    }
  };

  return (
    <>
      <h1>Dead letter</h1>
      <p class="muted">
        Runs whose last attempt failed (or that stalled too often). Retrying runs the job again now, with its current definition.
      </p>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <Select
          id="f-state"
          label="State"
          value={filters.state}
          options={['open', 'retried']}
          any="open"
          onChange={(state) => navigate(`/ui/dead-letter${queryString({ ...filters, state })}`)}
        />
        {filters.jobId && (
          <p>
            Job <code>{filters.jobId}</code> only.{' '}
            <Link href={`/ui/dead-letter${queryString({ state: filters.state })}`}>Show all jobs</Link>
          </p>
        )}
      </form>
      {message && (
        <p class={`note note-${message.kind}`} role={message.kind === 'error' ? 'alert' : 'status'}>
          {message.text}
        </p>
      )}
      <ErrorNote error={error} />
      {!data ? (
        !error && <Loading />
      ) : data.items.length === 0 ? (
        <p class="empty">No {filters.state} entries.</p>
      ) : (
        <div class="table-wrap">
          <table data-testid="dead-letter">
            <caption class="visually-hidden">Dead-letter entries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Failed</th>
                <th scope="col">Job</th>
                <th scope="col">Reason</th>
                <th scope="col">Attempts</th>
                <th scope="col">Error</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((d) => (
                <Fragment key={d.id}>
                  <tr>
                    <td data-label="Failed">
                      <span title={when(d.failedAt)}>{relative(d.failedAt)}</span>
                    </td>
                    <td data-label="Job">
                      <Link href={`/ui/jobs/${d.jobId}`}>{d.jobName}</Link> <span class="muted small">{d.handler}</span>
                    </td>
                    <td data-label="Reason">
                      <StatusBadge status={d.reason} /> {d.state === 'retried' && <StatusBadge status="retried" />}
                    </td>
                    <td data-label="Attempts">{d.attempts}</td>
                    <td data-label="Error">{d.error ? `${d.error.code}: ${d.error.message}` : ''}</td>
                    <td data-label="Actions">
                      <div class="actions compact">
                        <button type="button" aria-expanded={open === d.id} onClick={() => setOpen(open === d.id ? null : d.id)}>
                          {open === d.id ? 'Hide' : 'Inspect'}
                          <span class="visually-hidden"> {d.jobName}</span>
                        </button>
                        {writer && d.state === 'open' && (
                          <>
                            <button
                              type="button"
                              onClick={() =>
                                act('Retry started.', () => api.send('POST', `/api/v1/dead-letter/${encodeURIComponent(d.id)}/retry`))
                              }
                            >
                              Retry<span class="visually-hidden"> {d.jobName}</span>
                            </button>
                            <button
                              type="button"
                              class="danger"
                              onClick={() => act('Dismissed.', () => api.send('DELETE', `/api/v1/dead-letter/${encodeURIComponent(d.id)}`))}
                            >
                              Dismiss<span class="visually-hidden"> {d.jobName}</span>
                            </button>
                          </>
                        )}
                      </div>
                    </td>
                  </tr>
                  {open === d.id && (
                    <tr class="details-row">
                      <td colSpan={6}>
                        <Inspect entry={d} />
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Pages">
        {cursor && <Link href={`/ui/dead-letter${queryString(filters)}`}>First page</Link>}
        {data?.nextCursor && <Link href={`/ui/dead-letter${queryString({ ...filters, cursor: data.nextCursor })}`}>Next page</Link>}
      </nav>
    </>
  );
}

/** An entry in full, with the execution record of each of its attempts. */
function Inspect({ entry }: { entry: DeadLetterEntry }) {
  const ids = Array.from({ length: entry.attempts }, (_, i) => `${entry.runId}.${i + 1}`);
  const records = usePoll(
    () => Promise.all(ids.map((id) => api.get<Execution>(`/api/v1/executions/${encodeURIComponent(id)}`).catch(() => null))),
    entry.id,
    30_000,
  );
  return (
    <div class="inspect" data-testid="dead-letter-details">
      <dl class="pairs">
        <dt>Run</dt>
        <dd>
          <code>{entry.runId}</code> ({entry.trigger})
        </dd>
        <dt>Failed at</dt>
        <dd>{when(entry.failedAt)}</dd>
        <dt>Error</dt>
        <dd>{entry.error ? `${entry.error.code}: ${entry.error.message}` : '—'}</dd>
        {entry.retriedAt && (
          <>
            <dt>Retried</dt>
            <dd>
              {when(entry.retriedAt)} as run <code>{entry.retryRunId}</code>
            </dd>
          </>
        )}
      </dl>
      <h3>Attempts</h3>
      {!records.data ? (
        <Loading />
      ) : (
        <ol class="plain">
          {records.data.map((r, i) =>
            r ? (
              <li key={r.id}>
                #{r.attempt} <StatusBadge status={r.status} /> {when(r.startedAt)}, {ms(r.durationMs)} on <code>{r.workerId}</code>
                {r.error && (
                  <>
                    {' '}
                    — {r.error.code}: {r.error.message}
                  </>
                )}
              </li>
            ) : (
              <li key={ids[i]}>#{i + 1}: no record (removed by retention)</li>
            ),
          )}
        </ol>
      )}
    </div>
  );
}
