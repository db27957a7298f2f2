import { useEffect, useState } from 'react';
import { messageOf, request } from '../api.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { Link, navigate } from '../router.js';
import type { Page, Tenant, User } from '../types.js';

/** The tenants the administrator may open; a tenant-scoped administrator goes straight to its own. */
export function TenantPicker({ user }: { user: User }) {
  const [tenants, setTenants] = useState<Tenant[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (user.tenant) {
      navigate(`/t/${encodeURIComponent(user.tenant)}/sites`);
      return;
    }
    request<Page<Tenant>>('GET', '/api/v1/tenants?limit=500')
      .then(({ data }) => setTenants(data.items))
      .catch((err: unknown) => setError(messageOf(err)));
  }, [user.tenant]);

  return (
    <section>
      <h1>Tenants</h1>
      <ErrorNote error={error} />
      {tenants && tenants.length === 0 && <p>No tenants yet: create one with "polyprov tenant add &lt;slug&gt;".</p>}
      {tenants && tenants.length > 0 && (
        <ul className="plain" aria-label="Tenants">
          {tenants.map((t) => (
            <li key={t.slug}>
              <Link to={`/t/${encodeURIComponent(t.slug)}/sites`}>{t.slug}</Link> <span className="muted">{t.name}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
