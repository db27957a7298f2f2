import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { rmSync } from 'node:fs';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { startAdminApi, type RunningAdminApi } from '../../src/admin/api/start-admin-api.js';
import { listAudit } from '../../src/admin/audit-log.js';
import { createResync } from '../../src/admin/reach.js';
import { setNotifyConfig } from '../../src/admin/reach-settings.js';
import { addDevice, addGroup } from '../../src/admin/structure.js';
import { addTenant } from '../../src/admin/tenants.js';
import { openCore, type OpenCore } from '../../src/app.js';
import type { Tenant } from '../../src/store/store.js';
import { assertTableClaims, addTestAdmins, adminApiClient, logInTestAdmins, type TestAdmins, assertProblem, REACH_TABLE_ROUTES, TEST_ADMIN_PASSWORD, type Answer, type CallOptions, type Who, errorRecordingLogger } from '../support/admin-api.js';
import { tempDir } from '../support/server-process.js';
import { phoneResponse } from '../support/sipp.js';
import { waitFor } from '../support/wait-for.js';

// The admin API routes that reach phones and move data in bulk (resync jobs, CSV import and export,
// a device's overrides and logs) on a real fastify listener (127.0.0.1, port 0) over a real SQLite
// store, with the same table checks as api-routes.test.ts: 401, 403, tenant scoping, 400, success
// and audit. The phone's uploads go through the real provisioning core; NOTIFYs go over real UDP
// to a socket on 127.0.0.1 that answers like a phone.

const ACME_MAC = '0004f2a1b2c3';
const GLOBEX_MAC = '0004f2c0ffee';
const T = '/api/v1/tenants/acme';
const D = `${T}/devices/${ACME_MAC}`;
const GROUPS_CSV = 'group,name,reg.1.displayName\nfloor-1,Floor one,Floor 1\nfloor-2,Floor two,Floor 2\n';
const APP_LOG = ['0517184023|sip  |4|00|Registration succeeded', '0517184024|tls  |4|00|TLS handshake done', '0517184025|cfg  |4|00|Prov|Ready', ''].join('\n');
const override = (name: string) => `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<PHONE_CONFIG><OVERRIDES reg.1.displayName="${name}"/></PHONE_CONFIG>\n`;

let dataDir: string;
let opened: OpenCore;
let api: RunningAdminApi;
let phone: Socket;
let notifies: string[] = [];
let firstJobId = 0;
const tenants: Record<string, Tenant> = {};
const { logger: errorLogger, lines: errorLines } = errorRecordingLogger();
const { call, logIn } = adminApiClient(() => `http://127.0.0.1:${api.port}`);
const who: TestAdmins = { root: {}, acmeAdmin: {}, acmeReader: {}, globexAdmin: {} };

interface RouteCase {
  method: string;
  path: string;
  route: string;
  write: boolean;
  body?: unknown;
  csv?: string;
  bad: { path?: string; body?: unknown; csv?: string; detail: RegExp };
}

function table(): RouteCase[] {
  return [
    { method: 'POST', path: `${T}/resync`, route: '/api/v1/tenants/{tenant}/resync', write: true, body: { via: 'notify', macs: [ACME_MAC], rate: 50, jitter: 0 }, bad: { body: { via: 'notify', rate: 5, jitter: 0 }, detail: /choose the devices one way/ } },
    { method: 'GET', path: `${T}/resync`, route: '/api/v1/tenants/{tenant}/resync', write: false, bad: { path: `${T}/resync?cursor=abc`, detail: /querystring\/cursor must match pattern/ } },
    { method: 'GET', path: `${T}/resync/${firstJobId}`, route: '/api/v1/tenants/{tenant}/resync/{id}', write: false, bad: { path: `${T}/resync/0`, detail: /params\/id must be >= 1/ } },
    { method: 'GET', path: `${D}/reach`, route: '/api/v1/tenants/{tenant}/devices/{mac}/reach', write: false, bad: { path: `${T}/devices/nota-mac-at-all/reach`, detail: /MAC|mac/ } },
    { method: 'POST', path: `${T}/import?kind=groups`, route: '/api/v1/tenants/{tenant}/import', write: true, csv: GROUPS_CSV, bad: { csv: 'group,name\n,No slug\n', detail: /1 error[\s\S]*2:1: group is empty/ } },
    { method: 'GET', path: `${T}/export/groups`, route: '/api/v1/tenants/{tenant}/export/{kind}', write: false, bad: { path: `${T}/export/planets`, detail: /params\/kind must be one of "sites", "devices", "groups", "models"/ } },
    { method: 'GET', path: `${D}/overrides`, route: '/api/v1/tenants/{tenant}/devices/{mac}/overrides', write: false, bad: { path: `${T}/devices/nota-mac-at-all/overrides`, detail: /MAC|mac/ } },
    { method: 'POST', path: `${D}/overrides/clear`, route: '/api/v1/tenants/{tenant}/devices/{mac}/overrides/clear', write: true, body: { which: 'phone' }, bad: { body: { which: 'all' }, detail: /body\/which must be one of "phone", "web", "both"/ } },
    { method: 'POST', path: `${D}/overrides/restore`, route: '/api/v1/tenants/{tenant}/devices/{mac}/overrides/restore', write: true, body: { version: 1 }, bad: { body: { version: 99 }, detail: /has no version 99[\s\S]*its versions are 1, 2/ } },
    { method: 'GET', path: `${D}/logs`, route: '/api/v1/tenants/{tenant}/devices/{mac}/logs', write: false, bad: { path: `${T}/devices/nota-mac-at-all/logs`, detail: /MAC|mac/ } },
    { method: 'GET', path: `${D}/logs/app?tail=2`, route: '/api/v1/tenants/{tenant}/devices/{mac}/logs/{kind}', write: false, bad: { path: `${D}/logs/app?grep=(`, detail: /invalid regular expression "\("/ } },
  ];
}
let CASES: RouteCase[] = [];

function opts(c: { body?: unknown; csv?: string }): CallOptions {
  if (c.csv !== undefined) return { raw: { contentType: 'text/csv', data: c.csv } };
  return c.body !== undefined ? { body: c.body } : {};
}

/** Uploads a file as the phone does, through the provisioning core. */
async function phoneUploads(target: string, text: string): Promise<void> {
  const r = await opened.core.upload(
    { protocol: 'ftp', operation: 'write', target, ip: '127.0.0.1', credentials: { kind: 'password', username: 'acme', password: 'acme-password-1' } },
    Readable.from([Buffer.from(text)]),
  );
  assert.ok(r.ok, `upload of ${target}: ${JSON.stringify(r)}`);
}

/** Polls a job until it is no longer running (at most 5 s). */
async function finished(id: number): Promise<Answer> {
  return waitFor(`resync job ${id} done`, async () => {
    const r = await call(who.root, 'GET', `${T}/resync/${id}`);
    return r.body?.status === 'running' ? undefined : r;
  });
}

before(async () => {
  dataDir = tempDir('polyprov-api-reach-test-');
  const logger = errorLogger;
  opened = await openCore({ dataDir, inventoryFlushMs: 50, blobCacheMb: 16 }, logger);
  const ctx = opened.ctx;
  tenants.acme = (await addTenant(ctx, 'acme', { password: 'acme-password-1' })).tenant;
  tenants.globex = (await addTenant(ctx, 'globex', {})).tenant;
  await addGroup(ctx, tenants.acme, 'floor-1');
  await addDevice(ctx, tenants.acme, ACME_MAC, {});
  await addDevice(ctx, tenants.globex, GLOBEX_MAC, {});
  await ctx.store.recordSightings([{ tenantId: tenants.acme.id, mac: ACME_MAC, at: new Date().toISOString(), ip: '127.0.0.1' }]);

  // A phone on loopback: answers every NOTIFY 200 OK, copying the transaction's headers.
  phone = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    phone.once('error', reject);
    phone.bind(0, '127.0.0.1', () => resolve());
  });
  phone.on('message', (buf, from) => {
    const text = buf.toString('utf8');
    notifies.push(text);
    phone.send(phoneResponse(text, 200, 'OK'), from.port, from.address);
  });
  await setNotifyConfig(ctx, tenants.acme, {}, { target: `127.0.0.1:${phone.address().port}` });

  await phoneUploads(`/overrides/${ACME_MAC}-phone.cfg`, override('Front desk'));
  await phoneUploads(`/overrides/${ACME_MAC}-phone.cfg`, override('Reception'));
  await phoneUploads(`/logs/${ACME_MAC}-app.log`, APP_LOG);
  // A job that is never run: the table reads it.
  firstJobId = (await createResync(ctx, tenants.acme, { method: 'notify', macs: [ACME_MAC], ratePerSecond: 1, jitter: 0 })).id;

  await addTestAdmins(ctx);
  CASES = table();
  api = await startAdminApi(ctx, { host: '127.0.0.1', port: 0, logger, reach: { sip: { bindHost: '127.0.0.1', t1Ms: 20 } } });
  await logInTestAdmins(logIn, who);
});

after(async () => {
  // Background runs must end before the store closes.
  if (opened && tenants.acme) {
    for (const j of await opened.ctx.store.listReachJobs(tenants.acme.id)) if (j.id !== firstJobId) await waitFor(`job ${j.id} ends`, async () => ((await opened.ctx.store.getReachJob(tenants.acme!.id, j.id))?.status === 'running' ? undefined : true));
  }
  await api?.close();
  phone?.close();
  await opened?.inventory.stop();
  await opened?.ctx.store.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  assert.deepEqual(errorLines, [], 'no request or background run failed on the server side');
});

describe('admin API routes: resync, CSV import and export, overrides, logs', () => {
  test('the table is exactly the documented routes it claims', () => {
    assertTableClaims(CASES, REACH_TABLE_ROUTES, api.app);
  });

  test('every route answers 401 problem+json without credentials or with a bad token', async () => {
    for (const c of CASES) {
      assertProblem(await call(undefined, c.method, c.path, opts(c)), 401, /log in/);
      assertProblem(await call({ bearer: 'pp_' + 'A'.repeat(43) }, c.method, c.path, opts(c)), 401, /unknown, revoked or expired/);
    }
  });

  test('a read-only user gets 403 on every write and reads its tenant', async () => {
    for (const c of CASES) {
      const r = await call(who.acmeReader, c.method, c.path, opts(c));
      if (c.write) assertProblem(r, 403, /acme-reader \(read-only\) may not change tenant "acme"/);
      else assert.equal(r.status, 200, `${c.method} ${c.path}: ${JSON.stringify(r.body)}`);
    }
  });

  test("another tenant's admin gets 403 on every route of acme, and acme's admin never finds globex's device", async () => {
    for (const c of CASES) assertProblem(await call(who.globexAdmin, c.method, c.path, opts(c)), 403, /globex-admin \(tenant-admin\) may not (read|change) tenant "acme"/);
    for (const sub of ['reach', 'overrides', 'logs', 'logs/app']) assertProblem(await call(who.acmeAdmin, 'GET', `${T}/devices/${GLOBEX_MAC}/${sub}`), 404, /no device 0004f2c0ffee in tenant "acme"/);
    assertProblem(await call(who.acmeAdmin, 'POST', `${T}/resync`, { body: { via: 'notify', macs: [GLOBEX_MAC], rate: 5, jitter: 0 } }), 400, /0004f2c0ffee is not a device of tenant "acme"/);
  });

  test('every route answers 400 problem+json saying what to fix', async () => {
    for (const c of CASES) {
      const r = await call(who.root, c.method, c.bad.path ?? c.path, opts({ body: 'body' in c.bad ? c.bad.body : c.body, ...(c.bad.csv !== undefined ? { csv: c.bad.csv } : c.csv !== undefined ? { csv: c.csv } : {}) }));
      assertProblem(r, 400, c.bad.detail);
    }
  });

  test('the valid requests succeed, and each write is audited with before and after', async () => {
    const firstId = (await listAudit(opened.ctx, 'cli', { limit: 1 }))[0]?.id ?? 0;
    for (const c of CASES) {
      const r = await call(who.acmeAdmin, c.method, c.path, opts(c));
      assert.ok(r.status >= 200 && r.status < 300, `${c.method} ${c.path}: ${r.status} ${JSON.stringify(r.body)}`);
    }
    const entries = (await listAudit(opened.ctx, 'cli', { limit: 100 })).filter((e) => e.id > firstId).reverse();
    const jobs = await opened.ctx.store.listReachJobs(tenants.acme!.id);
    assert.deepEqual(
      entries.map((e) => `${e.username} ${e.action} ${e.target}`),
      [
        `acme-admin resync.start resync job ${jobs[0]!.id}`,
        'acme-admin csv.import groups (merge, 2 rows)',
        `acme-admin override.clear overrides of device ${ACME_MAC}`,
        `acme-admin override.restore phone overrides of device ${ACME_MAC} (version 1)`,
      ],
    );
    const byAction = new Map(entries.map((e) => [e.action, e]));
    assert.deepEqual(byAction.get('override.clear')!.before, { phone: { version: 2, empty: false, parameters: { 'reg.1.displayName': 'Reception' } }, web: null });
    assert.deepEqual(byAction.get('override.clear')!.after, { phone: { version: 3, empty: true, parameters: {} }, web: null });
    assert.deepEqual(byAction.get('override.restore')!.after, { phone: { version: 4, empty: false, parameters: { 'reg.1.displayName': 'Front desk' } }, web: null });
    const imported = byAction.get('csv.import')!;
    assert.deepEqual((imported.after as { key: string }[]).map((c) => c.key), ['floor-1', 'floor-2']);
    assert.ok(entries.every((e) => e.ip === '127.0.0.1'));
  });

  test('a resync job NOTIFYs the phone over UDP, records its answer, and is listed newest first', async () => {
    notifies = [];
    const started = await call(who.acmeAdmin, 'POST', `${T}/resync`, { body: { via: 'notify', all: true, rate: 50, jitter: 0 } });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    assert.deepEqual([started.body.via, started.body.selector, started.body.total, started.body.rate, started.body.jitter], ['notify', { tenant: 'acme' }, 1, 50, 0]);
    assert.equal(started.headers.get('location'), `${T}/resync/${started.body.id}`);
    const done = await finished(started.body.id);
    assert.equal(done.body.status, 'done');
    assert.equal(done.body.done, 1);
    assert.equal(done.body.outcomes.ok, 1, JSON.stringify(done.body));
    assert.ok(notifies.length > 0 && notifies.every((n) => /^NOTIFY \S+ SIP\/2\.0\r\n/.test(n)), 'the phone got NOTIFYs');
    assert.match(notifies[0]!, /Event: check-sync/i);
    const reach = await call(who.acmeReader, 'GET', `${D}/reach`);
    assert.equal(reach.status, 200);
    assert.deepEqual(reach.body.items.map((r: { via: string; outcome: string; status: number; job: number }) => [r.via, r.outcome, r.status, r.job]), [['notify', 'ok', 200, started.body.id]]);
    const page = await call(who.acmeReader, 'GET', `${T}/resync?limit=1`);
    assert.deepEqual(page.body.items.map((j: { id: number }) => j.id), [started.body.id]);
    assert.equal(page.body.next, String(started.body.id));
    assert.equal(page.headers.get('link'), `<${T}/resync?limit=1&cursor=${started.body.id}>; rel="next"`);
    const rest = await call(who.acmeReader, 'GET', `${T}/resync?cursor=${started.body.id}`);
    assert.ok(rest.body.items.every((j: { id: number }) => j.id < started.body.id));
    assert.ok(rest.body.items.some((j: { id: number }) => j.id === firstJobId));
    assertProblem(await call(who.acmeReader, 'GET', `${T}/resync/99999`), 404, /no resync job 99999 in tenant "acme"/);
    assertProblem(await call(who.acmeAdmin, 'POST', `${T}/resync`, { body: { via: 'notify', all: true, site: 'x', rate: 5, jitter: 0 } }), 400, /one way/);
  });

  test('CSV: a dry run changes nothing, errors carry line and column, and the export imports back', async () => {
    const csv = 'group,name\nfloor-9,Floor nine\n';
    const dry = await call(who.acmeAdmin, 'POST', `${T}/import?dryRun=true`, { raw: { contentType: 'text/csv', data: csv } });
    assert.equal(dry.status, 200, JSON.stringify(dry.body));
    assert.deepEqual([dry.body.kind, dry.body.dryRun, dry.body.counts, dry.body.changes.map((c: { key: string; action: string }) => `${c.action} ${c.key}`)], ['groups', true, null, ['create floor-9']]);
    assertProblem(await call(who.acmeAdmin, 'GET', `${T}/groups/floor-9`), 404);
    const bad = await call(who.acmeAdmin, 'POST', `${T}/import`, { raw: { contentType: 'text/csv', data: 'group,name\nok-group,Fine\nok-group,Again\n' } });
    assertProblem(bad, 400, /nothing imported/);
    assert.deepEqual(bad.body.errors.map((e: { line: number; column: number }) => [e.line, e.column]), [[3, 1]]);
    assert.match(bad.body.errors[0].message, /group "ok-group" is also on line 2/);
    assertProblem(await call(who.acmeAdmin, 'GET', `${T}/groups/ok-group`), 404);
    const exported = await call(who.acmeReader, 'GET', `${T}/export/groups`);
    assert.equal(exported.status, 200);
    assert.match(exported.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(exported.body, /^group,name/);
    assert.match(exported.body, /floor-2,Floor two/);
    const again = await call(who.acmeAdmin, 'POST', `${T}/import`, { raw: { contentType: 'text/csv', data: exported.body } });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.deepEqual([again.body.changes, again.body.counts], [[], null], 'the export imports back to the same state');
  });

  test("overrides show what the phone set and every version; logs tail and grep the phone's lines", async () => {
    const o = await call(who.acmeReader, 'GET', `${D}/overrides`);
    assert.deepEqual(o.body.versions.map((v: { version: number; served: boolean }) => [v.version, v.served]), [[1, false], [2, false], [3, false], [4, true]]);
    assert.deepEqual(o.body.phone.parameters, [{ name: 'reg.1.displayName', value: 'Front desk' }]);
    assert.equal(o.body.web, null);
    const logs = await call(who.acmeReader, 'GET', `${D}/logs`);
    assert.deepEqual(logs.body.items.map((l: { kind: string; size: number }) => [l.kind, l.size]), [['app', Buffer.byteLength(APP_LOG)]]);
    const tail = await call(who.acmeReader, 'GET', `${D}/logs/app?tail=2`);
    assert.deepEqual(tail.body.lines.map((l: { raw: string }) => l.raw), APP_LOG.split('\n').slice(1, 3));
    const grep = await call(who.acmeReader, 'GET', `${D}/logs/app?grep=registration&ignoreCase=true`);
    assert.deepEqual(grep.body.lines.map((l: { raw: string }) => l.raw), [APP_LOG.split('\n')[0]]);
    assertProblem(await call(who.acmeReader, 'GET', `${D}/logs/boot`), 404, /has uploaded no boot log/);
  });
});
