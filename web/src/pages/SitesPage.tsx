import { useCallback, useEffect, useState } from 'react';
import { messageOf, request, seg } from '../api.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { NewSlugForm } from '../components/NewSlugForm.js';
import { Link } from '../router.js';
import type { Page, Site } from '../types.js';

/** The tenant's sites, and (unless read-only) a form to create one. */
export function SitesPage({ tenant, canWrite = true }: { tenant: string; canWrite?: boolean }) {
  const [sites, setSites] = useState<Site[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(() => {
    request<Page<Site>>('GET', `/api/v1/tenants/${seg(tenant)}/sites?limit=500`)
      .then(({ data }) => setSites(data.items))
      .catch((err: unknown) => setError(messageOf(err)));
  }, [tenant]);
  useEffect(load, [load]);

  return (
    <section>
      <h1>Sites</h1>
      <ErrorNote error={error} />
      {sites && sites.length === 0 && <p>No sites yet.</p>}
      {sites && sites.length > 0 && (
        <table aria-label="Sites">
          <thead>
            <tr>
              <th scope="col">Slug</th>
              <th scope="col">Name</th>
              <th scope="col">Location</th>
            </tr>
          </thead>
          <tbody>
            {sites.map((s) => (
              <tr key={s.slug}>
                <td>
                  <Link to={`/t/${seg(tenant)}/sites/${seg(s.slug)}`}>{s.slug}</Link>
                </td>
                <td>{s.name}</td>
                <td>{s.location}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canWrite && <NewSlugForm kind="site" apiPath={`/api/v1/tenants/${seg(tenant)}/sites`} pagePath={`/t/${seg(tenant)}/sites`} onError={setError} />}
    </section>
  );
}
