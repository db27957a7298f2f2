// Authentication of administrators: console logins (sessions), API tokens, and the login rate
// limit. The REST API calls these for every request; the command line needs none of it (whoever
// may open the store is trusted).
//
// Secrets are random (node:crypto), shown once and stored only as SHA-256: the session cookie
// (`sessionId`, 32 random bytes, base64url) and the token (`pp_` + 32 random bytes, base64url). They
// are looked up by that hash, so no comparison of a secret with user input happens in JavaScript;
// passwords are checked with scrypt and timingSafeEqual (provisioning/credentials.ts), the CSRF
// token with timingSafeEqual (csrfMatches).
//
// Sessions end 12 hours after the last request or 7 days after login, whichever comes first
// (DEFAULT_AUTH_SETTINGS); a new password or disabling the user ends them at once. Last-seen and
// last-used times are written at most once a minute per session or token, not on every request.
//
// Login failures are counted in the store, not in memory: serve runs several workers (and several
// machines on PostgreSQL), and a per-worker count would multiply the limit. Two limits apply in a
// sliding window (15 minutes): failures for one user name from one address (5), and from one
// address whatever the name (50), so one address can neither guess one password nor spray many
// names. IPv6 addresses count per /64, which one client usually holds whole. A success clears only
// its user name + address count: a valid account must not reset the address's count. A refused
// attempt is not counted, so waiting the announced time always works.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { can, type Principal, PermissionDenied, requirePermission } from '../domain/admin-roles.js';
import { addressNumber, plainAddress } from '../domain/ip-subnet.js';
import { hashPassword, verifyPassword } from '../provisioning/credentials.js';
import { NotFoundError } from '../store/errors.js';
import type { AdminUser, ApiToken } from '../store/store.js';
import type { AdminContext } from './admin-context.js';
import { AdminError } from './admin-error.js';
import { checkAdminPassword, requireUser } from './admin-users.js';
import { audit, type AuditActor, type ChangeOptions } from './audit-log.js';

/** Wrong user name or password, or a disabled user: one message for all (the REST API answers 401). Test for it before AdminError. */
export class AuthenticationFailed extends AdminError {
  override name = 'AuthenticationFailed';
}

/** Too many failed logins: nothing was checked (the REST API answers 429 with Retry-After). Test for it before AdminError. */
export class TooManyAttempts extends AdminError {
  override name = 'TooManyAttempts';
  constructor(readonly retryAfterSeconds: number) {
    super(`too many failed logins: retry after ${retryAfterSeconds} s`);
  }
}

export interface AuthSettings {
  /** Failed logins for one user name from one address within the window before logins are refused. */
  maxFailuresPerUser: number;
  /** Failed logins from one address (IPv6: one /64), any user name, within the window. */
  maxFailuresPerAddress: number;
  failureWindowSeconds: number;
  /** A session ends this long after its last request. */
  sessionIdleSeconds: number;
  /** A session ends this long after login, whatever the activity. */
  sessionMaxSeconds: number;
}

export const DEFAULT_AUTH_SETTINGS: Readonly<AuthSettings> = {
  maxFailuresPerUser: 5,
  maxFailuresPerAddress: 50,
  failureWindowSeconds: 15 * 60,
  sessionIdleSeconds: 12 * 3600,
  sessionMaxSeconds: 7 * 86400,
};

/** `now` is for tests; `settings` override the defaults. */
export interface AuthOptions {
  now?: Date;
  settings?: Partial<AuthSettings>;
}

export interface LoginResult {
  /** The session secret: the cookie's value (HttpOnly). Shown once; the store keeps its SHA-256. */
  sessionId: string;
  /** The console sends it back in a header with every change; check it with csrfMatches. */
  csrfToken: string;
  principal: Principal;
  /** The absolute end of the session (the idle timeout may end it sooner). */
  expiresAt: string;
}

/** What the store records, at most, per minute of activity of one session or token. */
const TOUCH_EVERY_MS = 60_000;

const SECRET = /^[A-Za-z0-9_-]{43}$/;
const TOKEN = /^pp_[A-Za-z0-9_-]{43}$/;

/** Longer user names are never valid (admin-users.ts): such attempts fail without a lookup, and their key is cut. */
const MAX_NAME_CHARS = 64;
/** scrypt of a longer input is wasted work: no valid password is this long. */
const MAX_PASSWORD_CHARS = 1024;

function settingsOf(opts: AuthOptions): AuthSettings {
  return { ...DEFAULT_AUTH_SETTINGS, ...opts.settings };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

function principalOf(user: AdminUser, via: Principal['via']): Principal {
  return { userId: user.id, username: user.username, role: user.role, tenantId: user.tenantId, via };
}

/** A hash to check unknown user names against, so they take as long as known ones. */
let dummyHash: Promise<string> | undefined;

/**
 * The address as a rate-limit key: IPv4 (also when mapped into IPv6) as it is, IPv6 as its /64,
 * anything else (no address) as given.
 */
export function rateLimitAddress(ip: string): string {
  const plain = plainAddress(ip);
  const n = addressNumber(plain);
  if (n === null || !plain.includes(':')) return plain.slice(0, 64) || 'unknown';
  const groups = Array.from({ length: 4 }, (_, i) => ((n >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  return `${groups.join(':')}::/64`;
}

/**
 * Seconds until fewer than `limit` failures remain in the window, given the key's newest `limit`
 * failure times (newest first); 0 when fewer than `limit` are given or the limit-th has left the
 * window (a failure counts while now < its time + the window). At least 1 when blocked.
 */
export function secondsUntilUnblocked(newestFirst: readonly string[], limit: number, windowSeconds: number, now: Date): number {
  if (newestFirst.length < limit || limit <= 0) return 0;
  // The limit-th newest failure is the one whose leaving the window frees an attempt.
  const ms = Date.parse(newestFirst[limit - 1]!) + windowSeconds * 1000 - now.getTime();
  return ms > 0 ? Math.ceil(ms / 1000) : 0;
}

/** The two rate-limit keys of an attempt, and where the window starts. */
interface Limits {
  user: string;
  address: string;
  since: string;
}

function limitsOf(name: string, ip: string | null | undefined, s: AuthSettings, now: Date): Limits {
  const address = rateLimitAddress(typeof ip === 'string' ? ip : '');
  return {
    user: `login user ${name.slice(0, MAX_NAME_CHARS).toLowerCase()} address ${address}`,
    address: `login address ${address}`,
    since: new Date(now.getTime() - s.failureWindowSeconds * 1000).toISOString(),
  };
}

/** TooManyAttempts when either key reached its limit in the window. */
async function refuseWhenLimited(ctx: AdminContext, k: Limits, s: AuthSettings, now: Date): Promise<void> {
  const wait = Math.max(
    secondsUntilUnblocked(await ctx.store.recentLoginFailures(k.user, k.since, s.maxFailuresPerUser), s.maxFailuresPerUser, s.failureWindowSeconds, now),
    secondsUntilUnblocked(await ctx.store.recentLoginFailures(k.address, k.since, s.maxFailuresPerAddress), s.maxFailuresPerAddress, s.failureWindowSeconds, now),
  );
  if (wait > 0) throw new TooManyAttempts(wait);
}

/** Whether `password` is the user's, with the same scrypt work for an unknown user (no timing hint that a name exists). */
async function passwordMatches(user: AdminUser | undefined, password: unknown): Promise<boolean> {
  if (typeof password !== 'string' || password.length > MAX_PASSWORD_CHARS) return false;
  dummyHash ??= hashPassword(randomSecret());
  const right = await verifyPassword(password, user?.passwordHash ?? (await dummyHash));
  return right && user !== undefined;
}

/**
 * Logs in with a password and opens a session. AuthenticationFailed for a wrong user name or
 * password or a disabled user (counted against the limits); TooManyAttempts when a limit is
 * reached (nothing checked, nothing counted). User names are matched case-insensitively.
 */
export async function login(ctx: AdminContext, username: string, password: string, ip: string, opts: AuthOptions = {}): Promise<LoginResult> {
  const s = settingsOf(opts);
  const now = opts.now ?? new Date();
  const name = typeof username === 'string' ? username : '';
  const limits = limitsOf(name, ip, s, now);
  await refuseWhenLimited(ctx, limits, s, now);

  const user = name && name.length <= MAX_NAME_CHARS ? await ctx.store.getAdminUserByName(name) : undefined;
  if (!(await passwordMatches(user, password)) || !user || user.disabled) {
    await ctx.store.recordLoginFailure([limits.user, limits.address], now.toISOString(), limits.since);
    throw new AuthenticationFailed('wrong user name or password');
  }

  await ctx.store.clearLoginFailures(limits.user);
  await ctx.store.pruneSessions(now.toISOString(), new Date(now.getTime() - s.sessionIdleSeconds * 1000).toISOString());
  const sessionId = randomSecret();
  const csrfToken = randomSecret();
  const expiresAt = new Date(now.getTime() + s.sessionMaxSeconds * 1000).toISOString();
  await ctx.store.createSession({ id: sha256(sessionId), userId: user.id, csrfToken, createdAt: now.toISOString(), expiresAt });
  return { sessionId, csrfToken, principal: principalOf(user, 'session'), expiresAt };
}

/**
 * The principal changes its own password, giving the current one (checked against the login
 * limits, so a stolen session cannot guess it). Every session of the user ends, this one too: the
 * console logs in again. AuthenticationFailed for a wrong current password; TooManyAttempts;
 * AdminError for a weak new password.
 */
export async function changeOwnPassword(ctx: AdminContext, principal: Principal, currentPassword: string, newPassword: string, opts: AuthOptions & ChangeOptions = {}): Promise<void> {
  const s = settingsOf(opts);
  const now = opts.now ?? new Date();
  const limits = limitsOf(principal.username, opts.ip, s, now);
  await refuseWhenLimited(ctx, limits, s, now);
  const user = await ctx.store.getAdminUser(principal.userId);
  if (!(await passwordMatches(user, currentPassword)) || !user || user.disabled) {
    await ctx.store.recordLoginFailure([limits.user, limits.address], now.toISOString(), limits.since);
    throw new AuthenticationFailed('the current password is wrong');
  }
  const next = checkAdminPassword(newPassword, user.username);
  await ctx.store.updateAdminUser(user.id, { passwordHash: await hashPassword(next) });
  await audit(ctx, principal, { action: 'user.password', tenantId: user.tenantId, target: `user ${user.username}`, after: { passwordChanged: true }, ip: opts.ip ?? null }, now);
}

/** Ends the session; false when there was none (already ended, or not a session secret). */
export async function logout(ctx: AdminContext, sessionId: string): Promise<boolean> {
  if (typeof sessionId !== 'string' || !SECRET.test(sessionId)) return false;
  return ctx.store.deleteSession(sha256(sessionId));
}

export interface AuthenticatedSession {
  principal: Principal;
  /** Compare the header the console sent with csrfMatches before any change. */
  csrfToken: string;
  /** The absolute end of the session. */
  expiresAt: string;
}

/**
 * The session the cookie's secret opens, or null: unknown, ended (idle too long or past its
 * absolute end: then it is deleted), or its user disabled. Notes the activity (at most once a
 * minute).
 */
export async function authenticateSession(ctx: AdminContext, sessionId: string, opts: AuthOptions = {}): Promise<AuthenticatedSession | null> {
  if (typeof sessionId !== 'string' || !SECRET.test(sessionId)) return null;
  const s = settingsOf(opts);
  const now = opts.now ?? new Date();
  const found = await ctx.store.findSession(sha256(sessionId));
  if (!found) return null;
  const { session, user } = found;
  const idleMs = now.getTime() - Date.parse(session.lastSeenAt);
  if (now.getTime() >= Date.parse(session.expiresAt) || idleMs > s.sessionIdleSeconds * 1000) {
    await ctx.store.deleteSession(session.id);
    return null;
  }
  if (user.disabled) return null;
  if (idleMs >= TOUCH_EVERY_MS) await ctx.store.touchSession(session.id, now.toISOString());
  return { principal: principalOf(user, 'session'), csrfToken: session.csrfToken, expiresAt: session.expiresAt };
}

/** The principal of a console session, or null (see authenticateSession, which also gives the CSRF token). */
export async function principalForSession(ctx: AdminContext, sessionId: string, opts: AuthOptions = {}): Promise<Principal | null> {
  return (await authenticateSession(ctx, sessionId, opts))?.principal ?? null;
}

/** Whether the CSRF token the client sent is the session's, in constant time. */
export function csrfMatches(expected: string, presented: string | undefined): boolean {
  if (typeof presented !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The principal of a bearer token (`pp_…`, without "Bearer "), or null: not a token, unknown,
 * revoked, expired, or its user disabled. Notes the use (at most once a minute).
 */
export async function principalForToken(ctx: AdminContext, bearer: string, opts: AuthOptions = {}): Promise<Principal | null> {
  if (typeof bearer !== 'string' || !TOKEN.test(bearer)) return null;
  const now = opts.now ?? new Date();
  const found = await ctx.store.findApiTokenByHash(sha256(bearer));
  if (!found) return null;
  const { token, user } = found;
  if (token.revokedAt !== null || (token.expiresAt !== null && now.getTime() >= Date.parse(token.expiresAt)) || user.disabled) return null;
  if (token.lastUsedAt === null || now.getTime() - Date.parse(token.lastUsedAt) >= TOUCH_EVERY_MS) await ctx.store.touchApiToken(token.id, now.toISOString());
  return principalOf(user, 'token');
}

export interface NewToken {
  /** The bearer token: shown once, never stored. */
  token: string;
  id: number;
  /** Its first characters, which lists show. */
  prefix: string;
  expiresAt: string | null;
}

/** Characters of a token that lists show: `pp_` and 8 of its random ones (48 of 256 bits). */
const PREFIX_CHARS = 11;
const MAX_TOKEN_DAYS = 3650;

function tokenName(name: string): string {
  const n = typeof name === 'string' ? name.trim() : '';
  if (!n || n.length > 100 || /[\u0000-\u001f\u007f]/.test(n)) throw new AdminError(`invalid token name ${JSON.stringify(name)}: use 1-100 printable characters saying what it is for, e.g. "billing sync"`);
  return n;
}

function tokenExpiry(days: number | undefined, now: Date): string | null {
  if (days === undefined) return null;
  if (!Number.isSafeInteger(days) || days < 1 || days > MAX_TOKEN_DAYS) throw new AdminError(`invalid token lifetime ${String(days)}: expected 1 to ${MAX_TOKEN_DAYS} days (or none: never expires)`);
  return new Date(now.getTime() + days * 86400_000).toISOString();
}

/** Tokens are minted from a console session or the command line only, so a leaked token cannot outlive its revocation through another. */
function checkMinter(by: AuditActor): void {
  if (typeof by === 'object' && by.via === 'token') throw new PermissionDenied('an API token cannot create tokens: log in to the console or use the command line');
}

async function mint(ctx: AdminContext, by: AuditActor, user: AdminUser, name: string, expiresInDays: number | undefined, opts: ChangeOptions): Promise<NewToken> {
  checkMinter(by);
  const now = opts.now ?? new Date();
  const n = tokenName(name);
  const expiresAt = tokenExpiry(expiresInDays, now);
  const token = `pp_${randomSecret()}`;
  const prefix = token.slice(0, PREFIX_CHARS);
  const row = await ctx.store.createApiToken({ userId: user.id, name: n, tokenHash: sha256(token), prefix, expiresAt });
  await audit(ctx, by, { action: 'token.create', tenantId: user.tenantId, target: `token ${row.id} of user ${user.username}`, after: { name: n, prefix, expiresAt }, ip: opts.ip ?? null }, now);
  return { token, id: row.id, prefix, expiresAt };
}

/** A token for the principal's own user, expiring after `expiresInDays` (default: never). PermissionDenied when the principal came with a token. */
export async function createToken(ctx: AdminContext, principal: Principal, name: string, expiresInDays?: number, opts: ChangeOptions = {}): Promise<NewToken> {
  const user = await ctx.store.getAdminUser(principal.userId);
  if (!user) throw new AdminError(`user ${principal.username} no longer exists`);
  return mint(ctx, principal, user, name, expiresInDays, opts);
}

/** A token for any user: the command line, or a principal that may manage users (from a session). */
export async function createTokenFor(ctx: AdminContext, by: Principal | 'cli', username: string, name: string, expiresInDays?: number, opts: ChangeOptions = {}): Promise<NewToken> {
  if (by !== 'cli') requirePermission(by, 'manage-users', null);
  return mint(ctx, by, await requireUser(ctx, username), name, expiresInDays, opts);
}

/** The user's tokens (never the tokens themselves): the command line, the user itself, or a principal that may manage users. */
export async function listTokens(ctx: AdminContext, viewer: Principal | 'cli', username: string): Promise<ApiToken[]> {
  const user = await requireUser(ctx, username);
  if (viewer !== 'cli' && viewer.userId !== user.id) requirePermission(viewer, 'manage-users', null);
  return ctx.store.listApiTokens(user.id);
}

/**
 * Revokes a token at once (revoking it again changes nothing): the command line, its owner, or a
 * principal that may manage users. NotFoundError for an unknown id, or one the principal may not
 * see (so ids cannot be probed).
 */
export async function revokeToken(ctx: AdminContext, by: Principal | 'cli', id: number, opts: ChangeOptions = {}): Promise<ApiToken> {
  const now = opts.now ?? new Date();
  const current = Number.isSafeInteger(id) ? await ctx.store.getApiToken(id) : undefined;
  const visible = current && (by === 'cli' || by.userId === current.userId || can(by, 'manage-users', null));
  if (!current || !visible) throw new NotFoundError(`no API token ${String(id)} (see: polyprov token list <username>)`);
  const revoked = await ctx.store.revokeApiToken(id, now.toISOString());
  if (!revoked) throw new NotFoundError(`no API token ${id} (see: polyprov token list <username>)`);
  if (current.revokedAt === null) {
    const owner = await ctx.store.getAdminUser(current.userId);
    await audit(
      ctx,
      by,
      { action: 'token.revoke', tenantId: owner?.tenantId ?? null, target: `token ${id} of user ${owner?.username ?? current.userId}`, before: { name: current.name, prefix: current.prefix, revokedAt: null }, after: { revokedAt: revoked.revokedAt }, ip: opts.ip ?? null },
      now,
    );
  }
  return revoked;
}
