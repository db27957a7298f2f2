import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { addTenant } from '../../src/admin/tenants.js';
import { openAdminContext } from '../../src/app.js';
import type { AdminContext } from '../../src/admin/admin-context.js';
import type { Tenant } from '../../src/store/store.js';
import { curl } from '../support/curl.js';
import { startServer, tempDir, type ServerProcess } from '../support/server-process.js';

const MAC = '0004f2000001';
const OTHER = '0004f2000002';
const UA = `FileTransport PolycomVVX-VVX_450-UA/6.4.6.2163 (SN:${MAC}) Type/Application`;
const AUTH = ['-u', 'acme:acme-password-1'];
const PHONE_CFG = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!-- Application SIP Helford6 5.9.6.2996 30-Jan-21 15:34 -->
<PHONE_CONFIG>
  <OVERRIDES up.backlight.idleIntensity="2" lcl.ml.lang="Deutsch_Deutschland" reg.1.label="Anna &amp; Co"/>
</PHONE_CONFIG>
`;

let server: ServerProcess;
let ctx: AdminContext;
let acme: Tenant;
let scratch: string;

function put(path: string, body: string | Buffer, args: string[] = []) {
  const file = join(scratch, `body-${randomBytes(4).toString('hex')}`);
  writeFileSync(file, body);
  return curl(`${server.httpUrl}/${path}`, [...AUTH, '-A', UA, '-T', file, ...args]);
}

before(async () => {
  const dataDir = tempDir();
  scratch = tempDir();
  ctx = await openAdminContext({ dataDir });
  acme = (await addTenant(ctx, 'acme', { password: 'acme-password-1' })).tenant;
  await addTenant(ctx, 'beta', { password: 'beta-password-1', pathPrefix: 'beta' });
  server = await startServer({ dataDir });
});
after(async () => {
  await server?.stop();
  await ctx?.store.close();
});

describe('phones upload their overrides, directories and call lists', () => {
  test('a -phone.cfg is stored, served back byte for byte, and every version is kept', async () => {
    assert.equal(curl(`${server.httpUrl}/overrides/${MAC}-phone.cfg`, [...AUTH, '-A', UA]).status, 404, 'nothing before the first upload');
    assert.equal(put(`overrides/${MAC}-phone.cfg`, PHONE_CFG).status, 201);
    const back = curl(`${server.httpUrl}/overrides/${MAC}-phone.cfg`, [...AUTH, '-A', UA]);
    assert.equal(back.status, 200);
    assert.equal(back.text, PHONE_CFG);
    const second = PHONE_CFG.replace('"2"', '"3"');
    assert.equal(put(`overrides/${MAC.toUpperCase()}-phone.cfg`, second).status, 204, 'a MAC in upper case names the same file');
    assert.equal(curl(`${server.httpUrl}/overrides/${MAC}-phone.cfg`, [...AUTH, '-A', UA]).text, second);
    const versions = await ctx.store.listPhoneUploads(acme.id, MAC);
    assert.deepEqual(versions.map((v) => [v.path, v.version, v.problem]), [
      [`overrides/${MAC}-phone.cfg`, 1, null],
      [`overrides/${MAC}-phone.cfg`, 2, null],
    ]);
  });

  test('directories and call lists round-trip too', () => {
    const dir = '<?xml version="1.0" encoding="UTF-8"?><directory><item_list><item><fn>Jane</fn><ct>1001</ct></item></item_list></directory>';
    assert.equal(put(`contacts/${MAC}-directory.xml`, dir).status, 201);
    assert.equal(curl(`${server.httpUrl}/contacts/${MAC}-directory.xml`, [...AUTH, '-A', UA]).text, dir);
    const calls = '<?xml version="1.0"?><callList><call dir="in"/></callList>';
    assert.equal(put(`calls/${MAC}-calls.xml`, calls).status, 201);
    assert.equal(curl(`${server.httpUrl}/calls/${MAC}-calls.xml`, [...AUTH, '-A', UA]).text, calls);
  });

  test('a truncated or binary override is stored all the same, and flagged', async () => {
    const truncated = PHONE_CFG.slice(0, 120);
    const r = put(`overrides/${MAC}-web.cfg`, truncated);
    assert.equal(r.status, 201);
    assert.match(r.headers['x-polyprov-problem'] ?? '', /not well-formed XML/);
    const garbage = randomBytes(4096);
    assert.equal(put(`overrides/${MAC}-web.cfg`, garbage).status, 204);
    assert.ok(curl(`${server.httpUrl}/overrides/${MAC}-web.cfg`, [...AUTH, '-A', UA]).body.equals(garbage), 'nothing lost');
    const versions = (await ctx.store.listPhoneUploads(acme.id, MAC)).filter((v) => v.path.endsWith('-web.cfg'));
    assert.equal(versions.length, 2);
    assert.ok(versions.every((v) => v.problem && /not well-formed/.test(v.problem)));
  });

  test('an oversized body gets 413 and stores nothing', async () => {
    const before = (await ctx.store.listPhoneUploads(acme.id, MAC)).length;
    const r = put(`overrides/${MAC}-phone.cfg`, Buffer.alloc(1024 * 1024 + 1, 0x41));
    assert.equal(r.status, 413);
    // Without a length up front (chunked), the limit is enforced while streaming.
    const chunked = put(`overrides/${MAC}-phone.cfg`, Buffer.alloc(1024 * 1024 + 1, 0x41), ['-H', 'Transfer-Encoding: chunked']);
    assert.equal(chunked.status, 413);
    assert.equal((await ctx.store.listPhoneUploads(acme.id, MAC)).length, before);
    assert.equal(curl(`${server.httpUrl}/overrides/${MAC}-phone.cfg`, [...AUTH, '-A', UA]).text.includes('"3"'), true, 'the last good version is still served');
  });

  test("a phone cannot write another device's files, nor another tenant's", async () => {
    assert.equal(put(`overrides/${OTHER}-phone.cfg`, PHONE_CFG).status, 403, 'UA serial says this is another phone');
    assert.equal(put(`beta/overrides/${MAC}-phone.cfg`, PHONE_CFG).status, 401);
    assert.equal(put(`overrides/../${MAC}-phone.cfg`, PHONE_CFG, ['--path-as-is']).status, 400);
    assert.equal(put(`overrides/%2e%2e%2f${MAC}-phone.cfg`, PHONE_CFG, ['--path-as-is']).status, 400);
    assert.equal((await ctx.store.listPhoneUploads(acme.id, OTHER)).length, 0);
  });

  test('only upload locations accept writes', () => {
    assert.equal(put('000000000000.cfg', PHONE_CFG).status, 405);
    assert.equal(put(`${MAC}-polyprov.cfg`, PHONE_CFG).status, 405);
    assert.equal(put('sip.ld', 'x').status, 405);
    assert.equal(put(`coredumps/${MAC}-core.gz`, 'core').status, 501, 'core dumps are not stored yet');
  });
});
