import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { setParameters } from '../../src/admin/parameters.js';
import { addDevice, addGroup, addSite } from '../../src/admin/structure.js';
import { addTenant } from '../../src/admin/tenants.js';
import { openAdminContext } from '../../src/app.js';
import type { AdminContext } from '../../src/admin/admin-context.js';
import { curl } from '../support/curl.js';
import { userAgentOf, VVX_450 } from '../support/phone-boot.js';
import { cli, startServer, tempDir, type CliResult, type ServerProcess } from '../support/server-process.js';
import { waitFor } from '../support/wait-for.js';

const scratch: string[] = [];
const scratchDir = () => {
  const d = tempDir();
  scratch.push(d);
  return d;
};

const PASSWORD = 'acme-prov-pw-1';
const AUTH = ['-u', `acme:${PASSWORD}`];
const MAC = '0004f2000001';
const PHONE_UA = userAgentOf({ ...VVX_450, mac: MAC });
const ODD_AGENT_MSG = /user-agent/i;

let server: ServerProcess;
let ctx: AdminContext;
let dataDir: string;

before(async () => {
  dataDir = scratchDir();
  ctx = await openAdminContext({ dataDir });
  const acme = (await addTenant(ctx, 'acme', { password: PASSWORD })).tenant;
  // A second tenant, so that commands without --tenant have to say which one.
  await addTenant(ctx, 'other', { password: 'other-prov-pw-1', pathPrefix: 'other' });
  await addSite(ctx, acme, 'hq');
  await addGroup(ctx, acme, 'sales');
  await addDevice(ctx, acme, MAC, { site: 'hq', group: 'sales' });
  await setParameters(ctx, acme, {}, ['feature.layer=tenant', 'tcpIpApp.sntp.address=tenant-ntp'], { force: true });
  await setParameters(ctx, acme, { site: 'hq' }, ['feature.layer=site', 'tcpIpApp.sntp.address=hq-ntp'], { force: true });
  await setParameters(ctx, acme, { group: 'sales' }, ['feature.layer=group'], { force: true });
  await setParameters(ctx, acme, { device: MAC }, ['feature.layer=device', 'reg.1.address=1001'], { force: true });
  server = await startServer({ dataDir });
});

after(async () => {
  await server?.stop();
  await ctx?.store.close();
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

const url = (path: string) => `${server.httpUrl}/${path}`;


/** Log lines warning about this exact User-Agent (as the server decoded it, cut to 200 characters as it logs it). */
function uaWarnings(decodedUa: string) {
  return server.logs.filter((l) => l.level === 40 && typeof l.msg === 'string' && ODD_AGENT_MSG.test(l.msg) && l.userAgent === decodedUa.slice(0, 200));
}

/** Everything written to the server log before this call is in server.logs after it. */
async function logBarrier(): Promise<void> {
  const sentinel = `barrier-${Math.random().toString(36).slice(2)}`;
  assert.equal(curl(url('000000000000.cfg'), [...AUTH, '-A', sentinel]).status, 200);
  await waitFor('the barrier log line', () => (uaWarnings(sentinel).length ? true : undefined));
}

function assertNoServerErrors() {
  const errors = server.logs.filter((l) => typeof l.level === 'number' && l.level >= 50);
  assert.deepEqual(errors, [], 'the server logged errors');
}

function assertMasterServed() {
  const r = curl(url('000000000000.cfg'), [...AUTH, '-A', PHONE_UA]);
  assert.equal(r.status, 200);
  assert.match(r.text, /APP_FILE_PATH/);
}

describe('garbage User-Agents', () => {
  // curl sends argv bytes as they are; Node reads header bytes as latin1, so non-ASCII UTF-8
  // arrives as one character per byte. `sent` is what curl gets, `seen` what the server logs.
  const latin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
  const agents: { name: string; args: string[]; seen: string }[] = [
    { name: 'empty', args: ['-H', 'User-Agent;'], seen: '' },
    { name: 'curl/8', args: ['-A', 'curl/8'], seen: 'curl/8' },
    { name: '8 KB of junk', args: ['-A', 'j'.repeat(8192)], seen: 'j'.repeat(8192) },
    { name: 'high bytes and a tab', args: ['-A', 'ÿþ\u0080bin\u00e9\t\u2603 Poly'], seen: latin1('ÿþ\u0080bin\u00e9\t\u2603 Poly') },
    { name: 'a Poly look-alike', args: ['-A', 'FileTransport PolycomVVX-VVX_450-UA/'], seen: 'FileTransport PolycomVVX-VVX_450-UA/' },
    { name: 'another vendor', args: ['-A', 'FileTransport Acme-Phone_1-UA/1.2.3'], seen: 'FileTransport Acme-Phone_1-UA/1.2.3' },
  ];

  for (const a of agents) {
    test(`${a.name}: still served, and warned about once`, async () => {
      for (let i = 0; i < 3; i++) {
        const r = curl(url('000000000000.cfg'), [...AUTH, ...a.args]);
        assert.equal(r.status, 200, `request ${i + 1}`);
        assert.match(r.text, /APP_FILE_PATH/);
      }
      const cfg = curl(url(`${MAC}-polyprov.cfg`), [...AUTH, ...a.args]);
      assert.equal(cfg.status, 200);
      assert.match(cfg.text, /feature\.layer="device"/);
      await logBarrier();
      const lines = uaWarnings(a.seen);
      assert.equal(lines.length, 1, `one warning for this agent, not ${lines.length}`);
      assert.ok(String(lines[0]!.userAgent).length <= 200, 'the logged agent is cut short');
    });
  }

  test('no User-Agent at all is served without a warning about it', async () => {
    const before = server.logs.length;
    const r = curl(url('000000000000.cfg'), [...AUTH, '-A', '']); // curl -A '' sends no header
    assert.equal(r.status, 200);
    await logBarrier();
    const warned = server.logs.slice(before).filter((l) => l.level === 40 && l.userAgent === undefined && ODD_AGENT_MSG.test(String(l.msg)));
    assert.deepEqual(warned, []);
  });

  test("control bytes in the header are refused by Node's HTTP parser (400) and the server carries on", () => {
    // RFC 9110 §5.5: CTLs are not allowed in field values; Node rejects the request before polyprov sees it.
    for (const ua of ['\u0001bin', 'x\u007fy']) {
      const r = curl(url('000000000000.cfg'), [...AUTH, '-A', ua]);
      assert.equal(r.status, 400, JSON.stringify(ua));
    }
    assertMasterServed();
    assertNoServerErrors();
  });

  test('after more than 1000 distinct odd agents, a repeated agent is still not logged on every request', async () => {
    // The set of agents already warned about is bounded; when full it starts over rather than
    // warning on every request of an agent it could not remember.
    const u = new URL(server.httpUrl);
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const get = (ua: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          { host: u.hostname, port: u.port, path: '/000000000000.cfg', agent, headers: { authorization: `Basic ${Buffer.from(`acme:${PASSWORD}`).toString('base64')}`, 'user-agent': ua } },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
        req.on('error', reject);
        req.end();
      });
    try {
      for (let batch = 0; batch < 1000; batch += 50) {
        const statuses = await Promise.all(Array.from({ length: 50 }, (_, i) => get(`odd-agent-${batch + i}`)));
        assert.ok(statuses.every((s) => s === 200));
      }
      const repeated = 'repeated-odd-agent/1.0';
      for (let i = 0; i < 5; i++) assert.equal(await get(repeated), 200);
      await logBarrier();
      assert.ok(uaWarnings(repeated).length <= 1, `logged ${uaWarnings(repeated).length} times for 5 requests`);
    } finally {
      agent.destroy();
    }
  });
});

describe('malformed MACs in paths', () => {
  const paths = [
    '0004f2zzzzzz.cfg',
    '0004f2.cfg',
    '0004f20000011.cfg',
    '0004F2ZZZZZZ.cfg',
    '00:04:f2:00:00:01.cfg',
    '0004f2zzzzzz-polyprov.cfg',
    '0004f2-polyprov.cfg',
    '0004f20000011-polyprov.cfg',
    '-polyprov.cfg',
    '.cfg',
    'logs/0004f2zzzzzz-app.log',
    'logs/0004f2-app.log',
    'overrides/0004f20000011-phone.cfg',
    'contacts/0004f2zzzzzz-directory.xml',
  ];
  for (const p of paths) {
    test(`${p} → 404`, () => {
      for (const args of [[], ['-A', PHONE_UA]]) {
        const r = curl(url(p), [...AUTH, ...args]);
        assert.equal(r.status, 404, `${p} ${args.join(' ')}: ${r.text}`);
      }
    });
  }

  test('the server logged no error and keeps serving', async () => {
    await logBarrier();
    assertNoServerErrors();
    assertMasterServed();
  });
});

describe('the command line refuses bad input with a clear message', () => {
  const run = (args: string[]) => cli(dataDir, args);
  function assertRefused(r: CliResult, ...mentions: (string | RegExp)[]) {
    assert.equal(r.code, 1, `exit code 1 expected; stdout: ${r.stdout} stderr: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /unexpected error|\n\s+at /, 'a message, not a stack trace');
    for (const m of mentions) {
      if (typeof m === 'string') assert.ok(r.stderr.includes(m), `stderr should mention ${JSON.stringify(m)}: ${r.stderr}`);
      else assert.match(r.stderr, m);
    }
  }

  test('device add not-a-mac', () => {
    assertRefused(run(['device', 'add', 'not-a-mac', '--tenant', 'acme']), 'not-a-mac', '12 hexadecimal digits', /0004f2a1b2c3/);
  });

  test('device add of the all-zero MAC', () => {
    assertRefused(run(['device', 'add', '000000000000', '--tenant', 'acme']), '000000000000', /not a device MAC/);
  });

  test("param set 'bad name=1'", () => {
    assertRefused(run(['param', 'set', 'bad name=1', '--tenant', 'acme']), '"bad name"', /character " " is not allowed/);
  });

  test('param set device.set=1', () => {
    assertRefused(run(['param', 'set', 'device.set=1', '--tenant', 'acme']), '"device.set"', /automatically/);
  });

  test('param set reg.1.address (no "=")', () => {
    assertRefused(run(['param', 'set', 'reg.1.address', '--tenant', 'acme']), '"reg.1.address"', 'name=value', /no "="/);
  });

  test('param set with a control character in the value', () => {
    const r = run(['param', 'set', 'reg.1.label=bad\u0001value', '--tenant', 'acme']);
    assertRefused(r, '"reg.1.label"', 'U+0001');
    assert.ok(!r.stderr.includes('\u0001'), 'the control character is shown escaped, not written to the terminal');
  });

  test('one bad assignment among good ones sets none of them', () => {
    assertRefused(run(['param', 'set', 'feature.good=1', 'bad..name=2', '--tenant', 'acme']), '"bad..name"');
    const list = run(['param', 'list', '--json', '--tenant', 'acme']);
    assert.equal(list.code, 0, list.stderr);
    const names = (JSON.parse(list.stdout) as { name: string }[]).map((p) => p.name);
    assert.ok(!names.includes('feature.good'), 'nothing was half-applied');
    assert.ok(!names.some((n) => /bad|device\.set|reg\.1\.label/.test(n)), `no refused parameter was stored: ${names.join(', ')}`);
  });

  test("tenant add 'Bad Slug'", () => {
    assertRefused(run(['tenant', 'add', 'Bad Slug']), '"Bad Slug"', /lower-case/);
  });

  test('site add with several tenants and no --tenant', () => {
    const r = run(['site', 'add', 'branch']);
    assertRefused(r, '--tenant', 'acme', 'other');
  });

  test('unknown subcommand', () => {
    const r = run(['frobnicate']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown command/i);
    assert.match(r.stderr, /--help/);
    const sub = run(['param', 'frobnicate']);
    assert.notEqual(sub.code, 0);
    assert.match(sub.stderr, /--help/);
  });

  test('explain prints each parameter with the layer it comes from', () => {
    const json = run(['explain', MAC, '--tenant', 'acme', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const e = JSON.parse(json.stdout) as { parameters: { name: string; value: string; layer: string; ref: string }[] };
    const byName = new Map(e.parameters.map((p) => [p.name, p]));
    assert.equal(byName.get('feature.layer')?.value, 'device');
    assert.equal(byName.get('feature.layer')?.layer, 'device');
    assert.equal(byName.get('feature.layer')?.ref, MAC);
    assert.equal(byName.get('tcpIpApp.sntp.address')?.layer, 'site');
    assert.equal(byName.get('tcpIpApp.sntp.address')?.value, 'hq-ntp');
    assert.equal(byName.get('reg.1.address')?.layer, 'device');

    const text = run(['explain', MAC, '--tenant', 'acme']);
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.split('\n');
    for (const p of e.parameters) {
      const line = lines.find((l) => l.startsWith(p.name + ' '));
      assert.ok(line, `a line for ${p.name}:\n${text.stdout}`);
      assert.ok(line.includes(` ${p.value} `) || line.includes(` ${p.value}  `), `${p.name} shows its value: ${line}`);
      assert.ok(line.includes(`${p.layer} ${p.ref}`), `${p.name} shows its layer "${p.layer} ${p.ref}": ${line}`);
    }
    assert.match(text.stdout, /^feature\.layer\s+device\s+device 0004f2000001\s+group sales="group"; site hq="site"; tenant acme="tenant"\s*$/m);
  });

  test('after all of that the running server still serves the tenant, with nothing refused in it', async () => {
    assertMasterServed();
    const cfg = curl(url(`${MAC}-polyprov.cfg`), [...AUTH, '-A', PHONE_UA]);
    assert.equal(cfg.status, 200);
    assert.match(cfg.text, /feature\.layer="device"/);
    assert.doesNotMatch(cfg.text, /feature\.good|bad|reg\.1\.label/);
    await logBarrier();
    assertNoServerErrors();
  });
});
