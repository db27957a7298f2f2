// The tenant a route's path names, as the principal may use it. A principal limited to one tenant
// gets 403 for any other slug, whether it exists or not, so tenant names cannot be probed.

import { can, type Action, type Principal } from '../../domain/admin-roles.js';
import type { Tenant } from '../../store/store.js';
import type { AdminContext } from '../admin-context.js';
import { ApiProblem } from './problem-json.js';

/** The tenant `slug` for `action`: 404 when it does not exist (to a principal that may see every tenant), 403 when not allowed. */
export async function tenantFor(ctx: AdminContext, principal: Principal, slug: string, action: Action): Promise<Tenant> {
  const tenant = await ctx.store.getTenantBySlug(slug);
  if (!tenant) {
    if (can(principal, 'read', null)) throw new ApiProblem(404, `no tenant "${slug}" (see GET /api/v1/tenants)`);
    throw denied(principal, slug, action);
  }
  if (!can(principal, action, tenant.id)) throw denied(principal, slug, action);
  return tenant;
}

function denied(principal: Principal, slug: string, action: Action): ApiProblem {
  const what = action === 'read' ? 'read' : 'change';
  return new ApiProblem(403, `${principal.username} (${principal.role}) may not ${what} tenant "${slug}": ask a super-admin`);
}

/** The tenants the principal may read: every tenant, or its own. */
export function readableTenants(principal: Principal, all: readonly Tenant[]): Tenant[] {
  return all.filter((t) => can(principal, 'read', t.id));
}
