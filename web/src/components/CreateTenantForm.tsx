// Creates a tenant (super-admins only). The answer holds the tenant's generated provisioning password,
// which phones use and the server keeps only as hashes: it is shown once, here.

import { useState, type FormEvent } from 'react';
import { messageOf, request } from '../api.js';
import type { NewTenant, Tenant } from '../types.js';
import { ErrorNote } from './ErrorNote.js';
import { OneTimeSecret } from './OneTimeSecret.js';

export function CreateTenantForm({ onCreated }: { onCreated: (tenant: Tenant) => void }) {
  const [slug, setSlug] = useState('');
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<NewTenant | null>(null);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const { data } = await request<NewTenant>('POST', '/api/v1/tenants', { body: { slug: slug.trim(), ...(name.trim() ? { name: name.trim() } : {}) } });
      setCreated(data);
      setSlug('');
      setName('');
      onCreated(data.tenant);
    } catch (err) {
      setError(messageOf(err));
    }
  };

  return (
    <>
      {created && <OneTimeSecret label={`Provisioning password of ${created.tenant.slug}`} value={created.password} onDone={() => setCreated(null)} />}
      <form className="inline" onSubmit={(e) => void create(e)} aria-label="Create tenant">
        <h2>Create tenant</h2>
        <label>
          Tenant slug
          <input name="tenant-slug" required pattern="[a-z0-9][a-z0-9\-]*" title="lower-case letters, digits and -" value={slug} onChange={(e) => setSlug(e.target.value)} />
        </label>
        <label>
          Tenant name
          <input name="tenant-name" maxLength={200} value={name} onChange={(e) => setName(e.target.value)} placeholder="the slug" />
        </label>
        <button type="submit">Create tenant</button>
        <p className="hint full">Phones of the new tenant log in with the slug as user name and the generated password.</p>
        <div className="full">
          <ErrorNote error={error} />
        </div>
      </form>
    </>
  );
}
