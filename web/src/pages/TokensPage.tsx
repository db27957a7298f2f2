import { useCallback, useEffect, useState } from 'react';
import { messageOf, request } from '../api.js';
import { ConfirmButton } from '../components/ConfirmButton.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { TokenCreateForm } from '../components/TokenCreateForm.js';
import type { ApiToken } from '../types.js';

function status(t: ApiToken, now: number): string {
  if (t.revokedAt) return `revoked ${t.revokedAt.slice(0, 16).replace('T', ' ')}`;
  if (t.expiresAt && Date.parse(t.expiresAt) <= now) return 'expired';
  return 'active';
}

/** The logged-in administrator's API tokens: create one (shown once), list them, revoke one. */
export function TokensPage() {
  const [tokens, setTokens] = useState<ApiToken[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(() => {
    request<{ items: ApiToken[] }>('GET', '/api/v1/me/tokens')
      .then(({ data }) => setTokens(data.items))
      .catch((err: unknown) => setError(messageOf(err)));
  }, []);
  useEffect(load, [load]);

  const revoke = async (id: number) => {
    setError(null);
    try {
      await request('DELETE', `/api/v1/me/tokens/${id}`);
      load();
    } catch (err) {
      setError(messageOf(err));
    }
  };

  const now = Date.now();
  return (
    <section>
      <h1>My API tokens</h1>
      <ErrorNote error={error} />
      {tokens && tokens.length === 0 && <p>You have no API tokens.</p>}
      {tokens && tokens.length > 0 && (
        <table aria-label="API tokens">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Starts with</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Expires</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {tokens.map((t) => (
              <tr key={t.id}>
                <td>{t.name}</td>
                <td className="mono">{t.prefix}…</td>
                <td>{t.createdAt.slice(0, 10)}</td>
                <td>{t.lastUsedAt ? t.lastUsedAt.slice(0, 16).replace('T', ' ') : 'never'}</td>
                <td>{t.expiresAt ? t.expiresAt.slice(0, 10) : 'never'}</td>
                <td>{status(t, now)}</td>
                <td>{!t.revokedAt && <ConfirmButton label={`Revoke ${t.name}`} question={`Revoke ${t.name}? Scripts using it stop working at once.`} confirmLabel="Yes, revoke" onConfirm={() => revoke(t.id)} />}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <TokenCreateForm onCreated={load} />
    </section>
  );
}
