// Changes an administrator's role, tenant and whether it may log in, with the ETag of the copy the
// form started from. Disabling ends its sessions at once (the server does that).

import { useState, type FormEvent } from 'react';
import { request, seg } from '../api.js';
import type { AdminUser, AdminUserWithPassword } from '../types.js';
import { ProblemNote, problemOf, type Problem } from './ProblemNote.js';
import { RoleTenantFields, type Role } from './RoleTenantFields.js';

export function UserEditForm({ user, etag, tenants, onSaved, onReload }: { user: AdminUser; etag: string | null; tenants: string[]; onSaved: (user: AdminUser, etag: string | null) => void; onReload: () => void }) {
  const [role, setRole] = useState<Role>(user.role);
  const [tenant, setTenant] = useState(user.tenant ?? '');
  const [disabled, setDisabled] = useState(user.disabled);
  const [problem, setProblem] = useState<Problem | null>(null);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setProblem(null);
    const body: { role?: Role; tenant?: string | null; disabled?: boolean } = {};
    if (role !== user.role) body.role = role;
    const nextTenant = role === 'super-admin' || tenant === '' ? null : tenant;
    if (nextTenant !== user.tenant && role !== 'super-admin') body.tenant = nextTenant;
    if (disabled !== user.disabled) body.disabled = disabled;
    if (Object.keys(body).length === 0) {
      setProblem({ message: 'Nothing to save: change the role, the tenant or the status first.', stale: false });
      return;
    }
    try {
      const { data, etag: next } = await request<AdminUserWithPassword>('PATCH', `/api/v1/users/${seg(user.username)}`, { body, ifMatch: etag });
      onSaved(data.user, next);
    } catch (err) {
      setProblem(problemOf(err));
    }
  };

  return (
    <form className="inline" onSubmit={(e) => void save(e)} aria-label="Change user">
      <h2>Role and access</h2>
      <RoleTenantFields role={role} tenant={tenant} tenants={tenants} onRole={setRole} onTenant={setTenant} />
      <label className="check">
        <input type="checkbox" name="disabled" checked={disabled} onChange={(e) => setDisabled(e.target.checked)} /> Disabled (cannot log in; its tokens stop working)
      </label>
      <button type="submit">Save user</button>
      <div className="full">
        <ProblemNote problem={problem} onReload={onReload} />
      </div>
    </form>
  );
}
