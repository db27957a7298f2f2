// The audit log: who changed what, when, with the values before and after. Every change made
// through the REST API, the console or the command line is written here with its actor; secrets
// never are (maskSecrets).

import { can, PermissionDenied, type Principal } from '../domain/admin-roles.js';
import { isSecretParameter } from '../domain/secret-parameters.js';
import type { AuditEntry } from '../store/store.js';
import type { AdminContext } from './admin-context.js';
import { AdminError } from './admin-error.js';

/**
 * Who made a change: an authenticated administrator, the command line (whoever may open the
 * store), or the server itself (the first start's administrator).
 */
export type AuditActor = Principal | 'cli' | 'system';

/** Where a change comes from, besides its actor; `now` is for tests. */
export interface ChangeOptions {
  /** The client's address (REST API, console); null or absent on the command line. */
  ip?: string | null;
  now?: Date;
}

/** What replaces a secret value in an entry. */
export const MASKED = '(secret)';

/** Larger before/after values (as JSON) are replaced by a note of their size, so one bulk change cannot bloat the log. */
export const MAX_AUDIT_VALUE_CHARS = 64 * 1024;

export interface AuditInput {
  /** Dotted, lower-case: what was done, e.g. "parameter.set", "user.add", "tenant.remove". */
  action: string;
  /** The tenant concerned, or null (users, tenants list, global firmware library). */
  tenantId: number | null;
  /** What was changed, for people: "site hq", "device 0004f2a1b2c3", "user alice". */
  target: string;
  /** Any JSON value; secrets are masked here. */
  before?: unknown;
  after?: unknown;
  ip?: string | null;
}

const ACTION = /^[a-z][a-z0-9-]*(?:\.[a-z][a-z0-9-]*)+$/;

/** The user name an entry records: the principal's, or "(cli)" / "(system)", which no user name can be. */
export function actorName(who: AuditActor): string {
  return typeof who === 'string' ? `(${who})` : who.username;
}

/**
 * Appends one entry, with secrets masked and oversized values summarized. Call it after the change
 * succeeded, with what it actually changed. TypeError for an action that is not dotted lower-case.
 */
export async function audit(ctx: AdminContext, who: AuditActor, entry: AuditInput, now = new Date()): Promise<void> {
  if (!ACTION.test(entry.action)) throw new TypeError(`audit: action "${entry.action}" must be dotted lower-case words, e.g. "parameter.set"`);
  await ctx.store.appendAudit([
    {
      at: now.toISOString(),
      userId: typeof who === 'string' ? null : who.userId,
      username: actorName(who),
      tenantId: entry.tenantId,
      action: entry.action,
      target: entry.target,
      before: bounded(maskSecrets(entry.before ?? null)),
      after: bounded(maskSecrets(entry.after ?? null)),
      ip: entry.ip ?? null,
    },
  ]);
}

/**
 * Names whose values are secrets: phone parameters that hold passwords (domain/secret-parameters.ts)
 * and polyprov's own fields that do (password, token, hashes of either).
 */
export function isSecretField(name: string): boolean {
  return isSecretParameter(name) || /(?:token|hash|ha1)$/i.test(name);
}

/**
 * A copy of `value` with secret values replaced by MASKED: any object property whose name is a
 * secret (a parameter map `{ "reg.1.auth.password": "…" }`, `{ password: "…" }`), and the value of
 * any `{ name, value }` pair whose name is (parameter rows). Empty values stay, so an entry still
 * shows that a secret was cleared.
 */
export function maskSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskSecrets);
  if (typeof value !== 'object' || value === null) return value;
  const o = value as Record<string, unknown>;
  const pairSecret = typeof o.name === 'string' && 'value' in o && isSecretField(o.name);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(o)) {
    const secret = isSecretField(key) || (pairSecret && key === 'value');
    // defineProperty: a key named __proto__ stays a plain property.
    Object.defineProperty(out, key, { value: secret && v !== '' && v !== null && v !== undefined ? MASKED : maskSecrets(v), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function bounded(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  const chars = JSON.stringify(value)?.length ?? 0;
  return chars > MAX_AUDIT_VALUE_CHARS ? { omitted: 'too large for the audit log', chars } : value;
}

export interface AuditListQuery {
  /** undefined: everything the viewer may read; null: entries of no tenant; a number: that tenant's. */
  tenantId?: number | null;
  /** 1 to 1000; default 100. */
  limit?: number;
  /** Entries older than this id (the last id of the previous page). */
  before?: number;
}

export const MAX_AUDIT_PAGE = 1000;

/**
 * Entries newest first. The command line sees everything; a principal sees what it may read:
 * without a tenantId, a tenant-scoped principal gets its own tenant's entries; naming a tenant (or
 * null) it may not read is PermissionDenied. AdminError for a limit or cursor out of range.
 */
export async function listAudit(ctx: AdminContext, viewer: Principal | 'cli', query: AuditListQuery = {}): Promise<AuditEntry[]> {
  const limit = query.limit ?? 100;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_AUDIT_PAGE) throw new AdminError(`invalid limit ${String(limit)}: expected 1 to ${MAX_AUDIT_PAGE} entries`);
  if (query.before !== undefined && (!Number.isSafeInteger(query.before) || query.before < 1)) throw new AdminError(`invalid cursor ${String(query.before)}: expected the id of an entry`);
  let tenantId = query.tenantId;
  if (viewer !== 'cli') {
    if (tenantId === undefined) {
      if (!can(viewer, 'read', null)) tenantId = viewer.tenantId;
    } else if (!can(viewer, 'read', tenantId)) {
      throw new PermissionDenied(`${viewer.username} may not read the audit log of ${tenantId === null ? 'changes outside a tenant' : `tenant ${tenantId}`}`);
    }
  }
  return ctx.store.listAudit({ limit, ...(tenantId !== undefined ? { tenantId } : {}), ...(query.before !== undefined ? { before: query.before } : {}) });
}
