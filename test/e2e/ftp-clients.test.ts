import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { curl } from '../support/curl.js';
import { basicFtp, curlFtp, download, FTP_MODES, sha256, source, type FtpMode } from '../support/ftp-clients.js';
import { RawFtpClient, readAll } from '../support/ftp-raw-client.js';
import { cli, startServer, tempDir, type ServerProcess } from '../support/server-process.js';

// Phones fetch and upload over FTP, plain or TLS; here real clients (curl, basic-ftp) do what they
// do, against a real `polyprov serve`, and every byte is checked over HTTP.

const PASSWORD = 'acme-ftp-pw-1';
const BLOB = randomBytes(3 * 1024 * 1024 + 17);

let server: ServerProcess;
let scratch: string;

function admin(args: string[]) {
  const r = cli(server.dataDir, args);
  assert.equal(r.code, 0, `polyprov ${args.join(' ')}: ${r.stderr}`);
  return r;
}

function overHttp(path: string): Buffer {
  const r = curl(`${server.httpUrl}/${path}`, ['-u', `acme:${PASSWORD}`]);
  assert.equal(r.status, 200, `GET ${path}`);
  return r.body;
}

function file(data: Buffer | string): string {
  const p = join(scratch, randomBytes(6).toString('hex'));
  writeFileSync(p, data);
  return p;
}

before(async () => {
  scratch = tempDir();
  server = await startServer();
  admin(['tenant', 'add', 'acme', '--password', PASSWORD]);
  admin(['file', 'add', 'firmware/blob.bin', file(BLOB)]);
});
after(async () => {
  await server?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** A device of its own per client and mode, so no test reads another's upload. */
const macFor = (client: string, mode: FtpMode) => `0004f2${client === 'curl' ? 'c0' : 'b0'}00${FTP_MODES.indexOf(mode)}${client === 'curl' ? 1 : 2}`;

describe('curl over FTP, explicit FTPS and implicit FTPS', () => {
  for (const mode of FTP_MODES) {
    test(`${mode}: RETR a blob and the master file, STOR an override, APPE a log twice`, async () => {
      const ports = server;
      const user = ['-u', `acme:${PASSWORD}`];
      const blob = await curlFtp(mode, ports, 'firmware/blob.bin', user);
      assert.equal(blob.exit, 0, blob.stderr);
      assert.equal(sha256(blob.stdout), sha256(BLOB));

      const master = await curlFtp(mode, ports, '000000000000.cfg', user);
      assert.equal(master.exit, 0, master.stderr);
      assert.ok(master.stdout.equals(overHttp('000000000000.cfg')), 'the same bytes as over HTTP');

      const mac = macFor('curl', mode);
      const override = `<PHONE_CONFIG><OVERRIDES reg.1.label="curl ${mode}"/></PHONE_CONFIG>\n`;
      const stor = await curlFtp(mode, ports, `overrides/${mac}-phone.cfg`, [...user, '-T', file(override)]);
      assert.equal(stor.exit, 0, stor.stderr);
      assert.equal(overHttp(`overrides/${mac}-phone.cfg`).toString(), override);

      const first = `0101 00:00:01|app|first line over ${mode}\n`;
      const second = `0101 00:00:02|app|second line over ${mode}\n`;
      for (const part of [first, second]) {
        const r = await curlFtp(mode, ports, `logs/${mac}-app.log`, [...user, '-a', '-T', file(part)]);
        assert.equal(r.exit, 0, r.stderr);
      }
      assert.equal(overHttp(`logs/${mac}-app.log`).toString(), first + second);
    });
  }
});

describe('basic-ftp over FTP, explicit FTPS and implicit FTPS', () => {
  for (const mode of FTP_MODES) {
    test(`${mode}: RETR a blob and the master file, STOR an override, APPE a log twice`, async () => {
      const client = await basicFtp(mode, server, 'acme', PASSWORD);
      try {
        assert.equal(sha256(await download(client, 'firmware/blob.bin')), sha256(BLOB));
        assert.ok((await download(client, '/000000000000.cfg')).equals(overHttp('000000000000.cfg')));
        assert.equal(await client.size('firmware/blob.bin'), BLOB.length);

        const mac = macFor('basic', mode);
        const override = `<PHONE_CONFIG><OVERRIDES reg.1.label="basic-ftp ${mode}"/></PHONE_CONFIG>\n`;
        await client.uploadFrom(source(override), `overrides/${mac}-phone.cfg`);
        assert.equal(overHttp(`overrides/${mac}-phone.cfg`).toString(), override);

        const parts = [`0101 00:00:01|app|one ${mode}\n`, `0101 00:00:02|app|two ${mode}\n`];
        for (const part of parts) await client.appendFrom(source(part), `logs/${mac}-app.log`);
        assert.equal(overHttp(`logs/${mac}-app.log`).toString(), parts.join(''));
        assert.equal((await download(client, `logs/${mac}-app.log`)).toString(), parts.join(''), 'and back over FTP');
      } finally {
        client.close();
      }
    });
  }
});

describe('listings', () => {
  test('LIST, NLST and MLSD show the master, tree folders and upload folders; logs lists an uploaded log with its size', async () => {
    const mac = '0004f2000d01';
    const log = '0101 00:00:01|app|listed\n';
    const user = ['-u', `acme:${PASSWORD}`];
    assert.equal((await curlFtp('plain', server, `logs/${mac}-app.log`, [...user, '-a', '-T', file(log)])).exit, 0);

    const list = await curlFtp('plain', server, '/', user);
    assert.equal(list.exit, 0, list.stderr);
    // curl lists in ASCII mode, so it turns the CRLFs into LFs.
    const listText = list.stdout.toString();
    assert.match(listText, /^-\S+ .* 000000000000\.cfg$/m);
    for (const dir of ['firmware', 'logs', 'overrides', 'contacts', 'calls']) assert.match(listText, new RegExp(`^d\\S+ .* ${dir}$`, 'm'), dir);

    const nlst = await curlFtp('explicit', server, '/logs/', [...user, '-l']);
    assert.equal(nlst.exit, 0, nlst.stderr);
    assert.ok(nlst.stdout.toString().split(/\r?\n/).includes(`${mac}-app.log`), nlst.stdout.toString());

    const client = await basicFtp('implicit', server, 'acme', PASSWORD);
    try {
      // basic-ftp lists with MLSD, since FEAT announces MLST.
      const root = await client.list('/');
      assert.ok(root.some((f) => f.name === '000000000000.cfg' && f.isFile), 'the master file');
      assert.ok(root.some((f) => f.name === 'logs' && f.isDirectory), 'the logs folder');
      await client.cd('firmware');
      assert.equal(await client.pwd(), '/firmware');
      const firmware = await client.list();
      assert.deepEqual(firmware.map((f) => [f.name, f.size]), [['blob.bin', BLOB.length]]);
      await client.cd('/logs');
      const logs = await client.list();
      assert.equal(logs.find((f) => f.name === `${mac}-app.log`)?.size, Buffer.byteLength(log));
      assert.ok(Math.abs((logs.find((f) => f.name === `${mac}-app.log`)!.modifiedAt?.getTime() ?? 0) - Date.now()) < 10 * 60_000, 'a real modification time');
    } finally {
      client.close();
    }

    const raw = await RawFtpClient.connect(server.ftpPort);
    try {
      await raw.login('acme', PASSWORD);
      const data = await raw.openData();
      assert.equal((await raw.command('MLSD /logs')).code, 150);
      const mlsd = (await readAll(data)).toString();
      assert.equal((await raw.reply()).code, 226);
      assert.ok(mlsd.includes(`type=file;size=${Buffer.byteLength(log)};`) && mlsd.includes(` ${mac}-app.log\r\n`), mlsd);
      const mlst = await raw.command(`MLST /logs/${mac}-app.log`);
      assert.equal(mlst.code, 250);
      assert.match(mlst.lines[1]!, new RegExp(`^ type=file;size=${Buffer.byteLength(log)};modify=\\d{14}; /logs/${mac}-app\\.log$`));
      assert.match((await raw.command(`MDTM /logs/${mac}-app.log`)).text, /^213 \d{14}$/);
      assert.equal((await raw.command('CWD /nowhere')).code, 550);
    } finally {
      raw.close();
    }
  });
});

describe('factory login', () => {
  test('PlcmSpIp/PlcmSpIp is refused until the tenant allows it', async () => {
    const factory = ['-u', 'PlcmSpIp:PlcmSpIp'];
    const refused = await curlFtp('plain', server, '000000000000.cfg', factory);
    assert.equal(refused.exit, 67, 'curl: login denied');
    admin(['tenant', 'set', 'acme', '--factory-login']);
    const allowed = await curlFtp('plain', server, '000000000000.cfg', factory);
    assert.equal(allowed.exit, 0, allowed.stderr);
    assert.deepEqual(allowed.stdout, overHttp('000000000000.cfg'), 'the same master as over HTTP');
    admin(['tenant', 'set', 'acme', '--no-factory-login']);
    assert.equal((await curlFtp('explicit', server, '000000000000.cfg', factory)).exit, 67, 'refused again');
  });
});
