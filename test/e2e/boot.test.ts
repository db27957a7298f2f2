import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { XMLValidator } from 'fast-xml-parser';
import { addFile } from '../../src/admin/files.js';
import { setParameters } from '../../src/admin/parameters.js';
import { addDevice, addGroup, addSite, setModelPolicy } from '../../src/admin/structure.js';
import { addTenant, updateTenant } from '../../src/admin/tenants.js';
import { openAdminContext } from '../../src/app.js';
import type { AdminContext } from '../../src/admin/admin-context.js';
import type { Tenant } from '../../src/store/store.js';
import { bootPhone, statusOf, SPIP_335, VVX_450, VVX_500, type BootResult } from '../support/phone-boot.js';
import { startServer, tempDir, type ServerProcess } from '../support/server-process.js';
import { waitFor } from '../support/wait-for.js';

const PASSWORD = 'acme-prov-pw-1';
const SIP_PASSWORD = `p&<>"'x`;
const IMAGE_SPLIT = Buffer.from('split image for 3111-48840-001 '.repeat(1000));
const IMAGE_COMBINED = Buffer.from('combined sip.ld '.repeat(5000));
const IMAGE_PINNED = Buffer.from('pinned firmware');

let server: ServerProcess;
let ctx: AdminContext;
let acme: Tenant;


before(async () => {
  const dataDir = tempDir();
  ctx = await openAdminContext({ dataDir });
  acme = (await addTenant(ctx, 'acme', { password: PASSWORD })).tenant;
  await addSite(ctx, acme, 'hq');
  await addGroup(ctx, acme, 'sales');
  await setModelPolicy(ctx, acme, 'VVX_450');
  await setParameters(ctx, acme, {}, ['feature.layer=tenant', 'lcl.ml.lang=English_United_Kingdom', 'tcpIpApp.sntp.address=tenant-ntp'], { force: true });
  await setParameters(ctx, acme, { model: 'VVX_450' }, ['feature.layer=model', 'up.backlight.idleIntensity=1'], { force: true });
  await setParameters(ctx, acme, { site: 'hq' }, ['feature.layer=site', 'tcpIpApp.sntp.address=hq-ntp'], { force: true });
  await setParameters(ctx, acme, { group: 'sales' }, ['feature.layer=group'], { force: true });
  await addDevice(ctx, acme, '0004F2000001', { site: 'hq', group: 'sales', label: 'reception' });
  await setParameters(ctx, acme, { device: '0004f2000001' }, [
    'feature.layer=device',
    'reg.1.address=1001',
    `reg.1.auth.password=${SIP_PASSWORD}`,
    'device.sntp.serverName=device-ntp',
  ], { force: true });
  await addDevice(ctx, acme, '0004f2000002', { appFilePath: 'firmware/6.4.6/sip.ld' });

  const dir = tempDir();
  const write = (name: string, data: Buffer | string) => {
    const p = join(dir, name);
    writeFileSync(p, data);
    return p;
  };
  await addFile(ctx, acme, '3111-48840-001.sip.ld', write('split', IMAGE_SPLIT));
  await addFile(ctx, acme, 'sip.ld', write('combined', IMAGE_COMBINED));
  await addFile(ctx, acme, 'firmware/6.4.6/sip.ld', write('pinned', IMAGE_PINNED));
  // A hand-written file read after the generated one: its duplicates must lose, its extras apply.
  await addFile(
    ctx,
    acme,
    'sip-interop.cfg',
    write('interop', '<?xml version="1.0"?><polycomConfig><reg reg.1.address="9999" feature.layer="extra" extra.only="from-extra"/></polycomConfig>'),
  );
  acme = await updateTenant(ctx, 'acme', { extraConfigFiles: ['sip-interop.cfg'] });

  server = await startServer({ dataDir });
});

after(async () => {
  await server?.stop();
  await ctx?.store.close();
});

function assertBootSequence(r: BootResult, mac: string) {
  assert.equal(statusOf(r, `${mac}.cfg`), 404, 'no per-MAC master: the phone falls back');
  assert.equal(statusOf(r, '000000000000.cfg'), 200);
  for (const f of r.configFiles) assert.equal(statusOf(r, f), 200, `CONFIG_FILES entry ${f}`);
  assert.deepEqual(r.configFiles, [`${mac}-polyprov.cfg`, 'sip-interop.cfg']);
  for (const p of [
    `overrides/${mac}-phone.cfg`,
    `overrides/${mac}-web.cfg`,
    'licenses/000000000000-license.cfg',
    `licenses/${mac}-license.cfg`,
    `calls/${mac}-calls.xml`,
    `contacts/${mac}-directory.xml`,
    'contacts/000000000000-directory.xml',
    `logs/${mac}-app.log`,
  ]) {
    assert.equal(statusOf(r, p), 404, `${p} is optional and absent`);
  }
  for (const body of r.configBodies) assert.equal(XMLValidator.validate(body), true);
}

function assertRegisteredDeviceValues(r: BootResult) {
  assert.equal(r.effective.get('feature.layer'), 'device');
  assert.equal(r.effective.get('reg.1.address'), '1001', 'first definition in CONFIG_FILES wins over sip-interop.cfg');
  assert.equal(r.effective.get('extra.only'), 'from-extra', 'later files still add what earlier ones lack');
  assert.equal(r.effective.get('reg.1.auth.password'), SIP_PASSWORD, 'special characters survive the round trip');
  assert.equal(r.effective.get('tcpIpApp.sntp.address'), 'hq-ntp', 'site beats tenant');
  assert.equal(r.effective.get('up.backlight.idleIntensity'), '1', 'model layer applies to this model');
  assert.equal(r.effective.get('lcl.ml.lang'), 'English_United_Kingdom');
  assert.equal(r.effective.get('device.sntp.serverName'), 'device-ntp', 'device.* applies because device.set and .set are rendered');
}

describe('a phone boots end to end', () => {
  test('over HTTP with Basic authentication', () => {
    const r = bootPhone({ baseUrl: server.httpUrl, auth: ['-u', `acme:${PASSWORD}`], phone: { ...VVX_450, mac: '0004f2000001' } });
    assertBootSequence(r, '0004f2000001');
    assert.equal(r.image?.path, '3111-48840-001.sip.ld', 'the part-number image comes first');
    assert.ok(r.image?.bytes.equals(IMAGE_SPLIT));
    assert.equal(statusOf(r, 'sip.ld'), undefined, 'no need to ask for sip.ld');
    assertRegisteredDeviceValues(r);
  });

  test('over HTTPS with Digest authentication', () => {
    const r = bootPhone({ baseUrl: server.httpsUrl, auth: ['--digest', '-u', `acme:${PASSWORD}`], phone: { ...VVX_450, mac: '0004f2000001' } });
    assertBootSequence(r, '0004f2000001');
    assertRegisteredDeviceValues(r);
  });

  test('a model without a split image falls back from <part>.sip.ld to sip.ld', () => {
    const r = bootPhone({ baseUrl: server.httpUrl, auth: ['--digest', '-u', `acme:${PASSWORD}`], phone: { ...VVX_500, mac: '0004f2000001' } });
    assert.equal(statusOf(r, '3111-44500-001.sip.ld'), 404);
    assert.equal(statusOf(r, 'sip.ld'), 200);
    assert.ok(r.image?.bytes.equals(IMAGE_COMBINED));
    assert.equal(r.effective.get('up.backlight.idleIntensity'), undefined, 'the VVX_450 model layer does not reach a VVX_500');
    assert.equal(r.effective.get('feature.layer'), 'device');
  });

  test('a device pinned to its own firmware gets its own <mac>.cfg', () => {
    const r = bootPhone({ baseUrl: server.httpUrl, auth: ['-u', `acme:${PASSWORD}`], phone: { ...SPIP_335, mac: '0004f2000002' } });
    assert.equal(r.masterPath, '0004f2000002.cfg');
    assert.equal(statusOf(r, '000000000000.cfg'), undefined);
    assert.equal(r.master.get('APP_FILE_PATH'), 'firmware/6.4.6/sip.ld');
    assert.deepEqual(r.configFiles, ['0004f2000002-polyprov.cfg', 'sip-interop.cfg']);
    assert.equal(statusOf(r, 'firmware/6.4.6/2345-12375-001.sip.ld'), 404);
    assert.ok(r.image?.bytes.equals(IMAGE_PINNED));
    assert.equal(r.effective.get('feature.layer'), 'tenant', 'no site, group or model layer applies');
  });

  test('an unknown MAC gets tenant defaults and is recorded in the inventory', async () => {
    const r = bootPhone({ baseUrl: server.httpUrl, auth: ['-u', `acme:${PASSWORD}`], phone: { ...VVX_450, mac: '0004f2abcdef' } });
    assert.equal(r.effective.get('feature.layer'), 'model');
    assert.equal(r.effective.get('reg.1.address'), '9999', 'only sip-interop.cfg defines it for this phone');
    const d = await waitFor('inventory of 0004f2abcdef', async () => {
      const dev = await ctx.store.getDevice(acme.id, '0004f2abcdef');
      return dev?.lastFile === 'logs/0004f2abcdef-app.log' ? dev : undefined;
    });
    assert.equal(d.registered, false);
    assert.equal(d.model, 'VVX_450');
    assert.equal(d.firmware, '6.4.6.2163');
    assert.equal(d.phase, 'application');
    assert.equal(d.lastIp, '127.0.0.1');
    assert.ok(d.firstSeen && d.lastSeen && d.firstSeen <= d.lastSeen);
  });

  test('requests that name no MAC are attributed through the User-Agent serial', async () => {
    bootPhone({ baseUrl: server.httpUrl, auth: ['-u', `acme:${PASSWORD}`], phone: { ...VVX_500, mac: '0004f2000001' } });
    const d = await waitFor('inventory of 0004f2000001', async () => {
      const dev = await ctx.store.getDevice(acme.id, '0004f2000001');
      return dev?.model === 'VVX_500' && dev.lastFile === 'logs/0004f2000001-app.log' ? dev : undefined;
    });
    assert.equal(d.registered, true);
    assert.equal(d.label, 'reception', 'inventory updates never touch admin fields');
    assert.equal(d.firmware, '5.9.7.4477');
  });

  test('a tenant that refuses unknown devices serves them no configuration', async () => {
    await updateTenant(ctx, 'acme', { unknownDevices: 'refuse' });
    try {
      const r = bootPhone({ baseUrl: server.httpUrl, auth: ['-u', `acme:${PASSWORD}`], phone: { ...VVX_450, mac: '0004f2fedcba' } });
      assert.equal(statusOf(r, '0004f2fedcba-polyprov.cfg'), 403);
      assert.equal(r.effective.get('feature.layer'), 'extra', 'only the static file reached the phone');
      const known = bootPhone({ baseUrl: server.httpUrl, auth: ['-u', `acme:${PASSWORD}`], phone: { ...VVX_450, mac: '0004f2000001' } });
      assert.equal(known.effective.get('feature.layer'), 'device');
      await waitFor('refused device recorded', async () => ((await ctx.store.getDevice(acme.id, '0004f2fedcba')) ? true : undefined));
    } finally {
      await updateTenant(ctx, 'acme', { unknownDevices: 'serve' });
    }
  });
});
