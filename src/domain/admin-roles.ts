// Who may do what in the REST API and console. Three roles, one rule table (`can`); the services
// and the API ask it, never the role names themselves, so the rules live in one place.

import { DomainError } from './domain-error.js';

/** Every role, most powerful first. */
export const ROLES = ['super-admin', 'tenant-admin', 'read-only'] as const;

/**
 * - `super-admin`: every tenant, read and write, and the management of users and tenants;
 *   never tied to a tenant (tenantId null).
 * - `tenant-admin`: full read and write inside one tenant (tenantId set), nothing outside it.
 * - `read-only`: reads one tenant (tenantId set) or every tenant (tenantId null); writes nothing.
 */
export type Role = (typeof ROLES)[number];

/** Every action `can` decides. */
export const ACTIONS = ['read', 'write', 'manage-users', 'manage-tenants'] as const;

/**
 * - `read`, `write`: a tenant's policy, devices, files, logs, firmware, rollouts, audit entries…
 *   (tenantId: that tenant), or what belongs to no single tenant (tenantId null: the global
 *   firmware library, lists across tenants, entries about users).
 * - `manage-users`: add, change and remove administrators and their tokens.
 * - `manage-tenants`: create and remove tenants.
 */
export type Action = (typeof ACTIONS)[number];

/** An authenticated administrator, as every request after login sees it. */
export interface Principal {
  userId: number;
  username: string;
  role: Role;
  /** The tenant a tenant-admin or read-only user is limited to; null for a super-admin or an all-tenant reader. */
  tenantId: number | null;
  /** A console session (cookie) or an API token (bearer). */
  via: 'session' | 'token';
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** The role named by `text`, or DomainError listing the roles. */
export function requireRole(text: string): Role {
  if (isRole(text)) return text;
  throw new DomainError(`unknown role "${text}": expected ${ROLES.join(', ')}`);
}

/**
 * DomainError when a role and a tenant do not go together: a super-admin covers every tenant (no
 * tenant), a tenant-admin needs its tenant; a read-only user may have one or none.
 */
export function checkRoleScope(role: Role, tenantId: number | null): void {
  if (role === 'super-admin' && tenantId !== null) throw new DomainError('a super-admin covers every tenant: give no tenant');
  if (role === 'tenant-admin' && tenantId === null) throw new DomainError('a tenant-admin works in one tenant: name it');
}

/**
 * Whether `principal` may do `action` on `tenantId` (the tenant concerned, or null for what
 * belongs to no single tenant; ignored by manage-users and manage-tenants, which are global).
 * A principal whose role and tenant do not go together (see checkRoleScope) may do nothing.
 */
export function can(principal: Pick<Principal, 'role' | 'tenantId'>, action: Action, tenantId: number | null): boolean {
  const own = principal.tenantId;
  switch (principal.role) {
    case 'super-admin':
      return own === null;
    case 'tenant-admin':
      return own !== null && tenantId === own && (action === 'read' || action === 'write');
    case 'read-only':
      return action === 'read' && (own === null || tenantId === own);
    default:
      return false;
  }
}

/**
 * The principal may not do what it asked (the REST API answers 403). A DomainError, so the command
 * line prints its message; callers that map errors to statuses must test for it before DomainError.
 */
export class PermissionDenied extends DomainError {
  override name = 'PermissionDenied';
}

/** PermissionDenied unless `can(principal, action, tenantId)`; the message says what is missing. */
export function requirePermission(principal: Principal, action: Action, tenantId: number | null): void {
  if (can(principal, action, tenantId)) return;
  const scope = principal.tenantId === null ? 'every tenant' : `tenant ${principal.tenantId}`;
  const target = action === 'manage-users' ? 'manage administrators' : action === 'manage-tenants' ? 'create or remove tenants' : tenantId === null ? `${action} outside a tenant` : `${action} in tenant ${tenantId}`;
  throw new PermissionDenied(`${principal.username} (${principal.role} of ${scope}) may not ${target}: ask a super-admin`);
}
