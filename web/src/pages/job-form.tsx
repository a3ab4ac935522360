import type { Session } from '../api';

export function JobFormPage(_props: { session: Session; jobId?: string }) {
  return <h1>New job</h1>;
}
