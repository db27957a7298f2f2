import { useEffect, useState } from 'react';
import { messageOf, request, seg } from '../api.js';
import { CreateTenantForm } from '../components/CreateTenantForm.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { Link } from '../router.js';
import type { Page, Tenant, User } from '../types.js';

/** The tenants the administrator may open (a tenant-scoped one sees its own), and for super-admins a form to create one. */
export function TenantsPage({ user }: { user: User }) {
  const [tenants, setTenants] = useState<Tenant[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    request<Page<Tenant>>('GET', '/api/v1/tenants?limit=500')
      .then(({ data }) => setTenants(data.items))
      .catch((err: unknown) => setError(messageOf(err)));
  }, []);

  const superAdmin = user.role === 'super-admin';
  return (
    <section>
      <h1>Tenants</h1>
      <ErrorNote error={error} />
      {tenants && tenants.length === 0 && <p>No tenants yet{superAdmin ? ': create the first one below.' : '.'}</p>}
      {tenants && tenants.length > 0 && (
        <table aria-label="Tenants">
          <thead>
            <tr>
              <th scope="col">Slug</th>
              <th scope="col">Name</th>
              <th scope="col">Path prefix</th>
              <th scope="col">Host names</th>
              <th scope="col">Unknown devices</th>
            </tr>
          </thead>
          <tbody>
            {tenants.map((t) => (
              <tr key={t.slug}>
                <td>
                  <Link to={`/t/${seg(t.slug)}`}>{t.slug}</Link>
                </td>
                <td>{t.name}</td>
                <td className="mono">{t.pathPrefix ?? '—'}</td>
                <td className="mono">{t.hostnames.length ? t.hostnames.join(', ') : '—'}</td>
                <td>{t.unknownDevices}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {superAdmin && <CreateTenantForm onCreated={(t) => setTenants((list) => [...(list ?? []).filter((x) => x.slug !== t.slug), t].sort((a, b) => (a.slug < b.slug ? -1 : 1)))} />}
    </section>
  );
}
