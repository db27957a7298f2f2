// Adds an administrator. Without a password the server generates one and answers it once.

import { useState, type FormEvent } from 'react';
import { messageOf, request } from '../api.js';
import type { AdminUser, AdminUserWithPassword } from '../types.js';
import { ErrorNote } from './ErrorNote.js';
import { OneTimeSecret } from './OneTimeSecret.js';
import { RoleTenantFields, type Role } from './RoleTenantFields.js';

export function UserAddForm({ tenants, onAdded }: { tenants: string[]; onAdded: (user: AdminUser) => void }) {
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<Role>('tenant-admin');
  const [tenant, setTenant] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [generated, setGenerated] = useState<{ username: string; password: string } | null>(null);

  const add = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const body = {
      username: username.trim(),
      role,
      ...(role !== 'super-admin' && tenant !== '' ? { tenant } : {}),
      ...(password !== '' ? { password } : {}),
    };
    try {
      const { data } = await request<AdminUserWithPassword>('POST', '/api/v1/users', { body });
      if (data.password) setGenerated({ username: data.user.username, password: data.password });
      setUsername('');
      setPassword('');
      onAdded(data.user);
    } catch (err) {
      setError(messageOf(err));
    }
  };

  return (
    <>
      {generated && <OneTimeSecret label={`Password of ${generated.username}`} value={generated.password} onDone={() => setGenerated(null)} />}
      <form className="inline" onSubmit={(e) => void add(e)} aria-label="Add a user">
        <h2>Add a user</h2>
        <label>
          Username
          <input name="new-username" required maxLength={64} autoComplete="off" value={username} onChange={(e) => setUsername(e.target.value)} />
        </label>
        <RoleTenantFields role={role} tenant={tenant} tenants={tenants} onRole={setRole} onTenant={setTenant} />
        <label>
          Password
          <input name="new-password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} placeholder="empty: generate one" />
        </label>
        <button type="submit">Add user</button>
        <p className="hint full">A password needs at least 12 characters; leave it empty to have one generated and shown once.</p>
        <div className="full">
          <ErrorNote error={error} />
        </div>
      </form>
    </>
  );
}
