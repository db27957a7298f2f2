import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AdminContext } from '../../src/admin/admin-context.js';
import { explainDevice, type Explanation } from '../../src/admin/explain.js';
import { clearOverrides, overrideConflicts, overridePath, restoreOverride } from '../../src/admin/overrides.js';
import { setParameters } from '../../src/admin/parameters.js';
import { addDevice, addGroup, setModelPolicy } from '../../src/admin/structure.js';
import { addTenant } from '../../src/admin/tenants.js';
import { openAdminContext } from '../../src/app.js';
import { parseOverrideFile } from '../../src/domain/override-file.js';
import type { Tenant } from '../../src/store/store.js';
import { curl } from '../support/curl.js';
import { bootPhone, statusOf, userAgentOf, VVX_450 } from '../support/phone-boot.js';
import { cli, startServer, tempDir, type CliResult, type ServerProcess } from '../support/server-process.js';

// The override round trip (issue 3 acceptance): the phone uploads its -phone.cfg, its next boot is
// served it back, explain shows it winning, and after `override clear` the phone is served an empty
// override file. Setup is in-process; the phone is curl, the administrator the real CLI.

const MAC = '0004f2000001';
const PASSWORD = 'acme-password-1';
const AUTH = ['-u', `acme:${PASSWORD}`];
const PHONE = { ...VVX_450, mac: MAC };
const UA = userAgentOf(PHONE);
const PHONE_CFG = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!-- Application SIP Helford6 5.9.6.2996 30-Jan-21 15:34 -->
<!-- Created 30-01-2021 15:34 -->
<PHONE_CONFIG>
  <OVERRIDES up.backlight.idleIntensity="2" lcl.ml.lang="Deutsch_Deutschland" reg.1.label="Anna &amp; Co" reg.1.address="1001"/>
</PHONE_CONFIG>
`;
const WEB_CFG = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<WEB_CONFIG><OVERRIDES up.backlight.idleIntensity="3" tcpIpApp.sntp.address="web-ntp"/></WEB_CONFIG>
`;

let server: ServerProcess;
let ctx: AdminContext;
let acme: Tenant;
let scratch: string;

before(async () => {
  const dataDir = tempDir();
  scratch = tempDir();
  ctx = await openAdminContext({ dataDir });
  acme = (await addTenant(ctx, 'acme', { password: PASSWORD })).tenant;
  await setParameters(ctx, acme, {}, ['lcl.ml.lang=English_United_Kingdom', 'tcpIpApp.sntp.address=tenant-ntp'], { force: true });
  await addDevice(ctx, acme, MAC, { label: 'reception' });
  await setParameters(ctx, acme, { device: MAC }, ['up.backlight.idleIntensity=1', 'reg.1.address=1001'], { force: true });
  server = await startServer({ dataDir });
});
after(async () => {
  await server?.stop();
  await ctx?.store.close();
});

function url(path: string): string {
  return `${server.httpUrl}/${path}`;
}
function get(path: string) {
  return curl(url(path), [...AUTH, '-A', UA]);
}
function put(path: string, body: string | Buffer) {
  const file = join(scratch, `body-${randomBytes(4).toString('hex')}`);
  writeFileSync(file, body);
  return curl(url(path), [...AUTH, '-A', UA, '-T', file]);
}
function polyprov(...args: string[]): CliResult {
  const r = cli(server.dataDir, args);
  assert.equal(r.code, 0, `polyprov ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
  return r;
}
function explain(): Explanation {
  return JSON.parse(polyprov('explain', MAC, '--json').stdout) as Explanation;
}
function param(e: Explanation, name: string) {
  return e.parameters.find((p) => p.name === name);
}
interface Conflicts {
  conflicts: { mac: string; parameter: string; server: { value: string; layer: string; ref: string }; override: { value: string; source: string; version: number } }[];
  malformed: { mac: string; path: string; version: number; problem: string }[];
  devicesWithOverrides: number;
}
function conflicts(): Conflicts {
  return JSON.parse(polyprov('override', 'conflicts', '--json').stdout) as Conflicts;
}

describe('override round trip: upload, served back, explained, cleared, restored', () => {
  test("the phone uploads its -phone.cfg and -web.cfg; its next boot is served them back byte for byte", () => {
    assert.equal(put(`overrides/${MAC}-phone.cfg`, PHONE_CFG).status, 201);
    assert.equal(put(`overrides/${MAC}-web.cfg`, WEB_CFG).status, 201);
    const boot = bootPhone({ baseUrl: server.httpUrl, auth: AUTH, phone: PHONE });
    assert.equal(statusOf(boot, `overrides/${MAC}-phone.cfg`), 200);
    assert.equal(statusOf(boot, `overrides/${MAC}-web.cfg`), 200);
    assert.ok(get(`overrides/${MAC}-phone.cfg`).body.equals(Buffer.from(PHONE_CFG)));
    assert.ok(get(`overrides/${MAC}-web.cfg`).body.equals(Buffer.from(WEB_CFG)));
    // The server's own file is unchanged: the overrides are the phone's business.
    assert.equal(boot.effective.get('up.backlight.idleIntensity'), '1');
  });

  test('explain shows the -phone.cfg winning over the device and tenant layers, -web.cfg under it, and override-only parameters', () => {
    const e = explain();
    const idle = param(e, 'up.backlight.idleIntensity');
    assert.deepEqual(
      { value: idle?.value, layer: idle?.layer, ref: idle?.ref, effective: idle?.effective },
      { value: '1', layer: 'device', ref: MAC, effective: '2' },
      'the server value and its layer stay as they were; the phone ends up with its own',
    );
    assert.deepEqual(idle?.override, { source: 'phone', value: '2', path: `overrides/${MAC}-phone.cfg`, version: 1, shadows: [{ source: 'web', value: '3' }] });
    const lang = param(e, 'lcl.ml.lang');
    assert.deepEqual([lang?.layer, lang?.value, lang?.override?.source, lang?.effective], ['tenant', 'English_United_Kingdom', 'phone', 'Deutsch_Deutschland']);
    const sntp = param(e, 'tcpIpApp.sntp.address');
    assert.deepEqual([sntp?.layer, sntp?.override?.source, sntp?.effective], ['tenant', 'web', 'web-ntp'], '-web.cfg overrides the server where -phone.cfg is silent');
    const label = param(e, 'reg.1.label');
    assert.deepEqual(label, { name: 'reg.1.label', value: null, layer: null, ref: null, shadows: [], effective: 'Anna & Co', override: { source: 'phone', value: 'Anna & Co', path: `overrides/${MAC}-phone.cfg`, version: 1, shadows: [] } });
    const untouched = param(e, 'prov.autoConfigUpload.enabled');
    assert.equal(untouched?.override, undefined);
    assert.equal(untouched?.effective, untouched?.value);
    assert.equal(e.overrides.phone?.version, 1);
    assert.equal(e.overrides.phone?.parameterCount, 4);
    assert.deepEqual(e.overrides.phone?.firmware, { codename: 'Helford6', version: '5.9.6.2996' });
    assert.equal(e.overrides.web?.problem, null);
    assert.deepEqual(e.parameters.map((p) => p.name), [...e.parameters.map((p) => p.name)].sort(), 'still ordered by name');

    const text = polyprov('explain', MAC).stdout;
    assert.match(text, /^up\.backlight\.idleIntensity\s+1\s+device 0004f2000001\s+phone: 2 \(over web: 3\)\s+-$/m);
    assert.match(text, /^reg\.1\.label\s+-\s+-\s+phone: Anna & Co\s+-$/m);
    assert.match(text, /^tcpIpApp\.sntp\.address\s+tenant-ntp\s+tenant acme\s+web: web-ntp\s+-$/m);
    assert.match(text, /override file: overrides\/0004f2000001-phone\.cfg version 1, 4 parameter\(s\)/);
  });

  test('override conflicts lists the overridden parameters that differ from central policy', () => {
    const r = conflicts();
    assert.equal(r.devicesWithOverrides, 1);
    assert.deepEqual(
      r.conflicts.map((c) => [c.mac, c.parameter, c.server.value, `${c.server.layer} ${c.server.ref}`, c.override.value, c.override.source]),
      [
        [MAC, 'lcl.ml.lang', 'English_United_Kingdom', 'tenant acme', 'Deutsch_Deutschland', 'phone'],
        [MAC, 'tcpIpApp.sntp.address', 'tenant-ntp', 'tenant acme', 'web-ntp', 'web'],
        [MAC, 'up.backlight.idleIntensity', '1', `device ${MAC}`, '2', 'phone'],
      ],
      'reg.1.address is overridden with the server value and reg.1.label is set only by the phone: neither conflicts',
    );
    assert.deepEqual(r.malformed, []);
    const text = polyprov('override', 'conflicts').stdout;
    assert.match(text, /^3 conflicting override\(s\) on 1 of 1 device\(s\)/);
    assert.match(text, /^0004f2000001\s+up\.backlight\.idleIntensity\s+1\s+device 0004f2000001\s+2\s+phone \(overrides\/0004f2000001-phone\.cfg v1\)\s*$/m);
  });

  test('override show prints what the newest files set', () => {
    const text = polyprov('override', 'show', MAC, '--kind', 'phone').stdout;
    assert.match(text, /^overrides\/0004f2000001-phone\.cfg version 1 \(\d+ bytes, .*written by Helford6 5\.9\.6\.2996\)$/m);
    assert.match(text, /^reg\.1\.label\s+Anna & Co$/m);
    assert.doesNotMatch(text, /web-ntp/);
    const json = JSON.parse(polyprov('override', 'show', MAC, '--json').stdout) as { phone: { parameters: unknown[] }; web: { parameters: unknown[] } };
    assert.equal(json.phone.parameters.length, 4);
    assert.deepEqual(json.web.parameters, [
      { name: 'up.backlight.idleIntensity', value: '3' },
      { name: 'tcpIpApp.sntp.address', value: 'web-ntp' },
    ]);
  });

  test('override clear: the phone is served empty override files, explain shows no override, earlier versions stay', async () => {
    const out = polyprov('override', 'clear', MAC).stdout;
    assert.match(out, /cleared overrides\/0004f2000001-phone\.cfg: version 2 is the empty override file/);
    assert.match(out, /cleared overrides\/0004f2000001-web\.cfg: version 2/);
    for (const [kind, root] of [['phone', 'PHONE_CONFIG'], ['web', 'WEB_CONFIG']] as const) {
      const r = get(`overrides/${MAC}-${kind}.cfg`);
      assert.equal(r.status, 200);
      const parsed = parseOverrideFile(r.text);
      assert.ok(parsed.ok, r.text);
      assert.equal(parsed.params.size, 0, `no parameters in the empty -${kind}.cfg`);
      assert.match(r.text, new RegExp(`<${root}>\\s*<OVERRIDES\\s*/>\\s*</${root}>`));
    }
    const boot = bootPhone({ baseUrl: server.httpUrl, auth: AUTH, phone: PHONE });
    assert.equal(statusOf(boot, `overrides/${MAC}-phone.cfg`), 200);

    const e = explain();
    assert.deepEqual(e.parameters.filter((p) => p.override), [], 'no override left');
    assert.equal(param(e, 'reg.1.label'), undefined, 'override-only parameters are gone with their file');
    assert.equal(param(e, 'up.backlight.idleIntensity')?.effective, '1');
    assert.equal(e.overrides.phone?.empty, true);
    assert.ok(e.notes.some((n) => /-phone\.cfg \(version 2\) is the empty override file/.test(n)), e.notes.join('\n'));
    assert.deepEqual(conflicts().conflicts, []);

    const versions = await ctx.store.listPhoneUploads(acme.id, MAC);
    assert.deepEqual(
      versions.map((v) => [v.path, v.version]),
      [
        [`overrides/${MAC}-phone.cfg`, 1],
        [`overrides/${MAC}-phone.cfg`, 2],
        [`overrides/${MAC}-web.cfg`, 1],
        [`overrides/${MAC}-web.cfg`, 2],
      ],
    );
    const list = polyprov('override', 'list', MAC).stdout;
    assert.match(list, /^overrides\/0004f2000001-phone\.cfg\s+1\s+\d+\s+\S+\s+-\s+-\s*$/m, 'version 1 is kept, not served');
    assert.match(list, /^overrides\/0004f2000001-phone\.cfg\s+2\s+\d+\s+\S+\s+-\s+served, empty \(cleared\)\s*$/m);

    assert.match(polyprov('override', 'clear', MAC, '--kind', 'phone').stdout, /already empty \(version 2\)/, 'clearing twice records nothing');
    assert.equal((await ctx.store.listPhoneUploads(acme.id, MAC)).length, 4);
  });

  test('override restore --version 1: the phone is served its file again, byte for byte', () => {
    assert.match(polyprov('override', 'restore', MAC, '--kind', 'phone', '--version', '1').stdout, /restored overrides\/0004f2000001-phone\.cfg version 1 as version 3/);
    assert.ok(get(`overrides/${MAC}-phone.cfg`).body.equals(Buffer.from(PHONE_CFG)));
    assert.equal(get(`overrides/${MAC}-web.cfg`).text.includes('web-ntp'), false, '-web.cfg stays cleared');
    const e = explain();
    assert.deepEqual(param(e, 'up.backlight.idleIntensity')?.override, { source: 'phone', value: '2', path: `overrides/${MAC}-phone.cfg`, version: 3, shadows: [] });
    assert.equal(param(e, 'reg.1.label')?.effective, 'Anna & Co');

    const missing = cli(server.dataDir, ['override', 'restore', MAC, '--kind', 'phone', '--version', '9']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /overrides\/0004f2000001-phone\.cfg has no version 9 in tenant "acme": its versions are 1, 2, 3/);
    const badKind = cli(server.dataDir, ['override', 'restore', MAC, '--kind', 'tablet', '--version', '1']);
    assert.equal(badKind.code, 1);
    assert.match(badKind.stderr, /unknown override kind "tablet": expected phone .* or web/);
    const badVersion = cli(server.dataDir, ['override', 'restore', MAC, '--kind', 'phone', '--version', 'latest']);
    assert.equal(badVersion.code, 1);
    assert.match(badVersion.stderr, /--version expects a version number/);
    const noTenant = cli(server.dataDir, ['override', 'list', '0004f2999999']);
    assert.equal(noTenant.code, 0, 'with one tenant, that tenant: an unknown MAC has no versions');
  });

  test('a malformed upload is stored, and shows up as malformed in explain notes, override list and the conflict report', () => {
    const truncated = WEB_CFG.slice(0, 90);
    const r = put(`overrides/${MAC}-web.cfg`, truncated);
    assert.equal(r.status, 204);
    assert.ok(r.headers['x-polyprov-problem']);
    assert.equal(get(`overrides/${MAC}-web.cfg`).text, truncated, 'served back as stored');

    const e = explain();
    assert.match(e.overrides.web?.problem ?? '', /not well-formed XML/);
    assert.ok(e.notes.some((n) => /overrides\/0004f2000001-web\.cfg \(version 3\) is malformed: not well-formed XML/.test(n)), e.notes.join('\n'));
    assert.equal(param(e, 'tcpIpApp.sntp.address')?.override, undefined, "a malformed file's parameters are unknown");
    assert.equal(param(e, 'up.backlight.idleIntensity')?.override?.source, 'phone', 'the readable -phone.cfg still applies');
    const text = polyprov('explain', MAC).stdout;
    assert.match(text, /^note: overrides\/0004f2000001-web\.cfg \(version 3\) is malformed/m);
    assert.match(text, /^override file: overrides\/0004f2000001-web\.cfg version 3, malformed$/m);

    assert.match(polyprov('override', 'list', MAC).stdout, /^overrides\/0004f2000001-web\.cfg\s+3\s+90\s+\S+\s+not well-formed XML.*served\s*$/m);
    const c = conflicts();
    assert.deepEqual(c.malformed.map((m) => [m.mac, m.path, m.version]), [[MAC, `overrides/${MAC}-web.cfg`, 3]]);
    assert.match(polyprov('override', 'show', MAC, '--kind', 'web').stdout, /^malformed: not well-formed XML/m);
    assert.match(polyprov('override', 'conflicts').stdout, /^note: overrides\/0004f2000001-web\.cfg \(version 3\) is malformed/m);
  });
});

describe('overrideConflicts and explain, in-process', () => {
  let beta: Tenant;
  const REG = '0004f2000011';
  const SEEN = '0004f2000012';

  async function upload(t: Tenant, mac: string, kind: 'phone' | 'web', xml: string, problem: string | null = null) {
    const blob = await ctx.blobs.put(Buffer.from(xml));
    return ctx.store.recordPhoneUpload({ tenantId: t.id, mac, path: overridePath(mac, kind), blobKey: blob.key, size: blob.size, problem });
  }
  const overrides = (root: string, attrs: string) => `<?xml version="1.0"?><${root}><OVERRIDES ${attrs}/></${root}>`;

  before(async () => {
    beta = (await addTenant(ctx, 'beta', { password: 'beta-password-1', pathPrefix: 'beta' })).tenant;
    await addGroup(ctx, beta, 'sales');
    await setModelPolicy(ctx, beta, 'VVX_500');
    await setParameters(ctx, beta, {}, ['feature.a=tenant', 'feature.b=tenant'], { force: true });
    await setParameters(ctx, beta, { model: 'VVX_500' }, ['feature.m=model'], { force: true });
    await setParameters(ctx, beta, { group: 'sales' }, ['feature.a=group'], { force: true });
    await addDevice(ctx, beta, REG, { group: 'sales' });
    // Seen on the wire, not registered: tenant and model layers only.
    await ctx.store.recordSightings([{ tenantId: beta.id, mac: SEEN, at: new Date().toISOString(), model: 'VVX_500' }]);
    await ctx.store.recordSightings([{ tenantId: beta.id, mac: '0004f2000013', at: new Date().toISOString() }]);
  });

  test('resolves each device as the core does, and applies -phone.cfg over -web.cfg', async () => {
    // REG: web conflicts on feature.a, but phone sets the server's value over it: no conflict there.
    await upload(beta, REG, 'web', overrides('WEB_CONFIG', 'feature.a="web" feature.b="web"'));
    await upload(beta, REG, 'phone', overrides('PHONE_CONFIG', 'feature.a="group" feature.local="x"'));
    await upload(beta, SEEN, 'phone', overrides('PHONE_CONFIG', 'feature.m="phone" feature.a="tenant"'));
    const r = await overrideConflicts(ctx, beta);
    assert.equal(r.devicesWithOverrides, 2, 'the device with no override files is not counted');
    assert.deepEqual(
      r.conflicts.map((c) => [c.mac, c.parameter, c.server.layer, c.server.value, c.override.source, c.override.value]),
      [
        [REG, 'feature.b', 'tenant', 'tenant', 'web', 'web'],
        [SEEN, 'feature.m', 'model', 'model', 'phone', 'phone'],
      ],
    );
    // explain agrees: a seen-only device gets the group-free resolution.
    const e = await explainDevice(ctx, beta, SEEN);
    assert.equal(e.parameters.find((p) => p.name === 'feature.a')?.layer, 'tenant');
    assert.equal(e.parameters.find((p) => p.name === 'feature.m')?.override?.value, 'phone');
  });

  test('a malformed -phone.cfg is reported, and the -web.cfg under it still counts', async () => {
    await upload(beta, REG, 'phone', '<PHONE_CONFIG><OVERRIDES feature.a="', 'not well-formed XML: truncated');
    const r = await overrideConflicts(ctx, beta);
    assert.deepEqual(r.malformed, [{ mac: REG, path: overridePath(REG, 'phone'), version: 2, problem: 'not well-formed XML: truncated' }]);
    assert.deepEqual(
      r.conflicts.filter((c) => c.mac === REG).map((c) => [c.parameter, c.override.source, c.override.value]),
      [
        ['feature.a', 'web', 'web'],
        ['feature.b', 'web', 'web'],
      ],
    );
  });

  test('clear and restore record new versions and never delete', async () => {
    const cleared = await clearOverrides(ctx, beta, REG, 'both');
    assert.deepEqual(cleared.map((c) => [c.kind, c.outcome]), [['phone', 'cleared'], ['web', 'cleared']]);
    assert.deepEqual((await clearOverrides(ctx, beta, '0004f2000013', 'both')).map((c) => c.outcome), ['none-stored', 'none-stored']);
    assert.equal((await overrideConflicts(ctx, beta)).conflicts.filter((c) => c.mac === REG).length, 0);
    const restored = await restoreOverride(ctx, beta, REG, 'web', 1);
    assert.equal(restored.version, 3);
    assert.equal((await ctx.store.listPhoneUploads(beta.id, REG)).length, 6);
    await assert.rejects(restoreOverride(ctx, beta, '0004f2000013', 'phone', 1), /has no version 1 in tenant "beta": the phone has not uploaded one/);
    await assert.rejects(clearOverrides(ctx, beta, REG, 'tablet' as 'phone'), /unknown override kind/);
  });
});
