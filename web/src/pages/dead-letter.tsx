import type { Session } from '../api';

export function DeadLetterPage(_props: { session: Session; query: URLSearchParams }) {
  return <h1>Dead letter</h1>;
}
