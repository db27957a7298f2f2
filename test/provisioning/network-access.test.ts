// The core's rules for requests without credentials (TFTP) and for FTP sessions, against a real
// SQLite store, blob store and log files: which tenant a client subnet or a listener names, the
// site allow-list, secrets over TFTP, the factory login, listings and offsets. The protocol edges'
// own e2e tests drive the same rules through real clients.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { addTenant, updateTenant } from '../../src/admin/tenants.js';
import { addDevice, addSite, updateSite } from '../../src/admin/structure.js';
import { setParameters } from '../../src/admin/parameters.js';
import { addFile } from '../../src/admin/files.js';
import type { AdminContext } from '../../src/admin/admin-context.js';
import { LocalDiskBlobStore } from '../../src/blobs/local-disk-blob-store.js';
import { LocalDiskLogFiles } from '../../src/blobs/local-disk-log-files.js';
import { openStore } from '../../src/store/open-store.js';
import { ProvisioningCore, type Answer, type PhoneRequest } from '../../src/provisioning/core.js';
import { DigestNonces } from '../../src/provisioning/credentials.js';
import { InventoryRecorder } from '../../src/provisioning/inventory-recorder.js';
import { silentLogger, type Logger } from '../../src/provisioning/logger.js';

const dir = mkdtempSync(join(tmpdir(), 'polyprov-access-'));
let ctx: AdminContext;
let core: ProvisioningCore;
let inventory: InventoryRecorder;
const warnings: string[] = [];
const logger: Logger = { ...silentLogger, warn: (_o, msg) => warnings.push(msg ?? '') };

before(async () => {
  ctx = { store: await openStore({ dataDir: dir }), blobs: new LocalDiskBlobStore(join(dir, 'blobs')), logFiles: new LocalDiskLogFiles(join(dir, 'logs')) };
  inventory = new InventoryRecorder(ctx.store, silentLogger, { flushMs: 10_000, maxPending: 1000 });
  core = new ProvisioningCore({ store: ctx.store, blobs: ctx.blobs, logFiles: ctx.logFiles, logger, inventory, nonces: new DigestNonces(Buffer.alloc(32, 7)) });
  await addTenant(ctx, 'acme', { password: 'acme-password-1', tftpSubnets: ['10.1.0.0/16', '2001:db8:1::/48'] });
  await addTenant(ctx, 'globex', { password: 'globex-password-1', tftpSubnets: ['10.0.0.0/8'], pathPrefix: 'globex' });
  await addTenant(ctx, 'initech', { password: 'initech-password-1', factoryLogin: true });
  const acme = (await ctx.store.getTenantBySlug('acme'))!;
  await setParameters(ctx, acme, {}, ['reg.1.auth.password=sip-secret']);
  const local = join(dir, 'extra.cfg');
  writeFileSync(local, '<polycomConfig><device device.prov.password="x" device.set="1"/></polycomConfig>');
  await addFile(ctx, acme, 'extra.cfg', local);
  writeFileSync(local, 'firmware bytes');
  await addFile(ctx, acme, 'sip.ld', local);
});
after(async () => {
  await inventory.stop();
  await ctx.store.close();
  rmSync(dir, { recursive: true, force: true });
});

const tftp = (target: string, ip: string, extra: Partial<PhoneRequest> = {}): PhoneRequest => ({ protocol: 'tftp', operation: 'read', target, ip, ...extra });
const tenantOf = (a: Answer) => (a.ok ? a.tenant : `refused:${a.problem}`);

describe('TFTP: the tenant comes from the network, never from the path', () => {
  test('the most specific subnet wins; a client in no subnet is refused', async () => {
    assert.equal(tenantOf(await core.handle(tftp('/sip.ld', '10.1.2.3'))), 'acme', '10.1/16 beats 10/8');
    assert.equal(tenantOf(await core.handle(tftp('/sip.ld', '::ffff:10.1.2.3'))), 'acme');
    assert.equal(tenantOf(await core.handle(tftp('/000000000000.cfg', '10.9.9.9'))), 'globex');
    assert.equal(tenantOf(await core.handle(tftp('/000000000000.cfg', '2001:db8:1::7'))), 'acme');
    const none = await core.handle(tftp('/000000000000.cfg', '192.168.1.1'));
    assert.ok(!none.ok && none.problem === 'forbidden' && /no tenant serves TFTP to 192\.168\.1\.1/.test(none.message));
  });

  test("a path prefix may repeat the client's tenant but not name another", async () => {
    assert.equal(tenantOf(await core.handle(tftp('/globex/000000000000.cfg', '10.9.9.9'))), 'globex');
    assert.equal(tenantOf(await core.handle(tftp('/globex/000000000000.cfg', '10.1.2.3'))), 'refused:forbidden');
  });

  test("a listener bound to a tenant serves it, within the tenant's subnets when it lists any", async () => {
    assert.equal(tenantOf(await core.handle(tftp('/000000000000.cfg', '10.9.9.9', { listenerTenant: 'initech' }))), 'initech', 'initech lists no subnet');
    assert.equal(tenantOf(await core.handle(tftp('/000000000000.cfg', '10.9.9.9', { listenerTenant: 'acme' }))), 'refused:forbidden');
    assert.equal(tenantOf(await core.handle(tftp('/sip.ld', '10.1.0.1', { listenerTenant: 'acme' }))), 'acme');
    assert.equal(tenantOf(await core.handle(tftp('/sip.ld', '10.1.0.1', { listenerTenant: 'nope' }))), 'refused:forbidden');
  });

  test('files holding secrets are refused unless the tenant allows them, and the refusal is logged', async () => {
    const config = await core.handle(tftp('/0004f2000001-polyprov.cfg', '10.1.2.3'));
    assert.ok(!config.ok && config.problem === 'forbidden');
    assert.match(config.message, /holds secrets \(reg\.1\.auth\.password\).*--tftp-secrets/);
    assert.ok(warnings.includes('refused over TFTP: the file holds secrets'));
    const extra = await core.handle(tftp('/extra.cfg', '10.1.2.3'));
    assert.ok(!extra.ok && /device\.prov\.password/.test(extra.message), 'a stored file is scanned too');
    assert.equal(tenantOf(await core.handle(tftp('/000000000000.cfg', '10.1.2.3'))), 'acme', 'the master holds no secret');
    // Over HTTP, with credentials, the same file is served.
    const http = await core.handle({ protocol: 'http', operation: 'read', target: '/0004f2000001-polyprov.cfg', ip: '10.1.2.3', credentials: { kind: 'password', username: 'acme', password: 'acme-password-1' } });
    assert.ok(http.ok);
    await updateTenant(ctx, 'acme', { tftpSecrets: true });
    assert.equal(tenantOf(await core.handle(tftp('/0004f2000001-polyprov.cfg', '10.1.2.3'))), 'acme');
    await updateTenant(ctx, 'acme', { tftpSecrets: false });
  });

  test("a device placed in a site with a TFTP allow-list is refused from elsewhere in the tenant's subnets", async () => {
    const acme = (await ctx.store.getTenantBySlug('acme'))!;
    await addSite(ctx, acme, 'hq');
    await updateSite(ctx, acme, 'hq', { tftpSubnets: ['10.1.5.0/24'] });
    await addDevice(ctx, acme, '0004f2000005', { site: 'hq' });
    assert.equal(tenantOf(await core.handle(tftp('/0004f2000005.cfg', '10.1.5.9'))), 'refused:not-found', 'allowed (and 404: no own master)');
    assert.equal(tenantOf(await core.handle(tftp('/0004f2000005.cfg', '10.1.6.9'))), 'refused:forbidden');
    assert.equal(tenantOf(await core.handle(tftp('/0004f2000009.cfg', '10.1.6.9'))), 'refused:not-found', 'other devices are not limited');
  });
});

describe('logins', () => {
  const login = (username: string, password: string, extra: Partial<PhoneRequest> = {}) =>
    core.login({ protocol: 'ftp', ip: '127.0.0.1', credentials: { kind: 'password', username, password }, ...extra });

  test("a tenant's own login opens it; a wrong password does not", async () => {
    assert.deepEqual(await login('acme', 'acme-password-1'), { ok: true, tenant: 'acme' });
    const wrong = await login('acme', 'nope');
    assert.ok(!wrong.ok && wrong.problem === 'unauthenticated');
  });

  test('the factory PlcmSpIp login opens only a tenant that accepts it', async () => {
    assert.deepEqual(await login('PlcmSpIp', 'PlcmSpIp'), { ok: true, tenant: 'initech' });
    assert.equal((await login('PlcmSpIp', 'PlcmSpIp', { listenerTenant: 'acme' })).ok, false, 'acme does not accept it');
    assert.equal((await login('PlcmSpIp', 'wrong')).ok, false);
    await updateTenant(ctx, 'initech', { factoryLogin: false });
    assert.equal((await login('PlcmSpIp', 'PlcmSpIp')).ok, false);
    await updateTenant(ctx, 'initech', { factoryLogin: true });
    await updateTenant(ctx, 'acme', { factoryLogin: true });
    assert.equal((await login('PlcmSpIp', 'PlcmSpIp')).ok, false, 'two tenants accept it: the login alone names neither');
    assert.deepEqual(await login('PlcmSpIp', 'PlcmSpIp', { listenerTenant: 'acme' }), { ok: true, tenant: 'acme' }, 'a bound listener names it');
    await updateTenant(ctx, 'acme', { factoryLogin: false });
  });
});

describe('listings and offsets', () => {
  const creds = { kind: 'password' as const, username: 'acme', password: 'acme-password-1' };
  const req = (operation: 'read' | 'write', target: string, extra: Partial<PhoneRequest> = {}): PhoneRequest => ({ protocol: 'ftp', operation, target, ip: '127.0.0.1', credentials: creds, ...extra });

  test('the top shows the master, device configurations, tree files and upload folders', async () => {
    const top = await core.list(req('read', '/'));
    assert.ok(top.ok);
    const names = top.entries.map((e) => `${e.kind}:${e.name}`);
    for (const n of ['file:000000000000.cfg', 'file:0004f2000005-polyprov.cfg', 'file:sip.ld', 'file:extra.cfg', 'dir:logs', 'dir:overrides', 'dir:contacts']) assert.ok(names.includes(n), n);
    assert.equal(top.entries.find((e) => e.name === 'sip.ld')!.size, 'firmware bytes'.length);
    for (const dir of ['/', '/logs', '/overrides']) assert.ok((await core.findDirectory(req('read', dir))).ok, dir);
    const nowhere = await core.findDirectory(req('read', '/nowhere'));
    assert.ok(!nowhere.ok && nowhere.problem === 'not-found');
    const missing = await core.list(req('read', '/nowhere'));
    assert.ok(!missing.ok && missing.problem === 'not-found');
    assert.equal((await core.list(req('read', '/../etc'))).ok, false);
  });

  test('REST offsets write a log from that byte; whole files refuse them', async () => {
    const log = '/logs/0004f2000005-app.log';
    assert.ok((await core.upload(req('write', log), Readable.from([Buffer.from('hello ')]))).ok);
    assert.ok((await core.upload(req('write', log, { offset: 6 }), Readable.from([Buffer.from('world')]))).ok);
    const again = await core.upload(req('write', log, { offset: 0 }), Readable.from([Buffer.from('hello world!')]));
    assert.ok(again.ok, 'a resend from 0 skips what is held and appends the rest');
    const gap = await core.upload(req('write', log, { offset: 100 }), Readable.from([Buffer.from('x')]));
    assert.ok(!gap.ok && gap.problem === 'conflict');
    const read = await core.handle(req('read', log));
    assert.ok(read.ok && read.resource.kind === 'stream');
    const chunks: Buffer[] = [];
    for await (const c of read.resource.open()) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'hello world!');
    const logs = await core.list(req('read', '/logs'));
    assert.ok(logs.ok && logs.entries.some((e) => e.name === '0004f2000005-app.log' && e.size === 12));
    const whole = await core.upload(req('write', '/overrides/0004f2000005-phone.cfg', { offset: 5 }), Readable.from([Buffer.from('<x/>')]));
    assert.ok(!whole.ok && whole.problem === 'bad-request');
  });
});
