import { useState, type FormEvent } from 'react';
import { messageOf, request, setCsrfToken } from '../api.js';
import { ErrorNote } from '../components/ErrorNote.js';
import type { User } from '../types.js';

/** Username and password → a session cookie (HttpOnly) and the CSRF token kept in memory. */
export function LoginPage({ onLoggedIn }: { onLoggedIn: (user: User) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { data } = await request<{ csrfToken: string; user: User }>('POST', '/api/v1/login', { body: { username, password } });
      setCsrfToken(data.csrfToken);
      onLoggedIn(data.user);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <h1>polyprov console</h1>
      <form onSubmit={(e) => void submit(e)} aria-label="Log in">
        <label>
          Username
          <input name="username" autoComplete="username" required autoFocus value={username} onChange={(e) => setUsername(e.target.value)} />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        <button type="submit" disabled={busy}>
          Log in
        </button>
        <ErrorNote error={error} />
      </form>
      <p className="hint">The first administrator's password is in the data folder, in initial-admin-password.</p>
    </main>
  );
}
