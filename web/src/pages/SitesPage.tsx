import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { messageOf, request, seg } from '../api.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { Link, navigate } from '../router.js';
import type { Page, Site } from '../types.js';

/** The tenant's sites, and (unless read-only) a form to create one. */
export function SitesPage({ tenant, canWrite = true }: { tenant: string; canWrite?: boolean }) {
  const [sites, setSites] = useState<Site[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [slug, setSlug] = useState('');
  const [name, setName] = useState('');

  const load = useCallback(() => {
    request<Page<Site>>('GET', `/api/v1/tenants/${seg(tenant)}/sites?limit=500`)
      .then(({ data }) => setSites(data.items))
      .catch((err: unknown) => setError(messageOf(err)));
  }, [tenant]);
  useEffect(load, [load]);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const { data } = await request<Site>('POST', `/api/v1/tenants/${seg(tenant)}/sites`, { body: { slug, ...(name ? { name } : {}) } });
      navigate(`/t/${seg(tenant)}/sites/${seg(data.slug)}`);
    } catch (err) {
      setError(messageOf(err));
    }
  };

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
      {canWrite && (
        <form className="inline" onSubmit={(e) => void create(e)} aria-label="New site">
          <h2>New site</h2>
          <label>
            Slug
            <input name="slug" required pattern="[a-z0-9][a-z0-9\-]*" title="lower-case letters, digits and -" value={slug} onChange={(e) => setSlug(e.target.value)} />
          </label>
          <label>
            Name
            <input name="name" value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <button type="submit">Create site</button>
        </form>
      )}
    </section>
  );
}
