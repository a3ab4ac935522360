import { useState } from 'preact/hooks';
import { api, type Session } from '../api';

/** Exchanges an API key for a session cookie (POST /ui/session); the key itself is not kept. */
export function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [apiKey, setApiKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { body } = await api.send<Session>('POST', '/ui/session', { apiKey: apiKey.trim() });
      onSignedIn(body);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" class="sign-in">
      <h1>Sign in to Tock</h1>
      <form onSubmit={submit} class="card" novalidate>
        <label for="apiKey">API key</label>
        <input
          id="apiKey"
          name="apiKey"
          type="password"
          autocomplete="current-password"
          required
          value={apiKey}
          onInput={(e) => setApiKey((e.target as HTMLInputElement).value)}
          aria-describedby={error ? 'apiKey-error' : 'apiKey-hint'}
          aria-invalid={error ? true : undefined}
        />
        <p id="apiKey-hint" class="hint">
          The key is exchanged for a session cookie; it is not stored in the browser.
        </p>
        {error && (
          <p id="apiKey-error" class="field-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy || apiKey.trim() === ''}>
          Sign in
        </button>
      </form>
    </main>
  );
}
