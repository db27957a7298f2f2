// Phones writing over TFTP (WRQ) to a real `polyprov serve`, with curl -T and atftp --put; what they
// wrote is read back over HTTP with the tenant's credentials.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { curl } from '../support/curl.js';
import { cli, startServer, tempDir, type ServerProcess } from '../support/server-process.js';
import { atftp, curlTftpPut } from '../support/tftp-clients.js';
import { lossyPut, TftpError } from '../support/tftp-lossy-client.js';

const MAC = '0004f2000001';
const PASSWORD = 'acme-password-1';
const OVERRIDE = (v: string) => `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<PHONE_CONFIG>
  <OVERRIDES up.backlight.idleIntensity="${v}" reg.1.label="Anna &amp; Co"/>
</PHONE_CONFIG>
`;

let server: ServerProcess;
let dataDir: string;
let scratch: string;

function local(content: string | Buffer): string {
  const p = join(scratch, `up-${randomBytes(4).toString('hex')}`);
  writeFileSync(p, content);
  return p;
}

const viaHttp = (path: string) => curl(`${server.httpUrl}/${path}`, ['-u', `acme:${PASSWORD}`]);

before(async () => {
  dataDir = tempDir();
  scratch = tempDir();
  const add = cli(dataDir, ['tenant', 'add', 'acme', '--password', PASSWORD, '--tftp-subnets', '127.0.0.0/8,::1/128']);
  assert.equal(add.code, 0, add.stderr);
  server = await startServer({ dataDir, args: ['--no-ftp', '--no-ftps', '--no-https'] });
});
after(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

describe('logs', () => {
  test('curl -T twice appends, and HTTP serves both parts', async () => {
    const first = '0517184000|so   |4|00|first upload\n';
    const second = `0517184001|so   |4|00|second upload ${'x'.repeat(3000)}\n`;
    for (const part of [first, second]) {
      const r = await curlTftpPut(server.tftpPort, local(part), `logs/${MAC}-app.log`);
      assert.equal(r.code, 0, r.stderr);
    }
    const back = viaHttp(`logs/${MAC}-app.log`);
    assert.equal(back.status, 200);
    assert.equal(back.text, first + second);
  });

  test('atftp --put with blksize and windowsize appends too', async () => {
    const parts = [randomBytes(5000).toString('hex') + '\n', 'tail line\n'];
    for (const part of parts) {
      const r = await atftp(server.tftpPort, 'put', `logs/${MAC}-boot.log`, local(part), { blksize: 1468, windowsize: 8 });
      assert.equal(r.code, 0, r.stderr + r.stdout);
    }
    assert.equal(viaHttp(`logs/${MAC}-boot.log`).text, parts.join(''));
  });
});

describe('whole files', () => {
  test('an override from curl -T and one from atftp --put are served back as written', async () => {
    const phone = OVERRIDE('2');
    const r1 = await curlTftpPut(server.tftpPort, local(phone), `overrides/${MAC}-phone.cfg`, ['--tftp-blksize', '1468']);
    assert.equal(r1.code, 0, r1.stderr);
    assert.equal(viaHttp(`overrides/${MAC}-phone.cfg`).text, phone);

    const web = OVERRIDE('3');
    const r2 = await atftp(server.tftpPort, 'put', `/overrides/${MAC}-web.cfg`, local(web));
    assert.equal(r2.code, 0, r2.stderr + r2.stdout);
    assert.equal(viaHttp(`overrides/${MAC}-web.cfg`).text, web);

    // A second upload is a new version; the newest is served.
    const again = OVERRIDE('4');
    assert.equal((await curlTftpPut(server.tftpPort, local(again), `overrides/${MAC}-phone.cfg`)).code, 0);
    assert.equal(viaHttp(`overrides/${MAC}-phone.cfg`).text, again);
  });

  test('a file of exactly N blocks is stored whole (its last block is empty)', async () => {
    const dir = `<?xml version="1.0"?><directory><item_list>${'<item><fn>Jane</fn><ct>1001</ct></item>'.repeat(400)}</item_list></directory>`;
    const body = Buffer.from(dir.padEnd(512 * Math.ceil(dir.length / 512), ' '));
    assert.equal(body.length % 512, 0);
    const r = await curlTftpPut(server.tftpPort, local(body), `contacts/${MAC}-directory.xml`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(viaHttp(`contacts/${MAC}-directory.xml`).body.toString(), body.toString());
  });

  test('core dumps are refused (not stored yet), with the reason', async () => {
    await assert.rejects(
      lossyPut({ host: '127.0.0.1', port: server.tftpPort, file: `coredumps/${MAC}-core.gz`, deadlineMs: 10_000 }, Buffer.from('core')),
      (err: unknown) => err instanceof TftpError && err.code === 0 && /does not store/.test(err.message),
    );
  });

  test('a read-only file cannot be overwritten', async () => {
    const r = await curlTftpPut(server.tftpPort, local('x'), '000000000000.cfg');
    assert.notEqual(r.code, 0);
    assert.match(viaHttp('000000000000.cfg').text, /APPLICATION/);
  });
});
