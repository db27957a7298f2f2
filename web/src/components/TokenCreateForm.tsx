// Creates an API token for the logged-in administrator; the token is answered once and shown once.

import { useState, type FormEvent } from 'react';
import { messageOf, request } from '../api.js';
import type { NewApiToken } from '../types.js';
import { ErrorNote } from './ErrorNote.js';
import { OneTimeSecret } from './OneTimeSecret.js';

export function TokenCreateForm({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [days, setDays] = useState('90');
  const [error, setError] = useState<string | null>(null);
  const [token, setToken] = useState<string | null>(null);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const { data } = await request<NewApiToken>('POST', '/api/v1/me/tokens', { body: { name: name.trim(), ...(days !== '' ? { expiresInDays: Number(days) } : {}) } });
      setToken(data.token);
      setName('');
      onCreated();
    } catch (err) {
      setError(messageOf(err));
    }
  };

  return (
    <>
      {token && <OneTimeSecret label="Your new API token" value={token} onDone={() => setToken(null)} />}
      <form className="inline" onSubmit={(e) => void create(e)} aria-label="Create an API token">
        <h2>Create an API token</h2>
        <label>
          Token name
          <input name="token-name" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} placeholder="billing sync" />
        </label>
        <label>
          Expires after (days)
          <input name="token-days" type="number" min={1} max={3650} value={days} onChange={(e) => setDays(e.target.value)} placeholder="never" />
        </label>
        <button type="submit">Create token</button>
        <p className="hint full">Send it as "Authorization: Bearer …". It acts as you, with your role; leave the days empty for a token that does not expire.</p>
        <div className="full">
          <ErrorNote error={error} />
        </div>
      </form>
    </>
  );
}
