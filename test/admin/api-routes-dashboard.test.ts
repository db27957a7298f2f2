import assert from 'node:assert/strict';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { startAdminApi, type RunningAdminApi } from '../../src/admin/api/start-admin-api.js';
import { bucketMinutesFor } from '../../src/admin/dashboard.js';
import { addDevice } from '../../src/admin/structure.js';
import { addTenant } from '../../src/admin/tenants.js';
import { openCore, type OpenCore } from '../../src/app.js';
import type { PhoneRequest } from '../../src/provisioning/core.js';
import type { Tenant } from '../../src/store/store.js';
import { DASHBOARD_TABLE_ROUTES } from '../support/admin-api-dashboard-routes.js';
import { assertTableClaims, closeApiFixture, addTestAdmins, adminApiClient, assertProblem, errorRecordingLogger, logInTestAdmins, type TestAdmins } from '../support/admin-api.js';
import { tempDir } from '../support/server-process.js';

// The dashboard route and the device list's status and last-seen filters, on a real fastify
// listener (127.0.0.1, port 0) over a real SQLite store. Phone requests go through the real
// provisioning core (HTTP, TFTP and FTP uploads); their counts reach the store when the inventory
// recorder flushes, as in serve.

const ACME_MAC = '0004f2a1b2c3';
const GLOBEX_MAC = '0004f2c0ffee';
const GLOBEX_NEVER = '0004f2c0ff00';
/** acme's other devices, by how they were last seen. */
const ONLINE = '0004f2000001';
const OFFLINE = '0004f2000002';
const OLD = '0004f2000003';
const NEVER = '0004f2000004';
const T = '/api/v1/tenants/acme';
const HOUR = 3_600_000;
const UA = (mac: string) => `FileTransport PolycomVVX-VVX_450-UA/6.4.6.2813 (SN:${mac}) Type/Application`;
const APP_LOG = [
  '0517184023|sip  |4|00|Registration succeeded',
  '0517184024|so   |5|00|Call control failed to start',
  '0517184025|cfg  |6|00|Configuration store corrupt',
  '0517184026|tls  |4|00|TLS handshake failed: unknown CA',
  '',
].join('\n');
const BOOT_LOG = ['000011.006|so   |3|00|Booting', '000012.500|copy |5|00|Boot image check failed', ''].join('\n');
const GLOBEX_LOG = '0517184023|so   |6|00|Globex fatal line\n';

let dataDir: string;
let opened: OpenCore;
let api: RunningAdminApi;
const now = Date.now();
const tenants: Record<string, Tenant> = {};
const { logger, lines: errorLines } = errorRecordingLogger();
const { call, logIn } = adminApiClient(() => `http://127.0.0.1:${api.port}`);
const who: TestAdmins = { root: {}, acmeAdmin: {}, acmeReader: {}, globexAdmin: {} };

interface RouteCase {
  path: string;
  route: string;
  bad: { path: string; detail: RegExp };
}

const CASES: RouteCase[] = [
  { path: `${T}/dashboard`, route: '/api/v1/tenants/{tenant}/dashboard', bad: { path: `${T}/dashboard?hours=0`, detail: /querystring\/hours must be >= 1/ } },
  { path: `${T}/dashboard?hours=336`, route: '/api/v1/tenants/{tenant}/dashboard', bad: { path: `${T}/dashboard?hours=337`, detail: /querystring\/hours must be <= 336/ } },
  { path: `${T}/dashboard?hours=1`, route: '/api/v1/tenants/{tenant}/dashboard', bad: { path: `${T}/dashboard?days=2`, detail: /querystring\/days is not a known field/ } },
];

function password(tenant: string, pw: string): PhoneRequest['credentials'] {
  return { kind: 'password', username: tenant, password: pw };
}

/** A read through the provisioning core, as an edge makes it. */
async function phoneReads(req: Omit<PhoneRequest, 'operation' | 'ip'> & { ip?: string }): Promise<boolean> {
  const a = await opened.core.handle({ operation: 'read', ip: '127.0.0.1', ...req });
  return a.ok;
}

/** An upload through the provisioning core (FTP, as phones upload logs by default). */
async function phoneUploads(tenant: 'acme' | 'globex', target: string, text: string): Promise<void> {
  const r = await opened.core.upload(
    { protocol: 'ftp', operation: 'write', target, ip: '127.0.0.1', credentials: password(tenant, `${tenant}-password-1`) },
    Readable.from([Buffer.from(text)]),
  );
  assert.ok(r.ok, `upload of ${target}: ${JSON.stringify(r)}`);
}

const ago = (ms: number) => new Date(now - ms).toISOString();

before(async () => {
  dataDir = tempDir('polyprov-api-dashboard-test-');
  // The recorder's timer never fires during the test: flushes are the test's own.
  opened = await openCore({ dataDir, inventoryFlushMs: 600_000, blobCacheMb: 16 }, logger);
  const ctx = opened.ctx;
  tenants.acme = (await addTenant(ctx, 'acme', { password: 'acme-password-1', tftpSubnets: ['127.0.0.0/8'] })).tenant;
  tenants.globex = (await addTenant(ctx, 'globex', { password: 'globex-password-1' })).tenant;
  for (const mac of [ACME_MAC, OFFLINE, NEVER]) await addDevice(ctx, tenants.acme, mac, {});
  for (const mac of [GLOBEX_MAC, GLOBEX_NEVER]) await addDevice(ctx, tenants.globex, mac, {});
  await ctx.store.recordSightings([
    { tenantId: tenants.acme.id, mac: ONLINE, at: ago(2 * HOUR), model: 'VVX_450', firmware: '6.4.6.2813' },
    { tenantId: tenants.acme.id, mac: OFFLINE, at: ago(72 * HOUR), model: 'VVX_250', firmware: '6.4.3.1234' },
    { tenantId: tenants.acme.id, mac: OLD, at: ago(240 * HOUR) },
    { tenantId: tenants.globex.id, mac: GLOBEX_MAC, at: ago(HOUR), model: 'VVX_999', firmware: '9.9.9.9999' },
  ]);

  // acme over HTTP: two files served, one missing; over TFTP (chosen by subnet): one served, one missing.
  const acme = password('acme', 'acme-password-1');
  assert.equal(await phoneReads({ protocol: 'http', target: '/000000000000.cfg', userAgent: UA(ACME_MAC), credentials: acme }), true);
  assert.equal(await phoneReads({ protocol: 'http', target: `/${ACME_MAC}-polyprov.cfg`, userAgent: UA(ACME_MAC), credentials: acme }), true);
  assert.equal(await phoneReads({ protocol: 'http', target: '/no-such-file.txt', userAgent: UA(ACME_MAC), credentials: acme }), false);
  assert.equal(await phoneReads({ protocol: 'tftp', target: '/000000000000.cfg' }), true);
  assert.equal(await phoneReads({ protocol: 'tftp', target: '/no-such-image.ld' }), false);
  // Before authentication a request belongs to no tenant: a wrong password naming acme, no credentials.
  assert.equal(await phoneReads({ protocol: 'http', target: '/000000000000.cfg', credentials: password('acme', 'wrong') }), false);
  assert.equal(await phoneReads({ protocol: 'http', target: '/000000000000.cfg' }), false);
  // globex: three files over HTTPS, none of which may show in acme's chart.
  for (let i = 0; i < 3; i++) {
    assert.equal(await phoneReads({ protocol: 'https', target: `/${GLOBEX_MAC}-polyprov.cfg`, userAgent: UA(GLOBEX_MAC), credentials: password('globex', 'globex-password-1') }), true);
  }
  // Logs over FTP (uploads count too): app then boot, so the boot log is the most recently updated.
  await phoneUploads('acme', `/logs/${ACME_MAC}-app.log`, APP_LOG);
  await new Promise((r) => setTimeout(r, 5));
  await phoneUploads('acme', `/logs/${ACME_MAC}-boot.log`, BOOT_LOG);
  await phoneUploads('globex', `/logs/${GLOBEX_MAC}-app.log`, GLOBEX_LOG);
  await opened.inventory.flush();

  await addTestAdmins(ctx);
  api = await startAdminApi(ctx, { host: '127.0.0.1', port: 0, logger });
  await logInTestAdmins(logIn, who);
});

after(() => closeApiFixture({ api, opened, dataDir, errorLines }));

/** Sums of a dashboard's buckets. */
function totals(body: any) {
  const sum = { total: 0, failed: 0, http: 0, https: 0, tftp: 0, ftp: 0 };
  for (const b of body.requests.buckets) {
    sum.total += b.total;
    sum.failed += b.failed;
    for (const p of ['http', 'https', 'tftp', 'ftp'] as const) sum[p] += b.byProtocol[p];
  }
  return sum;
}

describe('admin API route: dashboard', () => {
  test('the table is exactly the documented routes it claims', () => {
    assertTableClaims(CASES.map((c) => ({ method: 'GET', route: c.route })), DASHBOARD_TABLE_ROUTES, api.app);
  });

  test('the OpenAPI document describes the route and the device filters, and validates', async () => {
    const res = await fetch(`http://127.0.0.1:${api.port}/api/v1/openapi.json`, { signal: AbortSignal.timeout(10_000) });
    const doc = (await res.json()) as { paths: Record<string, Record<string, { summary?: string; tags?: string[]; parameters?: { name: string }[]; responses?: Record<string, unknown> }>> };
    const op = doc.paths['/api/v1/tenants/{tenant}/dashboard']?.get;
    assert.ok(op?.summary && op.tags?.includes('dashboard'), 'the dashboard has a summary and a tag');
    for (const code of ['200', '400', '401', '403', '404']) assert.ok(op.responses?.[code], `the dashboard documents ${code}`);
    const devices = doc.paths['/api/v1/tenants/{tenant}/devices']?.get;
    for (const name of ['status', 'onlineHours', 'seenAfter', 'seenBefore']) assert.ok(devices?.parameters?.some((p) => p.name === name), `the device list documents ${name}`);
    const result = await new Validator().validate(structuredClone(doc));
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2)?.slice(0, 2000));
  });

  test('every case answers 401 problem+json without credentials or with a bad token', async () => {
    for (const c of CASES) {
      assertProblem(await call(undefined, 'GET', c.path), 401, /log in/);
      assertProblem(await call({ bearer: 'pp_' + 'A'.repeat(43) }, 'GET', c.path), 401, /unknown, revoked or expired/);
    }
  });

  test("another tenant's admin gets 403; a read-only user and the tenant's admin read it", async () => {
    for (const c of CASES) {
      assertProblem(await call(who.globexAdmin, 'GET', c.path), 403, /globex-admin \(tenant-admin\) may not read tenant "acme"/);
      assert.equal((await call(who.acmeReader, 'GET', c.path)).status, 200);
      assert.equal((await call(who.acmeAdmin, 'GET', c.path)).status, 200);
    }
    assertProblem(await call(who.acmeAdmin, 'GET', '/api/v1/tenants/globex/dashboard'), 403, /acme-admin \(tenant-admin\) may not read tenant "globex"/);
    assertProblem(await call(who.acmeAdmin, 'GET', '/api/v1/tenants/initech/dashboard'), 403, /may not read tenant "initech"/);
    assertProblem(await call(who.root, 'GET', '/api/v1/tenants/initech/dashboard'), 404, /no tenant "initech"/);
  });

  test('every case answers 400 problem+json saying what to fix', async () => {
    for (const c of CASES) assertProblem(await call(who.root, 'GET', c.bad.path), 400, c.bad.detail);
  });

  test('bucket sizes keep the chart at about 48 buckets', () => {
    assert.deepEqual([1, 2, 6, 24, 48, 168, 336].map(bucketMinutesFor), [2, 5, 10, 30, 60, 240, 480]);
  });

  test('requests made through the core show in contiguous buckets by protocol, failures counted, another tenant and strangers left out', async () => {
    const asked = Date.now();
    const r = await call(who.acmeReader, 'GET', `${T}/dashboard`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const { requests } = r.body;
    assert.equal(requests.bucketMinutes, 30);
    const size = 30 * 60_000;
    assert.ok(requests.buckets.length >= 48 && requests.buckets.length <= 49, `${requests.buckets.length} buckets`);
    requests.buckets.forEach((b: { at: string }, i: number) => assert.equal(Date.parse(b.at), Date.parse(requests.from) + i * size, `bucket ${i} follows the previous one`));
    assert.equal(Date.parse(requests.to), Date.parse(requests.from) + requests.buckets.length * size);
    assert.ok(Date.parse(requests.from) <= Date.now() - 24 * HOUR && Date.parse(requests.to) > asked, `${requests.from} to ${requests.to}`);
    // 3 HTTP (1 missing), 2 TFTP (1 missing), 2 FTP log uploads; not the refusals before authentication, not globex's.
    assert.deepEqual(totals(r.body), { total: 7, failed: 2, http: 3, https: 0, tftp: 2, ftp: 2 });

    const globex = await call(who.globexAdmin, 'GET', '/api/v1/tenants/globex/dashboard?hours=2');
    assert.equal(globex.body.requests.bucketMinutes, 5);
    assert.deepEqual(totals(globex.body), { total: 4, failed: 0, http: 0, https: 3, tftp: 0, ftp: 1 });
    // The refusals before authentication are stored under no tenant.
    const none = await opened.ctx.store.requestBuckets(null, { from: ago(HOUR), to: ago(-HOUR), bucketMinutes: 60 });
    assert.deepEqual(
      none.reduce((s, b) => ({ ok: s.ok + b.ok, failed: s.failed + b.failed, http: s.http + (b.protocol === 'http' ? b.failed : 0) }), { ok: 0, failed: 0, http: 0 }),
      { ok: 0, failed: 2, http: 2 },
    );

    // More requests after a flush add up in the same buckets.
    assert.equal(await phoneReads({ protocol: 'tftp', target: '/missing-again.ld' }), false);
    await opened.inventory.flush();
    assert.deepEqual(totals((await call(who.acmeReader, 'GET', `${T}/dashboard`)).body), { total: 8, failed: 3, http: 3, https: 0, tftp: 3, ftp: 2 });
  });

  test('devices, models and firmware come from the inventory the phones reported', async () => {
    const r = await call(who.acmeAdmin, 'GET', `${T}/dashboard`);
    assert.equal(r.body.tenant, 'acme');
    assert.ok(Math.abs(Date.parse(r.body.generatedAt) - Date.now()) < 60_000);
    assert.deepEqual(r.body.devices, { total: 5, registered: 3, seenOnly: 2, seenInWindow: 2, neverSeen: 1 });
    assert.deepEqual(r.body.models, [
      { model: 'VVX_450', count: 2 },
      { model: null, count: 2 },
      { model: 'VVX_250', count: 1 },
    ]);
    assert.deepEqual(r.body.firmware, [
      { version: '6.4.6.2813', count: 2 },
      { version: null, count: 2 },
      { version: '6.4.3.1234', count: 1 },
    ]);
    const week = await call(who.acmeAdmin, 'GET', `${T}/dashboard?hours=168`);
    assert.equal(week.body.devices.seenInWindow, 3);
  });

  test("recent errors are the level 5 and 6 lines of the tenant's uploaded logs, newest first", async () => {
    const r = await call(who.acmeReader, 'GET', `${T}/dashboard`);
    const lines = APP_LOG.split('\n');
    assert.deepEqual(
      r.body.recentErrors.map((e: { mac: string; kind: string; level: number; line: string }) => [e.mac, e.kind, e.level, e.line]),
      [
        [ACME_MAC, 'boot', 5, BOOT_LOG.split('\n')[1]],
        [ACME_MAC, 'app', 6, lines[2]],
        [ACME_MAC, 'app', 5, lines[1]],
      ],
    );
    // Time since boot has no date; a wall-clock stamp is dated in the year before the upload.
    assert.equal(r.body.recentErrors[0].at, null);
    assert.match(r.body.recentErrors[1].at, /^\d{4}-05-17T18:40:25\.000Z$/);
    assert.ok(Date.parse(r.body.recentErrors[1].at) <= Date.now() + 24 * HOUR);
    const globex = await call(who.globexAdmin, 'GET', '/api/v1/tenants/globex/dashboard');
    assert.deepEqual(globex.body.recentErrors.map((e: { line: string }) => e.line), [GLOBEX_LOG.trim()]);
  });
});

describe('admin API route: device list filters by status and last seen', () => {
  const list = async (query: string) => {
    const r = await call(who.acmeReader, 'GET', `${T}/devices?${query}`);
    assert.equal(r.status, 200, `${query}: ${JSON.stringify(r.body)}`);
    return r.body.items.map((d: { mac: string }) => d.mac);
  };

  test('status: online, offline and never return exactly their devices', async () => {
    assert.deepEqual(await list('status=online'), [ONLINE, ACME_MAC]);
    assert.deepEqual(await list('status=offline'), [OFFLINE, OLD]);
    assert.deepEqual(await list('status=never'), [NEVER]);
    assert.deepEqual(await list('status=online&onlineHours=96'), [ONLINE, OFFLINE, ACME_MAC]);
    assert.deepEqual(await list('status=offline&onlineHours=96'), [OLD]);
    assert.deepEqual(await list('status=online&registered=false'), [ONLINE]);
  });

  test('seenAfter and seenBefore bound the last-seen time; devices never seen match neither', async () => {
    assert.deepEqual(await list(`seenAfter=${ago(96 * HOUR)}`), [ONLINE, OFFLINE, ACME_MAC]);
    assert.deepEqual(await list(`seenBefore=${ago(24 * HOUR)}`), [OFFLINE, OLD]);
    assert.deepEqual(await list(`seenAfter=${ago(300 * HOUR)}&seenBefore=${ago(HOUR)}`), [ONLINE, OFFLINE, OLD]);
    assert.deepEqual(await list(`status=offline&seenAfter=${ago(96 * HOUR)}`), [OFFLINE]);
    // Any time zone: 3 days ago written at +02:00.
    const local = new Date(now - 73 * HOUR + 2 * HOUR).toISOString().replace(/\.\d{3}Z$/, '+02:00');
    assert.deepEqual(await list(`seenAfter=${encodeURIComponent(local)}&seenBefore=${encodeURIComponent(ago(71 * HOUR))}`), [OFFLINE]);
  });

  test("the filters never return another tenant's devices", async () => {
    const acmeMacs = new Set([ACME_MAC, ONLINE, OFFLINE, OLD, NEVER]);
    for (const q of ['status=online', 'status=offline', 'status=never', `seenAfter=${ago(1000 * HOUR)}`, `seenBefore=${ago(-HOUR)}`]) {
      for (const mac of await list(q)) assert.ok(acmeMacs.has(mac), `${q} lists ${mac}`);
    }
    const globex = await call(who.root, 'GET', '/api/v1/tenants/globex/devices?status=never');
    assert.deepEqual(globex.body.items.map((d: { mac: string }) => d.mac), [GLOBEX_NEVER]);
    assertProblem(await call(who.globexAdmin, 'GET', `${T}/devices?status=online`), 403, /may not read tenant "acme"/);
  });

  test('bad filters answer 400 saying what to fix', async () => {
    assertProblem(await call(who.acmeReader, 'GET', `${T}/devices?status=away`), 400, /querystring\/status must be one of "online", "offline", "never"/);
    assertProblem(await call(who.acmeReader, 'GET', `${T}/devices?seenAfter=yesterday`), 400, /querystring\/seenAfter must match format "date-time"/);
    assertProblem(await call(who.acmeReader, 'GET', `${T}/devices?seenBefore=2026-11-22T08:00:00`), 400, /querystring\/seenBefore must match format "date-time"/);
    assertProblem(await call(who.acmeReader, 'GET', `${T}/devices?onlineHours=0`), 400, /querystring\/onlineHours must be >= 1/);
    assertProblem(
      await call(who.acmeReader, 'GET', `${T}/devices?seenAfter=${ago(HOUR)}&seenBefore=${ago(2 * HOUR)}`),
      400,
      /seenAfter \(.*\) must be earlier than seenBefore/,
    );
  });
});
