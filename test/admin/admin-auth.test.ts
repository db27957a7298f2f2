import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, statSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import type { AdminContext } from '../../src/admin/admin-context.js';
import { AdminError } from '../../src/admin/admin-error.js';
import {
  authenticateSession,
  AuthenticationFailed,
  changeOwnPassword,
  createToken,
  createTokenFor,
  csrfMatches,
  DEFAULT_AUTH_SETTINGS,
  listTokens,
  login,
  logout,
  principalForSession,
  principalForToken,
  rateLimitAddress,
  revokeToken,
  secondsUntilUnblocked,
  TooManyAttempts,
} from '../../src/admin/admin-auth.js';
import { addUser, ensureFirstSuperAdmin, INITIAL_ADMIN_PASSWORD_FILE, listUsers, removeUser, updateUser } from '../../src/admin/admin-users.js';
import { audit, listAudit, MASKED, maskSecrets, MAX_AUDIT_VALUE_CHARS } from '../../src/admin/audit-log.js';
import { addTenant } from '../../src/admin/tenants.js';
import { openAdminContext } from '../../src/app.js';
import { PermissionDenied, type Principal } from '../../src/domain/admin-roles.js';
import { SQLITE_FILE_NAME } from '../../src/store/open-store.js';
import { ConflictError, NotFoundError } from '../../src/store/errors.js';
import { tempDir } from '../support/server-process.js';

// The admin authentication services on a real SQLite store: logins and their rate limit, sessions
// and tokens with their expiry, users and their rules, the audit log. Time is passed in (`now`),
// never waited for.

const PASSWORD = 'correct horse battery';
const T0 = new Date('2025-03-01T10:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

const open: { ctx: AdminContext; dir: string }[] = [];
afterEach(async () => {
  while (open.length) {
    const { ctx, dir } = open.pop()!;
    await ctx.store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

async function fresh(): Promise<{ ctx: AdminContext; dataDir: string }> {
  const dataDir = tempDir('polyprov-auth-test-');
  const ctx = await openAdminContext({ dataDir });
  open.push({ ctx, dir: dataDir });
  return { ctx, dataDir };
}

/** A context with super-admin "root" and tenant "acme"; returns root's session principal. */
async function withRoot(): Promise<{ ctx: AdminContext; dataDir: string; root: Principal; acme: number }> {
  const f = await fresh();
  await addUser(f.ctx, 'cli', { username: 'root', role: 'super-admin', password: PASSWORD });
  const acme = (await addTenant(f.ctx, 'acme', {})).tenant.id;
  const root = (await login(f.ctx, 'root', PASSWORD, '192.0.2.1', { now: T0 })).principal;
  return { ...f, root, acme };
}

async function rejects<T extends Error>(p: Promise<unknown>, cls: new (...a: any[]) => T, message?: RegExp): Promise<T> {
  let caught: unknown;
  await assert.rejects(p, (err: unknown) => {
    caught = err;
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${String(err)}`);
    if (message) assert.match((err as Error).message, message);
    return true;
  });
  return caught as T;
}

describe('login and sessions', () => {
  test('a right password opens a session the cookie secret finds again; wrong ones fail alike; logout ends it', async () => {
    const { ctx } = await fresh();
    const { user } = await addUser(ctx, 'cli', { username: 'Alice', role: 'super-admin', password: PASSWORD });
    const r = await login(ctx, 'alice', PASSWORD, '192.0.2.1', { now: T0 });
    assert.deepEqual(r.principal, { userId: user.id, username: 'Alice', role: 'super-admin', tenantId: null, via: 'session' });
    assert.match(r.sessionId, /^[A-Za-z0-9_-]{43}$/);
    assert.match(r.csrfToken, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(r.sessionId, r.csrfToken);
    assert.equal(r.expiresAt, at(7 * DAY).toISOString());

    // The store holds the secret's hash, never the secret.
    const stored = await ctx.store.findSession(createHash('sha256').update(r.sessionId).digest('hex'));
    assert.equal(stored?.user.id, user.id);
    assert.equal(await ctx.store.findSession(r.sessionId), undefined);

    const s = await authenticateSession(ctx, r.sessionId, { now: at(MIN) });
    assert.deepEqual(s, { principal: r.principal, csrfToken: r.csrfToken, expiresAt: r.expiresAt });
    assert.deepEqual(await principalForSession(ctx, r.sessionId, { now: at(MIN) }), r.principal);
    assert.equal(csrfMatches(r.csrfToken, r.csrfToken), true);
    assert.equal(csrfMatches(r.csrfToken, r.csrfToken.slice(0, -1) + (r.csrfToken.endsWith('A') ? 'B' : 'A')), false);
    assert.equal(csrfMatches(r.csrfToken, undefined), false);
    assert.equal(csrfMatches(r.csrfToken, ''), false);

    await rejects(login(ctx, 'alice', 'wrong password!!', '192.0.2.1', { now: T0 }), AuthenticationFailed, /^wrong user name or password$/);
    await rejects(login(ctx, 'nobody', PASSWORD, '192.0.2.1', { now: T0 }), AuthenticationFailed, /^wrong user name or password$/);
    await rejects(login(ctx, 'alice', 'x'.repeat(5000), '192.0.2.1', { now: T0 }), AuthenticationFailed);
    await rejects(login(ctx, 'x'.repeat(500), PASSWORD, '192.0.2.1', { now: T0 }), AuthenticationFailed);

    for (const bad of ['', 'not-a-session', r.sessionId.slice(1), `${r.sessionId}x`]) assert.equal(await principalForSession(ctx, bad), null, bad);
    assert.equal(await logout(ctx, r.sessionId), true);
    assert.equal(await principalForSession(ctx, r.sessionId, { now: at(MIN) }), null);
    assert.equal(await logout(ctx, r.sessionId), false);
  });

  test('five failures for a name from one address refuse the sixth attempt with the time left, even with the right password', async () => {
    const { ctx } = await fresh();
    await addUser(ctx, 'cli', { username: 'alice', role: 'super-admin', password: PASSWORD });
    for (let i = 0; i < 5; i++) await rejects(login(ctx, 'alice', `wrong password ${i}`, '192.0.2.1', { now: at(i * MIN) }), AuthenticationFailed);
    // The first failure (at T0) leaves the 15-minute window at T0 + 15 min.
    const refused = await rejects(login(ctx, 'ALICE', PASSWORD, '192.0.2.1', { now: at(10 * MIN) }), TooManyAttempts, /^too many failed logins: retry after 300 s$/);
    assert.equal(refused.retryAfterSeconds, 300);
    assert.ok(refused instanceof AdminError);
    // A refused attempt is not counted: the announced time holds.
    await rejects(login(ctx, 'alice', 'again wrong', '192.0.2.1', { now: at(14 * MIN + 59_500) }), TooManyAttempts, /retry after 1 s/);
    // Another address, or another name from this address, is not limited by it.
    await login(ctx, 'alice', PASSWORD, '198.51.100.7', { now: at(10 * MIN) });
    await rejects(login(ctx, 'bob', PASSWORD, '192.0.2.1', { now: at(10 * MIN) }), AuthenticationFailed);
    // Once the oldest failure left the window, one more attempt is allowed.
    const ok = await login(ctx, 'alice', PASSWORD, '192.0.2.1', { now: at(15 * MIN) });
    assert.equal(ok.principal.username, 'alice');
  });

  test('a success forgets the failures of its name and address, not those of the address', async () => {
    const { ctx } = await fresh();
    await addUser(ctx, 'cli', { username: 'alice', role: 'super-admin', password: PASSWORD });
    const settings = { maxFailuresPerUser: 3, maxFailuresPerAddress: 5 };
    for (let i = 0; i < 2; i++) await rejects(login(ctx, 'alice', 'wrong password', '192.0.2.1', { now: at(i * 1000), settings }), AuthenticationFailed);
    await login(ctx, 'alice', PASSWORD, '192.0.2.1', { now: at(3000), settings });
    for (let i = 0; i < 2; i++) await rejects(login(ctx, 'alice', 'wrong password', '192.0.2.1', { now: at(4000 + i * 1000), settings }), AuthenticationFailed);
    // 4 failures of alice from this address, but only 2 since the success: not limited.
    await login(ctx, 'alice', PASSWORD, '192.0.2.1', { now: at(7000), settings });
    // The address's count kept all 4: a fifth failure (any name) reaches its limit.
    await rejects(login(ctx, 'mallory', 'guess', '192.0.2.1', { now: at(8000), settings }), AuthenticationFailed);
    // Until the oldest of those 5 (at T0) leaves the window.
    await rejects(login(ctx, 'alice', PASSWORD, '192.0.2.1', { now: at(9000), settings }), TooManyAttempts, new RegExp(`retry after ${DEFAULT_AUTH_SETTINGS.failureWindowSeconds - 9} s`));
  });

  test('the address limit counts every name; IPv6 counts per /64, mapped IPv4 as IPv4', async () => {
    const { ctx } = await fresh();
    await addUser(ctx, 'cli', { username: 'alice', role: 'super-admin', password: PASSWORD });
    const settings = { maxFailuresPerUser: 100, maxFailuresPerAddress: 3 };
    await rejects(login(ctx, 'u1', 'wrong', '2001:db8:0:7::1', { now: T0, settings }), AuthenticationFailed);
    await rejects(login(ctx, 'u2', 'wrong', '2001:db8:0:7::2', { now: T0, settings }), AuthenticationFailed);
    await rejects(login(ctx, 'u3', 'wrong', '2001:db8:0:7:ffff::9', { now: T0, settings }), AuthenticationFailed);
    await rejects(login(ctx, 'alice', PASSWORD, '2001:db8:0:7::abcd', { now: T0, settings }), TooManyAttempts);
    await login(ctx, 'alice', PASSWORD, '2001:db8:0:8::1', { now: T0, settings });

    for (let i = 0; i < 3; i++) await rejects(login(ctx, `v${i}`, 'wrong', '::ffff:203.0.113.5', { now: T0, settings }), AuthenticationFailed);
    await rejects(login(ctx, 'alice', PASSWORD, '203.0.113.5', { now: T0, settings }), TooManyAttempts);

    assert.equal(rateLimitAddress('2001:DB8:0:7:1:2:3:4'), '2001:db8:0:7::/64');
    assert.equal(rateLimitAddress('::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(rateLimitAddress('10.1.2.3'), '10.1.2.3');
    assert.equal(rateLimitAddress(''), 'unknown');
  });

  test('secondsUntilUnblocked: free below the limit, else until the limit-th newest failure leaves the window', () => {
    const now = at(10 * MIN);
    const times = [at(9 * MIN), at(5 * MIN), at(2 * MIN)].map((d) => d.toISOString());
    assert.equal(secondsUntilUnblocked(times.slice(0, 2), 3, 900, now), 0);
    assert.equal(secondsUntilUnblocked(times, 3, 900, now), 7 * 60);
    assert.equal(secondsUntilUnblocked(times, 2, 900, now), 10 * 60);
    assert.equal(secondsUntilUnblocked(times, 3, 900, at(17 * MIN - 1)), 1, 'at least 1 s while blocked');
    assert.equal(secondsUntilUnblocked(times, 3, 900, at(17 * MIN)), 0, 'a failure counts while now < its time + the window');
  });

  test('sessions end after 12 idle hours or 7 days, whichever first; activity is written at most once a minute', async () => {
    const { ctx } = await fresh();
    await addUser(ctx, 'cli', { username: 'alice', role: 'read-only', password: PASSWORD });
    const idle = await login(ctx, 'alice', PASSWORD, '192.0.2.1', { now: T0 });
    assert.ok(await principalForSession(ctx, idle.sessionId, { now: at(12 * HOUR) }));
    const hash = createHash('sha256').update(idle.sessionId).digest('hex');
    assert.equal((await ctx.store.findSession(hash))?.session.lastSeenAt, at(12 * HOUR).toISOString());
    assert.ok(await principalForSession(ctx, idle.sessionId, { now: at(12 * HOUR + 30_000) }));
    assert.equal((await ctx.store.findSession(hash))?.session.lastSeenAt, at(12 * HOUR).toISOString(), 'not written again within a minute');
    assert.equal(await principalForSession(ctx, idle.sessionId, { now: at(24 * HOUR + 1000) }), null);
    assert.equal(await ctx.store.findSession(hash), undefined, 'an ended session is deleted');

    const busy = await login(ctx, 'alice', PASSWORD, '192.0.2.1', { now: T0 });
    for (let t = 11 * HOUR; t < 7 * DAY; t += 11 * HOUR) assert.ok(await principalForSession(ctx, busy.sessionId, { now: at(t) }), `active at ${t / HOUR} h`);
    assert.equal(await principalForSession(ctx, busy.sessionId, { now: at(7 * DAY) }), null, 'the absolute end holds whatever the activity');

    const short = await login(ctx, 'alice', PASSWORD, '192.0.2.1', { now: T0, settings: { sessionMaxSeconds: 60, sessionIdleSeconds: 30 } });
    assert.equal(short.expiresAt, at(MIN).toISOString());
    assert.equal(await principalForSession(ctx, short.sessionId, { now: at(31_000), settings: { sessionIdleSeconds: 30 } }), null);
  });

  test('a disabled user cannot log in and its sessions and tokens open nothing until enabled again', async () => {
    const { ctx } = await withRoot();
    await addUser(ctx, 'cli', { username: 'bob', role: 'read-only', password: PASSWORD });
    const s = await login(ctx, 'bob', PASSWORD, '192.0.2.1', { now: T0 });
    const { token } = await createToken(ctx, s.principal, 'script', undefined, { now: T0 });
    assert.ok(await principalForToken(ctx, token, { now: T0 }));
    await updateUser(ctx, 'cli', 'bob', { disabled: true });
    await rejects(login(ctx, 'bob', PASSWORD, '192.0.2.9', { now: T0 }), AuthenticationFailed, /^wrong user name or password$/);
    assert.equal(await principalForSession(ctx, s.sessionId, { now: T0 }), null);
    assert.equal(await principalForToken(ctx, token, { now: T0 }), null);
    await updateUser(ctx, 'cli', 'bob', { disabled: false });
    assert.ok(await principalForToken(ctx, token, { now: T0 }), 'the token was kept');
    assert.equal(await principalForSession(ctx, s.sessionId, { now: T0 }), null, 'the sessions were not');
    await login(ctx, 'bob', PASSWORD, '192.0.2.9', { now: T0 });
  });

  test('changing one’s own password needs the current one, is rate limited, and ends every session', async () => {
    const { ctx } = await fresh();
    await addUser(ctx, 'cli', { username: 'alice', role: 'read-only', password: PASSWORD });
    const s = await login(ctx, 'alice', PASSWORD, '192.0.2.1', { now: T0 });
    const settings = { maxFailuresPerUser: 2 };
    await rejects(changeOwnPassword(ctx, s.principal, 'not it at all', 'a new long password', { now: T0, ip: '192.0.2.1', settings }), AuthenticationFailed, /current password is wrong/);
    await rejects(changeOwnPassword(ctx, s.principal, PASSWORD, 'short', { now: T0, ip: '192.0.2.1', settings }), AdminError, /at least 12 characters/);
    await rejects(changeOwnPassword(ctx, s.principal, 'not it either', 'a new long password', { now: T0, ip: '192.0.2.1', settings }), AuthenticationFailed);
    await rejects(changeOwnPassword(ctx, s.principal, PASSWORD, 'a new long password', { now: T0, ip: '192.0.2.1', settings }), TooManyAttempts);
    await changeOwnPassword(ctx, s.principal, PASSWORD, 'a new long password', { now: T0, ip: '192.0.2.2' });
    assert.equal(await principalForSession(ctx, s.sessionId, { now: T0 }), null);
    await rejects(login(ctx, 'alice', PASSWORD, '192.0.2.3', { now: T0 }), AuthenticationFailed);
    await login(ctx, 'alice', 'a new long password', '192.0.2.3', { now: T0 });
    const [entry] = await listAudit(ctx, 'cli', { limit: 1 });
    assert.deepEqual([entry?.action, entry?.username, entry?.after, entry?.ip], ['user.password', 'alice', { passwordChanged: true }, '192.0.2.2']);
  });
});

describe('API tokens', () => {
  test('create → the bearer finds its principal → revoke → nothing; only the hash is stored', async () => {
    const { ctx, dataDir, acme } = await withRoot();
    await addUser(ctx, 'cli', { username: 'bob', role: 'tenant-admin', tenant: 'acme', password: PASSWORD });
    const bob = (await login(ctx, 'bob', PASSWORD, '192.0.2.1', { now: T0 })).principal;
    const made = await createToken(ctx, bob, 'billing sync', undefined, { now: T0, ip: '192.0.2.1' });
    assert.match(made.token, /^pp_[A-Za-z0-9_-]{43}$/);
    assert.equal(made.prefix, made.token.slice(0, 11));
    assert.equal(made.expiresAt, null);

    const p = await principalForToken(ctx, made.token, { now: at(MIN) });
    assert.deepEqual(p, { ...bob, via: 'token' });
    assert.deepEqual(p, { userId: bob.userId, username: 'bob', role: 'tenant-admin', tenantId: acme, via: 'token' });
    const [listed] = await listTokens(ctx, bob, 'bob');
    assert.deepEqual([listed?.id, listed?.name, listed?.prefix, listed?.lastUsedAt], [made.id, 'billing sync', made.prefix, at(MIN).toISOString()]);
    await principalForToken(ctx, made.token, { now: at(MIN + 30_000) });
    assert.equal((await ctx.store.getApiToken(made.id))?.lastUsedAt, at(MIN).toISOString(), 'use is written at most once a minute');

    // WAL mode: the token would be in the -wal file if anywhere.
    const files = [SQLITE_FILE_NAME, `${SQLITE_FILE_NAME}-wal`].map((n) => join(dataDir, n)).filter(existsSync);
    for (const file of files) assert.equal(readFileSync(file).includes(made.token.slice(3)), false, `${file} holds no token`);
    assert.ok(await ctx.store.findApiTokenByHash(createHash('sha256').update(made.token).digest('hex')));

    for (const bad of ['', made.token.slice(3), `Bearer ${made.token}`, made.token.slice(0, -1), `pp_${'A'.repeat(43)}`]) assert.equal(await principalForToken(ctx, bad), null, bad);

    const revoked = await revokeToken(ctx, bob, made.id, { now: at(2 * MIN), ip: '192.0.2.1' });
    assert.equal(revoked.revokedAt, at(2 * MIN).toISOString());
    assert.equal(await principalForToken(ctx, made.token, { now: at(3 * MIN) }), null);
    await revokeToken(ctx, bob, made.id, { now: at(4 * MIN) });
    assert.equal((await ctx.store.getApiToken(made.id))?.revokedAt, at(2 * MIN).toISOString());
  });

  test('a token expires after its days; bad names and lifetimes are refused', async () => {
    const { ctx, root } = await withRoot();
    const made = await createToken(ctx, root, 'ci', 1, { now: T0 });
    assert.equal(made.expiresAt, at(DAY).toISOString());
    assert.ok(await principalForToken(ctx, made.token, { now: at(DAY - 1000) }));
    assert.equal(await principalForToken(ctx, made.token, { now: at(DAY) }), null);
    for (const days of [0, -1, 1.5, 3651]) await rejects(createToken(ctx, root, 'ci', days), AdminError, /expected 1 to 3650 days/);
    for (const name of ['', '   ', 'x'.repeat(101), 'a\nb']) await rejects(createToken(ctx, root, name), AdminError, /invalid token name/);
  });

  test('who may create, list and revoke tokens', async () => {
    const { ctx, root } = await withRoot();
    await addUser(ctx, 'cli', { username: 'bob', role: 'tenant-admin', tenant: 'acme', password: PASSWORD });
    await addUser(ctx, 'cli', { username: 'eve', role: 'read-only', password: PASSWORD });
    const bob = (await login(ctx, 'bob', PASSWORD, '192.0.2.1', { now: T0 })).principal;
    const eve = (await login(ctx, 'eve', PASSWORD, '192.0.2.1', { now: T0 })).principal;
    const bobs = await createToken(ctx, bob, 'bob script', undefined, { now: T0 });

    await rejects(createToken(ctx, { ...bob, via: 'token' }, 'from a token'), PermissionDenied, /an API token cannot create tokens/);
    await rejects(createTokenFor(ctx, bob, 'eve', 'for eve'), PermissionDenied, /may not manage administrators/);
    await rejects(createTokenFor(ctx, { ...root, via: 'token' }, 'eve', 'for eve'), PermissionDenied);
    const forEve = await createTokenFor(ctx, root, 'eve', 'for eve', undefined, { now: T0 });
    assert.equal((await principalForToken(ctx, forEve.token, { now: T0 }))?.username, 'eve');
    await createTokenFor(ctx, 'cli', 'EVE', 'from the command line');
    await rejects(createTokenFor(ctx, 'cli', 'nobody', 'x'), AdminError, /no user "nobody"/);

    await rejects(listTokens(ctx, bob, 'eve'), PermissionDenied);
    assert.deepEqual((await listTokens(ctx, eve, 'eve')).map((t) => t.name), ['for eve', 'from the command line']);
    assert.equal((await listTokens(ctx, root, 'bob')).length, 1);

    // Another user's token looks like no token at all; its owner or a super-admin may revoke it.
    await rejects(revokeToken(ctx, eve, bobs.id), NotFoundError, /no API token/);
    await rejects(revokeToken(ctx, 'cli', 9999), NotFoundError, /no API token 9999/);
    assert.ok(await principalForToken(ctx, bobs.token, { now: T0 }));
    await revokeToken(ctx, root, bobs.id, { now: T0 });
    assert.equal(await principalForToken(ctx, bobs.token, { now: T0 }), null);
  });
});

describe('users', () => {
  test('add: names and passwords are checked, a missing password is generated and works, roles need their tenant', async () => {
    const { ctx } = await withRoot();
    for (const [password, message] of [
      ['short pw 11', /at least 12 characters/],
      ['aaaaaaaaaaaaaaab', /at least 5 different/],
      ['my name is carol!', /contains the user name/],
      ['tab\there and more', /control characters/],
      ['x'.repeat(257), /at most 256/],
    ] as const) {
      await rejects(addUser(ctx, 'cli', { username: 'carol', role: 'read-only', password }), AdminError, message);
    }
    for (const name of ['', '-carol', 'carol smith', 'x'.repeat(65), '(cli)']) await rejects(addUser(ctx, 'cli', { username: name, role: 'read-only' }), AdminError, /invalid user name/);
    await rejects(addUser(ctx, 'cli', { username: 'carol', role: 'admin' }), AdminError, /unknown role "admin": expected super-admin, tenant-admin, read-only/);
    await rejects(addUser(ctx, 'cli', { username: 'carol', role: 'tenant-admin' }), AdminError, /user "carol": a tenant-admin works in one tenant/);
    await rejects(addUser(ctx, 'cli', { username: 'carol', role: 'super-admin', tenant: 'acme' }), AdminError, /covers every tenant/);
    await rejects(addUser(ctx, 'cli', { username: 'carol', role: 'tenant-admin', tenant: 'nope' }), AdminError, /no tenant "nope"/);
    await rejects(addUser(ctx, 'cli', { username: 'ROOT', role: 'read-only' }), ConflictError, /user "root" already exists/);
    assert.deepEqual((await listUsers(ctx, 'cli')).map((u) => u.username), ['root'], 'refusals added nobody');

    const a = await addUser(ctx, 'cli', { username: 'carol', role: 'tenant-admin', tenant: 'acme' });
    const b = await addUser(ctx, 'cli', { username: 'dave', role: 'read-only' });
    assert.equal(a.generated, true);
    assert.match(a.password, /^[A-Za-z0-9_-]{16}$/);
    assert.notEqual(a.password, b.password);
    assert.deepEqual([a.user.role, a.user.tenant, b.user.tenant], ['tenant-admin', 'acme', null]);
    assert.equal((await login(ctx, 'carol', a.password, '192.0.2.1', { now: T0 })).principal.tenantId, a.user.tenantId);
    assert.equal(Object.hasOwn(a.user, 'passwordHash'), false, 'services never show the hash');
  });

  test('set and remove: role and tenant change together, a password can be generated, the last super-admin stays', async () => {
    const { ctx, acme } = await withRoot();
    await addUser(ctx, 'cli', { username: 'carol', role: 'tenant-admin', tenant: 'acme', password: PASSWORD });
    const promoted = await updateUser(ctx, 'cli', 'CAROL', { role: 'super-admin' });
    assert.deepEqual([promoted.user.role, promoted.user.tenantId, promoted.password], ['super-admin', null, undefined]);
    const reader = await updateUser(ctx, 'cli', 'carol', { role: 'read-only', tenant: 'acme', password: true });
    assert.deepEqual([reader.user.role, reader.user.tenantId], ['read-only', acme]);
    assert.match(reader.password!, /^[A-Za-z0-9_-]{16}$/);
    await login(ctx, 'carol', reader.password!, '192.0.2.1', { now: T0 });
    assert.equal((await updateUser(ctx, 'cli', 'carol', { tenant: null })).user.tenantId, null, 'a reader of every tenant');
    await rejects(updateUser(ctx, 'cli', 'carol', { role: 'tenant-admin' }), AdminError, /works in one tenant/);
    await rejects(updateUser(ctx, 'cli', 'carol', {}), AdminError, /nothing to change/);
    await rejects(updateUser(ctx, 'cli', 'nobody', { disabled: true }), AdminError, /no user "nobody"/);

    await rejects(removeUser(ctx, 'cli', 'root'), ConflictError, /last enabled super-admin/);
    await rejects(updateUser(ctx, 'cli', 'root', { disabled: true }), ConflictError, /last enabled super-admin/);
    await removeUser(ctx, 'cli', 'carol');
    assert.deepEqual((await listUsers(ctx, 'cli')).map((u) => u.username), ['root']);
  });

  test('only a principal that may manage users manages them', async () => {
    const { ctx, root } = await withRoot();
    await addUser(ctx, 'cli', { username: 'bob', role: 'tenant-admin', tenant: 'acme', password: PASSWORD });
    const bob = (await login(ctx, 'bob', PASSWORD, '192.0.2.1', { now: T0 })).principal;
    await rejects(addUser(ctx, bob, { username: 'eve', role: 'tenant-admin', tenant: 'acme' }), PermissionDenied, /bob \(tenant-admin of tenant \d+\) may not manage administrators/);
    await rejects(listUsers(ctx, bob), PermissionDenied);
    await rejects(updateUser(ctx, bob, 'bob', { role: 'super-admin' }), PermissionDenied);
    await rejects(removeUser(ctx, bob, 'root'), PermissionDenied);
    await addUser(ctx, root, { username: 'eve', role: 'read-only' }, { ip: '192.0.2.1' });
    assert.equal((await listUsers(ctx, root)).length, 3);
  });

  test('ensureFirstSuperAdmin: on an empty installation only, a generated password in a 0600 file, shown until changed', async () => {
    const { ctx, dataDir } = await fresh();
    const first = await ensureFirstSuperAdmin(ctx, dataDir);
    assert.ok(first);
    const file = join(dataDir, INITIAL_ADMIN_PASSWORD_FILE);
    assert.deepEqual([first.username, first.file, first.created], ['admin', file, true]);
    assert.equal(readFileSync(file, 'utf8'), `${first.password}\n`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(first.password, /^[A-Za-z0-9_-]{16}$/);
    const p = (await login(ctx, 'admin', first.password, '127.0.0.1', { now: T0 })).principal;
    assert.equal(p.role, 'super-admin');

    const again = await ensureFirstSuperAdmin(ctx, dataDir);
    assert.deepEqual(again, { ...first, created: false }, 'a later start points at the same file');
    assert.equal((await listUsers(ctx, 'cli')).length, 1, 'created once');
    const [entry] = await listAudit(ctx, 'cli');
    assert.deepEqual([entry?.action, entry?.username, entry?.target], ['user.add', '(system)', 'user admin']);

    await updateUser(ctx, 'cli', 'admin', { password: 'the operator chose this' });
    assert.equal(await ensureFirstSuperAdmin(ctx, dataDir), undefined);
    assert.equal(existsSync(file), false, 'the stale file is gone');

    // Never a fixed password: another installation gets another one.
    const other = await fresh();
    const second = await ensureFirstSuperAdmin(other.ctx, other.dataDir);
    assert.notEqual(second?.password, first.password);

    // An installation whose first user was added by hand gets no "admin".
    const third = await fresh();
    await addUser(third.ctx, 'cli', { username: 'ops', role: 'super-admin', password: PASSWORD });
    writeFileSync(join(third.dataDir, INITIAL_ADMIN_PASSWORD_FILE), 'left over\n');
    assert.equal(await ensureFirstSuperAdmin(third.ctx, third.dataDir), undefined);
    assert.deepEqual((await listUsers(third.ctx, 'cli')).map((u) => u.username), ['ops']);
  });
});

describe('audit log', () => {
  test('user and token changes are audited with actor, address, before and after; nothing secret is written', async () => {
    const { ctx, root, acme } = await withRoot();
    await addUser(ctx, root, { username: 'bob', role: 'tenant-admin', tenant: 'acme', password: PASSWORD }, { ip: '192.0.2.1' });
    await updateUser(ctx, 'cli', 'bob', { password: 'another long password' });
    const t = await createTokenFor(ctx, 'cli', 'bob', 'sync');
    await revokeToken(ctx, root, t.id, { ip: '192.0.2.1' });
    await removeUser(ctx, root, 'bob', { ip: '192.0.2.1' });
    const entries = (await listAudit(ctx, 'cli')).reverse().filter((e) => e.target.includes('bob'));
    assert.deepEqual(
      entries.map((e) => [e.action, e.username, e.userId, e.tenantId, e.ip, e.before, e.after]),
      [
        ['user.add', 'root', root.userId, acme, '192.0.2.1', null, { role: 'tenant-admin', tenant: 'acme', disabled: false }],
        ['user.set', '(cli)', null, acme, null, { role: 'tenant-admin', tenant: 'acme', disabled: false }, { role: 'tenant-admin', tenant: 'acme', disabled: false, passwordChanged: true }],
        ['token.create', '(cli)', null, acme, null, null, { name: 'sync', prefix: t.prefix, expiresAt: null }],
        ['token.revoke', 'root', root.userId, acme, '192.0.2.1', { name: 'sync', prefix: t.prefix, revokedAt: null }, { revokedAt: entries[3]!.after && (entries[3]!.after as { revokedAt: string }).revokedAt }],
        ['user.remove', 'root', root.userId, acme, '192.0.2.1', { role: 'tenant-admin', tenant: 'acme', disabled: false }, null],
      ],
    );
    const text = JSON.stringify(await listAudit(ctx, 'cli'));
    for (const secret of [PASSWORD, 'another long password', t.token, t.token.slice(3)]) assert.equal(text.includes(secret), false);
  });

  test('audit masks secret parameters in maps and rows, and summarizes huge values', async () => {
    const { ctx, root, acme } = await withRoot();
    await audit(ctx, root, {
      action: 'parameter.set',
      tenantId: acme,
      target: 'site hq',
      before: { 'reg.1.auth.password': 'old-sip-secret', 'reg.1.label': 'Desk', 'device.prov.serverPassword': '' },
      after: [
        { name: 'reg.1.auth.password', value: 'new-sip-secret' },
        { name: 'reg.1.label', value: 'Desk 2' },
        { nested: { 'wifi.psk.key': 'wpa-key', provPasswordHash: 'scrypt$x', token: 'pp_x' } },
      ],
      ip: '192.0.2.1',
    });
    const [e] = await listAudit(ctx, root, { limit: 1 });
    assert.deepEqual(e?.before, { 'reg.1.auth.password': MASKED, 'reg.1.label': 'Desk', 'device.prov.serverPassword': '' });
    assert.deepEqual(e?.after, [
      { name: 'reg.1.auth.password', value: MASKED },
      { name: 'reg.1.label', value: 'Desk 2' },
      { nested: { 'wifi.psk.key': MASKED, provPasswordHash: MASKED, token: MASKED } },
    ]);
    assert.deepEqual([e?.username, e?.userId, e?.tenantId, e?.ip], ['root', root.userId, acme, '192.0.2.1']);
    assert.deepEqual(maskSecrets(JSON.parse('{"__proto__":{"password":"p"}}')), JSON.parse(`{"__proto__":{"password":"${MASKED}"}}`));

    const huge = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`reg.${i}.label`, 'some label text']));
    await audit(ctx, 'cli', { action: 'parameter.set', tenantId: acme, target: 'tenant acme', after: huge });
    const [big] = await listAudit(ctx, 'cli', { limit: 1 });
    assert.deepEqual(big?.after, { omitted: 'too large for the audit log', chars: JSON.stringify(huge).length });
    assert.ok(JSON.stringify(huge).length > MAX_AUDIT_VALUE_CHARS);
    await assert.rejects(audit(ctx, 'cli', { action: 'Parameter Set', tenantId: acme, target: 'x' }), TypeError);
  });

  test('listAudit shows each principal what it may read, newest first, in pages', async () => {
    const { ctx, root, acme } = await withRoot();
    const beta = (await addTenant(ctx, 'beta', {})).tenant.id;
    await addUser(ctx, 'cli', { username: 'bob', role: 'tenant-admin', tenant: 'acme', password: PASSWORD });
    await addUser(ctx, 'cli', { username: 'reader', role: 'read-only', password: PASSWORD });
    const bob = (await login(ctx, 'bob', PASSWORD, '192.0.2.1', { now: T0 })).principal;
    const reader = (await login(ctx, 'reader', PASSWORD, '192.0.2.1', { now: T0 })).principal;
    for (let i = 0; i < 3; i++) await audit(ctx, root, { action: 'site.add', tenantId: acme, target: `site a${i}` });
    await audit(ctx, root, { action: 'site.add', tenantId: beta, target: 'site b0' });

    assert.deepEqual((await listAudit(ctx, bob)).map((e) => e.target), ['site a2', 'site a1', 'site a0', 'user bob']);
    await rejects(listAudit(ctx, bob, { tenantId: beta }), PermissionDenied);
    await rejects(listAudit(ctx, bob, { tenantId: null }), PermissionDenied);
    assert.deepEqual((await listAudit(ctx, reader, { tenantId: beta })).map((e) => e.target), ['site b0']);
    assert.equal((await listAudit(ctx, reader)).length, (await listAudit(ctx, root)).length, 'an all-tenant reader reads everything');
    assert.deepEqual((await listAudit(ctx, root, { tenantId: null })).map((e) => e.target), ['user reader', 'user root']);

    const page1 = await listAudit(ctx, bob, { limit: 2 });
    const page2 = await listAudit(ctx, bob, { limit: 2, before: page1[1]!.id });
    assert.deepEqual([...page1, ...page2].map((e) => e.target), ['site a2', 'site a1', 'site a0', 'user bob']);
    for (const limit of [0, 1001, 2.5]) await rejects(listAudit(ctx, root, { limit }), AdminError, /expected 1 to 1000 entries/);
    await rejects(listAudit(ctx, root, { before: 0 }), AdminError, /invalid cursor/);
  });
});
