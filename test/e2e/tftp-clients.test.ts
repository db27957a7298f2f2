// Reads over TFTP from a real `polyprov serve`, with the real clients (curl, atftp, tftp-hpa) and
// the raw lossy client: every transfer compared byte for byte (sha256).

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { curl } from '../support/curl.js';
import { cli, startServer, tempDir, type ServerProcess } from '../support/server-process.js';
import { atftp, curlTftp, hpaGet, sha256, sha256File, type Run } from '../support/tftp-clients.js';
import { lossyGet, seeded, type Fate } from '../support/tftp-lossy-client.js';
import { openFds } from '../support/tftp-raw.js';
import { waitFor } from '../support/wait-for.js';

const MAC = '0004f2000001';
const PASSWORD = 'acme-password-1';

let server: ServerProcess;
let dataDir: string;
let scratch: string;
const files: Record<string, Buffer> = {};

function addFile(name: string, data: Buffer) {
  const local = join(scratch, `src-${name.replace(/\//g, '-')}`);
  writeFileSync(local, data);
  files[name] = data;
  const r = cli(dataDir, ['file', 'add', '-t', 'acme', name, local]);
  assert.equal(r.code, 0, r.stderr);
}

const out = (name: string) => join(scratch, `${name}-${randomBytes(4).toString('hex')}`);

function assertSame(r: Run, path: string, name: string) {
  assert.equal(sha256File(path), sha256(files[name]!), `${name}: exit ${r.code} ${r.stderr}`);
}

before(async () => {
  dataDir = tempDir();
  scratch = tempDir();
  const add = cli(dataDir, ['tenant', 'add', 'acme', '--password', PASSWORD, '--tftp-subnets', '127.0.0.0/8,::1/128']);
  assert.equal(add.code, 0, add.stderr);
  assert.equal(cli(dataDir, ['device', 'add', '-t', 'acme', MAC]).code, 0);
  addFile('big.bin', randomBytes(3 * 1024 * 1024 + 17));
  addFile('exact-1468.bin', randomBytes(1468 * 300));
  addFile('exact-512.bin', randomBytes(512 * 300));
  addFile('firmware/sip.ld', randomBytes(40 * 1024 * 1024 + 5));
  addFile('small.bin', randomBytes(700_000));
  server = await startServer({ dataDir, args: ['--no-ftp', '--no-ftps', '--no-https'] });
});
after(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

describe('curl', () => {
  for (const [label, args] of [
    ['default options', []],
    ['blksize 1468', ['--tftp-blksize', '1468']],
    ['blksize 8192', ['--tftp-blksize', '8192']],
    ['no options (RFC 1350)', ['--tftp-no-options']],
  ] as const) {
    test(label, async () => {
      const o = out('curl');
      assertSame(await curlTftp(server.tftpPort, 'big.bin', o, [...args]), o, 'big.bin');
    });
  }

  test('a file of exactly N blocks (1468 and 512 bytes), ending with an empty block', async () => {
    const a = out('exact');
    assertSame(await curlTftp(server.tftpPort, 'exact-1468.bin', a, ['--tftp-blksize', '1468']), a, 'exact-1468.bin');
    const b = out('exact');
    assertSame(await curlTftp(server.tftpPort, '/exact-512.bin', b, ['--tftp-no-options']), b, 'exact-512.bin');
  });

  test('a 40 MB file at blksize 512: block numbers roll over', async () => {
    const o = out('rollover');
    assertSame(await curlTftp(server.tftpPort, 'firmware/sip.ld', o), o, 'firmware/sip.ld');
  });

  test('a missing file is "File not found" (curl exit 68), and the refusal is logged once', async () => {
    const r = await curlTftp(server.tftpPort, 'missing.bin', out('missing'));
    assert.equal(r.code, 68, r.stderr);
    const line = await waitFor('the refusal log line', () => server.logs.find((l) => l.msg === 'tftp request refused' && l.file === 'missing.bin'));
    assert.equal(line.problem, 'not-found');
    assert.equal(line.ip, '127.0.0.1');
    assert.equal(server.logs.filter((l) => l.msg === 'tftp request refused' && l.file === 'missing.bin').length, 1);
  });
});

describe('atftp', () => {
  test('blksize 1468, windowsize 16, timeout 2, tsize', async () => {
    const o = out('atftp');
    const r = await atftp(server.tftpPort, 'get', 'big.bin', o, { blksize: 1468, windowsize: 16, timeout: 2, tsize: 0 });
    assertSame(r, o, 'big.bin');
  });

  test('windowsize 64 with blksize 8192', async () => {
    const o = out('atftp');
    assertSame(await atftp(server.tftpPort, 'get', 'big.bin', o, { blksize: 8192, windowsize: 64 }), o, 'big.bin');
  });

  test('no options', async () => {
    const o = out('atftp');
    assertSame(await atftp(server.tftpPort, 'get', 'small.bin', o), o, 'small.bin');
  });
});

describe('tftp-hpa', () => {
  test('binary get, plain and verbose', async () => {
    const a = out('hpa');
    assertSame(await hpaGet(server.tftpPort, 'big.bin', a), a, 'big.bin');
    const b = out('hpa');
    const r = await hpaGet(server.tftpPort, 'small.bin', b, true);
    assertSame(r, b, 'small.bin');
    assert.match(r.stdout + r.stderr, /Received 700000 bytes/);
  });
});

describe('the raw lossy client against the real server', () => {
  test('lock-step and windowsize 8, with a seeded pattern of losses and duplicates', async () => {
    for (const windowsize of [1, 8]) {
      const rand = seeded(7 + windowsize);
      const lost = new Set([2, 300, 1000]);
      const { data } = await lossyGet({
        host: '127.0.0.1',
        port: server.tftpPort,
        file: 'small.bin',
        blksize: 1024,
        windowsize,
        timeout: 1,
        deadlineMs: 20_000,
        data: (b, nth): Fate => (nth === 0 && lost.has(b) ? 'drop' : rand() < 0.05 ? 'dup' : 'pass'),
        ack: (b, nth): Fate => (nth === 0 && b === 500 ? 'drop' : rand() < 0.05 ? 'dup' : 'pass'),
      });
      assert.equal(sha256(data), sha256(files['small.bin']!), `windowsize ${windowsize}`);
    }
  });
});

describe('many at once', () => {
  test('20 concurrent transfers with mixed clients are all exact, and leave no descriptor open', async () => {
    const pid = server.child.pid!;
    const before = openFds(pid);
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      const o = out(`many${i}`);
      const name = i % 2 === 0 ? 'small.bin' : 'big.bin';
      const start =
        i % 4 === 0
          ? curlTftp(server.tftpPort, name, o, ['--tftp-blksize', '1468'])
          : i % 4 === 1
            ? atftp(server.tftpPort, 'get', name, o, { blksize: 1468, windowsize: 16 })
            : i % 4 === 2
              ? hpaGet(server.tftpPort, name, o)
              : curlTftp(server.tftpPort, name, o);
      jobs.push(start.then((r) => assertSame(r, o, name)));
    }
    await Promise.all(jobs);
    await waitFor('the server back to its descriptors', () => (openFds(pid) <= before ? true : undefined), 5000);
  });
});

describe('generated files', () => {
  test('the master file and the device configuration are the bytes HTTP serves', async () => {
    for (const name of ['000000000000.cfg', `${MAC}-polyprov.cfg`]) {
      const http = curl(`${server.httpUrl}/${name}`, ['-u', `acme:${PASSWORD}`]);
      assert.equal(http.status, 200);
      const o = out('cfg');
      const r = await curlTftp(server.tftpPort, name, o);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(readFileSync(o).toString(), http.text, name);
    }
  });
});
