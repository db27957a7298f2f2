import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { documentedRoutes } from '../../src/admin/api/api-app.js';
import { MAX_FIRMWARE_ZIP_BYTES } from '../../src/admin/api/routes-firmware.js';
import { zipBuffer } from '../support/crafted-zips.js';
import { startAdminApi, type RunningAdminApi } from '../../src/admin/api/start-admin-api.js';
import { listAudit } from '../../src/admin/audit-log.js';
import { addUser } from '../../src/admin/admin-users.js';
import { importRelease, prerequisiteReport, setFirmwareTarget, unsetFirmwareTarget } from '../../src/admin/firmware.js';
import { createRollout } from '../../src/admin/rollouts.js';
import { addDevice, addGroup, addSite } from '../../src/admin/structure.js';
import { addTenant } from '../../src/admin/tenants.js';
import { openCore, type OpenCore } from '../../src/app.js';
import type { Tenant } from '../../src/store/store.js';
import { assertTableClaims, closeApiFixture, addTestAdmins, adminApiClient, assertProblem, TEST_ADMIN_PASSWORD, errorRecordingLogger, logInTestAdmins, type Answer, type CallOptions, type TestAdmins, type Who } from '../support/admin-api.js';
import { FLEET_TABLE_ROUTES } from '../support/admin-api-fleet-routes.js';
import { tempDir } from '../support/server-process.js';
import { waitFor } from '../support/wait-for.js';

// The admin API routes of the firmware library, firmware targets and staged rollouts on a real
// fastify listener (127.0.0.1, port 0) over a real SQLite store and blob store, with the same
// table checks as api-routes.test.ts: 401, 403, tenant scoping, 400, 428/412, success and audit.
// Releases are imported from folders by the CLI's own service, and as zips (built with yazl)
// uploaded through the API; a phone's master file and images come from the real provisioning core.
// The global library's routes (/api/v1/firmware) have a table of their own: no tenant in the path,
// a super-admin's writes, reads for a super-admin or an all-tenant reader only.

const OLD = '5.9.8.5760';
const NEW = '6.4.6.1234';
const GLOBEX_VERSION = '6.3.1.8000';
const MAC_HQ = '0004f2a1b2c3';
const MAC_BRANCH = '0004f2a1b2c4';
const MAC_LAB = '0004f2a1b2c5';
const MAC_ANNEX = '0004f2a1b2c6';
const GLOBEX_MAC = '0004f2c0ffee';
const ANNEX_RUNNING = '5.7.2.1000';
const T = '/api/v1/tenants/acme';
const G = '/api/v1/tenants/globex';
const LONG = 'x'.repeat(65);

let dataDir: string;
let opened: OpenCore;
let api: RunningAdminApi;
const tenants: Record<string, Tenant> = {};
/** The content of every imported image ("<library>/<version>/<file>", which is also its text), to check the checksums the API shows. */
const imageTexts = new Set<string>();
const { logger: errorLogger, lines: errorLines } = errorRecordingLogger();
const { call, logIn, etag } = adminApiClient(() => `http://127.0.0.1:${api.port}`);
const who: TestAdmins = { root: {}, acmeAdmin: {}, acmeReader: {}, globexAdmin: {} };
/** A read-only user of every tenant: may read the global library. */
let auditor: Who = {};

/** A release folder (sip.ver and the images named), each image a few bytes naming its library, version and file. */
function releaseFolder(library: string, version: string, names: string[]): string {
  const dir = join(dataDir, 'releases', library, version);
  mkdirSync(dir, { recursive: true });
  for (const n of names) {
    const text = `${library}/${version}/${n}`;
    writeFileSync(join(dir, n), text);
    imageTexts.add(text);
  }
  writeFileSync(join(dir, 'sip.ver'), `${version}\n`);
  return dir;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** One valid request per route, in acme, and one the schema or service refuses. `tagOf` is the resource whose ETag an edit checks. */
interface RouteCase {
  method: string;
  path: string;
  route: string;
  write: boolean;
  body?: unknown;
  /** A zip body (application/zip) instead of JSON: a key of `zips`. */
  zip?: ZipName;
  tagOf?: string;
  bad: { path?: string; body?: unknown; zip?: ZipName; detail: RegExp };
}

type ZipName = 'release' | 'globalRelease' | 'notZip';
/** Zip bodies, built in before(). */
const zips: Record<ZipName, Buffer> = { release: Buffer.alloc(0), globalRelease: Buffer.alloc(0), notZip: Buffer.from('this is not a zip file') };
const UPLOADED = '6.4.7.100';
/** A release of acme's library that the table removes. */
const DOOMED = '6.0.0.100';
const UPLOAD_ZIP = 'UC_Software_6_4_7_100_release_sig_split.zip';

const ROLLOUT = `${T}/rollouts/canary`;
const CASES: RouteCase[] = [
  { method: 'GET', path: `${T}/firmware`, route: '/api/v1/tenants/{tenant}/firmware', write: false, bad: { path: `${T}/firmware?cursor=latest`, detail: /querystring\/cursor must match pattern/ } },
  {
    method: 'POST',
    path: `${T}/firmware?filename=${UPLOAD_ZIP}`,
    route: '/api/v1/tenants/{tenant}/firmware',
    write: true,
    zip: 'release',
    bad: { zip: 'notZip', detail: new RegExp(`cannot read "${UPLOAD_ZIP}" as a zip`) },
  },
  { method: 'GET', path: `${T}/firmware/${NEW}`, route: '/api/v1/tenants/{tenant}/firmware/{version}', write: false, bad: { path: `${T}/firmware/6.4.x`, detail: /invalid firmware version "6\.4\.x": expected a UC Software version/ } },
  {
    method: 'DELETE',
    path: `${T}/firmware/${DOOMED}`,
    route: '/api/v1/tenants/{tenant}/firmware/{version}',
    write: true,
    tagOf: `${T}/firmware/${DOOMED}`,
    bad: { path: `${T}/firmware/6.0.x`, detail: /invalid firmware version "6\.0\.x"/ },
  },
  { method: 'GET', path: `${T}/firmware-status`, route: '/api/v1/tenants/{tenant}/firmware-status', write: false, bad: { path: `${T}/firmware-status?site=hq`, detail: /querystring\/site is not a known field/ } },
  { method: 'GET', path: `${T}/firmware-target?scope=site:hq`, route: '/api/v1/tenants/{tenant}/firmware-target', write: false, bad: { path: `${T}/firmware-target?scope=planet:earth`, detail: /querystring\/scope must match pattern/ } },
  {
    method: 'PUT',
    path: `${T}/firmware-target?scope=site:hq`,
    route: '/api/v1/tenants/{tenant}/firmware-target',
    write: true,
    body: { version: NEW },
    tagOf: `${T}/firmware-target?scope=site:hq`,
    bad: { body: { version: '9.9.9' }, detail: /no firmware 9\.9\.9 in tenant "acme"'s library or the global one \(import it first/ },
  },
  {
    method: 'DELETE',
    path: `${T}/firmware-target?scope=site:hq`,
    route: '/api/v1/tenants/{tenant}/firmware-target',
    write: true,
    tagOf: `${T}/firmware-target?scope=site:hq`,
    bad: { path: `${T}/firmware-target?scope=site:hq&x=1`, detail: /querystring\/x is not a known field/ },
  },
  { method: 'GET', path: `${T}/rollouts`, route: '/api/v1/tenants/{tenant}/rollouts', write: false, bad: { path: `${T}/rollouts?status=flying`, detail: /querystring\/status must be one of "running", "paused", "completed", "rolled-back"/ } },
  {
    method: 'POST',
    path: `${T}/rollouts`,
    route: '/api/v1/tenants/{tenant}/rollouts',
    write: true,
    body: { name: 'hq-646', from: OLD, to: NEW, selector: { site: 'hq' } },
    bad: { body: { name: 'hq-646', from: OLD, to: NEW, selector: { site: 'hq' }, waves: [50, 10] }, detail: /invalid waves "50,10": expected rising percentages ending at 100/ },
  },
  { method: 'GET', path: ROLLOUT, route: '/api/v1/tenants/{tenant}/rollouts/{name}', write: false, bad: { path: `${T}/rollouts/${LONG}`, detail: /params\/name must NOT have more than 64 characters/ } },
  { method: 'POST', path: `${ROLLOUT}/pause`, route: '/api/v1/tenants/{tenant}/rollouts/{name}/pause', write: true, tagOf: ROLLOUT, bad: { path: `${T}/rollouts/${LONG}/pause`, detail: /params\/name must NOT have more than 64/ } },
  { method: 'POST', path: `${ROLLOUT}/resume`, route: '/api/v1/tenants/{tenant}/rollouts/{name}/resume', write: true, tagOf: ROLLOUT, bad: { path: `${T}/rollouts/${LONG}/resume`, detail: /params\/name must NOT have more than 64/ } },
  { method: 'POST', path: `${ROLLOUT}/rollback`, route: '/api/v1/tenants/{tenant}/rollouts/{name}/rollback', write: true, tagOf: ROLLOUT, bad: { path: `${T}/rollouts/${LONG}/rollback`, detail: /params\/name must NOT have more than 64/ } },
  { method: 'DELETE', path: ROLLOUT, route: '/api/v1/tenants/{tenant}/rollouts/{name}', write: true, tagOf: ROLLOUT, bad: { path: `${T}/rollouts/${LONG}`, detail: /params\/name must NOT have more than 64/ } },
];

const GLOBAL_UPLOADED = '6.4.8.200';
const GLOBAL_UPLOAD_ZIP = 'UC_Software_6_4_8_200_release_sig_combined.zip';
/** A release of the global library that the table removes. */
const GLOBAL_DOOMED = '6.0.0.200';
const GL = '/api/v1/firmware';
const GLOBAL_CASES: RouteCase[] = [
  { method: 'GET', path: GL, route: '/api/v1/firmware', write: false, bad: { path: `${GL}?cursor=latest`, detail: /querystring\/cursor must match pattern/ } },
  {
    method: 'POST',
    path: `${GL}?filename=${GLOBAL_UPLOAD_ZIP}`,
    route: '/api/v1/firmware',
    write: true,
    zip: 'globalRelease',
    bad: { zip: 'notZip', detail: new RegExp(`cannot read "${GLOBAL_UPLOAD_ZIP}" as a zip`) },
  },
  { method: 'GET', path: `${GL}/${OLD}`, route: '/api/v1/firmware/{version}', write: false, bad: { path: `${GL}/6.4.x`, detail: /invalid firmware version "6\.4\.x": expected a UC Software version/ } },
  {
    method: 'DELETE',
    path: `${GL}/${GLOBAL_DOOMED}`,
    route: '/api/v1/firmware/{version}',
    write: true,
    tagOf: `${GL}/${GLOBAL_DOOMED}`,
    bad: { path: `${GL}/6.0.x`, detail: /invalid firmware version "6\.0\.x"/ },
  },
];

type SendOptions = CallOptions & { zip?: Buffer };

function opts(c: { body?: unknown; zip?: ZipName }, ifMatch?: string): SendOptions {
  return { ...(c.body !== undefined ? { body: c.body } : {}), ...(c.zip !== undefined ? { zip: zips[c.zip] } : {}), ...(ifMatch !== undefined ? { ifMatch } : {}) };
}

/** `call`, or for a zip body the same request with the zip's bytes (the shared client sends text only). */
async function send(as: Who | undefined, method: string, path: string, o: SendOptions = {}): Promise<Answer> {
  if (o.zip === undefined) return call(as, method, path, o);
  const headers: Record<string, string> = { 'content-type': 'application/zip' };
  if (as?.cookie) headers.cookie = as.cookie;
  if (as?.csrf) headers['x-csrf-token'] = as.csrf;
  if (as?.bearer) headers.authorization = `Bearer ${as.bearer}`;
  if (o.ifMatch !== undefined) headers['if-match'] = o.ifMatch;
  const res = await fetch(`http://127.0.0.1:${api.port}${path}`, { method, headers, body: new Uint8Array(o.zip), signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/** The temporary folders uploads are streamed to (removed once the request is answered). */
const uploadFolders = () => readdirSync(tmpdir()).filter((n) => n.startsWith('polyprov-firmware-upload-'));
/** Those left by other runs, which this one does not judge. */
let foldersBefore = new Set<string>();

/** A zip upload that declares `length` bytes and sends two: what the server answers without the rest (10 s at most). */
function partialUpload(as: Who, path: string, length: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = { cookie: as.cookie!, 'x-csrf-token': as.csrf!, 'content-type': 'application/zip', 'content-length': String(length) };
    const req = httpRequest({ host: '127.0.0.1', port: api.port, method: 'POST', path, headers, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to a partial upload to ${path} within 10 s`)));
    req.on('error', reject);
    req.write('PK');
  });
}


/** What a refused edit must leave as it was: a rollout's state (its status report also says what the clock would do next). */
const stateOf = (r: Answer) => (r.body?.rollout !== undefined ? r.body.rollout : r.body);

/** The APP_FILE_PATH a phone of this model and version gets from the core: its own master if it has one, else the shared one. */
async function bootAppFilePath(mac: string, model: string, running: string): Promise<string> {
  const userAgent = `FileTransport PolycomVVX-${model}-UA/${running} (SN:${mac}) Type/Application`;
  const credentials = { kind: 'password' as const, username: 'acme', password: 'acme-password-1' };
  for (const name of [`${mac}.cfg`, '000000000000.cfg']) {
    const a = await opened.core.handle({ protocol: 'http', operation: 'read', target: `/${name}`, ip: '127.0.0.1', credentials, userAgent });
    if (!a.ok) continue;
    assert.equal(a.resource.kind, 'generated');
    const xml = (a.resource as { body: Buffer }).body.toString('utf8');
    const own = new RegExp(`APP_FILE_PATH_${model.replace('_', '')}="([^"]*)"`).exec(xml);
    return (own ?? /APP_FILE_PATH="([^"]*)"/.exec(xml))![1]!;
  }
  throw new Error(`no master file for ${mac}`);
}

before(async () => {
  dataDir = tempDir('polyprov-api-fleet-test-');
  foldersBefore = new Set(uploadFolders());
  opened = await openCore({ dataDir, inventoryFlushMs: 50, blobCacheMb: 16 }, errorLogger);
  const ctx = opened.ctx;
  const acme = (tenants.acme = (await addTenant(ctx, 'acme', { password: 'acme-password-1' })).tenant);
  const globex = (tenants.globex = (await addTenant(ctx, 'globex', {})).tenant);
  for (const s of ['hq', 'branch', 'annex']) await addSite(ctx, acme, s);
  await addGroup(ctx, acme, 'lab');
  await addSite(ctx, globex, 'secret-site');
  await addDevice(ctx, acme, MAC_HQ, { site: 'hq' });
  await addDevice(ctx, acme, MAC_BRANCH, { site: 'branch' });
  await addDevice(ctx, acme, MAC_LAB, { group: 'lab' });
  await addDevice(ctx, acme, MAC_ANNEX, { site: 'annex' });
  await addDevice(ctx, globex, GLOBEX_MAC, { site: 'secret-site' });
  const at = new Date().toISOString();
  await ctx.store.recordSightings([
    ...[MAC_HQ, MAC_BRANCH, MAC_LAB].map((mac) => ({ tenantId: acme.id, mac, at, model: 'VVX_450', firmware: OLD, phase: 'application' as const })),
    { tenantId: acme.id, mac: MAC_ANNEX, at, model: 'VVX_450', firmware: ANNEX_RUNNING, phase: 'application' as const },
    { tenantId: globex.id, mac: GLOBEX_MAC, at, model: 'VVX_450', firmware: OLD, phase: 'application' as const },
  ]);

  await importRelease(ctx, acme, [releaseFolder('acme', NEW, ['3111-44500-001.sip.ld', '3111-48840-001.sip.ld'])]);
  await importRelease(ctx, null, [releaseFolder('global', NEW, ['sip.ld'])]);
  await importRelease(ctx, null, [releaseFolder('global', OLD, ['sip.ld'])]);
  await importRelease(ctx, globex, [releaseFolder('globex', GLOBEX_VERSION, ['sip.ld'])]);
  await importRelease(ctx, acme, [releaseFolder('acme', DOOMED, ['sip.ld'])]);
  await importRelease(ctx, null, [releaseFolder('global', GLOBAL_DOOMED, ['sip.ld'])]);

  zips.release = await zipBuffer([
    [`${UPLOAD_ZIP.replace(/\.zip$/, '')}/sip.ver`, `${UPLOADED}\n`],
    [`${UPLOAD_ZIP.replace(/\.zip$/, '')}/3111-48840-001.sip.ld`, `upload/${UPLOADED}/3111-48840-001.sip.ld`],
  ]);
  imageTexts.add(`upload/${UPLOADED}/3111-48840-001.sip.ld`);
  zips.globalRelease = await zipBuffer([
    ['sip.ver', `${GLOBAL_UPLOADED}\n`],
    ['sip.ld', `global-upload/${GLOBAL_UPLOADED}/sip.ld`],
  ]);

  // The table edits a layer that already has a target, and a rollout that already runs.
  await setFirmwareTarget(ctx, acme, { site: 'hq' }, OLD);
  await createRollout(ctx, acme, { name: 'canary', from: OLD, to: NEW, selector: { site: 'branch' }, waves: [1, 10, 100], waveIntervalMs: 3_600_000, deadlineMs: 7_200_000, maxFailurePercent: 0 });

  await addTestAdmins(ctx);
  await addUser(ctx, 'cli', { username: 'auditor', role: 'read-only', password: TEST_ADMIN_PASSWORD });
  api = await startAdminApi(ctx, { host: '127.0.0.1', port: 0, logger: errorLogger });
  await logInTestAdmins(logIn, who);
  auditor = await logIn('auditor');
});

after(() => closeApiFixture({ api, opened, dataDir, errorLines }));

describe('admin API routes: firmware library, targets and rollouts', () => {
  test('the table is exactly the documented routes it claims', () => {
    const mine = assertTableClaims([...CASES, ...GLOBAL_CASES], FLEET_TABLE_ROUTES, api.app);
    const documented = new Set(documentedRoutes(api.app).map((r) => `${r.method} ${r.path}`));
    const fleet = [...documented].filter((r) => / \/api\/v1\/(tenants\/\{tenant\}\/)?(firmware|rollouts)/.test(r)).sort();
    assert.deepEqual(fleet, mine, 'every firmware and rollout route is in the table');
  });

  test('the OpenAPI document describes every route of the table (summary, tags, responses) and still validates', async () => {
    const res = await fetch(`http://127.0.0.1:${api.port}/api/v1/openapi.json`, { signal: AbortSignal.timeout(10_000) });
    const doc = (await res.json()) as { paths: Record<string, Record<string, { summary?: string; tags?: string[]; responses?: Record<string, unknown> }>> };
    for (const r of FLEET_TABLE_ROUTES) {
      const [method, path] = r.split(' ') as [string, string];
      const op = doc.paths[path]?.[method];
      assert.ok(op, `${r} is in the OpenAPI document`);
      assert.ok(op.summary && op.tags?.length, `${r} has a summary and tags`);
      for (const code of ['400', '401', '403']) assert.ok(op.responses?.[code], `${r} documents ${code}`);
    }
    const result = await new Validator().validate(structuredClone(doc));
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2)?.slice(0, 2000));
  });

  test('every route answers 401 problem+json without credentials, with a bad token or an ended session', async () => {
    for (const c of [...CASES, ...GLOBAL_CASES]) {
      const r = await send(undefined, c.method, c.path, opts(c));
      assertProblem(r, 401, /log in/);
      assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
      assertProblem(await send({ bearer: 'pp_' + 'A'.repeat(43) }, c.method, c.path, opts(c)), 401, /unknown, revoked or expired/);
      assertProblem(await send({ cookie: 'pp_session=' + 'B'.repeat(43), csrf: 'x' }, c.method, c.path, opts(c)), 401, /session has ended/);
    }
  });

  test('a read-only user gets 403 on every write and reads its tenant', async () => {
    for (const c of CASES) {
      const tag = c.tagOf ? await etag(who.acmeReader, c.tagOf) : undefined;
      const r = await send(who.acmeReader, c.method, c.path, opts(c, tag));
      if (c.write) assertProblem(r, 403, /acme-reader \(read-only\) may not change tenant "acme"/);
      else assert.equal(r.status, 200, `${c.method} ${c.path}: ${JSON.stringify(r.body)}`);
    }
  });

  test("another tenant's admin gets 403 on every route of acme, and acme's admin never reaches globex's", async () => {
    for (const c of CASES) assertProblem(await send(who.globexAdmin, c.method, c.path, opts(c, '*')), 403, /globex-admin \(tenant-admin\) may not (read|change) tenant "acme"/);
    for (const c of CASES) {
      const path = c.path.replace(T, G);
      assertProblem(await send(who.acmeAdmin, c.method, path, opts(c, '*')), 403, /acme-admin \(tenant-admin\) may not (read|change) tenant "globex"/);
    }
  });

  test('every route answers 400 problem+json saying what to fix', async () => {
    for (const c of CASES) {
      const tag = c.tagOf ? await etag(who.root, c.tagOf) : undefined;
      const body = 'body' in c.bad ? c.bad.body : c.body;
      const zip = c.bad.zip ?? c.zip;
      assertProblem(await send(who.root, c.method, c.bad.path ?? c.path, opts({ body, ...(zip !== undefined ? { zip } : {}) }, tag)), 400, c.bad.detail);
    }
  });

  test('edits answer 428 without If-Match and 412 with a stale ETag, and change nothing', async () => {
    for (const c of CASES.filter((x) => x.tagOf)) {
      const before = await call(who.root, 'GET', c.tagOf!);
      assertProblem(await send(who.acmeAdmin, c.method, c.path, opts(c)), 428, /If-Match/);
      assertProblem(await send(who.acmeAdmin, c.method, c.path, opts(c, '"stale"')), 412, /changed since you read it/);
      const now = await call(who.root, 'GET', c.tagOf!);
      assert.deepEqual(stateOf(now), stateOf(before), `${c.method} ${c.path} changed nothing`);
      assert.equal(now.headers.get('etag'), before.headers.get('etag'));
    }
  });

  test('the valid requests succeed for a tenant admin, and each write is audited with before and after', async () => {
    const firstId = (await listAudit(opened.ctx, 'cli', { limit: 1 }))[0]?.id ?? 0;
    for (const c of CASES) {
      const tag = c.tagOf ? await etag(who.acmeAdmin, c.tagOf) : undefined;
      const r = await send(who.acmeAdmin, c.method, c.path, opts(c, tag));
      assert.ok(r.status >= 200 && r.status < 300, `${c.method} ${c.path}: ${r.status} ${JSON.stringify(r.body)}`);
      if (c.tagOf && r.status === 200) assert.notEqual(r.headers.get('etag'), tag, `${c.method} ${c.path} answers the new ETag`);
    }
    const entries = (await listAudit(opened.ctx, 'cli', { limit: 100 })).filter((e) => e.id > firstId).reverse();
    assert.deepEqual(
      entries.map((e) => `${e.username} ${e.action} ${e.target}`),
      [
        `acme-admin firmware.import firmware ${UPLOADED}`,
        `acme-admin firmware.remove firmware ${DOOMED}`,
        'acme-admin firmware.target.set firmware target of site:hq',
        'acme-admin firmware.target.unset firmware target of site:hq',
        'acme-admin rollout.add rollout hq-646',
        'acme-admin rollout.pause rollout canary',
        'acme-admin rollout.resume rollout canary',
        'acme-admin rollout.rollback rollout canary',
        'acme-admin rollout.remove rollout canary',
      ],
    );
    assert.ok(entries.every((e) => e.ip === '127.0.0.1' && e.tenantId === tenants.acme!.id));
    const byAction = new Map(entries.map((e) => [e.action, e]));
    const uploadedImage = `upload/${UPLOADED}/3111-48840-001.sip.ld`;
    assert.equal(byAction.get('firmware.import')!.before, null);
    assert.deepEqual(byAction.get('firmware.import')!.after, {
      version: UPLOADED,
      library: 'tenant',
      layout: 'split',
      source: UPLOAD_ZIP,
      images: [{ fileName: '3111-48840-001.sip.ld', size: uploadedImage.length, sha256: sha256(uploadedImage) }],
    });
    assert.deepEqual(pick(byAction.get('firmware.remove')!.before, 'version', 'library', 'source'), { version: DOOMED, library: 'tenant', source: DOOMED });
    assert.equal(byAction.get('firmware.remove')!.after, null);
    assertProblem(await call(who.acmeAdmin, 'GET', `${T}/firmware/${DOOMED}`), 404);
    assert.deepEqual(byAction.get('firmware.target.set')!.before, { version: OLD, allowDowngrade: false, loopDetected: null });
    assert.deepEqual(byAction.get('firmware.target.set')!.after, { version: NEW, allowDowngrade: false, loopDetected: null, library: 'tenant' });
    assert.deepEqual(byAction.get('firmware.target.unset')!.before, { version: NEW, allowDowngrade: false, loopDetected: null });
    assert.equal(byAction.get('firmware.target.unset')!.after, null);
    const added = byAction.get('rollout.add')!;
    assert.equal(added.before, null);
    assert.deepEqual(pick(added.after, 'name', 'from', 'to', 'selector', 'waves', 'status', 'devices'), { name: 'hq-646', from: OLD, to: NEW, selector: { site: 'hq' }, waves: [1, 10, 100], status: 'running', devices: 1 });
    const statusChange = (action: string) => [pick(byAction.get(action)!.before, 'status', 'reason'), pick(byAction.get(action)!.after, 'status', 'reason')];
    assert.deepEqual(statusChange('rollout.pause'), [{ status: 'running', reason: null }, { status: 'paused', reason: 'paused by acme-admin' }]);
    assert.deepEqual(statusChange('rollout.resume'), [{ status: 'paused', reason: 'paused by acme-admin' }, { status: 'running', reason: null }]);
    assert.deepEqual(statusChange('rollout.rollback'), [{ status: 'running', reason: null }, { status: 'rolled-back', reason: 'rolled back by an administrator' }]);
    assert.deepEqual(pick(byAction.get('rollout.remove')!.before, 'name', 'status'), { name: 'canary', status: 'rolled-back' });
    assert.equal(byAction.get('rollout.remove')!.after, null);
    assertProblem(await call(who.acmeAdmin, 'GET', ROLLOUT), 404, /no rollout "canary" in tenant "acme" \(see GET \/api\/v1\/tenants\/acme\/rollouts\)/);
  });

  test('the global library: tenant admins and readers get 403 on every route; an all-tenant reader reads and may not write', async () => {
    const before = (await call(who.root, 'GET', GL)).body;
    const admins: [string, Who][] = [['acme-admin (tenant-admin)', who.acmeAdmin], ['acme-reader (read-only)', who.acmeReader], ['globex-admin (tenant-admin)', who.globexAdmin]];
    for (const [name, as] of admins) {
      for (const c of GLOBAL_CASES) {
        const said = c.write ? 'change the global firmware library: ask a super-admin' : 'read the global firmware library directly: see GET /api/v1/tenants/{tenant}/firmware?library=global';
        assertProblem(await send(as, c.method, c.path, opts(c, '*')), 403, new RegExp(`^${escapeRegExp(`${name} may not ${said}`)}`));
      }
    }
    for (const c of GLOBAL_CASES) {
      const tag = c.tagOf ? await etag(auditor, c.tagOf) : undefined;
      const r = await send(auditor, c.method, c.path, opts(c, tag));
      if (c.write) assertProblem(r, 403, /^auditor \(read-only\) may not change the global firmware library/);
      else assert.equal(r.status, 200, `${c.method} ${c.path}: ${JSON.stringify(r.body)}`);
    }
    assert.deepEqual((await call(who.root, 'GET', GL)).body, before, 'nothing changed');
  });

  test('the global library: 400 saying what to fix; removal answers 428 without If-Match and 412 with a stale ETag', async () => {
    for (const c of GLOBAL_CASES) {
      const tag = c.tagOf ? await etag(who.root, c.tagOf) : undefined;
      const body = 'body' in c.bad ? c.bad.body : c.body;
      const zip = c.bad.zip ?? c.zip;
      assertProblem(await send(who.root, c.method, c.bad.path ?? c.path, opts({ body, ...(zip !== undefined ? { zip } : {}) }, tag)), 400, c.bad.detail);
    }
    assertProblem(await call(who.root, 'GET', `${GL}/7.0.0`), 404, /no firmware 7\.0\.0 in the global library \(see GET \/api\/v1\/firmware/);
    for (const c of GLOBAL_CASES.filter((x) => x.tagOf)) {
      const before = await call(who.root, 'GET', c.tagOf!);
      assertProblem(await send(who.root, c.method, c.path, opts(c)), 428, /If-Match/);
      assertProblem(await send(who.root, c.method, c.path, opts(c, '"stale"')), 412, /changed since you read it/);
      const now = await call(who.root, 'GET', c.tagOf!);
      assert.deepEqual([now.body, now.headers.get('etag')], [before.body, before.headers.get('etag')], `${c.method} ${c.path} changed nothing`);
    }
  });

  test('the global library: a super-admin imports and removes, audited with before and after; removal is refused while any tenant needs the version', async () => {
    const firstId = (await listAudit(opened.ctx, 'cli', { limit: 1 }))[0]?.id ?? 0;
    for (const c of GLOBAL_CASES) {
      const tag = c.tagOf ? await etag(who.root, c.tagOf) : undefined;
      const r = await send(who.root, c.method, c.path, opts(c, tag));
      assert.ok(r.status >= 200 && r.status < 300, `${c.method} ${c.path}: ${r.status} ${JSON.stringify(r.body)}`);
      if (c.method === 'POST') assert.equal(r.headers.get('location'), `${GL}/${GLOBAL_UPLOADED}`);
    }
    const list = await call(auditor, 'GET', GL);
    assert.deepEqual([list.body.items.map((r: { version: string; library: string }) => `${r.version}@${r.library}`), list.body.next], [[`${GLOBAL_UPLOADED}@global`, `${NEW}@global`, `${OLD}@global`], null]);
    const page = await call(auditor, 'GET', `${GL}?limit=2`);
    assert.deepEqual([page.body.items.length, page.body.next, page.headers.get('link')], [2, NEW, `<${GL}?limit=2&cursor=${NEW}>; rel="next"`]);
    assert.deepEqual((await call(auditor, 'GET', `${GL}?cursor=${NEW}`)).body.items.map((r: { version: string }) => r.version), [OLD]);
    const uploadedImage = `global-upload/${GLOBAL_UPLOADED}/sip.ld`;
    const one = await call(auditor, 'GET', `${GL}/${GLOBAL_UPLOADED}`);
    assert.deepEqual(pick(one.body, 'library', 'shadowed', 'layout', 'source', 'folder'), { library: 'global', shadowed: false, layout: 'combined', source: GLOBAL_UPLOAD_ZIP, folder: `firmware/${GLOBAL_UPLOADED}/` });
    assert.deepEqual(one.body.images.map((i: { fileName: string; sha256: string }) => [i.fileName, i.sha256]), [['sip.ld', sha256(uploadedImage)]]);
    const seen = await call(who.globexAdmin, 'GET', `${G}/firmware/${GLOBAL_UPLOADED}`);
    assert.deepEqual([seen.status, seen.body.library], [200, 'global'], 'every tenant gets the new global release');

    // Refused while a tenant targets it, or a rollout of any tenant needs it.
    await setFirmwareTarget(opened.ctx, tenants.globex!, {}, GLOBAL_UPLOADED);
    assertProblem(await call(who.root, 'DELETE', `${GL}/${GLOBAL_UPLOADED}`, { ifMatch: one.headers.get('etag')! }), 400, /^firmware 6\.4\.8\.200 is still the target of: tenant globex, tenant layer \(/);
    await unsetFirmwareTarget(opened.ctx, tenants.globex!, {});
    assertProblem(await call(who.root, 'DELETE', `${GL}/${OLD}`, { ifMatch: await etag(who.root, `${GL}/${OLD}`) }), 400, /^firmware 5\.9\.8\.5760 is needed by rollout "hq-646" of tenant acme \(running, from 5\.9\.8\.5760 to 6\.4\.6\.1234\): let it complete, or roll it back/);
    // Removed again, so the tenants' lists are as the other tests expect.
    const removed = await call(who.root, 'DELETE', `${GL}/${GLOBAL_UPLOADED}`, { ifMatch: one.headers.get('etag')! });
    assert.equal(removed.status, 204, JSON.stringify(removed.body));
    assertProblem(await call(who.root, 'GET', `${GL}/${GLOBAL_UPLOADED}`), 404);

    const entries = (await listAudit(opened.ctx, 'cli', { limit: 100 })).filter((e) => e.id > firstId).reverse();
    assert.deepEqual(
      entries.map((e) => `${e.username} ${e.action} ${e.target} ${e.tenantId}`),
      [`root firmware.import firmware ${GLOBAL_UPLOADED} null`, `root firmware.remove firmware ${GLOBAL_DOOMED} null`, `root firmware.remove firmware ${GLOBAL_UPLOADED} null`],
    );
    assert.ok(entries.every((e) => e.ip === '127.0.0.1'));
    const imported = { version: GLOBAL_UPLOADED, library: 'global', layout: 'combined', source: GLOBAL_UPLOAD_ZIP, images: [{ fileName: 'sip.ld', size: uploadedImage.length, sha256: sha256(uploadedImage) }] };
    assert.deepEqual([entries[0]!.before, entries[0]!.after], [null, imported]);
    assert.deepEqual([pick(entries[1]!.before, 'version', 'library', 'source'), entries[1]!.after], [{ version: GLOBAL_DOOMED, library: 'global', source: GLOBAL_DOOMED }, null]);
    assert.deepEqual([entries[2]!.before, entries[2]!.after], [imported, null]);
  });

  test('releases: both libraries newest first, marked, with images, models and checksums; paged; one by version', async () => {
    const list = await call(who.acmeReader, 'GET', `${T}/firmware`);
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.deepEqual(list.body.items.map((r: { version: string; library: string; shadowed: boolean }) => [r.version, r.library, r.shadowed]), [[UPLOADED, 'tenant', false], [NEW, 'tenant', false], [NEW, 'global', true], [OLD, 'global', false]]);
    const own = list.body.items[1];
    assert.deepEqual([own.folder, own.layout, own.models, own.size], [`firmware/${NEW}/`, 'split', ['VVX_450', 'VVX_500'], imageSize('acme', NEW, ['3111-44500-001.sip.ld', '3111-48840-001.sip.ld'])]);
    assert.deepEqual(
      own.images.map((i: { fileName: string; partNumber: string; models: string[]; size: number; sha256: string }) => [i.fileName, i.partNumber, i.models, i.size, i.sha256]),
      ['3111-44500-001.sip.ld', '3111-48840-001.sip.ld'].map((n) => [n, n.slice(0, 14), [n === '3111-44500-001.sip.ld' ? 'VVX_500' : 'VVX_450'], `acme/${NEW}/${n}`.length, sha256(`acme/${NEW}/${n}`)]),
    );
    assert.equal(list.body.next, null);

    const page = await call(who.acmeReader, 'GET', `${T}/firmware?limit=1`);
    assert.deepEqual([page.body.items.length, page.body.next], [1, `${UPLOADED}@tenant`]);
    assert.equal(page.headers.get('link'), `<${T}/firmware?limit=1&cursor=${encodeURIComponent(`${UPLOADED}@tenant`)}>; rel="next"`);
    const rest = await call(who.acmeReader, 'GET', `${T}/firmware?cursor=${NEW}@tenant`);
    assert.deepEqual(rest.body.items.map((r: { version: string; library: string }) => `${r.version}@${r.library}`), [`${NEW}@global`, `${OLD}@global`]);
    const global = await call(who.acmeReader, 'GET', `${T}/firmware?library=global`);
    assert.deepEqual(global.body.items.map((r: { version: string }) => r.version), [NEW, OLD]);

    const one = await call(who.acmeReader, 'GET', `${T}/firmware/${NEW}`);
    assert.deepEqual(one.body, own, "one version is the release the tenant's phones get: its own copy");
    const theirs = await call(who.acmeReader, 'GET', `${T}/firmware/${NEW}?library=global`);
    assert.deepEqual([theirs.body.library, theirs.body.shadowed, theirs.body.images[0].sha256], ['global', true, sha256(`global/${NEW}/sip.ld`)]);
    assert.equal((await call(who.acmeReader, 'GET', `${T}/firmware/${OLD}`)).body.library, 'global');
    assertProblem(await call(who.acmeReader, 'GET', `${T}/firmware/7.0.0`), 404, /no firmware 7\.0\.0 in tenant "acme"'s library or the global one \(see GET \/api\/v1\/tenants\/acme\/firmware/);
    assertProblem(await call(who.acmeReader, 'GET', `${T}/firmware/${OLD}?library=tenant`), 404, /no firmware 5\.9\.8\.5760 in tenant "acme"'s library \(/);
  });

  test("globex's admin sees its own and the global releases, never acme's, nor acme's rollouts", async () => {
    const list = await call(who.globexAdmin, 'GET', `${G}/firmware`);
    assert.deepEqual(list.body.items.map((r: { version: string; library: string; shadowed: boolean }) => [r.version, r.library, r.shadowed]), [[NEW, 'global', false], [GLOBEX_VERSION, 'tenant', false], [OLD, 'global', false]]);
    const hashes = list.body.items.flatMap((r: { images: { sha256: string }[] }) => r.images.map((i) => i.sha256));
    for (const text of imageTexts) if (text.startsWith('acme/')) assert.ok(!hashes.includes(sha256(text)), `globex never sees acme's ${text}`);
    assert.equal((await call(who.globexAdmin, 'GET', `${G}/firmware/${NEW}`)).body.library, 'global', "globex gets the global copy, not acme's");
    assertProblem(await call(who.globexAdmin, 'GET', `${G}/firmware/${NEW}?library=tenant`), 404, /no firmware 6\.4\.6\.1234 in tenant "globex"'s library/);
    assertProblem(await call(who.acmeAdmin, 'GET', `${T}/firmware/${GLOBEX_VERSION}`), 404, /no firmware 6\.3\.1\.8000/);
    assertProblem(await call(who.acmeAdmin, 'PUT', `${T}/firmware-target?scope=tenant`, { body: { version: GLOBEX_VERSION } }), 400, /no firmware 6\.3\.1\.8000 in tenant "acme"'s library or the global one/);
    assertProblem(await call(who.acmeAdmin, 'GET', `${T}/firmware-target?scope=site:secret-site`), 404, /no site "secret-site" in tenant "acme"/);
    assertProblem(await call(who.acmeAdmin, 'PUT', `${T}/firmware-target?scope=device:${GLOBEX_MAC}`, { body: { version: NEW } }), 404, /no device 0004f2c0ffee in tenant "acme"/);
    assertProblem(await call(who.acmeAdmin, 'POST', `${T}/rollouts`, { body: { name: 'theirs', from: OLD, to: NEW, selector: { site: 'secret-site' } } }), 400, /no site "secret-site" in tenant "acme"/);

    const rollouts = await call(who.globexAdmin, 'GET', `${G}/rollouts`);
    assert.deepEqual([rollouts.status, rollouts.body.items], [200, []]);
    assertProblem(await call(who.globexAdmin, 'GET', `${G}/rollouts/hq-646`), 404, /no rollout "hq-646" in tenant "globex"/);
    const status = await call(who.globexAdmin, 'GET', `${G}/firmware-status`);
    assert.deepEqual(status.body.items, [{ running: OLD, target: 'none', devices: 1, state: 'no-target' }]);
  });

  test('an uploaded zip is imported like `polyprov firmware import`, served to phones, and refused when it should be', async () => {
    const path = `${T}/firmware?filename=${UPLOAD_ZIP}`;
    const one = await call(who.acmeReader, 'GET', `${T}/firmware/${UPLOADED}`);
    assert.deepEqual([one.body.library, one.body.source, one.body.models], ['tenant', UPLOAD_ZIP, ['VVX_450']]);
    const image = await opened.core.handle({ protocol: 'http', operation: 'read', target: `/firmware/${UPLOADED}/3111-48840-001.sip.ld`, ip: '127.0.0.1', credentials: { kind: 'password', username: 'acme', password: 'acme-password-1' } });
    assert.ok(image.ok && image.resource.kind !== 'generated', 'the core serves the uploaded image');
    const chunks: Buffer[] = [];
    for await (const c of (image.resource as { open(): AsyncIterable<Buffer> }).open()) chunks.push(c);
    assert.equal(Buffer.concat(chunks).toString('utf8'), `upload/${UPLOADED}/3111-48840-001.sip.ld`);

    assertProblem(await send(who.acmeAdmin, 'POST', path, { zip: zips.release }), 400, /tenant "acme" already has firmware 6\.4\.7\.100 \(remove it first/);
    assertProblem(await send(who.acmeAdmin, 'POST', `${T}/firmware?filename=release.tar`, { zip: zips.release }), 400, /querystring\/filename must match pattern/);
    assertProblem(await call(who.acmeAdmin, 'POST', path, { body: 'UC_Software.zip' }), 415, /send the release zip itself as the body, with Content-Type: application\/zip/);
    assertProblem(await call(who.acmeAdmin, 'POST', path, { raw: { contentType: 'application/octet-stream', data: 'PK' } }), 415);
    const declared = await partialUpload(who.acmeAdmin, path, MAX_FIRMWARE_ZIP_BYTES + 1);
    assert.equal(declared.status, 413, declared.body);
    assert.match(JSON.parse(declared.body).detail, /larger than 2 GiB: import it on the server with polyprov firmware import/);
    // Another tenant's admin is refused before the body is read: the server does not wait for the rest of it.
    const theirs = await partialUpload(who.globexAdmin, path, 1_000_000);
    assert.equal(theirs.status, 403, theirs.body);
    assert.match(JSON.parse(theirs.body).detail, /globex-admin \(tenant-admin\) may not change tenant "acme"/);
    const left = await waitFor('upload folders removed', () => {
      const dirs = uploadFolders().filter((n) => !foldersBefore.has(n));
      return dirs.length === 0 ? dirs : undefined;
    });
    assert.deepEqual(left, [], 'every temporary upload folder is removed');
  });

  test('a target set through the API warns like the CLI, wins in explain, and names firmware/<version>/ in the master the phone gets', async () => {
    const path = `${T}/firmware-target?scope=site:annex`;
    const none = await call(who.acmeAdmin, 'GET', path);
    assert.deepEqual(none.body, { scope: 'site:annex', version: null, allowDowngrade: false, loopDetected: null });
    const set = await call(who.acmeAdmin, 'PUT', path, { body: { version: NEW } });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual([set.body.version, set.body.library, set.body.allowDowngrade], [NEW, 'tenant', false]);
    const annex = (await opened.ctx.store.listDevices(tenants.acme!.id)).filter((d) => d.mac === MAC_ANNEX);
    assert.deepEqual(set.body.warnings, prerequisiteReport(NEW, annex), 'the warnings of `polyprov firmware target set`');
    assert.equal(set.body.warnings.length, 1);
    assert.match(set.body.warnings[0], /1 device\(s\) may not take 6\.4\.6\.1234: it needs a running version 5\.8\.0 or later \(1 reported an older one\)/);
    assert.equal(set.headers.get('etag'), (await call(who.acmeAdmin, 'GET', path)).headers.get('etag'));

    const release = await call(who.acmeAdmin, 'GET', `${T}/firmware/${NEW}`);
    assertProblem(
      await call(who.acmeAdmin, 'DELETE', `${T}/firmware/${NEW}`, { ifMatch: release.headers.get('etag')! }),
      400,
      /^firmware 6\.4\.6\.1234 is still the target of: tenant acme, site "annex" \(polyprov firmware target unset … first\); it is also needed by rollout "hq-646" of tenant acme \(running, from 5\.9\.8\.5760 to 6\.4\.6\.1234\)/,
    );
    assertProblem(await call(who.acmeAdmin, 'DELETE', `${T}/firmware/${OLD}`, { ifMatch: '*' }), 404, /no firmware 5\.9\.8\.5760 in tenant "acme"'s own library .*global library is managed with polyprov firmware remove --global/);

    const explained = await call(who.acmeReader, 'GET', `${T}/devices/${MAC_ANNEX}/explain`);
    const target = explained.body.parameters.find((p: { name: string }) => p.name === 'polyprov.firmware.version');
    assert.deepEqual([target.value, target.layer, target.ref], [NEW, 'site', 'annex']);
    assert.match(await bootAppFilePath(MAC_ANNEX, 'VVX_450', ANNEX_RUNNING), new RegExp(`^firmware/${NEW.replace(/\./g, '\\.')}/`));
    const status = await call(who.acmeReader, 'GET', `${T}/firmware-status`);
    assert.ok(status.body.items.some((r: object) => JSON.stringify(r) === JSON.stringify({ running: ANNEX_RUNNING, target: NEW, devices: 1, state: 'not-on-target' })), JSON.stringify(status.body));

    // Replacing a target is an edit: it needs the ETag of what was read.
    assertProblem(await call(who.acmeAdmin, 'PUT', path, { body: { version: OLD, allowDowngrade: true } }), 428, /If-Match/);
    const changed = await call(who.acmeAdmin, 'PUT', path, { body: { version: OLD, allowDowngrade: true }, ifMatch: set.headers.get('etag')! });
    assert.deepEqual([changed.status, changed.body.version, changed.body.library, changed.body.allowDowngrade], [200, OLD, 'global', true]);
    assertProblem(await call(who.acmeAdmin, 'PUT', path, { body: { version: NEW }, ifMatch: set.headers.get('etag')! }), 412, /changed since you read it/);
    // A PUT without allowDowngrade takes the permission away, as the CLI's `target set` without --allow-downgrade does.
    const again = await call(who.acmeAdmin, 'PUT', path, { body: { version: NEW }, ifMatch: changed.headers.get('etag')! });
    assert.deepEqual([again.status, again.body.allowDowngrade], [200, false]);

    const removed = await call(who.acmeAdmin, 'DELETE', path, { ifMatch: again.headers.get('etag')! });
    assert.deepEqual([removed.status, removed.body.version], [200, null]);
    assertProblem(await call(who.acmeAdmin, 'DELETE', path, { ifMatch: removed.headers.get('etag')! }), 404, /site:annex sets no firmware target/);
    assert.doesNotMatch(await bootAppFilePath(MAC_ANNEX, 'VVX_450', ANNEX_RUNNING), /^firmware\//, 'without a target the phone is sent to no firmware folder');
    // With no layer targeting it, the running rollout still needs it.
    assertProblem(await call(who.acmeAdmin, 'DELETE', `${T}/firmware/${NEW}`, { ifMatch: release.headers.get('etag')! }), 400, /^firmware 6\.4\.6\.1234 is needed by rollout "hq-646" of tenant acme \(running, from 5\.9\.8\.5760 to 6\.4\.6\.1234\): let it complete, or roll it back, then remove it/);
    assert.equal((await call(who.acmeAdmin, 'GET', `${T}/firmware/${NEW}`)).headers.get('etag'), release.headers.get('etag'), 'nothing removed');
  });

  test('a rollout created through the API releases its canary, pauses and resumes, and refuses what the CLI refuses', async () => {
    const created = await call(who.acmeAdmin, 'POST', `${T}/rollouts`, { body: { name: 'lab-646', from: OLD, to: NEW, selector: { group: 'lab' }, waves: [50, 100], waveIntervalMs: 60_000 } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.headers.get('location'), `${T}/rollouts/lab-646`);
    assert.deepEqual(pick(created.body, 'name', 'status', 'devices', 'currentWave', 'waves', 'waveIntervalMs', 'deadlineMs', 'window', 'warnings'), {
      name: 'lab-646',
      status: 'running',
      devices: 1,
      currentWave: 0,
      waves: [50, 100],
      waveIntervalMs: 60_000,
      deadlineMs: 7_200_000,
      window: null,
      warnings: [],
    });

    const status = await call(who.acmeReader, 'GET', `${T}/rollouts/lab-646`);
    assert.equal(status.headers.get('etag'), created.headers.get('etag'));
    assert.deepEqual([status.body.members, status.body.versions, status.body.stuck.map((m: { mac: string }) => m.mac)], [[{ mac: MAC_LAB, wave: 0 }], { [OLD]: 1 }, [MAC_LAB]]);
    assert.deepEqual(status.body.waves.map((w: { released: boolean; size: number }) => [w.released, w.size]), [[true, 1], [false, 0]]);
    const explained = await call(who.acmeReader, 'GET', `${T}/devices/${MAC_LAB}/explain`);
    const target = explained.body.parameters.find((p: { name: string }) => p.name === 'polyprov.firmware.version');
    assert.deepEqual([target.value, target.layer], [NEW, 'rollout']);
    assert.match(await bootAppFilePath(MAC_LAB, 'VVX_450', OLD), new RegExp(`^firmware/${NEW.replace(/\./g, '\\.')}/`));

    const paused = await call(who.acmeAdmin, 'POST', `${T}/rollouts/lab-646/pause`, { ifMatch: status.headers.get('etag')! });
    assert.deepEqual([paused.status, paused.body.status, paused.body.reason], [200, 'paused', 'paused by acme-admin']);
    assertProblem(await call(who.acmeAdmin, 'POST', `${T}/rollouts/lab-646/pause`, { ifMatch: paused.headers.get('etag')! }), 400, /rollout "lab-646" is paused: only a running rollout can be paused/);
    assertProblem(await call(who.acmeAdmin, 'POST', `${T}/rollouts/lab-646/resume`, { ifMatch: status.headers.get('etag')! }), 412, /changed since you read it/);
    const resumed = await call(who.acmeAdmin, 'POST', `${T}/rollouts/lab-646/resume`, { ifMatch: paused.headers.get('etag')! });
    assert.deepEqual([resumed.status, resumed.body.status, resumed.body.reason], [200, 'running', null]);
    assert.equal((await call(who.acmeReader, 'GET', `${T}/rollouts/lab-646`)).headers.get('etag'), resumed.headers.get('etag'));
    const running = await call(who.acmeReader, 'GET', `${T}/rollouts?status=running`);
    assert.deepEqual(running.body.items.map((r: { name: string }) => r.name), ['hq-646', 'lab-646']);
    const firstPage = await call(who.acmeReader, 'GET', `${T}/rollouts?limit=1`);
    assert.deepEqual([firstPage.body.items.map((r: { name: string }) => r.name), firstPage.body.next], [['hq-646'], 'hq-646']);

    const refused: [object, number, RegExp][] = [
      [{ name: 'lab-646', from: OLD, to: NEW, selector: { group: 'lab' } }, 409, /rollout "lab-646" already exists in tenant "acme"/],
      [{ name: 'lab-again', from: OLD, to: NEW, selector: { group: 'lab' } }, 409, /device 0004f2a1b2c5 is already in rollout "lab-646" \(running\)/],
      [{ name: 'down', from: NEW, to: OLD }, 400, /5\.9\.8\.5760 is not newer than 6\.4\.6\.1234/],
      [{ name: 'unknown', from: OLD, to: '7.0.0' }, 400, /no firmware 7\.0\.0 in tenant "acme"'s library or the global one: a rollout needs both versions/],
      [{ name: 'none', from: OLD, to: NEW, selector: { model: 'VVX_600' } }, 400, /no registered device of tenant "acme" matches model VVX_600: nothing to roll out/],
      [{ name: 'Bad Name', from: OLD, to: NEW }, 400, /invalid rollout "Bad Name": use 1-63 lower-case letters/],
      [{ name: 'late', from: OLD, to: NEW, window: '25:00-26:00' }, 400, /invalid maintenance window "25:00-26:00"/],
      [{ name: 'slow', from: OLD, to: NEW, deadlineMs: 400 * 86_400_000 }, 400, /longer than a year/],
      [{ name: 'failing', from: OLD, to: NEW, maxFailurePercent: 150 }, 400, /must be a percentage from 0 to 100/],
    ];
    for (const [body, code, detail] of refused) assertProblem(await call(who.acmeAdmin, 'POST', `${T}/rollouts`, { body }), code, detail);
    assert.deepEqual((await call(who.acmeReader, 'GET', `${T}/rollouts`)).body.items.map((r: { name: string }) => r.name), ['hq-646', 'lab-646'], 'nothing refused was created');
  });
});

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function pick(o: unknown, ...keys: string[]): Record<string, unknown> {
  const r = o as Record<string, unknown>;
  return Object.fromEntries(keys.map((k) => [k, r[k]]));
}

function imageSize(library: string, version: string, names: string[]): number {
  return names.reduce((n, f) => n + `${library}/${version}/${f}`.length, 0);
}
