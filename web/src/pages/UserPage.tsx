import { useState } from 'react';
import { request, seg } from '../api.js';
import { ConfirmButton } from '../components/ConfirmButton.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { OneTimeSecret } from '../components/OneTimeSecret.js';
import { ProblemNote, problemOf, type Problem } from '../components/ProblemNote.js';
import { useTenantSlugs } from '../components/RoleTenantFields.js';
import { UserEditForm } from '../components/UserEditForm.js';
import { useDeleteWithEtag } from '../components/useDeleteWithEtag.js';
import { useTagged } from '../components/useTagged.js';
import { Link, navigate } from '../router.js';
import type { AdminUser, AdminUserWithPassword } from '../types.js';

/** One administrator (super-admins only): role, tenant and status (If-Match), a new password, removal. */
export function UserPage({ username }: { username: string }) {
  const path = `/api/v1/users/${seg(username)}`;
  const res = useTagged<AdminUser>(path);
  const tenants = useTenantSlugs();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [password, setPassword] = useState<string | null>(null);
  const remove = useDeleteWithEtag(path, res.etag, () => navigate('/users'));
  const data = res.data;

  const newPassword = async () => {
    setProblem(null);
    try {
      const { data: answer, etag } = await request<AdminUserWithPassword>('PATCH', path, { body: { password: true }, ifMatch: res.etag });
      res.replace(answer.user, etag);
      setPassword(answer.password ?? null);
    } catch (err) {
      setProblem(problemOf(err));
    }
  };
  const reload = () => {
    setProblem(null);
    remove.clear();
    res.reload();
  };

  return (
    <section>
      <p className="crumbs">
        <Link to="/users">Users</Link> / {username}
      </p>
      <h1>User {username}</h1>
      <ErrorNote error={res.error} />
      {password && <OneTimeSecret label={`New password of ${username}`} value={password} onDone={() => setPassword(null)} />}
      {data && (
        <div className="columns">
          <section aria-label="About this user">
            <dl className="facts">
              <dt>Role</dt>
              <dd>{data.role}</dd>
              <dt>Tenant</dt>
              <dd>{data.tenant ?? 'every tenant'}</dd>
              <dt>Status</dt>
              <dd>{data.disabled ? 'disabled' : 'active'}</dd>
              <dt>Created</dt>
              <dd>{data.createdAt}</dd>
            </dl>
            <div className="buttons">
              <ConfirmButton label="Generate a new password" question={`Replace the password of ${username}? Its sessions end.`} confirmLabel="Yes, generate one" onConfirm={newPassword} />
              <ConfirmButton label="Remove user" question={`Remove ${username} with its API tokens and sessions?`} confirmLabel="Yes, remove the user" onConfirm={remove.run} />
            </div>
            <ProblemNote problem={problem ?? remove.problem} onReload={reload} />
          </section>
          <UserEditForm key={res.version} user={data} etag={res.etag} tenants={tenants} onReload={reload} onSaved={res.replace} />
        </div>
      )}
    </section>
  );
}
