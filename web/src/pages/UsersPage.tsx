import { useEffect, useState } from 'react';
import { messageOf, request, seg } from '../api.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { useTenantSlugs } from '../components/RoleTenantFields.js';
import { UserAddForm } from '../components/UserAddForm.js';
import { Link } from '../router.js';
import type { AdminUser, Page } from '../types.js';

/** The administrators (super-admins only: the API refuses anyone else), and a form to add one. */
export function UsersPage() {
  const [users, setUsers] = useState<AdminUser[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const tenants = useTenantSlugs();

  useEffect(() => {
    request<Page<AdminUser>>('GET', '/api/v1/users?limit=500')
      .then(({ data }) => setUsers(data.items))
      .catch((err: unknown) => setError(messageOf(err)));
  }, []);

  return (
    <section>
      <h1>Users</h1>
      <ErrorNote error={error} />
      {users && (
        <table aria-label="Users">
          <thead>
            <tr>
              <th scope="col">Username</th>
              <th scope="col">Role</th>
              <th scope="col">Tenant</th>
              <th scope="col">Status</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.username}>
                <td>
                  <Link to={`/users/${seg(u.username)}`}>{u.username}</Link>
                </td>
                <td>{u.role}</td>
                <td>{u.tenant ?? (u.role === 'super-admin' ? 'every tenant' : 'every tenant (read)')}</td>
                <td>{u.disabled ? 'disabled' : 'active'}</td>
                <td>{u.createdAt.slice(0, 10)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {users && <UserAddForm tenants={tenants} onAdded={(u) => setUsers((list) => [...(list ?? []).filter((x) => x.username !== u.username), u].sort((a, b) => (a.username < b.username ? -1 : 1)))} />}
    </section>
  );
}
