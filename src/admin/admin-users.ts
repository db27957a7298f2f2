// Administrators of the REST API and console: adding, listing, changing and removing them, and
// the first super-admin of a fresh installation. There is no default password, ever: a password
// is given (at least 12 characters) or generated and shown once.
//
// Every function here checks that its actor may manage users (the command line may) and writes
// its own audit entry: callers must not audit these changes again.

import { open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { checkRoleScope, requirePermission, requireRole, type Principal, type Role } from '../domain/admin-roles.js';
import { DomainError } from '../domain/domain-error.js';
import { generatePassword, hashPassword, verifyPassword } from '../provisioning/credentials.js';
import { ConflictError } from '../store/errors.js';
import type { AdminUser, AdminUserPatch } from '../store/store.js';
import type { AdminContext } from './admin-context.js';
import { AdminError } from './admin-error.js';
import { audit, type AuditActor, type ChangeOptions } from './audit-log.js';
import { requireTenant } from './tenants.js';

/** An administrator as services show it: never the password hash. */
export interface AdminUserInfo {
  id: number;
  username: string;
  role: Role;
  tenantId: number | null;
  /** The tenant's slug, or null (super-admin, all-tenant reader). */
  tenant: string | null;
  createdAt: string;
  disabled: boolean;
}

export const MIN_ADMIN_PASSWORD_CHARS = 12;
const MAX_ADMIN_PASSWORD_CHARS = 256;

/** The first super-admin of a fresh installation, and the file (in the data folder) holding its generated password. */
export const INITIAL_ADMIN_USERNAME = 'admin';
export const INITIAL_ADMIN_PASSWORD_FILE = 'initial-admin-password';

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** A user name as typed, or AdminError: 1-64 letters, digits and . _ @ -, starting with a letter or digit. */
export function validateAdminUsername(name: string): string {
  if (typeof name !== 'string' || !USERNAME.test(name)) {
    throw new AdminError(`invalid user name ${JSON.stringify(name)}: use 1-64 letters, digits and . _ @ -, starting with a letter or digit`);
  }
  return name;
}

/**
 * A password an administrator chose, or AdminError saying what is wrong: fewer than 12
 * characters, more than 256, control characters, fewer than 5 different characters, or the user
 * name inside it.
 */
export function checkAdminPassword(password: string, username: string): string {
  if (typeof password !== 'string' || password.length < MIN_ADMIN_PASSWORD_CHARS) {
    throw new AdminError(`the password is too short: use at least ${MIN_ADMIN_PASSWORD_CHARS} characters (or leave it out to have one generated)`);
  }
  if (password.length > MAX_ADMIN_PASSWORD_CHARS) throw new AdminError(`the password is too long: use at most ${MAX_ADMIN_PASSWORD_CHARS} characters`);
  if (/[\u0000-\u001f\u007f]/.test(password)) throw new AdminError('the password holds control characters: use printable characters only');
  if (new Set(password).size < 5) throw new AdminError('the password repeats too few characters: use at least 5 different ones');
  if (username.length >= 3 && password.toLowerCase().includes(username.toLowerCase())) throw new AdminError('the password contains the user name: choose another');
  return password;
}

/** 16 random base64url characters (96 bits). */
export function generateAdminPassword(): string {
  return generatePassword();
}

function roleOf(text: string): Role {
  try {
    return requireRole(text);
  } catch (err) {
    if (err instanceof DomainError) throw new AdminError(err.message);
    throw err;
  }
}

function checkScope(username: string, role: Role, tenantId: number | null): void {
  try {
    checkRoleScope(role, tenantId);
  } catch (err) {
    if (err instanceof DomainError) throw new AdminError(`user "${username}": ${err.message}`);
    throw err;
  }
}

function mayManage(by: AuditActor): void {
  if (typeof by === 'object') requirePermission(by, 'manage-users', null);
}

async function tenantSlugs(ctx: AdminContext): Promise<Map<number, string>> {
  return new Map((await ctx.store.listTenants()).map((t) => [t.id, t.slug]));
}

/** The service view of a stored user, with its tenant's slug from `slugs`. */
export function toInfo(user: AdminUser, slugs: ReadonlyMap<number, string>): AdminUserInfo {
  const { id, username, role, tenantId, createdAt, disabled } = user;
  return { id, username, role, tenantId, tenant: tenantId === null ? null : (slugs.get(tenantId) ?? String(tenantId)), createdAt, disabled };
}

/** What the audit log records of a user (besides its name, in the target). */
function described(u: AdminUserInfo): { role: Role; tenant: string | null; disabled: boolean } {
  return { role: u.role, tenant: u.tenant, disabled: u.disabled };
}

/** The stored user of that name (any case), or AdminError. */
export async function requireUser(ctx: AdminContext, username: string): Promise<AdminUser> {
  const user = await ctx.store.getAdminUserByName(username);
  if (!user) throw new AdminError(`no user "${username}" (see: polyprov user list)`);
  return user;
}

export interface NewUserInput {
  username: string;
  /** 'super-admin' | 'tenant-admin' | 'read-only' */
  role: string;
  /** Slug of the tenant a tenant-admin (needed) or read-only user (optional: none reads every tenant) works in. */
  tenant?: string | null;
  /** At least 12 characters; absent: generated and returned once. */
  password?: string;
}

/**
 * Adds an administrator. Returns the password (the given one, or a generated one the caller shows
 * once). AdminError for a bad name, role, tenant or password; ConflictError for a user name taken
 * in any case; PermissionDenied unless the actor may manage users.
 */
export async function addUser(ctx: AdminContext, by: AuditActor, input: NewUserInput, opts: ChangeOptions = {}): Promise<{ user: AdminUserInfo; password: string; generated: boolean }> {
  mayManage(by);
  const username = validateAdminUsername(input.username);
  const role = roleOf(input.role);
  const tenant = input.tenant ? await requireTenant(ctx, input.tenant) : undefined;
  const tenantId = tenant?.id ?? null;
  checkScope(username, role, tenantId);
  const generated = input.password === undefined;
  const password = input.password === undefined ? generateAdminPassword() : checkAdminPassword(input.password, username);
  const stored = await ctx.store.createAdminUser({ username, passwordHash: await hashPassword(password), role, tenantId });
  const user = toInfo(stored, new Map(tenant ? [[tenant.id, tenant.slug]] : []));
  await audit(ctx, by, { action: 'user.add', tenantId, target: `user ${username}`, after: described(user), ip: opts.ip ?? null }, opts.now);
  return { user, password, generated };
}

/** Every administrator, by user name. PermissionDenied unless the viewer may manage users. */
export async function listUsers(ctx: AdminContext, viewer: Principal | 'cli'): Promise<AdminUserInfo[]> {
  mayManage(viewer);
  const slugs = await tenantSlugs(ctx);
  return (await ctx.store.listAdminUsers()).map((u) => toInfo(u, slugs));
}

export interface UserChanges {
  role?: string;
  /** A tenant's slug, or null for none; absent keeps the tenant (and a new super-admin role drops it). */
  tenant?: string | null;
  /** A new password, or true to generate one (returned once). */
  password?: string | true;
  disabled?: boolean;
}

/**
 * Changes an administrator. A new password or disabling ends the user's console sessions. Returns
 * the generated password when one was asked for. AdminError for bad values or nothing to change;
 * ConflictError when no enabled super-admin would remain; PermissionDenied unless the actor may
 * manage users.
 */
export async function updateUser(ctx: AdminContext, by: AuditActor, username: string, changes: UserChanges, opts: ChangeOptions = {}): Promise<{ user: AdminUserInfo; password?: string }> {
  mayManage(by);
  if (changes.role === undefined && changes.tenant === undefined && changes.password === undefined && changes.disabled === undefined) {
    throw new AdminError('nothing to change: give a role, a tenant, a password, or disable or enable the user');
  }
  const current = await requireUser(ctx, username);
  const role = changes.role === undefined ? current.role : roleOf(changes.role);
  let tenantId: number | null;
  if (changes.tenant !== undefined) tenantId = changes.tenant === null ? null : (await requireTenant(ctx, changes.tenant)).id;
  else tenantId = role === 'super-admin' ? null : current.tenantId;
  checkScope(current.username, role, tenantId);
  const password = changes.password === true ? generateAdminPassword() : changes.password === undefined ? undefined : checkAdminPassword(changes.password, current.username);

  const patch: AdminUserPatch = {};
  if (role !== current.role) patch.role = role;
  if (tenantId !== current.tenantId) patch.tenantId = tenantId;
  if (changes.disabled !== undefined && changes.disabled !== current.disabled) patch.disabled = changes.disabled;
  if (password !== undefined) patch.passwordHash = await hashPassword(password);
  const slugs = await tenantSlugs(ctx);
  const before = toInfo(current, slugs);
  if (!Object.keys(patch).length) return { user: before };

  const user = toInfo(await ctx.store.updateAdminUser(current.id, patch), slugs);
  await audit(
    ctx,
    by,
    {
      action: 'user.set',
      tenantId: user.tenantId ?? before.tenantId,
      target: `user ${current.username}`,
      before: described(before),
      after: { ...described(user), ...(password !== undefined ? { passwordChanged: true } : {}) },
      ip: opts.ip ?? null,
    },
    opts.now,
  );
  return { user, ...(changes.password === true ? { password } : {}) };
}

/**
 * Removes an administrator with its tokens and sessions (its audit entries stay). AdminError for
 * an unknown user; ConflictError for the last enabled super-admin; PermissionDenied unless the
 * actor may manage users.
 */
export async function removeUser(ctx: AdminContext, by: AuditActor, username: string, opts: ChangeOptions = {}): Promise<void> {
  mayManage(by);
  const current = await requireUser(ctx, username);
  if (!(await ctx.store.deleteAdminUser(current.id))) throw new AdminError(`no user "${username}" (see: polyprov user list)`);
  const before = toInfo(current, await tenantSlugs(ctx));
  await audit(ctx, by, { action: 'user.remove', tenantId: current.tenantId, target: `user ${current.username}`, before: described(before), ip: opts.ip ?? null }, opts.now);
}

/** The first super-admin, as ensureFirstSuperAdmin made it. */
export interface InitialAdmin {
  username: string;
  password: string;
  /** The file holding the password (mode 0600): tell the operator to read it, then change the password. */
  file: string;
  /** True on the start that created it; false on later starts while its password is unchanged. */
  created: boolean;
}

/**
 * For the first start of an installation: when no administrator exists, creates the super-admin
 * `admin` with a generated password, writes the password to `<dataDir>/initial-admin-password`
 * (mode 0600) and returns it, so serve can say where to find it. On later starts, returns it again
 * while the file still holds admin's current password; once the password was changed, deletes
 * the stale file and returns undefined. Another process creating the first user at the same time
 * is not an error (undefined).
 */
export async function ensureFirstSuperAdmin(ctx: AdminContext, dataDir: string): Promise<InitialAdmin | undefined> {
  const file = join(dataDir, INITIAL_ADMIN_PASSWORD_FILE);
  if ((await ctx.store.listAdminUsers()).length > 0) return stillInitial(ctx, file);
  const password = generateAdminPassword();
  // The file is written before the user exists and renamed into place after: the password is
  // never in the store without being on disk, and no half-written file is ever read.
  const pending = `${file}.${process.pid}.tmp`;
  await writeSecretFile(pending, `${password}\n`);
  let created: AdminUser;
  try {
    created = await ctx.store.createAdminUser({ username: INITIAL_ADMIN_USERNAME, passwordHash: await hashPassword(password), role: 'super-admin', tenantId: null });
  } catch (err) {
    await unlink(pending).catch(() => undefined);
    if (err instanceof ConflictError) return undefined;
    throw err;
  }
  await rename(pending, file);
  await audit(ctx, 'system', { action: 'user.add', tenantId: null, target: `user ${created.username}`, after: { role: created.role, tenant: null, disabled: false } });
  return { username: created.username, password, file, created: true };
}

async function stillInitial(ctx: AdminContext, file: string): Promise<InitialAdmin | undefined> {
  const password = await readFile(file, 'utf8').then((s) => s.trim(), () => undefined);
  if (password === undefined) return undefined;
  const admin = await ctx.store.getAdminUserByName(INITIAL_ADMIN_USERNAME);
  if (admin && !admin.disabled && (await verifyPassword(password, admin.passwordHash))) return { username: admin.username, password, file, created: false };
  await unlink(file).catch(() => undefined);
  return undefined;
}

/** Writes a new file readable by its owner only, and flushes it to disk. */
async function writeSecretFile(path: string, text: string): Promise<void> {
  await unlink(path).catch(() => undefined);
  const fh = await open(path, 'wx', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
}
