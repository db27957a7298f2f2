import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTokenFor } from '../../src/admin/admin-auth.js';
import type { AdminContext } from '../../src/admin/admin-context.js';
import { addUser } from '../../src/admin/admin-users.js';
import { startAdminApi, type RunningAdminApi } from '../../src/admin/api/start-admin-api.js';
import { listAudit } from '../../src/admin/audit-log.js';
import { addDevice, addGroup, setModelPolicy } from '../../src/admin/structure.js';
import { addTenant } from '../../src/admin/tenants.js';
import { openAdminContext } from '../../src/app.js';
import { assertTableClaims, closeApiFixture, addTestAdmins, adminApiClient, logInTestAdmins, type TestAdmins, assertProblem, MORE_TABLE_ROUTES, TEST_ADMIN_PASSWORD, type Answer, type Who, errorRecordingLogger } from '../support/admin-api.js';
import { tempDir } from '../support/server-process.js';

// The admin API routes beyond the first slice (groups, model policies, users, tokens, /me, audit)
// on a real fastify listener (127.0.0.1, port 0) over a real SQLite store, driven with fetch, with
// the same table checks as api-routes.test.ts: 401, 403, tenant scoping, 400, 428/412, success and
// audit.

const ACME_MAC = '0004f2a1b2c3';

let dataDir: string;
let ctx: AdminContext;
let api: RunningAdminApi;
const { logger: errorLogger, lines: errorLines } = errorRecordingLogger();
const { call, logIn, etag } = adminApiClient(() => `http://127.0.0.1:${api.port}`);
const who: TestAdmins = { root: {}, acmeAdmin: {}, acmeReader: {}, globexAdmin: {} };
/** A token of acme-admin's that the table's revocation case revokes. */
let revocableTokenId = 0;

/**
 * `tenant`: a route of acme (or naming it), which a tenant admin uses; `users`: user management,
 * for a super-admin only; `self`: the caller's own account, for anyone.
 */
type Audience = 'tenant' | 'users' | 'self';

interface RouteCase {
  method: string;
  path: string;
  route: string;
  audience: Audience;
  write: boolean;
  body?: unknown;
  tagOf?: string;
  bad: { path?: string; body?: unknown; detail: RegExp };
}

const T = '/api/v1/tenants/acme';
let CASES: RouteCase[] = [];

function table(): RouteCase[] {
  return [
    { method: 'GET', path: `${T}/groups`, route: '/api/v1/tenants/{tenant}/groups', audience: 'tenant', write: false, bad: { path: `${T}/groups?limit=0`, detail: /querystring\/limit must be >= 1/ } },
    { method: 'POST', path: `${T}/groups`, route: '/api/v1/tenants/{tenant}/groups', audience: 'tenant', write: true, body: { slug: 'lab-phones', name: 'Lab' }, bad: { body: { slug: 'Bad Slug!' }, detail: /invalid group "Bad Slug!": use 1-63 lower-case/ } },
    { method: 'GET', path: `${T}/groups/sales`, route: '/api/v1/tenants/{tenant}/groups/{group}', audience: 'tenant', write: false, bad: { path: `${T}/groups/${'g'.repeat(65)}`, detail: /params\/group must NOT have more than 64/ } },
    { method: 'DELETE', path: `${T}/groups/temp`, route: '/api/v1/tenants/{tenant}/groups/{group}', audience: 'tenant', write: true, tagOf: `${T}/groups/temp`, bad: { path: `${T}/groups/${'g'.repeat(65)}`, detail: /params\/group must NOT have more than 64/ } },
    { method: 'GET', path: `${T}/models`, route: '/api/v1/tenants/{tenant}/models', audience: 'tenant', write: false, bad: { path: `${T}/models?limit=501`, detail: /querystring\/limit must be <= 500/ } },
    { method: 'GET', path: `${T}/models/VVX_500`, route: '/api/v1/tenants/{tenant}/models/{model}', audience: 'tenant', write: false, bad: { path: `${T}/models/bad%20model!`, detail: /invalid model "bad model!"/ } },
    {
      method: 'PUT',
      path: `${T}/models/VVX_500`,
      route: '/api/v1/tenants/{tenant}/models/{model}',
      audience: 'tenant',
      write: true,
      body: { appFilePath: 'firmware/vvx500.sip.ld' },
      tagOf: `${T}/models/VVX_500`,
      bad: { body: { appFilePath: 'a b,c' }, detail: /invalid APP_FILE_PATH "a b,c"/ },
    },
    { method: 'DELETE', path: `${T}/models/VVX_600`, route: '/api/v1/tenants/{tenant}/models/{model}', audience: 'tenant', write: true, tagOf: `${T}/models/VVX_600`, bad: { body: undefined, path: `${T}/models/${'M'.repeat(65)}`, detail: /params\/model must NOT have more than 64/ } },
    { method: 'GET', path: '/api/v1/users', route: '/api/v1/users', audience: 'users', write: false, bad: { path: '/api/v1/users?limit=0', detail: /querystring\/limit must be >= 1/ } },
    { method: 'POST', path: '/api/v1/users', route: '/api/v1/users', audience: 'users', write: true, body: { username: 'new-admin', role: 'tenant-admin', tenant: 'acme' }, bad: { body: { username: 'x2', role: 'king' }, detail: /body\/role must be one of "super-admin", "tenant-admin", "read-only"/ } },
    { method: 'GET', path: '/api/v1/users/acme-reader', route: '/api/v1/users/{username}', audience: 'users', write: false, bad: { path: `/api/v1/users/${'u'.repeat(65)}`, detail: /params\/username must NOT have more than 64/ } },
    {
      method: 'PATCH',
      path: '/api/v1/users/temp-user',
      route: '/api/v1/users/{username}',
      audience: 'users',
      write: true,
      body: { role: 'read-only' },
      tagOf: '/api/v1/users/temp-user',
      bad: { body: { password: 'short' }, detail: /password is too short: use at least 12/ },
    },
    { method: 'DELETE', path: '/api/v1/users/gone-user', route: '/api/v1/users/{username}', audience: 'users', write: true, tagOf: '/api/v1/users/gone-user', bad: { path: `/api/v1/users/${'u'.repeat(65)}`, detail: /params\/username must NOT have more than 64/ } },
    { method: 'GET', path: '/api/v1/me', route: '/api/v1/me', audience: 'self', write: false, bad: { path: '/api/v1/me?verbose=1', detail: /querystring\/verbose is not a known field/ } },
    { method: 'GET', path: '/api/v1/me/tokens', route: '/api/v1/me/tokens', audience: 'self', write: false, bad: { path: '/api/v1/me/tokens?all=1', detail: /querystring\/all is not a known field/ } },
    { method: 'POST', path: '/api/v1/me/tokens', route: '/api/v1/me/tokens', audience: 'self', write: true, body: { name: 'billing sync', expiresInDays: 30 }, bad: { body: { name: 'x', expiresInDays: 0 }, detail: /body\/expiresInDays must be >= 1/ } },
    { method: 'DELETE', path: `/api/v1/me/tokens/${revocableTokenId}`, route: '/api/v1/me/tokens/{id}', audience: 'self', write: true, bad: { path: '/api/v1/me/tokens/abc', detail: /params\/id must be integer/ } },
    { method: 'GET', path: '/api/v1/parameter-names/check?name=reg.1.adress', route: '/api/v1/parameter-names/check', audience: 'self', write: false, bad: { path: '/api/v1/parameter-names/check', detail: /querystring\/name is required/ } },
    { method: 'GET', path: '/api/v1/model-names?prefix=vvx_4', route: '/api/v1/model-names', audience: 'self', write: false, bad: { path: '/api/v1/model-names?prefix=VVX%3B', detail: /querystring\/prefix must match pattern/ } },
    { method: 'GET', path: '/api/v1/audit?tenant=acme', route: '/api/v1/audit', audience: 'tenant', write: false, bad: { path: '/api/v1/audit?tenant=acme&cursor=abc', detail: /querystring\/cursor must match pattern/ } },
  ];
}

before(async () => {
  dataDir = tempDir('polyprov-api-more-test-');
  ctx = await openAdminContext({ dataDir });
  const acme = (await addTenant(ctx, 'acme', {})).tenant;
  const globex = (await addTenant(ctx, 'globex', {})).tenant;
  await addGroup(ctx, acme, 'sales');
  await addGroup(ctx, acme, 'temp');
  await addGroup(ctx, globex, 'secret-group');
  await setModelPolicy(ctx, acme, 'VVX_500');
  await setModelPolicy(ctx, acme, 'VVX_600', 'old/vvx600.sip.ld');
  await setModelPolicy(ctx, globex, 'CCX_600');
  await addDevice(ctx, acme, ACME_MAC, { group: 'temp' });
  await addTestAdmins(ctx);
  await addUser(ctx, 'cli', { username: 'temp-user', role: 'tenant-admin', tenant: 'acme', password: TEST_ADMIN_PASSWORD });
  await addUser(ctx, 'cli', { username: 'gone-user', role: 'read-only', tenant: 'globex', password: TEST_ADMIN_PASSWORD });
  revocableTokenId = (await createTokenFor(ctx, 'cli', 'acme-admin', 'old script')).id;
  CASES = table();
  api = await startAdminApi(ctx, { host: '127.0.0.1', port: 0, logger: errorLogger });
  await logInTestAdmins(logIn, who);
});

after(() => closeApiFixture({ api, ctx, dataDir, errorLines }));

function opts(c: RouteCase, ifMatch?: string) {
  return { ...(c.body !== undefined ? { body: c.body } : {}), ...(ifMatch ? { ifMatch } : {}) };
}

/** Who succeeds with a case: the tenant's admin, or a super-admin for user management. */
function actorFor(c: RouteCase): Who {
  return c.audience === 'users' ? who.root : who.acmeAdmin;
}

describe('admin API routes: groups, models, users, tokens, audit', () => {
  test('the table is exactly the documented routes it claims (and the first slice covers the rest)', () => {
    assertTableClaims(CASES, MORE_TABLE_ROUTES, api.app);
  });

  test('every route answers 401 problem+json without credentials or with a bad token', async () => {
    for (const c of CASES) {
      assertProblem(await call(undefined, c.method, c.path, opts(c)), 401, /log in/);
      assertProblem(await call({ bearer: 'pp_' + 'A'.repeat(43) }, c.method, c.path, opts(c)), 401, /unknown, revoked or expired/);
      assertProblem(await call({ cookie: 'pp_session=' + 'B'.repeat(43), csrf: 'x' }, c.method, c.path, opts(c)), 401, /session has ended/);
    }
  });

  test('a read-only user gets 403 on every tenant write and all user management, and reads its tenant and itself', async () => {
    for (const c of CASES.filter((x) => !(x.audience === 'self' && x.write))) {
      const tag = c.tagOf ? await etag(who.root, c.tagOf) : undefined;
      const r = await call(who.acmeReader, c.method, c.path, opts(c, tag));
      if (c.audience === 'users') assertProblem(r, 403, /acme-reader \(read-only of tenant [0-9]+\) may not [\s\S]*ask a super-admin/);
      else if (c.write) assertProblem(r, 403, /acme-reader \(read-only\) may not change tenant "acme"/);
      else assert.equal(r.status, 200, `${c.method} ${c.path}: ${JSON.stringify(r.body)}`);
    }
  });

  test('a tenant admin may not manage users', async () => {
    for (const c of CASES.filter((x) => x.audience === 'users')) {
      const tag = c.tagOf ? await etag(who.root, c.tagOf) : undefined;
      assertProblem(await call(who.acmeAdmin, c.method, c.path, opts(c, tag)), 403, /acme-admin \(tenant-admin of tenant [0-9]+\) may not/);
    }
  });

  test("another tenant's admin gets 403 on every route of acme", async () => {
    for (const c of CASES.filter((x) => x.audience === 'tenant')) {
      assertProblem(await call(who.globexAdmin, c.method, c.path, opts(c, '*')), 403, /globex-admin \(tenant-admin\) may not (read|change) tenant "acme"/);
    }
  });

  test('every route answers 400 problem+json saying what to fix', async () => {
    for (const c of CASES) {
      const tag = c.tagOf ? await etag(who.root, c.tagOf) : undefined;
      const body = 'body' in c.bad ? c.bad.body : c.body;
      const r = await call(who.root, c.method, c.bad.path ?? c.path, { ...(body !== undefined ? { body } : {}), ...(tag ? { ifMatch: tag } : {}) });
      assertProblem(r, 400, c.bad.detail);
    }
  });

  test('edits answer 428 without If-Match and 412 with a stale ETag, and change nothing', async () => {
    for (const c of CASES.filter((x) => x.tagOf)) {
      const as = actorFor(c);
      const before = await call(who.root, 'GET', c.tagOf!);
      assertProblem(await call(as, c.method, c.path, opts(c)), 428, /If-Match/);
      assertProblem(await call(as, c.method, c.path, opts(c, '"stale"')), 412, /changed since you read it/);
      const now = await call(who.root, 'GET', c.tagOf!);
      assert.deepEqual(now.body, before.body, `${c.method} ${c.path} changed nothing`);
      assert.equal(now.headers.get('etag'), before.headers.get('etag'));
    }
  });

  test('the valid requests succeed, and each write is audited with before and after', async () => {
    const firstId = (await listAudit(ctx, 'cli', { limit: 1 }))[0]?.id ?? 0;
    for (const c of CASES) {
      const as = actorFor(c);
      const tag = c.tagOf ? await etag(as, c.tagOf) : undefined;
      const r = await call(as, c.method, c.path, opts(c, tag));
      assert.ok(r.status >= 200 && r.status < 300, `${c.method} ${c.path}: ${r.status} ${JSON.stringify(r.body)}`);
      if (c.tagOf && r.status === 200) assert.notEqual(r.headers.get('etag'), tag, `${c.method} ${c.path} answers the new ETag`);
    }
    const entries = (await listAudit(ctx, 'cli', { limit: 100 })).filter((e) => e.id > firstId).reverse();
    assert.deepEqual(
      entries.map((e) => `${e.username} ${e.action} ${e.target}`),
      [
        'acme-admin group.add group lab-phones',
        'acme-admin group.remove group temp',
        'acme-admin model.set model VVX_500',
        'acme-admin model.remove model VVX_600',
        'root user.add user new-admin',
        'root user.set user temp-user',
        'root user.remove user gone-user',
        `acme-admin token.create token ${revocableTokenId + 1} of user acme-admin`,
        `acme-admin token.revoke token ${revocableTokenId} of user acme-admin`,
      ],
    );
    const byAction = new Map(entries.map((e) => [e.action, e]));
    assert.deepEqual(byAction.get('group.remove')!.before, { slug: 'temp', name: 'temp' });
    assert.deepEqual(byAction.get('model.set')!.before, { model: 'VVX_500', appFilePath: null });
    assert.deepEqual(byAction.get('model.set')!.after, { model: 'VVX_500', appFilePath: 'firmware/vvx500.sip.ld' });
    assert.deepEqual(byAction.get('model.remove')!.before, { model: 'VVX_600', appFilePath: 'old/vvx600.sip.ld' });
    assert.deepEqual(byAction.get('user.set')!.before, { role: 'tenant-admin', tenant: 'acme', disabled: false });
    assert.deepEqual(byAction.get('user.set')!.after, { role: 'read-only', tenant: 'acme', disabled: false });
    assert.ok(entries.every((e) => e.ip === '127.0.0.1'));
    // The removed group's device falls back to no group.
    assert.equal((await call(who.acmeReader, 'GET', `${T}/devices/${ACME_MAC}`)).body.group, null);
  });

  test('the user-creation answer carries a generated password once, and it logs in', async () => {
    const r = await call(who.root, 'POST', '/api/v1/users', { body: { username: 'gen-user', role: 'read-only', tenant: 'globex' } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(r.body.user, { ...r.body.user, username: 'gen-user', role: 'read-only', tenant: 'globex', disabled: false });
    assert.equal(typeof r.body.password, 'string');
    await logIn('gen-user', r.body.password);
    assert.equal((await call(who.root, 'GET', '/api/v1/users/gen-user')).body.passwordHash, undefined);
    assertProblem(await call(who.root, 'POST', '/api/v1/users', { body: { username: 'GEN-USER', role: 'read-only' } }), 409);
    assertProblem(await call(who.root, 'GET', '/api/v1/users/nobody'), 404, /no user "nobody"/);
  });

  test('/me names the caller; a session also gets its CSRF token, a token does not', async () => {
    const me = await call(who.acmeReader, 'GET', '/api/v1/me');
    assert.equal(me.status, 200);
    assert.deepEqual({ ...me.body, expiresAt: 'x' }, { username: 'acme-reader', role: 'read-only', tenant: 'acme', via: 'session', csrfToken: who.acmeReader.csrf, expiresAt: 'x' });
    const bearer = { bearer: (await createTokenFor(ctx, 'cli', 'globex-admin', 'probe')).token };
    const viaToken = await call(bearer, 'GET', '/api/v1/me');
    assert.deepEqual(viaToken.body, { username: 'globex-admin', role: 'tenant-admin', tenant: 'globex', via: 'token' });
  });

  test('a token cannot create tokens; tokens are listed without their secret; one may revoke only its own', async () => {
    const created = await call(who.acmeReader, 'POST', '/api/v1/me/tokens', { body: { name: 'reader script' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.match(created.body.token, /^pp_/);
    const asToken = { bearer: created.body.token as string };
    assertProblem(await call(asToken, 'POST', '/api/v1/me/tokens', { body: { name: 'child' } }), 403, /an API token cannot create tokens/);
    const list = await call(asToken, 'GET', '/api/v1/me/tokens');
    assert.deepEqual(list.body.items.map((t: { id: number }) => t.id), [created.body.id]);
    assert.ok(!JSON.stringify(list.body).includes(created.body.token), 'a list never shows the token');
    // Even a super-admin cannot revoke another user's token through /me.
    assertProblem(await call(who.root, 'DELETE', `/api/v1/me/tokens/${created.body.id}`), 404, /you have no API token/);
    const revoked = await call(asToken, 'DELETE', `/api/v1/me/tokens/${created.body.id}`);
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    assert.equal(typeof revoked.body.revokedAt, 'string');
    assertProblem(await call(asToken, 'GET', '/api/v1/me'), 401, /revoked/);
  });

  test('audit: a tenant admin sees only its tenant; a super-admin sees all, or none-tenant entries; id-cursor pages', async () => {
    const mine = await call(who.acmeAdmin, 'GET', '/api/v1/audit?limit=1000');
    assert.equal(mine.status, 200);
    assert.ok(mine.body.items.length > 0);
    assert.ok(mine.body.items.every((e: { tenant: string | null }) => e.tenant === 'acme'), JSON.stringify(mine.body.items.map((e: { tenant: string }) => e.tenant)));
    const theirs = await call(who.globexAdmin, 'GET', '/api/v1/audit?limit=1000');
    assert.ok(theirs.body.items.every((e: { tenant: string | null }) => e.tenant === 'globex'));
    assert.ok(!JSON.stringify(theirs.body).includes('lab-phones'));
    assertProblem(await call(who.acmeAdmin, 'GET', '/api/v1/audit?tenant=-'), 403);
    const none = await call(who.root, 'GET', '/api/v1/audit?tenant=-&limit=1000');
    assert.ok(none.body.items.some((e: { action: string; target: string }) => e.action === 'user.add' && e.target === 'user root'));
    assert.ok(none.body.items.every((e: { tenant: string | null }) => e.tenant === null));
    const all = await call(who.root, 'GET', '/api/v1/audit?limit=1000');
    const seen: number[] = [];
    let url: string | null = '/api/v1/audit?limit=2';
    for (let i = 0; url && i < 100; i++) {
      const page: Answer = await call(who.root, 'GET', url);
      assert.equal(page.status, 200);
      assert.ok(page.body.items.length <= 2);
      seen.push(...page.body.items.map((e: { id: number }) => e.id));
      const link = page.headers.get('link');
      assert.equal(link !== null, page.body.next !== null, 'a Link header exactly when there is a next page');
      url = link ? /^<([^>]+)>; rel="next"$/.exec(link)![1]! : null;
    }
    assert.deepEqual(seen, all.body.items.map((e: { id: number }) => e.id));
    assert.ok(seen.length > 4);
  });

  test('model names: every known model for any user, narrowed by a prefix in any case, each with its part numbers', async () => {
    const all = await call(who.globexAdmin, 'GET', '/api/v1/model-names');
    assert.equal(all.status, 200);
    const names = all.body.items.map((m: { model: string }) => m.model);
    assert.deepEqual(names, [...names].sort(), 'sorted by name');
    assert.ok(names.includes('VVX_450') && names.includes('SSIP_6000'));
    const vvx4 = await call(who.acmeReader, 'GET', '/api/v1/model-names?prefix=vvx_4');
    assert.deepEqual(vvx4.body.items.map((m: { model: string }) => m.model), ['VVX_400', 'VVX_401', 'VVX_410', 'VVX_411', 'VVX_450']);
    assert.deepEqual(vvx4.body.items.find((m: { model: string }) => m.model === 'VVX_450').partNumbers, ['3111-48840-001']);
  });

  test('groups and models: conflicts, unknowns, and a PUT that creates needs no If-Match', async () => {
    assertProblem(await call(who.acmeAdmin, 'POST', `${T}/groups`, { body: { slug: 'sales' } }), 409);
    assertProblem(await call(who.acmeAdmin, 'GET', `${T}/groups/secret-group`), 404, /no group "secret-group" in tenant "acme"/);
    assertProblem(await call(who.acmeAdmin, 'GET', `${T}/models/CCX_600`), 404, /no policy for model "CCX_600"/);
    const created = await call(who.acmeAdmin, 'PUT', `${T}/models/trio8800`, { body: { appFilePath: null } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(created.body, { model: 'Trio_8800', appFilePath: null });
    assert.equal(created.headers.get('location'), `${T}/models/Trio_8800`);
    const models = await call(who.acmeReader, 'GET', `${T}/models?limit=1`);
    assert.deepEqual([models.body.items.map((m: { model: string }) => m.model), models.body.next], [['Trio_8800'], 'Trio_8800']);
    const moreModels = await call(who.acmeReader, 'GET', `${T}/models?cursor=Trio_8800`);
    assert.deepEqual([moreModels.body.items, moreModels.body.next], [[{ model: 'VVX_500', appFilePath: 'firmware/vvx500.sip.ld' }], null]);
    const groups = await call(who.acmeReader, 'GET', `${T}/groups?limit=1`);
    assert.deepEqual([groups.body.items[0].slug, groups.body.next], ['lab-phones', 'lab-phones']);
    assert.equal(groups.headers.get('link'), `<${T}/groups?limit=1&cursor=lab-phones>; rel="next"`);
    assert.equal(models.headers.get('link'), `<${T}/models?limit=1&cursor=Trio_8800>; rel="next"`);
    const rest = await call(who.acmeReader, 'GET', `${T}/groups?limit=1&cursor=lab-phones`);
    assert.deepEqual(rest.body.items.map((g: { slug: string }) => g.slug), ['sales']);
  });
});
