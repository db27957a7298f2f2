import { useEffect, useState } from 'react';
import { messageOf, request, seg } from '../api.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { NewSlugForm } from '../components/NewSlugForm.js';
import { Link } from '../router.js';
import type { Group, Page } from '../types.js';

/** The tenant's device groups, and (unless read-only) a form to create one. */
export function GroupsPage({ tenant, canWrite = true }: { tenant: string; canWrite?: boolean }) {
  const [groups, setGroups] = useState<Group[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    request<Page<Group>>('GET', `/api/v1/tenants/${seg(tenant)}/groups?limit=500`)
      .then(({ data }) => setGroups(data.items))
      .catch((err: unknown) => setError(messageOf(err)));
  }, [tenant]);

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
      {canWrite && <NewSlugForm kind="group" apiPath={`/api/v1/tenants/${seg(tenant)}/groups`} pagePath={`/t/${seg(tenant)}/groups`} onError={setError} />}
    </section>
  );
}
