import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTokenFor } from '../../src/admin/admin-auth.js';
import type { AdminContext } from '../../src/admin/admin-context.js';
import { documentedRoutes } from '../../src/admin/api/api-app.js';
import { startAdminApi, type RunningAdminApi } from '../../src/admin/api/start-admin-api.js';
import { listAudit } from '../../src/admin/audit-log.js';
import { setParameters } from '../../src/admin/parameters.js';
import { addDevice, addGroup, addSite } from '../../src/admin/structure.js';
import { addTenant } from '../../src/admin/tenants.js';
import { openAdminContext } from '../../src/app.js';
import { closeApiFixture, addTestAdmins, adminApiClient, logInTestAdmins, type TestAdmins, assertProblem, MORE_TABLE_ROUTES, REACH_TABLE_ROUTES, TEST_ADMIN_PASSWORD, type Answer, type Who, errorRecordingLogger } from '../support/admin-api.js';
import { DASHBOARD_TABLE_ROUTES } from '../support/admin-api-dashboard-routes.js';
import { DATA_TABLE_ROUTES } from '../support/admin-api-data-routes.js';
import { FLEET_TABLE_ROUTES } from '../support/admin-api-fleet-routes.js';
import { tempDir } from '../support/server-process.js';

// Every resource route of the admin API on a real fastify listener (127.0.0.1, port 0) over a
// real SQLite store, driven with fetch: who may call it (401, 403, tenant scoping), what it refuses
// (400 with a useful detail), concurrent edits (428, 412), and what it writes (audit entries).

const PASSWORD = TEST_ADMIN_PASSWORD;
const ACME_MAC = '0004f2a1b2c3';
const ACME_MAC2 = '0004f2a1b2c4';
const OTHER_MAC = '64167f000001';
const GLOBEX_MAC = '0004f2ffff01';

let dataDir: string;
let ctx: AdminContext;
let api: RunningAdminApi;
let base: string;
const { logger: errorLogger, lines: errorLines } = errorRecordingLogger();

const { call, logIn, etag } = adminApiClient(() => base);
const who: TestAdmins = { root: {}, acmeAdmin: {}, acmeReader: {}, globexAdmin: {} };

before(async () => {
  dataDir = tempDir('polyprov-api-test-');
  ctx = await openAdminContext({ dataDir });
  const acme = (await addTenant(ctx, 'acme', {})).tenant;
  const globex = (await addTenant(ctx, 'globex', {})).tenant;
  await addSite(ctx, acme, 'hq');
  await addSite(ctx, acme, 'branch');
  await addGroup(ctx, acme, 'sales');
  await addSite(ctx, globex, 'secret-site');
  await addDevice(ctx, acme, ACME_MAC, { site: 'hq', label: 'reception' });
  await addDevice(ctx, acme, ACME_MAC2, { site: 'branch' });
  await addDevice(ctx, acme, OTHER_MAC, {});
  await addDevice(ctx, globex, GLOBEX_MAC, { site: 'secret-site' });
  await ctx.store.recordSightings([{ tenantId: acme.id, mac: ACME_MAC, at: new Date().toISOString(), ip: '192.0.2.10', model: 'VVX_450', firmware: '6.4.6.2813', phase: 'application' }]);
  await setParameters(ctx, globex, {}, ['voIpProt.server.1.address=globex.example']);
  await addTestAdmins(ctx);
  api = await startAdminApi(ctx, { host: '127.0.0.1', port: 0, logger: errorLogger });
  base = `http://127.0.0.1:${api.port}`;
  await logInTestAdmins(logIn, who);
});

after(() => closeApiFixture({ api, ctx, dataDir, errorLines }));

/**
 * One valid request per documented route, in acme, and one the schema or service refuses. `edit`
 * routes need If-Match: `tagOf` is the resource whose ETag they check.
 */
interface RouteCase {
  method: string;
  path: string;
  /** OpenAPI form, to check the table covers every route. */
  route: string;
  write: boolean;
  body?: unknown;
  tagOf?: string;
  bad: { path?: string; body?: unknown; detail: RegExp };
}

const T = '/api/v1/tenants/acme';
const CASES: RouteCase[] = [
  { method: 'GET', path: '/api/v1/tenants', route: '/api/v1/tenants', write: false, bad: { path: '/api/v1/tenants?limit=501', detail: /querystring\/limit must be <= 500/ } },
  { method: 'GET', path: T, route: '/api/v1/tenants/{tenant}', write: false, bad: { path: `/api/v1/tenants/${'x'.repeat(65)}`, detail: /params\/tenant must NOT have more than 64 characters/ } },
  { method: 'GET', path: `${T}/sites`, route: '/api/v1/tenants/{tenant}/sites', write: false, bad: { path: `${T}/sites?limit=0`, detail: /querystring\/limit must be >= 1/ } },
  {
    method: 'POST',
    path: `${T}/sites`,
    route: '/api/v1/tenants/{tenant}/sites',
    write: true,
    body: { slug: 'lab', name: 'Lab', location: 'floor 2' },
    bad: { body: { slug: 'lab2', colour: 'red' }, detail: /body\/colour is not a known field/ },
  },
  { method: 'GET', path: `${T}/sites/hq`, route: '/api/v1/tenants/{tenant}/sites/{site}', write: false, bad: { path: `${T}/sites/${'s'.repeat(65)}`, detail: /params\/site must NOT have more than 64/ } },
  {
    method: 'PATCH',
    path: `${T}/sites/hq`,
    route: '/api/v1/tenants/{tenant}/sites/{site}',
    write: true,
    body: { description: 'head office' },
    tagOf: `${T}/sites/hq`,
    bad: { body: { tftpSubnets: ['10.0.0.0/33'] }, detail: /invalid TFTP subnet/ },
  },
  {
    method: 'DELETE',
    path: `${T}/sites/branch`,
    route: '/api/v1/tenants/{tenant}/sites/{site}',
    write: true,
    tagOf: `${T}/sites/branch`,
    bad: { path: `${T}/sites/${'s'.repeat(65)}`, detail: /params\/site must NOT have more than 64/ },
  },
  { method: 'GET', path: `${T}/devices`, route: '/api/v1/tenants/{tenant}/devices', write: false, bad: { path: `${T}/devices?mac=zz`, detail: /invalid mac filter "zz": give 1 to 12 hex digits/ } },
  { method: 'GET', path: `${T}/devices/${ACME_MAC}`, route: '/api/v1/tenants/{tenant}/devices/{mac}', write: false, bad: { path: `${T}/devices/nota-mac-at-all`, detail: /MAC|mac/ } },
  {
    method: 'POST',
    path: `${T}/devices`,
    route: '/api/v1/tenants/{tenant}/devices',
    write: true,
    body: { mac: '00:04:f2:00:00:99', label: 'lobby', site: 'hq' },
    bad: { body: { label: 'no mac' }, detail: /body\/mac is required/ },
  },
  {
    method: 'PATCH',
    path: `${T}/devices/${ACME_MAC}`,
    route: '/api/v1/tenants/{tenant}/devices/{mac}',
    write: true,
    body: { group: 'sales', label: 'front desk' },
    tagOf: `${T}/devices/${ACME_MAC}`,
    bad: { body: { site: 'nowhere' }, detail: /no site "nowhere"/ },
  },
  { method: 'GET', path: `${T}/devices/${ACME_MAC}/explain`, route: '/api/v1/tenants/{tenant}/devices/{mac}/explain', write: false, bad: { path: `${T}/devices/${ACME_MAC}/explain?model=`, detail: /querystring\/model must NOT have fewer than 1/ } },
  { method: 'GET', path: `${T}/parameters?scope=site:hq`, route: '/api/v1/tenants/{tenant}/parameters', write: false, bad: { path: `${T}/parameters?scope=planet:earth`, detail: /querystring\/scope must match pattern/ } },
  {
    method: 'PATCH',
    path: `${T}/parameters?scope=site:hq`,
    route: '/api/v1/tenants/{tenant}/parameters',
    write: true,
    body: { values: { 'voIpProt.server.1.address': 'sip.acme.example', 'reg.1.auth.password': 's3cret-value' } },
    tagOf: `${T}/parameters?scope=site:hq`,
    bad: { body: { values: { 'voIpProt.server.1.adress': 'x' } }, detail: /nothing set:[\s\S]*voIpProt\.server\.1\.adress[\s\S]*force/ },
  },
  {
    method: 'DELETE',
    path: `${T}/parameters/voIpProt.server.1.address?scope=site:hq`,
    route: '/api/v1/tenants/{tenant}/parameters/{name}',
    write: true,
    tagOf: `${T}/parameters?scope=site:hq`,
    bad: { path: `${T}/parameters/voIpProt.server.1.address?scope=site:hq&x=1`, detail: /querystring\/x is not a known field/ },
  },
  {
    method: 'POST',
    path: '/api/v1/logout',
    route: '/api/v1/logout',
    write: true,
    bad: { path: '/api/v1/logout', detail: /API token/ },
  },
];

/** The routes a resource-route case stands for (login is covered in api-auth.test.ts). */
const RESOURCE_CASES = CASES.filter((c) => c.route !== '/api/v1/logout');

describe('admin API routes', () => {
  test('the route tables of the api-routes-*.test.ts files together cover every documented route but login (tested with the auth tests)', () => {
    const documented = documentedRoutes(api.app).map((r) => `${r.method} ${r.path}`).sort();
    const covered = [...new Set([...CASES.map((c) => `${c.method.toLowerCase()} ${c.route}`), 'post /api/v1/login', ...MORE_TABLE_ROUTES, ...REACH_TABLE_ROUTES, ...FLEET_TABLE_ROUTES, ...DATA_TABLE_ROUTES, ...DASHBOARD_TABLE_ROUTES])].sort();
    assert.deepEqual(covered, documented);
  });

  test('every route answers 401 problem+json without credentials or with a bad token', async () => {
    for (const c of CASES) {
      const r = await call(undefined, c.method, c.path, c.body !== undefined ? { body: c.body } : {});
      assertProblem(r, 401, /log in/);
      assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
      const forged = await call({ bearer: 'pp_' + 'A'.repeat(43) }, c.method, c.path, c.body !== undefined ? { body: c.body } : {});
      assertProblem(forged, 401, /unknown, revoked or expired/);
      const stale = await call({ cookie: 'pp_session=' + 'B'.repeat(43), csrf: 'x' }, c.method, c.path, c.body !== undefined ? { body: c.body } : {});
      assertProblem(stale, 401, /session has ended/);
    }
  });

  test('a read-only user gets 403 on every write, and reads its tenant', async () => {
    for (const c of RESOURCE_CASES) {
      const tag = c.tagOf ? await etag(who.acmeReader, c.tagOf) : undefined;
      const r = await call(who.acmeReader, c.method, c.path, { ...(c.body !== undefined ? { body: c.body } : {}), ...(tag ? { ifMatch: tag } : {}) });
      if (c.write) assertProblem(r, 403, /acme-reader \(read-only\) may not change tenant "acme"/);
      else assert.equal(r.status, 200, `${c.method} ${c.path}: ${JSON.stringify(r.body)}`);
    }
  });

  test("another tenant's admin gets 403 on every route of acme, and on tenants that do not exist", async () => {
    for (const c of RESOURCE_CASES.filter((x) => x.path.startsWith(T))) {
      const r = await call(who.globexAdmin, c.method, c.path, { ...(c.body !== undefined ? { body: c.body } : {}), ifMatch: '*' });
      assertProblem(r, 403, /globex-admin \(tenant-admin\) may not (read|change) tenant "acme"/);
    }
    assertProblem(await call(who.globexAdmin, 'GET', '/api/v1/tenants/no-such-tenant/devices'), 403);
    assertProblem(await call(who.root, 'GET', '/api/v1/tenants/no-such-tenant/devices'), 404, /no tenant "no-such-tenant"/);
  });

  test('listing and filters never reach another tenant', async () => {
    const list = await call(who.globexAdmin, 'GET', '/api/v1/tenants');
    assert.deepEqual(list.body.items.map((t: { slug: string }) => t.slug), ['globex']);
    const all = await call(who.root, 'GET', '/api/v1/tenants');
    assert.deepEqual(all.body.items.map((t: { slug: string }) => t.slug), ['acme', 'globex']);
    // A filter naming globex's site in acme finds no such site; globex's device is never listed.
    assertProblem(await call(who.acmeAdmin, 'GET', `${T}/devices?site=secret-site`), 400, /has no such site/);
    const byMac = await call(who.acmeAdmin, 'GET', `${T}/devices?mac=0004f2ff`);
    assert.deepEqual(byMac.body.items, []);
    const params = await call(who.acmeAdmin, 'GET', `${T}/parameters?scope=tenant`);
    assert.deepEqual(params.body.parameters, {});
    assertProblem(await call(who.acmeAdmin, 'GET', `${T}/parameters?scope=site:secret-site`), 404, /no site "secret-site"/);
  });

  test('every route answers 400 problem+json saying what to fix', async () => {
    for (const c of CASES) {
      const as = c.route === '/api/v1/logout' ? await bearerFor('acme-admin') : who.root;
      const tag = c.tagOf ? await etag(who.root, c.tagOf) : undefined;
      const body = c.bad.body ?? c.body;
      const r = await call(as, c.method, c.bad.path ?? c.path, { ...(body !== undefined ? { body } : {}), ...(tag ? { ifMatch: tag } : {}) });
      assertProblem(r, 400, c.bad.detail);
    }
  });

  test('edits answer 428 without If-Match and 412 with a stale ETag, and change nothing', async () => {
    for (const c of CASES.filter((x) => x.tagOf)) {
      const before = await call(who.root, 'GET', c.tagOf!);
      assertProblem(await call(who.acmeAdmin, c.method, c.path, c.body !== undefined ? { body: c.body } : {}), 428, /If-Match/);
      assertProblem(await call(who.acmeAdmin, c.method, c.path, { ...(c.body !== undefined ? { body: c.body } : {}), ifMatch: '"stale"' }), 412, /changed since you read it/);
      const now = await call(who.root, 'GET', c.tagOf!);
      assert.deepEqual(now.body, before.body, `${c.method} ${c.path} changed nothing`);
      assert.equal(now.headers.get('etag'), before.headers.get('etag'));
    }
  });

  test('the valid requests succeed for a tenant admin, and each write is audited with before and after', async () => {
    const firstId = (await listAudit(ctx, 'cli', { limit: 1 }))[0]?.id ?? 0;
    for (const c of RESOURCE_CASES) {
      const tag = c.tagOf ? await etag(who.acmeAdmin, c.tagOf) : undefined;
      const r = await call(who.acmeAdmin, c.method, c.path, { ...(c.body !== undefined ? { body: c.body } : {}), ...(tag ? { ifMatch: tag } : {}) });
      assert.ok(r.status >= 200 && r.status < 300, `${c.method} ${c.path}: ${r.status} ${JSON.stringify(r.body)}`);
      if (c.tagOf && r.status === 200) assert.notEqual(r.headers.get('etag'), tag, `${c.method} ${c.path} answers the new ETag`);
    }
    const entries = (await listAudit(ctx, 'cli', { limit: 100 })).filter((e) => e.id > firstId).reverse();
    assert.deepEqual(
      entries.map((e) => `${e.username} ${e.action} ${e.target}`),
      [
        'acme-admin site.add site lab',
        'acme-admin site.set site hq',
        'acme-admin site.remove site branch',
        'acme-admin device.add device 0004f2000099',
        `acme-admin device.set device ${ACME_MAC}`,
        'acme-admin parameter.set parameters of site:hq',
        'acme-admin parameter.unset parameters of site:hq',
      ],
    );
    const byAction = new Map(entries.map((e) => [e.action, e]));
    assert.deepEqual(byAction.get('site.set')!.before, { slug: 'hq', name: 'hq', description: '', location: '', tftpSubnets: [] });
    assert.equal((byAction.get('site.set')!.after as { description: string }).description, 'head office');
    assert.deepEqual(byAction.get('device.set')!.before, { registered: true, label: 'reception', site: 'hq', group: null });
    assert.deepEqual(byAction.get('device.set')!.after, { registered: true, label: 'front desk', site: 'hq', group: 'sales' });
    assert.deepEqual(byAction.get('parameter.set')!.after, { 'voIpProt.server.1.address': 'sip.acme.example', 'reg.1.auth.password': '(secret)' });
    assert.deepEqual(byAction.get('parameter.set')!.before, { 'voIpProt.server.1.address': null, 'reg.1.auth.password': null });
    assert.deepEqual(byAction.get('parameter.unset')!.before, { 'voIpProt.server.1.address': 'sip.acme.example' });
    assert.ok(entries.every((e) => e.ip === '127.0.0.1' && e.tenantId !== null));
  });

  test('a parameter set at the site wins in explain; force stores unknown names with a warning', async () => {
    const tag = await etag(who.acmeAdmin, `${T}/parameters?scope=site:hq`);
    const set = await call(who.acmeAdmin, 'PATCH', `${T}/parameters?scope=site:hq`, { body: { values: { 'voIpProt.server.1.address': 'hq.acme.example', 'acme.custom.thing': '1' }, force: true }, ifMatch: tag });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.warnings.length, 1);
    assert.match(set.body.warnings[0], /acme\.custom\.thing/);
    const tenantTag = await etag(who.acmeAdmin, `${T}/parameters?scope=tenant`);
    await call(who.acmeAdmin, 'PATCH', `${T}/parameters?scope=tenant`, { body: { values: { 'voIpProt.server.1.address': 'tenant.acme.example' } }, ifMatch: tenantTag });
    const ex = await call(who.acmeReader, 'GET', `${T}/devices/${ACME_MAC}/explain`);
    assert.equal(ex.status, 200, JSON.stringify(ex.body));
    const p = ex.body.parameters.find((x: { name: string }) => x.name === 'voIpProt.server.1.address');
    assert.equal(p.value, 'hq.acme.example');
    assert.equal(p.layer, 'site');
    assert.equal(p.ref, 'hq');
    assert.deepEqual(p.shadows.map((s: { value: string }) => s.value), ['tenant.acme.example']);
  });

  test('devices: filters, inventory, keyset pages with a Link header', async () => {
    const vvx = await call(who.acmeReader, 'GET', `${T}/devices?model=VVX_450&firmware=6.4.6.2813`);
    assert.deepEqual(vvx.body.items.map((d: { mac: string }) => d.mac), [ACME_MAC]);
    assert.deepEqual((await call(who.acmeReader, 'GET', `${T}/devices?model=vvx450`)).body.items.map((d: { mac: string }) => d.mac), [ACME_MAC]);
    assert.deepEqual((await call(who.acmeReader, 'GET', `${T}/devices?firmware=6.4.6.2813`)).body.items.map((d: { mac: string }) => d.mac), [ACME_MAC]);
    assert.deepEqual((await call(who.acmeReader, 'GET', `${T}/devices?model=VVX_500`)).body.items, []);
    assert.deepEqual((await call(who.acmeReader, 'GET', `${T}/devices?registered=false`)).body.items, []);
    assert.equal(vvx.body.items[0].inventory.lastIp, '192.0.2.10');
    const bySite = await call(who.acmeReader, 'GET', `${T}/devices?site=hq`);
    assert.deepEqual(bySite.body.items.map((d: { mac: string }) => d.mac).sort(), ['0004f2000099', ACME_MAC]);
    const noSite = await call(who.acmeReader, 'GET', `${T}/devices?site=-`);
    assert.ok(noSite.body.items.every((d: { site: string | null }) => d.site === null));
    assert.ok(noSite.body.items.some((d: { mac: string }) => d.mac === OTHER_MAC));
    const prefix = await call(who.acmeReader, 'GET', `${T}/devices?mac=00:04:F2&registered=true`);
    assert.ok(prefix.body.items.length >= 2 && prefix.body.items.every((d: { mac: string }) => d.mac.startsWith('0004f2')));
    const seen: string[] = [];
    let url: string | null = `${T}/devices?limit=1`;
    for (let i = 0; url && i < 20; i++) {
      const page: Answer = await call(who.acmeReader, 'GET', url);
      assert.equal(page.status, 200);
      assert.ok(page.body.items.length <= 1);
      seen.push(...page.body.items.map((d: { mac: string }) => d.mac));
      const link = page.headers.get('link');
      assert.equal(link !== null, page.body.next !== null, 'a Link header exactly when there is a next page');
      url = link ? /^<([^>]+)>; rel="next"$/.exec(link)![1]! : null;
    }
    const everything = await call(who.acmeReader, 'GET', `${T}/devices`);
    assert.deepEqual(seen, everything.body.items.map((d: { mac: string }) => d.mac));
    assert.ok(seen.length >= 3);
  });

  test('conflicts and unknown resources are 409 and 404', async () => {
    assertProblem(await call(who.acmeAdmin, 'POST', `${T}/sites`, { body: { slug: 'hq' } }), 409);
    assertProblem(await call(who.acmeAdmin, 'POST', `${T}/devices`, { body: { mac: ACME_MAC } }), 409, /already registered/);
    assertProblem(await call(who.acmeAdmin, 'GET', `${T}/sites/nowhere`), 404, /no site "nowhere"/);
    assertProblem(await call(who.acmeAdmin, 'GET', `${T}/devices/0004f2eeeeee`), 404, /no device 0004f2eeeeee/);
    assertProblem(await call(who.acmeAdmin, 'GET', '/api/v1/nothing-here'), 404, /no route GET \/api\/v1\/nothing-here/);
    assertProblem(await call(who.acmeAdmin, 'DELETE', `${T}/parameters/up.headsetMode?scope=site:hq`, { ifMatch: '*' }), 404, /site:hq does not set up\.headsetMode/);
    assertProblem(await call(who.acmeAdmin, 'DELETE', `${T}/parameters/up.headsetMode?scope=group:nope`, { ifMatch: '*' }), 404, /no group "nope"/);
    const emptyModel = await call(who.acmeAdmin, 'GET', `${T}/parameters?scope=model:VVX_600`);
    assert.deepEqual([emptyModel.status, emptyModel.body.parameters], [200, {}], 'a model without a policy has an empty layer');
  });
});

async function bearerFor(username: string): Promise<Who> {
  return { bearer: (await createTokenFor(ctx, 'cli', username, 'test')).token };
}
