import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseOverrideFile } from '../../src/domain/override-file.js';
import { curl } from '../support/curl.js';
import { userAgentOf, VVX_450 } from '../support/phone-boot.js';
import { cli, startServer, tempDir, type CliResult, type ServerProcess } from '../support/server-process.js';

// Override policy per tenant (issue 3, item 4): a deny-list of reg.* with stripping on. The phone
// uploads a -phone.cfg naming reg.1.label and up.backlight.idleIntensity; it is served back only
// the allowed one, the stored upload stays as it was, `override conflicts` reports the disallowed
// one, and with stripping off the phone gets the file as stored. Set up with the real CLI.

const MAC = '0004f2000001';
const PASSWORD = 'acme-password-1';
const AUTH = ['-u', `acme:${PASSWORD}`];
const UA = userAgentOf({ ...VVX_450, mac: MAC });
const PHONE_PATH = `overrides/${MAC}-phone.cfg`;
const PHONE_CFG = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!-- Application SIP Helford6 5.9.6.2996 30-Jan-21 15:34 -->
<PHONE_CONFIG>
  <OVERRIDES reg.1.label="Anna &amp; Co" up.backlight.idleIntensity="2"/>
</PHONE_CONFIG>
`;

let server: ServerProcess;
let dataDir: string;
let scratch: string;

function polyprov(...args: string[]): CliResult {
  const r = cli(dataDir, args);
  assert.equal(r.code, 0, `polyprov ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
  return r;
}
function get(path: string) {
  return curl(`${server.httpUrl}/${path}`, [...AUTH, '-A', UA]);
}
function put(path: string, body: string) {
  const file = join(scratch, `body-${randomBytes(4).toString('hex')}`);
  writeFileSync(file, body);
  return curl(`${server.httpUrl}/${path}`, [...AUTH, '-A', UA, '-T', file]);
}

interface Report {
  conflicts: { parameter: string }[];
  disallowed: { mac: string; parameter: string; value: string; source: string; path: string; version: number }[];
  policy: { overridePolicy: string; overridePatterns: string[]; stripDisallowedOverrides: boolean };
}

before(async () => {
  dataDir = tempDir();
  scratch = tempDir();
  polyprov('tenant', 'add', 'acme', '--password', PASSWORD, '--override-policy', 'deny-list', '--override-patterns', 'reg.*', '--strip-disallowed-overrides');
  polyprov('device', 'add', MAC, '--tenant', 'acme');
  server = await startServer({ dataDir });
});
after(async () => {
  await server?.stop();
});

describe('override policy: deny-list reg.*, disallowed overrides stripped from what is served', () => {
  test('tenant show reports the policy; a pattern that is not a parameter name is refused', () => {
    const text = polyprov('tenant', 'show', 'acme').stdout;
    assert.match(text, /^override policy\s+deny-list$/m);
    assert.match(text, /^override patterns\s+reg\.\*$/m);
    assert.match(text, /^strip disallowed overrides\s+yes$/m);
    const bad = cli(dataDir, ['tenant', 'set', 'acme', '--override-patterns', 'reg.1*.label']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /invalid override pattern "reg\.1\*\.label"/);
    const badPolicy = cli(dataDir, ['tenant', 'set', 'acme', '--override-policy', 'deny']);
    assert.notEqual(badPolicy.code, 0);
    assert.match(badPolicy.stderr, /invalid override policy "deny"/);
  });

  test('the phone is served its -phone.cfg without reg.1.label; the stored upload is unchanged', () => {
    assert.equal(put(PHONE_PATH, PHONE_CFG).status, 201);
    const served = get(PHONE_PATH);
    assert.equal(served.status, 200);
    const parsed = parseOverrideFile(served.text);
    assert.ok(parsed.ok, served.text);
    assert.deepEqual([...parsed.params], [['up.backlight.idleIntensity', '2']]);
    assert.match(served.text, /^<\?xml version="1\.0" encoding="UTF-8" standalone="yes"\?>\n/);
    assert.match(served.text, /<PHONE_CONFIG>\s*<OVERRIDES up\.backlight\.idleIntensity="2"\/?>\s*<\/PHONE_CONFIG>/);

    const versions = JSON.parse(polyprov('override', 'list', MAC, '--json').stdout) as { path: string; version: number; size: number }[];
    assert.deepEqual(versions.map((v) => [v.path, v.version, v.size]), [[PHONE_PATH, 1, Buffer.byteLength(PHONE_CFG)]], 'one stored version, of the original size');
    const shown = JSON.parse(polyprov('override', 'show', MAC, '--kind', 'phone', '--json').stdout) as { phone: { parameters: { name: string; value: string }[] } };
    assert.deepEqual(shown.phone.parameters, [
      { name: 'reg.1.label', value: 'Anna & Co' },
      { name: 'up.backlight.idleIntensity', value: '2' },
    ]);
  });

  test('override conflicts lists reg.1.label as disallowed, in JSON and in a second section of the text', () => {
    const r = JSON.parse(polyprov('override', 'conflicts', '--json').stdout) as Report;
    assert.deepEqual(r.disallowed, [{ mac: MAC, parameter: 'reg.1.label', value: 'Anna & Co', source: 'phone', path: PHONE_PATH, version: 1 }]);
    assert.deepEqual(r.policy, { overridePolicy: 'deny-list', overridePatterns: ['reg.*'], stripDisallowedOverrides: true });
    const text = polyprov('override', 'conflicts').stdout;
    assert.match(text, /1 override\(s\) the tenant's deny-list \(reg\.\*\) does not allow, stripped from what phones are served/);
    assert.match(text, /^0004f2000001\s+reg\.1\.label\s+Anna & Co\s+phone \(overrides\/0004f2000001-phone\.cfg v1\)$/m);
  });

  test('with stripping off, the phone gets the file as stored; on again, filtered again', () => {
    polyprov('tenant', 'set', 'acme', '--no-strip-disallowed-overrides');
    const asStored = get(PHONE_PATH);
    assert.equal(asStored.status, 200);
    assert.ok(asStored.body.equals(Buffer.from(PHONE_CFG)), asStored.text);
    const r = JSON.parse(polyprov('override', 'conflicts', '--json').stdout) as Report;
    assert.equal(r.disallowed.length, 1, 'still reported while served');
    assert.match(polyprov('override', 'conflicts').stdout, /served as uploaded/);

    polyprov('tenant', 'set', 'acme', '--strip-disallowed-overrides');
    assert.doesNotMatch(get(PHONE_PATH).text, /reg\.1\.label/);
  });

  test('a file with nothing disallowed, or one that does not parse, is served as stored', () => {
    polyprov('tenant', 'set', 'acme', '--override-policy', 'allow-list', '--override-patterns', 'reg.*,up.*');
    assert.ok(get(PHONE_PATH).body.equals(Buffer.from(PHONE_CFG)), 'nothing to strip: the stored bytes');
    const broken = '<PHONE_CONFIG><OVERRIDES reg.1.label="x"';
    assert.equal(put(PHONE_PATH, broken).status, 204, 'a new version of an existing file');
    polyprov('tenant', 'set', 'acme', '--override-policy', 'deny-list', '--override-patterns', 'reg.*');
    assert.equal(get(PHONE_PATH).text, broken, 'unreadable: the phone keeps what it had');
  });
});
