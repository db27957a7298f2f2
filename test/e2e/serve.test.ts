import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { cli, startServer, tempDir, type ServerProcess } from '../support/server-process.js';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { curl } from '../support/curl.js';

const UA = 'FileTransport PolycomVVX-VVX_450-UA/6.4.6.2163 (SN:0004f2a1b2c3) Type/Application';
const servers: ServerProcess[] = [];
after(async () => {
  for (const s of servers) await s.stop();
});

async function waitForBanner(s: ServerProcess, pattern: RegExp): Promise<RegExpExecArray> {
  for (let i = 0; i < 100; i++) {
    const m = pattern.exec(s.banner.join('\n'));
    if (m) return m;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`banner never matched ${pattern}: ${s.banner.join('\n')}`);
}

describe('polyprov serve', () => {
  test('--demo creates a demo tenant on first start and prints working credentials, again after a restart', async () => {
    const dataDir = tempDir();
    const first = await startServer({ dataDir, args: ['--demo'] });
    servers.push(first);
    const [, user, password] = await waitForBanner(first, /user name (\S+), password (\S+)/);
    assert.equal(user, 'demo');
    const master = curl(`${first.httpUrl}/000000000000.cfg`, ['-u', `${user}:${password}`, '-A', UA]);
    assert.equal(master.status, 200);
    assert.match(master.text, /<APPLICATION /);
    const config = curl(`${first.httpsUrl}/0004f2a1b2c3-polyprov.cfg`, ['--digest', '-u', `${user}:${password}`, '-A', UA]);
    assert.equal(config.status, 200);
    assert.match(config.text, /prov\.polling\.enabled="1"/);
    // Every edge prints a URL a newcomer can use as it is.
    const [, tftpUrl] = await waitForBanner(first, /TFTP +(tftp:\/\/127\.0\.0\.1:\d+\/)/);
    const [, ftpUrl] = await waitForBanner(first, /FTP +(ftp:\/\/demo:[^@\s]+@127\.0\.0\.1:\d+\/)/);
    const [, ftpsUrl] = await waitForBanner(first, /FTPS +(ftps:\/\/demo:[^@\s]+@127\.0\.0\.1:\d+\/)/);
    assert.equal(decodeURIComponent(/:([^:@]+)@/.exec(ftpUrl!)![1]!), password);
    for (const url of [tftpUrl!, ftpUrl!, ftpsUrl!]) {
      const r = spawnSync('curl', ['-sS', '-k', '--max-time', '10', `${url}000000000000.cfg`], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${url}: ${r.stderr}`);
      assert.equal(r.stdout, master.text, `${url} serves the same master as HTTP`);
    }
    await first.stop();

    const second = await startServer({ dataDir, args: ['--demo'] });
    servers.push(second);
    const [, , again] = await waitForBanner(second, /user name (\S+), password (\S+)/);
    assert.equal(again, password, 'the same demo credentials are printed after a restart');
    assert.equal(cli(dataDir, ['tenant', 'list', '--json']).stdout.match(/"slug"/g)?.length, 1, 'no second demo tenant');
  });

  test('two workers share the sockets, Digest nonces and every admin change', async () => {
    const dataDir = tempDir();
    assert.equal(cli(dataDir, ['tenant', 'add', 'acme', '--password', 'acme-password-1']).code, 0);
    const s = await startServer({ dataDir, args: ['--workers', '2'] });
    servers.push(s);
    const pids = new Set(s.logs.filter((l) => l.msg === 'listening').map((l) => l.pid));
    for (let i = 0; i < 20 && pids.size < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      for (const l of s.logs) if (l.msg === 'listening') pids.add(l.pid);
    }
    assert.equal(pids.size, 2, 'two worker processes listen');
    // Each curl is a new process and connection; the kernel spreads them over both workers.
    for (let i = 0; i < 12; i++) {
      const r = curl(`${s.httpUrl}/0004f2a1b2c3-polyprov.cfg`, ['--digest', '-u', 'acme:acme-password-1', '-A', UA]);
      assert.equal(r.status, 200);
    }
    assert.equal(cli(dataDir, ['param', 'set', '--force', 'feature.cluster=changed']).code, 0);
    for (let i = 0; i < 12; i++) {
      const r = curl(`${s.httpUrl}/0004f2a1b2c3-polyprov.cfg`, ['-u', 'acme:acme-password-1', '-A', UA]);
      assert.match(r.text, /feature\.cluster="changed"/, 'every worker serves the change at once');
    }
  });

  test('a bad setting stops the server with a clear error instead of starting half-configured', () => {
    const r = cli(tempDir(), ['serve', '--http-port', 'eighty']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /invalid HTTP port "eighty"/);
    const both = cli(tempDir(), ['serve', '--no-http', '--no-https', '--no-tftp', '--no-ftp', '--no-ftps']);
    assert.equal(both.code, 1);
    assert.match(both.stderr, /nothing to serve/);
  });

  test('a config file can switch edges off: a flag only wins when it is given', () => {
    const dir = tempDir();
    const file = join(dir, 'polyprov.json');
    writeFileSync(file, JSON.stringify({ http: false, https: false, tftp: false, ftp: false, ftps: false }));
    const off = cli(dir, ['serve', '--config', file]);
    assert.equal(off.code, 1, 'commander\'s default for --no-http must not turn HTTP back on');
    assert.match(off.stderr, /nothing to serve/);
  });
});
