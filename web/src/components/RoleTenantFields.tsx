// A user's role and the tenant it is limited to: a tenant admin needs one, a read-only user may have
// one (none reads every tenant), a super-admin has none.

import { useEffect, useState } from 'react';
import { request } from '../api.js';
import type { AdminUser, Page, Tenant } from '../types.js';

export type Role = AdminUser['role'];

export const ROLES: { value: Role; label: string }[] = [
  { value: 'tenant-admin', label: 'tenant admin (one tenant)' },
  { value: 'read-only', label: 'read-only' },
  { value: 'super-admin', label: 'super-admin (every tenant, users)' },
];

/** The slugs of the tenants the caller can read (for the tenant select). */
export function useTenantSlugs(): string[] {
  const [slugs, setSlugs] = useState<string[]>([]);
  useEffect(() => {
    request<Page<Tenant>>('GET', '/api/v1/tenants?limit=500')
      .then(({ data }) => setSlugs(data.items.map((t) => t.slug)))
      .catch(() => {
        /* the select then offers "none" only, and the API says what is missing */
      });
  }, []);
  return slugs;
}

export function RoleTenantFields({ role, tenant, tenants, onRole, onTenant }: { role: Role; tenant: string; tenants: string[]; onRole: (r: Role) => void; onTenant: (t: string) => void }) {
  return (
    <>
      <label>
        Role
        <select name="role" value={role} onChange={(e) => onRole(e.target.value as Role)}>
          {ROLES.map((r) => (
            <option key={r.value} value={r.value}>
              {r.label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Tenant
        <select name="tenant" value={role === 'super-admin' ? '' : tenant} disabled={role === 'super-admin'} required={role === 'tenant-admin'} onChange={(e) => onTenant(e.target.value)}>
          <option value="">{role === 'read-only' ? 'none (reads every tenant)' : 'none'}</option>
          {tenants.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </label>
    </>
  );
}
