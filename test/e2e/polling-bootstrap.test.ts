// Polling windows and the plain-HTTP → HTTPS bootstrap as an administrator runs them: the real
// `polyprov polling`, `param`, `explain`, `file` and `bootstrap` commands against a running
// `polyprov serve`, and what phones then fetch with the real curl. The bootstrap's CA is proven by
// curl verifying this server's certificate with it, as the phone will.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AdminContext } from '../../src/admin/admin-context.js';
import { listParameters, setParameters } from '../../src/admin/parameters.js';
import { addDevice } from '../../src/admin/structure.js';
import { addTenant, updateTenant } from '../../src/admin/tenants.js';
import { openAdminContext } from '../../src/app.js';
import type { Tenant } from '../../src/store/store.js';
import { cliAsync, type CliExit } from '../support/cli-async.js';
import { curlAsync } from '../support/curl-async.js';
import type { CurlResult } from '../support/curl.js';
import { startServer, tempDir, type ServerProcess } from '../support/server-process.js';
import { configParameters } from '../support/config-parameters.js';

const POLL_A = '0004f2060001';
const POLL_B = '0004f2060002';
const BOOT = '0004f2070001';
const PASSWORDS: Record<string, string> = { poll: 'poll-pw-1', boot: 'boot-pw-1' };
const LINE_SECRET = 'line-secret-1';
const FILE_SECRET = 'file-secret-1';
const EXTRA_FILE = 'site-secrets.cfg';
const ua = (mac: string) => `FileTransport PolycomVVX-VVX_450-UA/6.4.6.2163 (SN:${mac}) Type/Application`;

let server: ServerProcess;
let ctx: AdminContext;
let dataDir: string;
let scratch: string;
const tenants: Record<string, Tenant> = {};

/** The minute of the window a MAC gets, computed here on its own: sha256 of the MAC, 4 bytes, mod the window. */
function expectedMinute(mac: string, startMinutes: number, lengthMinutes: number): string {
  const m = startMinutes + (createHash('sha256').update(mac.toLowerCase()).digest().readUInt32BE(0) % lengthMinutes);
  return `${String(Math.floor(m / 60) % 24).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

async function run(args: string[], code = 0): Promise<CliExit> {
  const r = await cliAsync(server.dataDir, args);
  assert.equal(r.code, code, `polyprov ${args.join(' ')} exited ${r.code}, expected ${code}:\n${r.stderr}${r.stdout}`);
  return r;
}

async function fetchAs(base: string, slug: string, mac: string, path: string): Promise<CurlResult> {
  return curlAsync(`${base}/${path}`, ['-u', `${slug}:${PASSWORDS[slug]}`, '-A', ua(mac)]);
}

async function config(slug: string, mac: string, base = server.httpUrl): Promise<Map<string, string>> {
  const r = await fetchAs(base, slug, mac, `${mac}-polyprov.cfg`);
  assert.equal(r.status, 200, `config of ${mac}: ${r.text}`);
  return configParameters(r.text);
}

const polling = (params: Map<string, string>) => [...params].filter(([n]) => n.startsWith('prov.polling.')).sort();

before(async () => {
  dataDir = tempDir();
  scratch = tempDir();
  ctx = await openAdminContext({ dataDir });
  for (const slug of ['poll', 'boot']) tenants[slug] = (await addTenant(ctx, slug, { password: PASSWORDS[slug]! })).tenant;
  await addDevice(ctx, tenants.poll!, POLL_A, {});
  await addDevice(ctx, tenants.poll!, POLL_B, {});
  await addDevice(ctx, tenants.boot!, BOOT, {});
  await setParameters(ctx, tenants.boot!, {}, [`reg.1.auth.password=${LINE_SECRET}`, 'reg.1.address=1001']);
  tenants.boot = await updateTenant(ctx, 'boot', { extraConfigFiles: [EXTRA_FILE] });
  server = await startServer({ dataDir, args: ['--no-tftp', '--no-ftp', '--no-ftps'] });
});

after(async () => {
  await server?.stop();
  await ctx?.store.close();
  for (const dir of [dataDir, scratch]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('polyprov polling: a minute of the window per phone', () => {
  const A_TIME = expectedMinute(POLL_A, 60, 240);
  const B_TIME = expectedMinute(POLL_B, 60, 240);

  test('polling set --window gives each phone its own minute of the window, explained', async () => {
    assert.notEqual(A_TIME, B_TIME, 'the test MACs were chosen to land on different minutes');
    const r = await run(['polling', 'set', '--window', '01:00-05:00', '-t', 'poll']);
    assert.match(r.stdout, /^2 device\(s\) of this layer; the busiest minute is (\d\d:\d\d) with 1 phone\(s\)$/m, r.stdout);
    assert.ok([A_TIME, B_TIME].includes(/busiest minute is (\d\d:\d\d)/.exec(r.stdout)![1]!), r.stdout);

    for (const [mac, time] of [[POLL_A, A_TIME], [POLL_B, B_TIME]] as const) {
      const params = await config('poll', mac);
      assert.deepEqual(polling(params), [
        ['prov.polling.enabled', '1'],
        ['prov.polling.mode', 'abs'],
        ['prov.polling.period', '86400'],
        ['prov.polling.time', time],
      ]);
      assert.ok(time >= '01:00' && time <= '04:59', `${time} is inside 01:00-04:59`);
      assert.equal(params.has('polyprov.polling.window'), false, "the window is polyprov's own, never sent");
    }

    const explained = JSON.parse((await run(['explain', POLL_A, '--json', '-t', 'poll'])).stdout) as { parameters: { name: string; value: string; layer: string; ref: string }[] };
    const time = explained.parameters.find((p) => p.name === 'prov.polling.time');
    assert.equal(time?.value, A_TIME);
    assert.equal(time?.layer, 'tenant');
    assert.match(time!.ref, /window 01:00-05:00/);
  });

  test("a device's own prov.polling.time wins for that device only", async () => {
    await run(['param', 'set', 'prov.polling.time=02:30', '--device', POLL_A, '-t', 'poll']);
    assert.equal((await config('poll', POLL_A)).get('prov.polling.time'), '02:30');
    assert.equal((await config('poll', POLL_B)).get('prov.polling.time'), B_TIME);
  });

  test('--phone-random lets the phone draw its time in the window, and drops the server-side window', async () => {
    const r = await run(['polling', 'set', '--window', '22:00-02:00', '--phone-random', '-t', 'poll']);
    assert.doesNotMatch(r.stdout, /busiest minute/, 'nobody can say when a phone drawing its own time polls');
    assert.deepEqual(polling(await config('poll', POLL_B)), [
      ['prov.polling.enabled', '1'],
      ['prov.polling.mode', 'random'],
      ['prov.polling.period', '86400'],
      ['prov.polling.time', '22:00'],
      ['prov.polling.timeRandomEnd', '02:00'],
    ]);
    assert.equal((await config('poll', POLL_A)).get('prov.polling.time'), '02:30', 'the device pin still wins');
    const stored = (await listParameters(ctx, tenants.poll!, {})).map((p) => p.name);
    assert.equal(stored.includes('polyprov.polling.window'), false, 'the abs mode window was removed');
  });

  test('polling unset removes the plan; a bad window is refused', async () => {
    const [unset, bad] = await Promise.all([run(['polling', 'unset', '-t', 'poll']), cliAsync(server.dataDir, ['polling', 'set', '--window', '25:00-01:00', '-t', 'poll'])]);
    assert.match(unset.stdout, /polling plan removed/);
    assert.deepEqual(polling(await config('poll', POLL_B)), []);
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stderr, /^polyprov: invalid polling window "25:00-01:00": expected HH:MM-HH:MM/);
  });
});

describe('polyprov bootstrap: plain HTTP only moves phones to HTTPS', () => {
  let bootstrapXml = '';

  test('over plain HTTP a phone gets only the move to HTTPS and the CA; over HTTPS everything', async () => {
    const local = join(scratch, EXTRA_FILE);
    writeFileSync(local, `<?xml version="1.0" encoding="UTF-8"?>\n<polycomConfig><reg reg.2.auth.password="${FILE_SECRET}"/></polycomConfig>\n`);
    await run(['file', 'add', EXTRA_FILE, local, '-t', 'boot']);
    // Served once before the bootstrap: the server may now hold it in memory, and must check it all the same.
    assert.equal((await fetchAs(server.httpUrl, 'boot', BOOT, EXTRA_FILE)).status, 200, 'before the bootstrap, plain HTTP serves it');

    const httpsUrl = `${server.httpsUrl}/`;
    const enabled = await run(['bootstrap', 'enable', '--url', httpsUrl, '-t', 'boot']);
    assert.match(enabled.stdout, /device\.sec\.TLS\.customCaCert1=\(PEM certificate\)/);

    const master = await fetchAs(server.httpUrl, 'boot', BOOT, '000000000000.cfg');
    assert.equal(master.status, 200);
    assert.equal(configParameters(master.text).get('CONFIG_FILES'), '[PHONE_MAC_ADDRESS]-polyprov.cfg', 'only the generated file, not the extra one');
    assert.equal((await fetchAs(server.httpUrl, 'boot', BOOT, `${BOOT}.cfg`)).status, 404, 'the phone falls back to the shared master');

    const stage1 = await fetchAs(server.httpUrl, 'boot', BOOT, `${BOOT}-polyprov.cfg`);
    assert.equal(stage1.status, 200);
    bootstrapXml = stage1.text;
    const params = configParameters(stage1.text);
    assert.deepEqual([...params.keys()].sort(), [
      'device.prov.serverName',
      'device.prov.serverName.set',
      'device.prov.serverType',
      'device.prov.serverType.set',
      'device.sec.TLS.customCaCert1',
      'device.sec.TLS.customCaCert1.set',
      'device.set',
    ]);
    assert.equal(params.get('device.prov.serverType'), 'HTTPS');
    assert.equal(params.get('device.prov.serverName'), httpsUrl);
    assert.doesNotMatch(stage1.text, new RegExp(LINE_SECRET), 'no password over plain HTTP');

    const extraOverHttp = await fetchAs(server.httpUrl, 'boot', BOOT, EXTRA_FILE);
    assert.equal(extraOverHttp.status, 403, 'a file holding a password is refused over plain HTTP');
    assert.match(extraOverHttp.text, /HTTPS/, 'and the refusal says where to fetch it');
    const extraOverHttps = await fetchAs(server.httpsUrl, 'boot', BOOT, EXTRA_FILE);
    assert.equal(extraOverHttps.status, 200);
    assert.match(extraOverHttps.text, new RegExp(FILE_SECRET));
    assert.equal((await fetchAs(server.httpUrl, 'boot', BOOT, EXTRA_FILE)).status, 403, 'still refused over plain HTTP after HTTPS served it');

    const httpsMaster = configParameters((await fetchAs(server.httpsUrl, 'boot', BOOT, '000000000000.cfg')).text);
    assert.deepEqual(httpsMaster.get('CONFIG_FILES')!.split(',').map((f) => f.trim()), ['[PHONE_MAC_ADDRESS]-polyprov.cfg', EXTRA_FILE], 'over HTTPS the master lists the extra file too');
    const full = await config('boot', BOOT, server.httpsUrl);
    assert.equal(full.get('reg.1.auth.password'), LINE_SECRET, 'the full configuration over HTTPS');
    assert.equal(full.get('device.prov.serverType'), 'HTTPS', 'and it keeps the phone on HTTPS');
  });

  test('the CA handed to phones really verifies this server (curl without -k)', () => {
    assert.ok(bootstrapXml, 'the previous test fetched the bootstrap configuration');
    const pem = configParameters(bootstrapXml).get('device.sec.TLS.customCaCert1')!;
    assert.match(pem, /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n?$/, 'a PEM with its line breaks restored');
    const caFile = join(scratch, 'bootstrap-ca.pem');
    writeFileSync(caFile, pem);
    const fetch = (extra: string[]) =>
      spawnSync('curl', ['-sS', '--max-time', '10', '-o', '/dev/null', '-w', '%{http_code}', '-u', `boot:${PASSWORDS.boot}`, '-A', ua(BOOT), ...extra, `${server.httpsUrl}/000000000000.cfg`], {
        encoding: 'utf8',
        timeout: 20_000,
      });
    const verified = fetch(['--cacert', caFile]);
    assert.equal(verified.status, 0, `curl --cacert failed: ${verified.stderr}`);
    assert.equal(verified.stdout, '200');
    // The control: without that CA the same request fails verification, so the check above is real.
    const unverified = fetch([]);
    assert.equal(unverified.status, 60, `without that CA curl refuses the certificate (exit 60): ${unverified.stderr}`);
  });

  test('bootstrap disable: plain HTTP serves the full configuration again', async () => {
    const r = await run(['bootstrap', 'disable', '-t', 'boot']);
    assert.match(r.stdout, /bootstrap disabled/);
    const params = await config('boot', BOOT);
    assert.equal(params.get('reg.1.auth.password'), LINE_SECRET);
    assert.equal(params.get('reg.1.address'), '1001');
    assert.equal((await fetchAs(server.httpUrl, 'boot', BOOT, EXTRA_FILE)).status, 200);
    assert.match(configParameters((await fetchAs(server.httpUrl, 'boot', BOOT, '000000000000.cfg')).text).get('CONFIG_FILES')!, new RegExp(EXTRA_FILE));
  });
});
