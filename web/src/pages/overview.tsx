import { api, type Overview } from '../api';
import { Card, ErrorNote, Figure, Loading } from '../components';
import { when } from '../format';
import { usePoll } from '../poll';
import { Link } from '../router';

export function OverviewPage() {
  const { data, error } = usePoll(() => api.get<Overview>('/api/v1/overview'), 'overview');
  return (
    <>
      <h1>Overview</h1>
      <ErrorNote error={error} />
      {!data ? (
        !error && <Loading />
      ) : (
        <div class="grid">
          <Card title="Jobs by status">
            <div class="figures">
              <Figure label="total" value={data.jobs.total} testId="jobs-total" />
              {Object.entries(data.jobs.byStatus).map(([status, n]) => (
                <Link key={status} href={`/ui/jobs?status=${status}`} class="figure-link">
                  <Figure label={status} value={n} />
                </Link>
              ))}
            </div>
          </Card>
          <Card title="Last hour">
            <div class="figures">
              <Figure label="runs" value={data.lastHour.runs} testId="runs-last-hour" />
              <Figure label="succeeded" value={data.lastHour.succeeded} />
              <Figure label="failed" value={data.lastHour.failed} testId="failures-last-hour" />
            </div>
          </Card>
          <Card title="Dead letter">
            <div class="figures">
              <Link href="/ui/dead-letter" class="figure-link">
                <Figure label="open entries" value={data.deadLetter.open} testId="dead-letter-open" />
              </Link>
            </div>
          </Card>
          <Card title="Queue">
            <div class="figures">
              {Object.entries(data.queue).map(([state, n]) => (
                <Figure key={state} label={state} value={n} />
              ))}
            </div>
          </Card>
          <Card title="Workers">
            <div class="figures">
              <Figure label="connected now" value={data.workers.connected} testId="workers-connected" />
            </div>
            {data.workers.ids.length > 0 && (
              <ul class="plain">
                {data.workers.ids.map((id) => (
                  <li key={id}>
                    <code>{id}</code>
                  </li>
                ))}
              </ul>
            )}
          </Card>
          <p class="muted small">Figures as of {when(data.at)}; they refresh every few seconds.</p>
        </div>
      )}
    </>
  );
}
