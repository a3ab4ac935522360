import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, SIGNED_OUT, type Session } from './api';
import { ErrorNote, Loading } from './components';
import { Link, navigate, useLocation } from './router';
import { DeadLetterPage } from './pages/dead-letter';
import { JobFormPage } from './pages/job-form';
import { JobPage } from './pages/job';
import { JobsPage } from './pages/jobs';
import { OverviewPage } from './pages/overview';
import { SignIn } from './pages/sign-in';

/** The signed-in key (from GET /api/v1/session), or the sign-in form when there is none. */
export function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);

  useEffect(() => {
    api.get<Session>('/api/v1/session').then(setSession, (err: unknown) => {
      if (err instanceof ApiError && err.status === 401) setSession(null);
      else setError(err as Error);
    });
    const signedOut = () => setSession(null);
    window.addEventListener(SIGNED_OUT, signedOut);
    return () => window.removeEventListener(SIGNED_OUT, signedOut);
  }, []);

  if (error) return <ErrorNote error={error} />;
  if (session === undefined) return <Loading />;
  if (session === null) return <SignIn onSignedIn={setSession} />;

  const signOut = async () => {
    await api.send('DELETE', '/ui/session');
    setSession(null);
    navigate('/');
  };
  return <Shell session={session} onSignOut={signOut} />;
}

const NAV = [
  { href: '/', label: 'Overview', match: (p: string) => p === '/' || p === '/ui' || p === '/ui/' },
  { href: '/ui/jobs', label: 'Jobs', match: (p: string) => p.startsWith('/ui/jobs') },
  { href: '/ui/dead-letter', label: 'Dead letter', match: (p: string) => p.startsWith('/ui/dead-letter') },
];

function Shell({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const { path, query } = useLocation();
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Tock</span>
        <nav aria-label="Main">
          {NAV.map((n) => (
            <Link key={n.href} href={n.href} aria-current={n.match(path) ? 'page' : undefined}>
              {n.label}
            </Link>
          ))}
        </nav>
        <span class="who" title={session.scopes.join(', ')}>
          {session.name}
        </span>
        <button type="button" class="link-button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {route(path, query, session)}
      </main>
    </>
  );
}

function route(path: string, query: URLSearchParams, session: Session) {
  let m: RegExpExecArray | null;
  if (path === '/' || path === '/ui' || path === '/ui/') return <OverviewPage />;
  if (path === '/ui/jobs') return <JobsPage session={session} query={query} />;
  if (path === '/ui/jobs/new') return <JobFormPage session={session} />;
  if ((m = /^\/ui\/jobs\/([^/]+)\/edit$/.exec(path))) return <JobFormPage session={session} jobId={m[1]!} />;
  if ((m = /^\/ui\/jobs\/([^/]+)$/.exec(path))) return <JobPage key={m[1]} session={session} jobId={m[1]!} />;
  if (path === '/ui/dead-letter') return <DeadLetterPage session={session} query={query} />;
  return (
    <section>
      <h1>Not found</h1>
      <p>
        There is no page at <code>{path}</code>. <Link href="/">Go to the overview</Link>.
      </p>
    </section>
  );
}
