// One phone, one tenant, every protocol: a boot over TFTP, FTP, explicit FTPS and implicit FTPS
// reads the same master, configuration and image, and so ends with the same effective
// configuration, as over HTTP; logs appended over each protocol land in one log, in order; and the
// inventory notes every contact, whatever the protocol.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { curl } from '../support/curl.js';
import { bootPhone, VVX_450, type BootResult } from '../support/phone-boot.js';
import { cli, startServer, type ServerProcess } from '../support/server-process.js';

const MAC = '0004f2e60001';
const PHONE = { ...VVX_450, mac: MAC };
const AUTH = 'acme:acme-password-1';
const IMAGE = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251));
const scratch = mkdtempSync(join(tmpdir(), 'polyprov-every-'));
let server: ServerProcess;

before(async () => {
  server = await startServer();
  const run = (...args: string[]) => {
    const r = cli(server.dataDir, args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  };
  // TFTP cannot authenticate: the loopback subnet names the tenant, and this tenant lets its
  // configuration (which holds a SIP password) go over TFTP.
  run('tenant', 'add', 'acme', '--password', 'acme-password-1', '--tftp-subnets', '127.0.0.0/8,::1/128', '--tftp-secrets');
  run('site', 'add', 'hq', '-t', 'acme');
  run('device', 'add', MAC, '-t', 'acme', '--site', 'hq');
  run('param', 'set', '--force', '-t', 'acme', 'tcpIpApp.sntp.address=pool.ntp.org', 'reg.1.auth.password=sip-secret', 'feature.layer=tenant');
  run('param', 'set', '--force', '-t', 'acme', '--site', 'hq', 'feature.layer=site', 'up.backlight.idleIntensity=1');
  run('param', 'set', '--force', '-t', 'acme', '--device', MAC, 'reg.1.address=1001');
  const image = join(scratch, 'sip.ld');
  writeFileSync(image, IMAGE);
  run('file', 'add', '-t', 'acme', `${PHONE.partNumber}.sip.ld`, image);
});
after(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** curl exit status → the status bootPhone understands: 0 is found, "no such file" is 404. */
function fetchWith(urlOf: (path: string) => string, args: string[]) {
  return (path: string, method: 'GET' | 'HEAD') => {
    const r = spawnSync('curl', ['-sS', '-k', '--max-time', '20', ...args, ...(method === 'HEAD' ? ['-I'] : []), urlOf(path)], { maxBuffer: 64 * 1024 * 1024, timeout: 30_000 });
    // 68: TFTP file not found; 78: FTP remote file not found (550); 9: FTP CWD refused (no such folder).
    const status = r.status === 0 ? 200 : r.status === 68 || r.status === 78 || r.status === 9 ? 404 : 500 + (r.status ?? 99);
    return { status, body: r.stdout, text: r.stdout.toString('utf8') };
  };
}

const protocols = () => ({
  tftp: fetchWith((p) => `tftp://127.0.0.1:${server.tftpPort}/${p}`, []),
  ftp: fetchWith((p) => `ftp://${AUTH}@127.0.0.1:${server.ftpPort}/${p}`, []),
  'ftp+auth-tls': fetchWith((p) => `ftp://${AUTH}@127.0.0.1:${server.ftpPort}/${p}`, ['--ssl-reqd']),
  ftps: fetchWith((p) => `ftps://${AUTH}@127.0.0.1:${server.ftpsPort}/${p}`, []),
});

function summary(r: BootResult) {
  return {
    masterPath: r.masterPath,
    master: Object.fromEntries(r.master),
    configFiles: r.configFiles,
    configBodies: r.configBodies,
    image: r.image && { path: r.image.path, bytes: r.image.bytes.length, same: r.image.bytes.equals(IMAGE) },
    effective: Object.fromEntries(r.effective),
  };
}

describe('the same phone over every protocol', () => {
  test('boots into the same effective configuration as over HTTP', () => {
    const http = bootPhone({ baseUrl: server.httpUrl, auth: ['-u', AUTH], phone: PHONE });
    const expected = summary(http);
    assert.equal(expected.effective['feature.layer'], 'site');
    assert.equal(expected.effective['reg.1.address'], '1001');
    assert.deepEqual(expected.image, { path: `${PHONE.partNumber}.sip.ld`, bytes: IMAGE.length, same: true });
    for (const [name, fetch] of Object.entries(protocols())) {
      const got = summary(bootPhone({ baseUrl: '', auth: [], phone: PHONE, fetch }));
      assert.deepEqual(got, expected, `${name} differs from HTTP`);
    }
  });

  test('log chunks sent over each protocol append to one log, in order, and the inventory notes each contact', () => {
    const path = `logs/${MAC}-app.log`;
    const chunks: string[] = [];
    const send = (name: string, args: string[], url: string) => {
      const chunk = `${name}: ${'x'.repeat(100)} line\n`;
      chunks.push(chunk);
      const file = join(scratch, `${name}.chunk`);
      writeFileSync(file, chunk);
      const r = spawnSync('curl', ['-sS', '-k', '--max-time', '20', ...args, '-T', file, url], { timeout: 30_000 });
      assert.equal(r.status, 0, `${name}: curl exit ${r.status}: ${r.stderr}`);
    };
    send('http', ['-u', AUTH, '-A', `FileTransport PolycomVVX-VVX_450-UA/6.4.6.2163 (SN:${MAC}) Type/Application`], `${server.httpUrl}/${path}`);
    send('tftp', [], `tftp://127.0.0.1:${server.tftpPort}/${path}`);
    send('ftp', ['-a'], `ftp://${AUTH}@127.0.0.1:${server.ftpPort}/${path}`);
    send('ftp-auth-tls', ['-a', '--ssl-reqd'], `ftp://${AUTH}@127.0.0.1:${server.ftpPort}/${path}`);
    send('ftps', ['-a'], `ftps://${AUTH}@127.0.0.1:${server.ftpsPort}/${path}`);
    const log = curl(`${server.httpUrl}/${path}`, ['-u', AUTH]);
    assert.equal(log.status, 200);
    assert.equal(log.text, chunks.join(''));

    // The last contact was the implicit-FTPS append: the inventory says so (flushed every 50 ms).
    let device: { lastFile?: string; lastIp?: string; model?: string } | undefined;
    for (let i = 0; i < 50; i++) {
      const inv = JSON.parse(cli(server.dataDir, ['inventory', '-t', 'acme', '--json']).stdout) as { mac: string; lastFile?: string }[];
      device = inv.find((d) => d.mac === MAC);
      if (device?.lastFile === path) break;
      spawnSync('sleep', ['0.1']);
    }
    assert.equal(device?.lastFile, path);
    assert.equal(device?.lastIp, '127.0.0.1');
    assert.equal(device?.model, 'VVX_450', 'the model the HTTP boot reported stays');
  });
});
