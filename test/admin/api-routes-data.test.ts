import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { MAX_DIRECTORY_CSV_BYTES } from '../../src/admin/api/routes-directories.js';
import { MAX_TREE_FILE_BYTES } from '../../src/admin/api/routes-files.js';
import { startAdminApi, type RunningAdminApi } from '../../src/admin/api/start-admin-api.js';
import { listAudit } from '../../src/admin/audit-log.js';
import { importSiteDirectory, setDeviceDirectory } from '../../src/admin/directories.js';
import { putTreeFile } from '../../src/admin/files.js';
import { setParameters } from '../../src/admin/parameters.js';
import { addDevice, addGroup } from '../../src/admin/structure.js';
import { addTenant } from '../../src/admin/tenants.js';
import { openCore, type OpenCore } from '../../src/app.js';
import type { Answer as PhoneAnswer } from '../../src/provisioning/core.js';
import type { Tenant } from '../../src/store/store.js';
import { assertTableClaims, closeApiFixture, addTestAdmins, adminApiClient, assertProblem, errorRecordingLogger, logInTestAdmins, type CallOptions, type TestAdmins, type Who } from '../support/admin-api.js';
import { DATA_TABLE_ROUTES } from '../support/admin-api-data-routes.js';
import { tempDir } from '../support/server-process.js';

// The admin API routes that write a tenant's data (contact directories, files of the tree, tenant
// settings, group renames, whole parameter layers) on a real fastify listener (127.0.0.1, port 0)
// over a real SQLite store, with the same table checks as api-routes.test.ts: 401, 403, tenant
// scoping, 400, 428/412, success and audit. What a phone then gets is read through the real
// provisioning core, with the tenant's credentials, as the HTTP edge asks it.

const ACME_MAC = '0004f2a1b2c3';
const GLOBEX_MAC = '0004f2c0ffee';
const ACME_PASSWORD = 'acme-password-1';
const T = '/api/v1/tenants/acme';
const D = `${T}/devices/${ACME_MAC}`;
const CSV_HEADER = 'First name,Last name,Number,Speed dial\n';
const SITE_CSV = `${CSV_HEADER}Ann,Lee,201,1\nBob,Roe,202,\n`;
const DEVICE_CSV = `${CSV_HEADER}Cy,Doe,301,\n`;

let dataDir: string;
/** The table's PATCH changes acme's provisioning password. */
let acmePassword = ACME_PASSWORD;
let opened: OpenCore;
let api: RunningAdminApi;
const tenants: Record<string, Tenant> = {};
const { logger: errorLogger, lines: errorLines } = errorRecordingLogger();
const { call, logIn, etag } = adminApiClient(() => `http://127.0.0.1:${api.port}`);
const who: TestAdmins = { root: {}, acmeAdmin: {}, acmeReader: {}, globexAdmin: {} };

interface RouteCase {
  method: string;
  path: string;
  /** OpenAPI form, to check the table covers its routes. */
  route: string;
  write: boolean;
  body?: unknown;
  /** A body sent as is (CSV, file bytes). */
  raw?: { contentType: string; data: string };
  /** The resource whose ETag the edit must send in If-Match. */
  tagOf?: string;
  /** Only a super-admin may: root runs the successful request. */
  superAdmin?: boolean;
  /** The 403 detail for the reader and globex's admin when it is not "may not (read|change) tenant "acme"". */
  denied?: RegExp;
  bad: { path?: string; body?: unknown; raw?: { contentType: string; data: string }; detail: RegExp };
}

const csv = (data: string) => ({ contentType: 'text/csv', data });

const CASES: RouteCase[] = [
  { method: 'GET', path: `${T}/directory`, route: '/api/v1/tenants/{tenant}/directory', write: false, bad: { path: `${T}/directory?x=1`, detail: /querystring\/x is not a known field/ } },
  { method: 'GET', path: `${T}/directory.csv`, route: '/api/v1/tenants/{tenant}/directory.csv', write: false, bad: { path: `/api/v1/tenants/${'x'.repeat(65)}/directory.csv`, detail: /params\/tenant must NOT have more than 64/ } },
  {
    method: 'PUT',
    path: `${T}/directory`,
    route: '/api/v1/tenants/{tenant}/directory',
    write: true,
    raw: csv(`${CSV_HEADER}Ann,Lee,201,1\nBob,Roe,202,\nDee,Fox,203,\n`),
    tagOf: `${T}/directory`,
    bad: { raw: csv(`${CSV_HEADER}Ann,Lee,201,1\nBob,Roe,,\n`), detail: /1 error in the CSV; nothing was changed:\n {2}line 3: the number is empty/ },
  },
  { method: 'GET', path: `${D}/directory`, route: '/api/v1/tenants/{tenant}/devices/{mac}/directory', write: false, bad: { path: `${T}/devices/nota-mac-at-all/directory`, detail: /MAC|mac/ } },
  { method: 'GET', path: `${D}/directory.csv`, route: '/api/v1/tenants/{tenant}/devices/{mac}/directory.csv', write: false, bad: { path: `${T}/devices/0004f2/directory.csv`, detail: /params\/mac must NOT have fewer than 12/ } },
  {
    method: 'PUT',
    path: `${D}/directory?mode=merge`,
    route: '/api/v1/tenants/{tenant}/devices/{mac}/directory',
    write: true,
    raw: csv(`${CSV_HEADER}Eve,Ng,302,\n`),
    tagOf: `${D}/directory`,
    bad: { path: `${D}/directory?mode=append`, detail: /querystring\/mode must be one of "replace", "merge"/ },
  },
  { method: 'GET', path: `${T}/files?prefix=licenses/`, route: '/api/v1/tenants/{tenant}/files', write: false, bad: { path: `${T}/files?limit=0`, detail: /querystring\/limit must be >= 1/ } },
  { method: 'GET', path: `${T}/files/licenses/acme.lic`, route: '/api/v1/tenants/{tenant}/files/{*}', write: false, bad: { path: `${T}/files/licenses/..%2f..%2fsecret`, detail: /invalid path "licenses\/\.\.\/\.\.\/secret": path segments "\." and "\.\." are not allowed/ } },
  {
    method: 'PUT',
    path: `${T}/files/licenses/acme.lic`,
    route: '/api/v1/tenants/{tenant}/files/{*}',
    write: true,
    raw: { contentType: 'application/octet-stream', data: 'licence v2' },
    tagOf: `${T}/files/licenses/acme.lic`,
    bad: { path: `${T}/files/000000000000.cfg`, detail: /"000000000000\.cfg" is generated by polyprov from policy and cannot be replaced by a file/ },
  },
  {
    method: 'DELETE',
    path: `${T}/files/doomed.txt`,
    route: '/api/v1/tenants/{tenant}/files/{*}',
    write: true,
    tagOf: `${T}/files/doomed.txt`,
    bad: { path: `${T}/files/doomed%5C.txt`, detail: /invalid path "doomed\\\.txt": backslash or control character in path/ },
  },
  {
    method: 'POST',
    path: '/api/v1/tenants',
    route: '/api/v1/tenants',
    write: true,
    body: { slug: 'newco', name: 'New Co', unknownDevices: 'refuse' },
    superAdmin: true,
    denied: /(acme-reader \(read-only\)|globex-admin \(tenant-admin\)) may not create tenants: ask a super-admin/,
    bad: { body: { slug: 'New Co' }, detail: /invalid tenant "New Co": use 1-63 lower-case letters/ },
  },
  {
    method: 'PATCH',
    path: T,
    route: '/api/v1/tenants/{tenant}',
    write: true,
    body: { name: 'Acme Corp', logSegments: 3, password: 'acme-password-2' },
    tagOf: T,
    bad: { body: { logMaxBytes: '10 parsecs' }, detail: /invalid log size cap "10 parsecs": expected bytes or a size such as 10MiB/ },
  },
  {
    method: 'DELETE',
    path: '/api/v1/tenants/doomed',
    route: '/api/v1/tenants/{tenant}',
    write: true,
    tagOf: '/api/v1/tenants/doomed',
    superAdmin: true,
    denied: /(acme-reader \(read-only\)|globex-admin \(tenant-admin\)) may not change tenant "doomed"/,
    bad: { path: `/api/v1/tenants/${'d'.repeat(65)}`, detail: /params\/tenant must NOT have more than 64/ },
  },
  {
    method: 'PATCH',
    path: `${T}/groups/floor-1`,
    route: '/api/v1/tenants/{tenant}/groups/{group}',
    write: true,
    body: { slug: 'floor-one', name: 'Floor one' },
    tagOf: `${T}/groups/floor-1`,
    bad: { body: { slug: 'Floor One' }, detail: /invalid group "Floor One": use 1-63 lower-case letters/ },
  },
  {
    method: 'PUT',
    path: `${T}/parameters?scope=tenant`,
    route: '/api/v1/tenants/{tenant}/parameters',
    write: true,
    body: { values: { 'voIpProt.server.1.address': 'sip.acme.example', 'reg.1.auth.password': 'n3w-secret' } },
    tagOf: `${T}/parameters?scope=tenant`,
    bad: { body: { values: { 'voIpProt.server.1.adress': 'x' } }, detail: /nothing set:[\s\S]*voIpProt\.server\.1\.adress[\s\S]*force/ },
  },
];

function opts(c: { body?: unknown; raw?: { contentType: string; data: string } }, ifMatch?: string): CallOptions {
  return { ...(c.raw !== undefined ? { raw: c.raw } : c.body !== undefined ? { body: c.body } : {}), ...(ifMatch !== undefined ? { ifMatch } : {}) };
}

/** A read through the provisioning core, as the HTTP edge makes it for a phone with these credentials. */
async function phoneGet(target: string, username = 'acme', password = acmePassword): Promise<PhoneAnswer> {
  return opened.core.handle({ protocol: 'https', operation: 'read', target, ip: '127.0.0.1', host: 'prov.example', credentials: { kind: 'password', username, password } });
}

async function phoneBytes(target: string, username?: string, password?: string): Promise<Buffer> {
  const a = await phoneGet(target, username, password);
  assert.ok(a.ok, `${target}: ${!a.ok ? a.message : ''}`);
  if (a.resource.kind === 'generated') return a.resource.body;
  const chunks: Buffer[] = [];
  for await (const c of a.resource.open()) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Raw bytes over the API (the client's `call` sends text). */
async function putBytes(as: Who, path: string, data: Buffer, contentType: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`http://127.0.0.1:${api.port}${path}`, {
    method: 'PUT',
    headers: { cookie: as.cookie!, 'x-csrf-token': as.csrf!, 'content-type': contentType, ...headers },
    body: new Uint8Array(data),
    signal: AbortSignal.timeout(10_000),
  });
}

/** A request exactly as written: no client normalises its path (fetch would resolve `..`). */
function rawRequest(method: string, path: string, as: Who, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: api.port, method, path, headers: { cookie: as.cookie!, 'x-csrf-token': as.csrf!, ...(method === 'PUT' ? { 'content-type': 'application/octet-stream' } : {}), ...headers }, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(method === 'PUT' ? 'evil' : undefined);
  });
}

before(async () => {
  dataDir = tempDir('polyprov-api-data-test-');
  opened = await openCore({ dataDir, inventoryFlushMs: 50, blobCacheMb: 16 }, errorLogger);
  const ctx = opened.ctx;
  tenants.acme = (await addTenant(ctx, 'acme', { password: ACME_PASSWORD })).tenant;
  tenants.globex = (await addTenant(ctx, 'globex', { password: 'globex-password-1' })).tenant;
  tenants.doomed = (await addTenant(ctx, 'doomed', {})).tenant;
  await addGroup(ctx, tenants.acme, 'floor-1');
  await addGroup(ctx, tenants.acme, 'floor-2');
  await addDevice(ctx, tenants.acme, ACME_MAC, { group: 'floor-1' });
  await addDevice(ctx, tenants.globex, GLOBEX_MAC, {});
  await importSiteDirectory(ctx, tenants.acme, SITE_CSV, { mode: 'replace' });
  await setDeviceDirectory(ctx, tenants.acme, ACME_MAC, DEVICE_CSV);
  // Globex's own data, which no acme route may show: a device directory under acme's MAC too.
  await setDeviceDirectory(ctx, tenants.globex, GLOBEX_MAC, `${CSV_HEADER}Globex,Secret,999,\n`);
  await setDeviceDirectory(ctx, tenants.globex, ACME_MAC, `${CSV_HEADER}Globex,Other,998,\n`);
  await putTreeFile(ctx, tenants.globex, 'licenses/globex.lic', Buffer.from('globex licence'));
  await putTreeFile(ctx, tenants.acme, 'licenses/acme.lic', Buffer.from('licence v1'));
  await putTreeFile(ctx, tenants.acme, 'doomed.txt', Buffer.from('bye'));
  await setParameters(ctx, tenants.acme, {}, ['voIpProt.server.1.address=old.acme.example', 'up.headsetMode=1']);
  await setParameters(ctx, tenants.globex, {}, ['voIpProt.server.1.address=globex.example']);
  await addTestAdmins(ctx);
  api = await startAdminApi(ctx, { host: '127.0.0.1', port: 0, logger: errorLogger });
  await logInTestAdmins(logIn, who);
});

after(() => closeApiFixture({ api, opened, dataDir, errorLines }));

describe('admin API routes: directories, files, tenant writes, group edits, parameter layers', () => {
  test('the table is exactly the documented routes it claims', () => {
    assertTableClaims(CASES, DATA_TABLE_ROUTES, api.app);
  });

  test('the OpenAPI document lists the files routes with their wildcard path parameter', async () => {
    const doc = (await call(undefined, 'GET', '/api/v1/openapi.json')).body;
    const item = doc.paths['/api/v1/tenants/{tenant}/files/{*}'];
    assert.deepEqual(Object.keys(item).sort(), ['delete', 'get', 'put']);
    for (const op of Object.values<any>(item)) assert.deepEqual(op.parameters.filter((p: any) => p.in === 'path').map((p: any) => p.name).sort(), ['*', 'tenant']);
    assert.ok(item.put.requestBody.content['*/*'], 'PUT takes any content type');
  });

  test('every route answers 401 problem+json without credentials or with a bad token', async () => {
    for (const c of CASES) {
      assertProblem(await call(undefined, c.method, c.path, opts(c)), 401, /log in/);
      assertProblem(await call({ bearer: 'pp_' + 'A'.repeat(43) }, c.method, c.path, opts(c)), 401, /unknown, revoked or expired/);
    }
  });

  test('a read-only user gets 403 on every write and reads its tenant', async () => {
    for (const c of CASES) {
      const tag = c.tagOf ? await etag(who.root, c.tagOf) : undefined;
      const r = await call(who.acmeReader, c.method, c.path, opts(c, tag));
      if (c.write) assertProblem(r, 403, c.denied ?? /acme-reader \(read-only\) may not change tenant "acme"/);
      else assert.equal(r.status, 200, `${c.method} ${c.path}: ${JSON.stringify(r.body)}`);
    }
  });

  test("another tenant's admin gets 403 on every route of acme, and acme's admin never reaches globex's data", async () => {
    for (const c of CASES) assertProblem(await call(who.globexAdmin, c.method, c.path, opts(c, '*')), 403, c.denied ?? /globex-admin \(tenant-admin\) may not (read|change) tenant "acme"/);
    // Globex's directory under acme's MAC and its device's directory stay in globex.
    const mine = await call(who.acmeAdmin, 'GET', `${D}/directory`);
    assert.deepEqual(mine.body.contacts.map((c: { contact: string }) => c.contact), ['301']);
    const foreign = await call(who.acmeAdmin, 'GET', `${T}/devices/${GLOBEX_MAC}/directory`);
    assert.deepEqual([foreign.status, foreign.body.source.kind, foreign.body.contacts], [200, 'none', []]);
    const files = await call(who.acmeAdmin, 'GET', `${T}/files`);
    assert.deepEqual(files.body.items.map((f: { path: string }) => f.path), ['contacts/000000000000-directory.xml', 'doomed.txt', 'licenses/acme.lic']);
    assertProblem(await call(who.acmeAdmin, 'GET', `${T}/files/licenses/globex.lic`), 404, /no file "licenses\/globex\.lic" in tenant "acme"/);
    for (const [method, path] of [['GET', '/api/v1/tenants/globex/files/licenses/globex.lic'], ['PUT', '/api/v1/tenants/globex/parameters'], ['PATCH', '/api/v1/tenants/globex'], ['DELETE', '/api/v1/tenants/globex'], ['GET', '/api/v1/tenants/globex/directory']] as const) {
      assertProblem(await call(who.acmeAdmin, method, path, { ...(method === 'PUT' ? { body: { values: {} } } : method === 'PATCH' ? { body: { name: 'x' } } : {}), ifMatch: '*' }), 403, /acme-admin \(tenant-admin\) may not (read|change) tenant "globex"/);
    }
    assertProblem(await call(who.acmeAdmin, 'PATCH', T, { body: { hostnames: ['prov.globex.example'] }, ifMatch: '*' }), 403, /may not change hostnames: they decide which tenant a phone's request belongs to, so only a super-admin may/);
    assertProblem(await call(who.acmeAdmin, 'PATCH', `${T}/groups/nowhere`, { body: { name: 'x' }, ifMatch: '*' }), 404, /no group "nowhere" in tenant "acme"/);
  });

  test('every route answers 400 problem+json saying what to fix, and changes nothing', async () => {
    const auditBefore = (await listAudit(opened.ctx, 'cli', { limit: 1 }))[0]?.id;
    for (const c of CASES) {
      const tag = c.tagOf ? await etag(who.root, c.tagOf) : undefined;
      const r = await call(who.root, c.method, c.bad.path ?? c.path, opts({ body: 'body' in c.bad ? c.bad.body : c.body, raw: c.bad.raw ?? c.raw }, tag));
      assertProblem(r, 400, c.bad.detail);
    }
    assert.equal((await listAudit(opened.ctx, 'cli', { limit: 1 }))[0]?.id, auditBefore, 'nothing was audited');
  });

  test('edits answer 428 without If-Match and 412 with a stale ETag, and change nothing', async () => {
    for (const c of CASES.filter((x) => x.tagOf)) {
      const as = c.superAdmin ? who.root : who.acmeAdmin;
      const before = await call(who.root, 'GET', c.tagOf!);
      assertProblem(await call(as, c.method, c.path, opts(c)), 428, /needs an If-Match header/);
      assertProblem(await call(as, c.method, c.path, opts(c, '"stale"')), 412, /changed since you read it/);
      const now = await call(who.root, 'GET', c.tagOf!);
      assert.deepEqual(now.body, before.body, `${c.method} ${c.path} changed nothing`);
      assert.equal(now.headers.get('etag'), before.headers.get('etag'));
    }
  });

  test('the valid requests succeed, and each write is audited with before and after (secrets masked)', async () => {
    const firstId = (await listAudit(opened.ctx, 'cli', { limit: 1 }))[0]?.id ?? 0;
    for (const c of CASES) {
      const as = c.superAdmin ? who.root : who.acmeAdmin;
      const tag = c.tagOf ? await etag(as, c.tagOf) : undefined;
      const r = await call(as, c.method, c.path, opts(c, tag));
      assert.ok(r.status >= 200 && r.status < 300, `${c.method} ${c.path}: ${r.status} ${JSON.stringify(r.body)}`);
      if (c.tagOf && r.status === 200) assert.notEqual(r.headers.get('etag'), tag, `${c.method} ${c.path} answers the new ETag`);
    }
    acmePassword = 'acme-password-2';
    const entries = (await listAudit(opened.ctx, 'cli', { limit: 100 })).filter((e) => e.id > firstId).reverse();
    assert.deepEqual(
      entries.map((e) => `${e.username} ${e.action} ${e.target}`),
      [
        'acme-admin directory.import site directory',
        `acme-admin directory.set directory of device ${ACME_MAC}`,
        'acme-admin file.put file licenses/acme.lic',
        'acme-admin file.remove file doomed.txt',
        'root tenant.add tenant newco',
        'acme-admin tenant.set tenant acme',
        'root tenant.remove tenant doomed',
        'acme-admin group.set group floor-1',
        'acme-admin parameter.replace parameters of tenant',
      ],
    );
    const by = new Map(entries.map((e) => [e.action, e]));
    const site = by.get('directory.import')!;
    assert.deepEqual((site.before as { contacts: number }).contacts, 2);
    assert.deepEqual(site.after as object, { path: 'contacts/000000000000-directory.xml', blobKey: (await call(who.root, 'GET', `${T}/directory`)).body.blobKey, contacts: 3, mode: 'replace', imported: 3, replaced: 2, added: 1, removed: 0 });
    const device = by.get('directory.set')!;
    assert.deepEqual([(device.before as { contacts: number }).contacts, (device.after as { contacts: number; mode: string }).contacts, (device.after as { mode: string }).mode], [1, 2, 'merge']);
    const filePut = by.get('file.put')!;
    assert.deepEqual([(filePut.before as { size: number }).size, (filePut.after as { size: number; contentType: string }).size, (filePut.after as { contentType: string }).contentType], [10, 10, 'application/octet-stream']);
    assert.notEqual((filePut.before as { sha256: string }).sha256, (filePut.after as { sha256: string }).sha256);
    assert.deepEqual((by.get('file.remove')!.before as { path: string }).path, 'doomed.txt');
    assert.equal(by.get('file.remove')!.after, null);
    const added = by.get('tenant.add')!;
    assert.deepEqual([added.before, (added.after as { name: string }).name, (added.after as { unknownDevices: string }).unknownDevices, (added.after as { password: string }).password], [null, 'New Co', 'refuse', '(secret)']);
    const set = by.get('tenant.set')!;
    assert.deepEqual([(set.before as { name: string }).name, (set.after as { name: string }).name, (set.before as { logSegments: number }).logSegments, (set.after as { logSegments: number }).logSegments], ['acme', 'Acme Corp', 5, 3]);
    assert.equal((set.after as { password: string }).password, '(secret)', 'a changed password shows as changed, never its value');
    assert.ok(!('password' in (set.before as object)));
    assert.deepEqual([(by.get('tenant.remove')!.before as { slug: string }).slug, by.get('tenant.remove')!.after], ['doomed', null]);
    assert.deepEqual([by.get('group.set')!.before, by.get('group.set')!.after], [{ slug: 'floor-1', name: 'floor-1' }, { slug: 'floor-one', name: 'Floor one' }]);
    const layer = by.get('parameter.replace')!;
    assert.deepEqual(layer.before, { 'up.headsetMode': '1', 'voIpProt.server.1.address': 'old.acme.example' });
    assert.deepEqual(layer.after, { 'reg.1.auth.password': '(secret)', 'voIpProt.server.1.address': 'sip.acme.example' });
    assert.ok(entries.every((e) => e.ip === '127.0.0.1'));
    assert.ok(!JSON.stringify(entries).includes('n3w-secret') && !JSON.stringify(entries).includes('acme-password-2'), 'no secret reaches the audit log');
  });

  test('a site directory PUT over the API is what a phone then reads; bad rows are listed by line; a dry run stores nothing', async () => {
    const tag = await etag(who.acmeAdmin, `${T}/directory`);
    const put = await call(who.acmeAdmin, 'PUT', `${T}/directory`, { raw: csv(`${CSV_HEADER}Zoe,Quinn,401,7\n`), ifMatch: tag });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual([put.body.imported, put.body.removed, put.body.total, put.body.changed, put.body.dryRun], [1, 3, 1, true, false]);
    const xml = (await phoneBytes('/contacts/000000000000-directory.xml')).toString('utf8');
    assert.match(xml, /<fn>Zoe<\/fn>/);
    assert.match(xml, /<ct>401<\/ct>/);
    assert.doesNotMatch(xml, /<ct>201<\/ct>/);
    // The export imports back, and the ETag is the content's blob key.
    const exported = await call(who.acmeReader, 'GET', `${T}/directory.csv`);
    assert.match(exported.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(exported.body, /^First name,Last name,Number,Speed dial/);
    assert.match(exported.body, /\nZoe,Quinn,401,7,/);
    const view = await call(who.acmeReader, 'GET', `${T}/directory`);
    assert.equal(view.headers.get('etag'), `"${view.body.blobKey}"`);
    const same = await call(who.acmeAdmin, 'PUT', `${T}/directory`, { raw: csv(exported.body), ifMatch: view.headers.get('etag')! });
    assert.deepEqual([same.status, same.body.changed], [200, false]);

    const bad = await call(who.acmeAdmin, 'PUT', `${T}/directory?mode=merge`, { raw: csv(`${CSV_HEADER}Al,Bo,501,\nCy,Di,,\nEd,Fa,503,x\n`), ifMatch: '*' });
    assertProblem(bad, 400, /2 errors in the CSV; nothing was changed/);
    assert.deepEqual(bad.body.errors.map((e: { line: number; pointer: string }) => [e.line, e.pointer]), [[3, 'body/line/3'], [4, 'body/line/4']]);
    assert.match(bad.body.errors[1].message, /speed dial must be a whole number/);
    const skipped = await call(who.acmeAdmin, 'PUT', `${T}/directory?mode=merge&dryRun=true&skipBadRows=true`, { raw: csv(`${CSV_HEADER}Al,Bo,501,\nCy,Di,,\n`), ifMatch: '*' });
    assert.equal(skipped.status, 200, JSON.stringify(skipped.body));
    assert.deepEqual([skipped.body.dryRun, skipped.body.imported, skipped.body.total, skipped.body.skipped.map((s: { line: number }) => s.line)], [true, 1, 2, [3]]);
    const after = await call(who.acmeReader, 'GET', `${T}/directory`);
    assert.deepEqual(after.body, view.body, 'the dry run stored nothing');
    assert.match((await phoneBytes('/contacts/000000000000-directory.xml')).toString('utf8'), /<ct>401<\/ct>/);
    assertProblem(await call(who.acmeAdmin, 'PUT', `${T}/directory`, { raw: csv(SITE_CSV), headers: { 'if-none-match': '*' } }), 412, /exists already/);
  });

  test("a device directory PUT is what that phone reads next; where none exists it is created without If-Match, and If-Match * is refused", async () => {
    const mac = '0004f2000777';
    const none = await call(who.acmeAdmin, 'GET', `${T}/devices/${mac}/directory`);
    assert.deepEqual([none.status, none.body.source.kind, none.headers.get('etag')], [200, 'none', null]);
    assertProblem(await call(who.acmeAdmin, 'PUT', `${T}/devices/${mac}/directory`, { raw: csv(DEVICE_CSV), ifMatch: '*' }), 412, /nothing is stored there yet/);
    // A dry run says which version the real PUT records, and records none.
    const preview = await call(who.acmeAdmin, 'PUT', `${T}/devices/${mac}/directory?dryRun=true`, { raw: csv(`${CSV_HEADER}Gil,Ho,601,\n`), headers: { 'if-none-match': '*' } });
    assert.deepEqual([preview.status, preview.body.dryRun, preview.body.version, preview.body.total, preview.headers.get('etag')], [200, true, 1, 1, null], JSON.stringify(preview.body));
    assert.equal((await call(who.acmeReader, 'GET', `${T}/devices/${mac}/directory`)).body.source.kind, 'none');
    const created = await call(who.acmeAdmin, 'PUT', `${T}/devices/${mac}/directory`, { raw: csv(`${CSV_HEADER}Gil,Ho,601,\n`), headers: { 'if-none-match': '*' } });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.deepEqual([created.body.version, created.body.total], [1, 1]);
    assert.deepEqual({ ...created.body, dryRun: true }, preview.body, 'the dry run answered what the PUT did');
    assert.match(created.body.warnings.join('\n'), /neither registered in tenant "acme" nor seen/);
    const xml = (await phoneBytes(`/contacts/${mac}-directory.xml`)).toString('utf8');
    assert.match(xml, /<ct>601<\/ct>/);
    const shown = await call(who.acmeReader, 'GET', `${T}/devices/${mac}/directory`);
    assert.deepEqual([shown.body.source.kind, shown.body.source.version, shown.body.contacts.map((c: { contact: string }) => c.contact)], ['device-upload', 1, ['601']]);
    assertProblem(await call(who.acmeAdmin, 'PUT', `${T}/devices/${mac}/directory`, { raw: csv(DEVICE_CSV) }), 428, /If-Match/);
    const exported = await call(who.acmeReader, 'GET', `${T}/devices/${mac}/directory.csv`);
    assert.match(exported.body, /\nGil,Ho,601,/);
    assert.equal(exported.headers.get('etag'), shown.headers.get('etag'));
  });

  test('a file PUT is served to a phone byte for byte, with its content type over the API; DELETE takes it away', async () => {
    const bytes = Buffer.concat([Buffer.from('RIFF'), randomBytes(70_000)]);
    const created = await putBytes(who.acmeAdmin, `${T}/files/ringers/door.wav`, bytes, 'audio/wav');
    const body = (await created.json()) as { path: string; size: number; sha256: string };
    assert.equal(created.status, 201, JSON.stringify(body));
    assert.deepEqual([body.path, body.size], ['ringers/door.wav', bytes.length]);
    assert.equal(created.headers.get('location'), `${T}/files/ringers/door.wav`);
    assert.ok((await phoneBytes('/ringers/door.wav')).equals(bytes), 'the phone gets the bytes stored');
    const got = await fetch(`http://127.0.0.1:${api.port}${T}/files/ringers/door.wav`, { headers: { cookie: who.acmeReader.cookie! }, signal: AbortSignal.timeout(10_000) });
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('content-type'), 'audio/wav');
    assert.equal(got.headers.get('etag'), `"${body.sha256}"`);
    assert.ok(Buffer.from(await got.arrayBuffer()).equals(bytes));
    const cached = await fetch(`http://127.0.0.1:${api.port}${T}/files/ringers/door.wav`, { headers: { cookie: who.acmeReader.cookie!, 'if-none-match': `"${body.sha256}"` }, signal: AbortSignal.timeout(10_000) });
    assert.equal(cached.status, 304);
    const listed = await call(who.acmeReader, 'GET', `${T}/files?prefix=ringers/`);
    assert.deepEqual(listed.body.items.map((f: { path: string; contentType: string }) => [f.path, f.contentType]), [['ringers/door.wav', 'audio/wav']]);
    const paged = await call(who.acmeReader, 'GET', `${T}/files?limit=1`);
    assert.equal(paged.body.items.length, 1);
    assert.equal(paged.headers.get('link'), `<${T}/files?limit=1&cursor=${encodeURIComponent(paged.body.next)}>; rel="next"`);
    assertProblem(await call(who.acmeAdmin, 'PUT', `${T}/files/ringers/door.wav`, { raw: { contentType: 'audio/wav', data: 'x' }, headers: { 'if-none-match': '*' } }), 412, /exists already/);
    assertProblem(await call(who.acmeAdmin, 'DELETE', `${T}/files/ringers/door.wav`, { ifMatch: '"0000"' }), 412, /changed since you read it/);
    assert.equal((await call(who.acmeAdmin, 'DELETE', `${T}/files/ringers/door.wav`, { ifMatch: `"${body.sha256}"` })).status, 204);
    const gone = await phoneGet('/ringers/door.wav');
    assert.ok(!gone.ok && gone.problem === 'not-found', JSON.stringify(gone));
    assertProblem(await call(who.acmeAdmin, 'DELETE', `${T}/files/ringers/door.wav`, { ifMatch: '*' }), 404, /no file "ringers\/door\.wav"/);
  });

  test('hostile file paths are refused with 400, bodies past the limits with 413, and nothing is stored', async () => {
    const before = (await opened.ctx.store.listFiles(tenants.acme!.id)).map((f) => f.path);
    for (const path of ['/../../etc/passwd', '/a/../../b', '/..', '/x%00y', '/x%5Cy', '/sub/%2e%2e/%2e%2e/z', '/%252e%252e/z']) {
      for (const method of ['PUT', 'GET', 'DELETE']) {
        const r = await rawRequest(method, `${T}/files${path}`, who.acmeAdmin);
        assert.equal(r.status, 400, `${method} ${path}: ${r.status} ${r.body}`);
        assert.match(JSON.parse(r.body).detail, /invalid path/, `${method} ${path}`);
      }
    }
    for (const generated of ['000000000000.cfg', `${ACME_MAC}-polyprov.cfg`]) {
      assertProblem(await call(who.acmeAdmin, 'PUT', `${T}/files/${generated}`, { raw: { contentType: 'text/plain', data: 'x' } }), 400, /generated by polyprov/);
    }
    assertProblem(await call(who.acmeAdmin, 'PUT', `${T}/files/`, { raw: { contentType: 'text/plain', data: 'x' } }), 400, /invalid path: empty/);
    // Too large: a file that says so up front, a CSV past the directory limit.
    const huge = await rawRequest('PUT', `${T}/files/huge.bin`, who.acmeAdmin, { 'content-length': String(MAX_TREE_FILE_BYTES + 1) });
    assert.equal(huge.status, 413, huge.body);
    assert.match(JSON.parse(huge.body).detail, /more than the 1073741824 a PUT stores/);
    const bigCsv = CSV_HEADER + 'Al,Bo,501,\n'.repeat(Math.ceil(MAX_DIRECTORY_CSV_BYTES / 10));
    assertProblem(await call(who.acmeAdmin, 'PUT', `${T}/directory`, { raw: csv(bigCsv), ifMatch: '*' }), 413);
    assert.deepEqual((await opened.ctx.store.listFiles(tenants.acme!.id)).map((f) => f.path), before);
  });

  test("a parameter layer PUT removes the names it does not list, and the phone's configuration loses them", async () => {
    const config = async () => (await phoneBytes(`/${ACME_MAC}-polyprov.cfg`)).toString('utf8');
    let tag = await etag(who.acmeAdmin, `${T}/parameters?scope=group:floor-one`);
    const set = await call(who.acmeAdmin, 'PATCH', `${T}/parameters?scope=group:floor-one`, { body: { values: { 'up.headsetMode': '1', 'up.backlight.onIntensity': '2' } }, ifMatch: tag });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.match(await config(), /up\.backlight\.onIntensity="2"/);
    tag = set.headers.get('etag')!;
    const replaced = await call(who.acmeAdmin, 'PUT', `${T}/parameters?scope=group:floor-one`, { body: { values: { 'up.headsetMode': '1', 'feature.callList.enabled': '0' } }, ifMatch: tag });
    assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
    assert.deepEqual(replaced.body.parameters, { 'feature.callList.enabled': '0', 'up.headsetMode': '1' });
    const text = await config();
    assert.doesNotMatch(text, /up\.backlight\.onIntensity/);
    assert.match(text, /feature\.callList\.enabled="0"/);
    assert.match(text, /up\.headsetMode="1"/);
    // Unknown names are refused unless forced; names kept as they are need no force again.
    tag = replaced.headers.get('etag')!;
    assertProblem(await call(who.acmeAdmin, 'PUT', `${T}/parameters?scope=group:floor-one`, { body: { values: { 'acme.custom': '1' } }, ifMatch: tag }), 400, /nothing set:[\s\S]*acme\.custom[\s\S]*force/);
    const forced = await call(who.acmeAdmin, 'PUT', `${T}/parameters?scope=group:floor-one`, { body: { values: { 'acme.custom': '1' }, force: true }, ifMatch: tag });
    assert.equal(forced.status, 200, JSON.stringify(forced.body));
    assert.match(forced.body.warnings.join('\n'), /acme\.custom/);
    const kept = await call(who.acmeAdmin, 'PUT', `${T}/parameters?scope=group:floor-one`, { body: { values: { 'acme.custom': '1', 'up.headsetMode': '0' } }, ifMatch: forced.headers.get('etag')! });
    assert.equal(kept.status, 200, JSON.stringify(kept.body));
    assert.deepEqual(kept.body.parameters, { 'acme.custom': '1', 'up.headsetMode': '0' });
    const lastAudit = (await listAudit(opened.ctx, 'cli', { limit: 1 }))[0]!.id;
    const same = await call(who.acmeAdmin, 'PUT', `${T}/parameters?scope=group:floor-one`, { body: { values: kept.body.parameters }, ifMatch: kept.headers.get('etag')! });
    assert.deepEqual([same.status, same.headers.get('etag')], [200, kept.headers.get('etag')]);
    assert.equal((await listAudit(opened.ctx, 'cli', { limit: 1 }))[0]!.id, lastAudit, 'a replacement that changes nothing is not a change to audit');
    // polyprov's own settings are kept, and refused as values to change.
    assertProblem(await call(who.acmeAdmin, 'PUT', `${T}/parameters?scope=group:floor-one`, { body: { values: { 'polyprov.firmware.version': '6.4.6' } }, ifMatch: kept.headers.get('etag')! }), 400, /polyprov's own setting/);
    // An empty layer: every name goes.
    const empty = await call(who.acmeAdmin, 'PUT', `${T}/parameters?scope=group:floor-one`, { body: { values: {} }, ifMatch: kept.headers.get('etag')! });
    assert.deepEqual([empty.status, empty.body.parameters], [200, {}]);
    assert.doesNotMatch(await config(), /up\.headsetMode|acme\.custom/);
  });

  test("a tenant created over the API answers its password once, and that password lets a phone fetch", async () => {
    const created = await call(who.root, 'POST', '/api/v1/tenants', { body: { slug: 'freshco', name: 'Fresh Co' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.headers.get('location'), '/api/v1/tenants/freshco');
    assert.equal(created.body.tenant.username, 'freshco');
    assert.equal(typeof created.body.password, 'string');
    const master = (await phoneBytes('/000000000000.cfg', 'freshco', created.body.password)).toString('utf8');
    assert.match(master, /freshco|CONFIG_FILES/);
    const wrong = await phoneGet('/000000000000.cfg', 'freshco', 'not-the-password');
    assert.ok(!wrong.ok, 'a wrong password is refused');
    const again = await call(who.root, 'GET', '/api/v1/tenants/freshco');
    assert.equal(again.body.password, undefined, 'the password is never shown again');
    const chosen = await call(who.root, 'POST', '/api/v1/tenants', { body: { slug: 'chosenco', password: 'chosen-password-1' } });
    assert.deepEqual([chosen.status, chosen.body.password], [201, undefined], 'a password the caller chose is not echoed');
    assertProblem(await call(who.root, 'POST', '/api/v1/tenants', { body: { slug: 'freshco' } }), 409, /tenant "freshco" already exists/);
    // The acme password changed by the table's PATCH: the old one no longer opens acme.
    assert.ok(!(await phoneGet('/000000000000.cfg', 'acme', ACME_PASSWORD)).ok);
    // Removing it takes the phone's access with it.
    const tag = await etag(who.root, '/api/v1/tenants/freshco');
    assert.equal((await call(who.root, 'DELETE', '/api/v1/tenants/freshco', { ifMatch: tag })).status, 204);
    assert.ok(!(await phoneGet('/000000000000.cfg', 'freshco', created.body.password)).ok);
    assertProblem(await call(who.root, 'GET', '/api/v1/tenants/freshco'), 404);
  });

  test('a renamed group keeps its devices and parameters; a slug in use is 409 saying what to do', async () => {
    assertProblem(await call(who.acmeReader, 'GET', `${T}/groups/floor-1`), 404);
    const dev = await call(who.acmeReader, 'GET', D);
    assert.equal(dev.body.group, 'floor-one');
    const tag = await etag(who.acmeAdmin, `${T}/groups/floor-one`);
    const clash = await call(who.acmeAdmin, 'PATCH', `${T}/groups/floor-one`, { body: { slug: 'floor-2' }, ifMatch: tag });
    assertProblem(clash, 409, /group "floor-2" already exists in tenant "acme": choose another slug/);
    const back = await call(who.acmeAdmin, 'PATCH', `${T}/groups/floor-one`, { body: { slug: 'floor-1' }, ifMatch: tag });
    assert.equal(back.status, 200, JSON.stringify(back.body));
    assert.equal(back.headers.get('content-location'), `${T}/groups/floor-1`);
    assert.deepEqual(back.body, { slug: 'floor-1', name: 'Floor one' });
    const renamed = await call(who.acmeAdmin, 'PATCH', `${T}/groups/floor-1`, { body: { name: 'First floor' }, ifMatch: back.headers.get('etag')! });
    assert.deepEqual([renamed.status, renamed.headers.get('content-location'), renamed.body], [200, null, { slug: 'floor-1', name: 'First floor' }]);
    assert.equal((await call(who.acmeReader, 'GET', D)).body.group, 'floor-1');
  });
});

