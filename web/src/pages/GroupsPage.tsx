import { useEffect, useState, type FormEvent } from 'react';
import { messageOf, request, seg } from '../api.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { Link, navigate } from '../router.js';
import type { Group, Page } from '../types.js';

/** The tenant's device groups, and (unless read-only) a form to create one. */
export function GroupsPage({ tenant, canWrite = true }: { tenant: string; canWrite?: boolean }) {
  const [groups, setGroups] = useState<Group[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [slug, setSlug] = useState('');
  const [name, setName] = useState('');

  useEffect(() => {
    request<Page<Group>>('GET', `/api/v1/tenants/${seg(tenant)}/groups?limit=500`)
      .then(({ data }) => setGroups(data.items))
      .catch((err: unknown) => setError(messageOf(err)));
  }, [tenant]);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const { data } = await request<Group>('POST', `/api/v1/tenants/${seg(tenant)}/groups`, { body: { slug: slug.trim(), ...(name.trim() ? { name: name.trim() } : {}) } });
      navigate(`/t/${seg(tenant)}/groups/${seg(data.slug)}`);
    } catch (err) {
      setError(messageOf(err));
    }
  };

  return (
    <section>
      <h1>Groups</h1>
      <p className="hint">A group's parameters win over the site's and the model's, and lose to the device's own.</p>
      <ErrorNote error={error} />
      {groups && groups.length === 0 && <p>No groups yet.</p>}
      {groups && groups.length > 0 && (
        <table aria-label="Groups">
          <thead>
            <tr>
              <th scope="col">Slug</th>
              <th scope="col">Name</th>
            </tr>
          </thead>
          <tbody>
            {groups.map((g) => (
              <tr key={g.slug}>
                <td>
                  <Link to={`/t/${seg(tenant)}/groups/${seg(g.slug)}`}>{g.slug}</Link>
                </td>
                <td>{g.name}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canWrite && (
        <form className="inline" onSubmit={(e) => void create(e)} aria-label="New group">
          <h2>New group</h2>
          <label>
            Slug
            <input name="slug" required pattern="[a-z0-9][a-z0-9\-]*" title="lower-case letters, digits and -" value={slug} onChange={(e) => setSlug(e.target.value)} />
          </label>
          <label>
            Name
            <input name="name" value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <button type="submit">Create group</button>
        </form>
      )}
    </section>
  );
}
