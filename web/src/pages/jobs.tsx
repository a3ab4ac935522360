import { useState } from 'preact/hooks';
import { api, can, queryString, type Job, type Page, type Session } from '../api';
import { ErrorNote, Loading, StatusBadge } from '../components';
import { relative, scheduleText, when } from '../format';
import { usePoll } from '../poll';
import { Link, navigate } from '../router';

export const HANDLERS = ['http', 'noop', 'sleep', 'simulate'] as const;
const STATUSES = ['scheduled', 'paused', 'completed', 'failed', 'cancelled'];
const KINDS = ['once', 'delay', 'interval', 'cron'];
const PAGE_SIZE = 25;

export function JobsPage({ session, query }: { session: Session; query: URLSearchParams }) {
  const filters = {
    status: query.get('status') ?? '',
    scheduleKind: query.get('scheduleKind') ?? '',
    handler: query.get('handler') ?? '',
    name: query.get('name') ?? '',
  };
  const cursor = query.get('cursor') ?? '';
  const path = `/api/v1/jobs${queryString({ ...filters, cursor, limit: PAGE_SIZE })}`;
  const { data, error } = usePoll(() => api.get<Page<Job>>(path), path);
  const [name, setName] = useState(filters.name);

  const apply = (changes: Partial<typeof filters>) => navigate(`/ui/jobs${queryString({ ...filters, name, ...changes })}`);

  return (
    <>
      <div class="title-row">
        <h1>Jobs</h1>
        {can(session, 'jobs:write') && (
          <Link href="/ui/jobs/new" class="button primary">
            New job
          </Link>
        )}
      </div>
      <form
        class="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          apply({});
        }}
      >
        <div class="field">
          <label for="f-name">Name contains</label>
          <input id="f-name" type="search" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </div>
        <Select id="f-status" label="Status" value={filters.status} options={STATUSES} onChange={(status) => apply({ status })} />
        <Select
          id="f-kind"
          label="Schedule"
          value={filters.scheduleKind}
          options={KINDS}
          onChange={(scheduleKind) => apply({ scheduleKind })}
        />
        <Select id="f-handler" label="Handler" value={filters.handler} options={[...HANDLERS]} onChange={(handler) => apply({ handler })} />
        <button type="submit">Search</button>
      </form>
      <ErrorNote error={error} />
      {!data ? (
        !error && <Loading />
      ) : data.items.length === 0 ? (
        <p class="empty">No jobs{Object.values(filters).some(Boolean) ? ' match these filters' : ' yet'}.</p>
      ) : (
        <div class="table-wrap">
          <table class="jobs">
            <caption class="visually-hidden">Jobs</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Schedule</th>
                <th scope="col">Last run</th>
                <th scope="col">Next run</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((job) => (
                <tr key={job.id}>
                  <td data-label="Name">
                    <Link href={`/ui/jobs/${job.id}`}>{job.name}</Link>
                    <span class="muted small"> {job.handler}</span>
                  </td>
                  <td data-label="Status">
                    <StatusBadge status={job.status} />
                  </td>
                  <td data-label="Schedule">{scheduleText(job.schedule)}</td>
                  <td data-label="Last run">
                    {job.lastRunAt ? (
                      <>
                        <StatusBadge status={job.lastExecutionStatus} /> <span title={when(job.lastRunAt)}>{relative(job.lastRunAt)}</span>
                      </>
                    ) : (
                      <span class="muted">never</span>
                    )}
                  </td>
                  <td data-label="Next run">
                    {job.nextRunAt ? <span title={when(job.nextRunAt)}>{relative(job.nextRunAt)}</span> : <span class="muted">—</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Pages">
        {cursor && <Link href={`/ui/jobs${queryString(filters)}`}>First page</Link>}
        {data?.nextCursor && <Link href={`/ui/jobs${queryString({ ...filters, cursor: data.nextCursor })}`}>Next page</Link>}
      </nav>
    </>
  );
}

export function Select(props: {
  id: string;
  label: string;
  value: string;
  options: string[];
  onChange: (v: string) => void;
  any?: string;
}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select id={props.id} value={props.value} onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}>
        <option value="">{props.any ?? 'any'}</option>
        {props.options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </div>
  );
}
