// The core's firmware rules against a real store and blob store: which master a phone gets for its
// target version (tenant, model, device layers), the downgrade hold, DECT_FILE_PATH, the version
// folders and the root image names. The CLI and real clients are in test/e2e/firmware.test.ts.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { firmwareFleet, importRelease, removeRelease, setFirmwareTarget, unsetFirmwareTarget } from '../../src/admin/firmware.js';
import { createRollout, pauseRollout, removeRollout, rollBackRollout } from '../../src/admin/rollouts.js';
import { addDevice, addGroup, addSite } from '../../src/admin/structure.js';
import { addTenant } from '../../src/admin/tenants.js';
import type { Answer, PhoneRequest } from '../../src/provisioning/core.js';
import type { Tenant } from '../../src/store/store.js';
import { startInProcessCore, type InProcessCore } from '../support/in-process-core.js';
import { tempDir } from '../support/server-process.js';
import { waitFor } from '../support/wait-for.js';

let env: InProcessCore;
let acme: Tenant;
const VVX500 = '0004f2000500';
const VVX150 = '0004f2000150';
const ua = (model: string, version: string, mac: string) => `FileTransport PolycomVVX-${model}-UA/${version} (SN:${mac}) Type/Application`;

/** A release folder with these image names, each a few bytes that name the file. */
function releaseFolder(version: string, names: string[]): string {
  const dir = join(tempDir(), `fw-${version}`);
  mkdirSync(dir, { recursive: true });
  for (const n of names) writeFileSync(join(dir, n), `${version}/${n}`);
  writeFileSync(join(dir, 'sip.ver'), `${version}\n`);
  return dir;
}

async function get(target: string, userAgent?: string): Promise<Answer> {
  const req: PhoneRequest = { protocol: 'http', operation: 'read', target, ip: '127.0.0.1', host: 'prov.example', credentials: { kind: 'password', username: 'acme', password: 'acme-password-1' }, ...(userAgent ? { userAgent } : {}) };
  return env.core.handle(req);
}

async function text(target: string, userAgent?: string): Promise<string> {
  const a = await get(target, userAgent);
  assert.ok(a.ok, `${target}: ${!a.ok ? a.message : ''}`);
  if (a.resource.kind === 'generated') return a.resource.body.toString('utf8');
  const chunks: Buffer[] = [];
  for await (const c of a.resource.open()) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const appFilePath = (master: string) => /APP_FILE_PATH="([^"]*)"/.exec(master)?.[1];

before(async () => {
  env = await startInProcessCore();
  acme = (await addTenant(env.ctx, 'acme', { password: 'acme-password-1' })).tenant;
  await importRelease(env.ctx, acme, [releaseFolder('6.4.6.1234', ['3111-44500-001.sip.ld', '3111-48810-001.sip.ld', '3111-17823-001.dect.ld'])]);
  await importRelease(env.ctx, null, [releaseFolder('5.9.8.5760', ['sip.ld'])]);
  await addDevice(env.ctx, acme, VVX500, {});
});
after(async () => {
  await env?.close();
});

describe('master files follow the target version', () => {
  test('no target: the tenant master keeps its own APP_FILE_PATH and names no firmware folder', async () => {
    assert.equal(appFilePath(await text('/000000000000.cfg')), 'sip.ld');
  });

  test('a tenant target names its folder, with the D60 base image of that release', async () => {
    await setFirmwareTarget(env.ctx, acme, {}, '6.4.6.1234');
    const master = await text('/000000000000.cfg', ua('VVX_500', '5.9.8.5760', VVX500));
    assert.equal(appFilePath(master), 'firmware/6.4.6.1234/sip.ld');
    assert.match(master, /DECT_FILE_PATH="firmware\/6\.4\.6\.1234\/3111-17823-001\.dect\.ld"/);
    assert.equal(await text('/firmware/6.4.6.1234/3111-44500-001.sip.ld'), '6.4.6.1234/3111-44500-001.sip.ld');
    assert.equal(await text('/firmware/6.4.6.1234/sip.ver'), '6.4.6.1234\n');
    // The phone doubles the part prefix when APP_FILE_PATH already names a split image.
    assert.equal(await text('/firmware/6.4.6.1234/3111-44500-001.3111-44500-001.sip.ld'), '6.4.6.1234/3111-44500-001.sip.ld');
    // Split release: no plain sip.ld, and the phone tried its own part first anyway.
    const plain = await get('/firmware/6.4.6.1234/sip.ld');
    assert.ok(!plain.ok && plain.problem === 'not-found');
  });

  test('root image names answer with the requester’s target, by its part number', async () => {
    assert.equal(await text('/3111-48810-001.sip.ld', ua('VVX_150', '5.9.8.5760', VVX150)), '6.4.6.1234/3111-48810-001.sip.ld');
    assert.equal(await text('/sip.ver', ua('VVX_150', '5.9.8.5760', VVX150)), '6.4.6.1234\n');
  });

  test('a model target gets a per-model entry; a device target gets its own <mac>.cfg', async () => {
    await setFirmwareTarget(env.ctx, acme, { model: 'VVX_150' }, '5.9.8.5760');
    const master = await text('/000000000000.cfg');
    assert.match(master, /APP_FILE_PATH_VVX150="firmware\/5\.9\.8\.5760\/sip\.ld"/);
    assert.equal(await text('/firmware/5.9.8.5760/sip.ld'), '5.9.8.5760/sip.ld', 'the global release serves this tenant');
    // The VVX 500 follows the tenant: no master of its own.
    const own = await get(`/${VVX500}.cfg`, ua('VVX_500', '5.9.8.5760', VVX500));
    assert.ok(!own.ok && own.problem === 'not-found');
    await setFirmwareTarget(env.ctx, acme, { device: VVX500 }, '5.9.8.5760', { allowDowngrade: true });
    assert.equal(appFilePath(await text(`/${VVX500}.cfg`, ua('VVX_500', '5.9.8.5760', VVX500))), 'firmware/5.9.8.5760/sip.ld');
    await unsetFirmwareTarget(env.ctx, acme, { device: VVX500 });
    await unsetFirmwareTarget(env.ctx, acme, { model: 'VVX_150' });
  });

  test('the generated configuration never carries polyprov.* parameters', async () => {
    const cfg = await text(`/${VVX500}-polyprov.cfg`, ua('VVX_500', '5.9.8.5760', VVX500));
    assert.doesNotMatch(cfg, /polyprov\./);
  });
});

describe('downgrade guard', () => {
  test('a phone on a newer version than its target is held there, logged once, until a downgrade is allowed', async () => {
    await setFirmwareTarget(env.ctx, acme, { device: VVX500 }, '5.9.8.5760');
    const newer = ua('VVX_500', '6.4.6.1234', VVX500);
    const before = env.logs.filter((l) => String(l.msg).startsWith('firmware downgrade refused')).length;
    for (const path of [`/${VVX500}.cfg`, '/000000000000.cfg']) assert.equal(appFilePath(await text(path, newer)), 'firmware/6.4.6.1234/sip.ld', path);
    const root = await get('/sip.ld', newer);
    assert.ok(!root.ok && root.problem === 'not-found');
    assert.equal(env.logs.filter((l) => String(l.msg).startsWith('firmware downgrade refused')).length - before, 1);
    // The same phone on the older version is simply on target.
    assert.equal(appFilePath(await text(`/${VVX500}.cfg`, ua('VVX_500', '5.9.8.5760', VVX500))), 'firmware/5.9.8.5760/sip.ld');
    await setFirmwareTarget(env.ctx, acme, { device: VVX500 }, '5.9.8.5760', { allowDowngrade: true });
    assert.equal(appFilePath(await text(`/${VVX500}.cfg`, newer)), 'firmware/5.9.8.5760/sip.ld');
    await unsetFirmwareTarget(env.ctx, acme, { device: VVX500 });
  });
});

describe('prerequisites', () => {
  test('setting a target warns about devices that reported a version it cannot be reached from', async () => {
    const mac = '0004f2000999';
    await addDevice(env.ctx, acme, mac, {});
    await text('/000000000000.cfg', ua('VVX_500', '5.7.2.1000', mac));
    await waitFor('the inventory has the version', async () => ((await env.ctx.store.getDevice(acme.id, mac))?.firmware === '5.7.2.1000' ? true : undefined), 5000);
    const { warnings } = await setFirmwareTarget(env.ctx, acme, { device: mac }, '6.4.6.1234');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^1 device\(s\) may not take 6\.4\.6\.1234: it needs a running version 5\.8\.0 or later \(1 reported an older one\)/);
    const none = await setFirmwareTarget(env.ctx, acme, { model: 'VVX_150' }, '6.4.6.1234');
    assert.deepEqual(none.warnings, [], 'no VVX 150 has reported anything');
    await unsetFirmwareTarget(env.ctx, acme, { device: mac });
    await unsetFirmwareTarget(env.ctx, acme, { model: 'VVX_150' });
  });
});

describe('upgrade loops', () => {
  test('a phone that fetches its image three times and keeps reporting the old version is held on it', async () => {
    const mac = '0004f2000777';
    await addDevice(env.ctx, acme, mac, {});
    await setFirmwareTarget(env.ctx, acme, {}, '6.4.6.1234');
    const old = ua('VVX_500', '5.9.8.5760', mac);
    for (let i = 0; i < 2; i++) assert.equal(await text('/firmware/6.4.6.1234/3111-44500-001.sip.ld', old), '6.4.6.1234/3111-44500-001.sip.ld');
    assert.equal(appFilePath(await text('/000000000000.cfg', old)), 'firmware/6.4.6.1234/sip.ld', 'two downloads are not a loop');
    // A phone that already runs the image's version only reads its header: that never counts.
    for (let i = 0; i < 3; i++) await text('/firmware/6.4.6.1234/3111-44500-001.sip.ld', ua('VVX_500', '6.4.6.1234', '0004f2000778'));
    await text('/firmware/6.4.6.1234/3111-44500-001.sip.ld', old);
    const line = env.logs.find((l) => String(l.msg).startsWith('firmware upgrade loop') && l.mac === mac);
    assert.ok(line, 'the loop is logged');
    assert.equal(env.logs.filter((l) => String(l.msg).startsWith('firmware upgrade loop')).length, 1, 'only the looping phone is flagged');
    let master = '';
    for (let i = 0; i < 50 && appFilePath(master) !== 'firmware/5.9.8.5760/sip.ld'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      master = await text(`/${mac}.cfg`, old);
    }
    assert.equal(appFilePath(master), 'firmware/5.9.8.5760/sip.ld', 'held on the version it runs');
    const rows = await env.ctx.store.listParameters(acme.id);
    assert.ok(rows.some((r) => r.scope === 'device' && r.name === 'polyprov.firmware.loopDetected' && r.value.startsWith('6.4.6.1234 at ')));
    assert.ok(await unsetFirmwareTarget(env.ctx, acme, { device: mac }));
    assert.ok(!(await env.ctx.store.listParameters(acme.id)).some((r) => r.scope === 'device' && r.name.startsWith('polyprov.firmware.')));
  });
});

describe('releases kept file for file', () => {
  test('Rove base and handset firmware is served under its own folders, and needs a version', async () => {
    const dir = join(tempDir(), 'rove');
    mkdirSync(join(dir, 'RoveFW', 'base'), { recursive: true });
    mkdirSync(join(dir, 'RoveFW', 'handset'), { recursive: true });
    writeFileSync(join(dir, 'RoveFW', 'base', 'B4_8.0.3.fwu'), 'base image');
    writeFileSync(join(dir, 'RoveFW', 'handset', 'R30_8.0.3.fwu'), 'handset image');
    await assert.rejects(importRelease(env.ctx, acme, [dir], { files: true }), /needs its version/);
    const r = await importRelease(env.ctx, acme, [dir], { files: true, version: '8.0.3' });
    assert.equal(r.layout, 'files');
    assert.deepEqual(r.images.map((i) => i.fileName), ['base/B4_8.0.3.fwu', 'handset/R30_8.0.3.fwu']);
    assert.equal(await text('/firmware/8.0.3/base/B4_8.0.3.fwu'), 'base image');
    assert.equal(await text('/firmware/8.0.3/handset/R30_8.0.3.fwu'), 'handset image');
    // FTP clients change into each folder before RETR.
    const cwd = (dir: string) => env.core.findDirectory({ protocol: 'ftp', operation: 'read', target: dir, ip: '127.0.0.1', credentials: { kind: 'password', username: 'acme', password: 'acme-password-1' } });
    for (const dir of ['/firmware', '/firmware/8.0.3', '/firmware/8.0.3/base', '/firmware/6.4.6.1234']) assert.ok((await cwd(dir)).ok, dir);
    for (const dir of ['/firmware/9.9.9', '/firmware/8.0.3/nothing']) assert.ok(!(await cwd(dir)).ok, dir);
    const missing = await get('/firmware/8.0.3/base/other.fwu');
    assert.ok(!missing.ok && missing.problem === 'not-found');
    await removeRelease(env.ctx, acme, '8.0.3');
  });
});

describe('fleet status', () => {
  test('phones are counted by the version they report against their target', async () => {
    const rows = await firmwareFleet(env.ctx, acme);
    const total = rows.reduce((n, r) => n + r.devices, 0);
    assert.equal(total, (await env.ctx.store.listDevices(acme.id)).length);
    // The device that reported 5.7.2.1000 has no target of its own any more: it follows the tenant's.
    assert.ok(rows.some((r) => r.running === '5.7.2.1000' && r.target === '6.4.6.1234' && r.devices === 1), JSON.stringify(rows));
  });
});

describe('manifest', () => {
  test('a release folder holds a stock-shaped master: sip.ld relative to the folder, no configuration files', async () => {
    const master = await text('/firmware/6.4.6.1234/000000000000.cfg');
    assert.equal(appFilePath(master), 'sip.ld');
    assert.match(master, /DECT_FILE_PATH="3111-17823-001\.dect\.ld"/);
    assert.match(master, /CONFIG_FILES=""/);
    assert.match(master, /LOG_FILE_DIRECTORY=""/);
  });

  test('one version spelled two ways is one release: a second import is refused, the manifest lists it once', async () => {
    await assert.rejects(importRelease(env.ctx, acme, [releaseFolder('6.4.6.1234.0', ['3111-44500-001.sip.ld'])]), /already has firmware 6\.4\.6\.1234/);
    await importRelease(env.ctx, null, [releaseFolder('6.4.6.1234.0', ['3111-44500-001.sip.ld'])]);
    const xml = await text('/ucs.xml');
    assert.deepEqual([...xml.matchAll(/<VERSION>([^<]*)<\/VERSION>/g)].map((m) => m[1]), ['6.4.6.1234', '5.9.8.5760']);
    await removeRelease(env.ctx, null, '6.4.6.1234.0');
  });

  test('ucs.xml lists the tenant’s and the global versions, newest first, on the URL asked', async () => {
    const xml = await text('/ucs.xml');
    const versions = [...xml.matchAll(/<VERSION>([^<]*)<\/VERSION>/g)].map((m) => m[1]);
    const paths = [...xml.matchAll(/<PATH>([^<]*)<\/PATH>/g)].map((m) => m[1]);
    assert.deepEqual(versions, ['6.4.6.1234', '5.9.8.5760']);
    assert.deepEqual(paths, ['http://prov.example/firmware/6.4.6.1234/', 'http://prov.example/firmware/5.9.8.5760/']);
  });
});

describe('removing a release', () => {
  test('is refused while layers target it, naming each layer by its slug, model or MAC', async () => {
    const version = '6.0.0.100';
    await importRelease(env.ctx, acme, [releaseFolder(version, ['sip.ld'])]);
    await addSite(env.ctx, acme, 'hq');
    await addGroup(env.ctx, acme, 'floor-1');
    const mac = '0004f2a0b0c1';
    await addDevice(env.ctx, acme, mac, {});
    const layers = [{ site: 'hq' }, { group: 'floor-1' }, { model: 'VVX_450' }, { device: mac }];
    for (const sel of layers) await setFirmwareTarget(env.ctx, acme, sel, version);
    await assert.rejects(
      removeRelease(env.ctx, acme, version),
      new RegExp(`^AdminError: firmware 6\\.0\\.0\\.100 is still the target of: tenant acme, model VVX_450; tenant acme, site "hq"; tenant acme, group "floor-1"; tenant acme, device ${mac} \\(polyprov firmware target unset … first\\)$`),
    );
    for (const sel of layers) await unsetFirmwareTarget(env.ctx, acme, sel);
    await removeRelease(env.ctx, acme, version);
    assert.equal(await env.ctx.store.getFirmwareRelease(acme.id, version), undefined);
  });

  test('is refused while a rollout needs it: both versions of an unfinished one, the version a finished one ended on', async () => {
    const from = '6.1.0.100';
    const to = '6.2.0.100';
    await importRelease(env.ctx, acme, [releaseFolder(from, ['sip.ld'])]);
    await importRelease(env.ctx, null, [releaseFolder(to, ['sip.ld'])]);
    await addSite(env.ctx, acme, 'lab');
    await addDevice(env.ctx, acme, '0004f2a0b0c2', { site: 'lab' });
    await createRollout(env.ctx, acme, { name: 'lab-62', from, to, selector: { site: 'lab' }, waves: [100], waveIntervalMs: 60_000, deadlineMs: 3_600_000, maxFailurePercent: 0 });
    const needed = (v: string, status: string) => new RegExp(`^AdminError: firmware ${v.replace(/\./g, '\\.')} is needed by rollout "lab-62" of tenant acme \\(${status}, from 6\\.1\\.0\\.100 to 6\\.2\\.0\\.100\\)`);
    await assert.rejects(removeRelease(env.ctx, acme, from), needed(from, 'running'));
    await assert.rejects(removeRelease(env.ctx, null, to), needed(to, 'running'), 'a global release used by a tenant\'s rollout');
    await pauseRollout(env.ctx, acme, 'lab-62');
    await assert.rejects(removeRelease(env.ctx, acme, from), /: let it complete, or roll it back, then remove it \(polyprov rollout remove lab-62 -t acme\)$/);
    // Rolled back, it sends its devices to the old version: the new one is free, the old one is not.
    await rollBackRollout(env.ctx, acme, 'lab-62');
    await assert.rejects(removeRelease(env.ctx, acme, from), /rollout "lab-62" of tenant acme \(rolled-back, .*\), which still sends its devices there: set the target as policy, then remove it/);
    const r = (await env.ctx.store.getRollout(acme.id, 'lab-62'))!;
    // Completed, it keeps its devices on the new version.
    await env.ctx.store.updateRollout(acme.id, r.id, { status: 'completed', reason: null });
    await assert.rejects(removeRelease(env.ctx, null, to), /rollout "lab-62" of tenant acme \(completed, .*\), which still sends its devices there/);
    await removeRelease(env.ctx, acme, from);
    await removeRollout(env.ctx, acme, 'lab-62');
    await removeRelease(env.ctx, null, to);
    assert.equal(await env.ctx.store.getFirmwareRelease(null, to), undefined);
  });

  test('a global release targeted only by a tenant with its own copy can go', async () => {
    await importRelease(env.ctx, null, [releaseFolder('6.3.0.100', ['sip.ld'])]);
    await importRelease(env.ctx, acme, [releaseFolder('6.3.0.100', ['sip.ld'])]);
    await setFirmwareTarget(env.ctx, acme, { group: 'floor-1' }, '6.3.0.100');
    await assert.rejects(removeRelease(env.ctx, acme, '6.3.0.100'), /still the target of: tenant acme, group "floor-1"/);
    await removeRelease(env.ctx, null, '6.3.0.100');
    await unsetFirmwareTarget(env.ctx, acme, { group: 'floor-1' });
    await removeRelease(env.ctx, acme, '6.3.0.100');
  });
});
