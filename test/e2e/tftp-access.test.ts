// Who gets what over TFTP from a real `polyprov serve` (subnets, listeners bound to a tenant,
// files holding secrets), and what garbage sent to the listener gets.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { curl } from '../support/curl.js';
import { cli, startServer, tempDir, type ServerProcess } from '../support/server-process.js';
import { curlTftp, sha256, sha256File } from '../support/tftp-clients.js';
import { lossyGet, seeded, TftpError } from '../support/tftp-lossy-client.js';
import { RawUdp } from '../support/tftp-raw.js';
import { decodePacket, encodeAck, encodeData, encodeRequest, OP_ERROR, OP_RRQ } from '../../src/servers/tftp/packet.js';
import { waitFor } from '../support/wait-for.js';

const MAC = '0004f2000001';
const PASSWORD = 'acme-password-1';
/** curl's exit code for a TFTP access violation (error 2). */
const CURLE_TFTP_PERM = 69;

let server: ServerProcess;
let dataDir: string;
let scratch: string;
const blob = randomBytes(200_000);

const out = () => join(scratch, `out-${randomBytes(4).toString('hex')}`);
const admin = (args: string[]) => {
  const r = cli(dataDir, args);
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
};
const tftpError = (code: number, pattern?: RegExp) => (err: unknown) => err instanceof TftpError && err.code === code && (!pattern || pattern.test(err.message));
const get = (file: string, port = server.tftpPort) => lossyGet({ host: '127.0.0.1', port, file, deadlineMs: 10_000 });

function listenerPort(tenant: string, host?: string): number {
  const l = server.logs.find((r) => r.msg === 'listening' && r.protocol === 'tftp' && r.tenant === tenant && (host === undefined || r.host === host));
  assert.ok(l, `a TFTP listener for ${tenant}`);
  return l.port as number;
}

before(async () => {
  dataDir = tempDir();
  scratch = tempDir();
  const file = join(scratch, 'blob.bin');
  writeFileSync(file, blob);
  admin(['tenant', 'add', 'acme', '--password', PASSWORD, '--tftp-subnets', '127.0.0.0/8,::1/128']);
  admin(['tenant', 'add', 'beta', '--password', 'beta-password-1', '--path-prefix', 'beta']);
  admin(['device', 'add', '-t', 'acme', MAC]);
  admin(['file', 'add', '-t', 'acme', 'blob.bin', file]);
  admin(['file', 'add', '-t', 'beta', 'blob.bin', file]);
  server = await startServer({
    dataDir,
    args: ['--no-ftp', '--no-ftps', '--no-https', '--tftp-tenant', 'beta=0', '--tftp-tenant', 'acme=[::1]:0'],
  });
});
after(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

describe('subnets and listeners', () => {
  test('a tenant listing no TFTP subnet is refused on the shared listener', async () => {
    const r = await curlTftp(server.tftpPort, 'beta/blob.bin', out());
    assert.equal(r.code, CURLE_TFTP_PERM, r.stderr);
    await assert.rejects(get('beta/blob.bin'), tftpError(2, /Access violation/));
  });

  test('a listener bound to that tenant serves it', async () => {
    const o = out();
    const r = await curlTftp(listenerPort('beta'), 'blob.bin', o);
    assert.equal(sha256File(o), sha256(blob), r.stderr);
  });

  test('IPv6: a listener on ::1 serves its tenant to ::1', async () => {
    const o = out();
    const r = await curlTftp(listenerPort('acme', '::1'), 'blob.bin', o, ['--tftp-blksize', '1468'], '::1');
    assert.equal(sha256File(o), sha256(blob), r.stderr);
  });

  test('a client outside the tenant’s subnets gets an access violation, and is served again once listed', async () => {
    admin(['tenant', 'set', 'acme', '--tftp-subnets', '10.0.0.0/8']);
    try {
      await assert.rejects(get('blob.bin'), tftpError(2, /Access violation/));
      const line = await waitFor('the refusal log line', () => server.logs.find((l) => l.msg === 'tftp request refused' && l.file === 'blob.bin'));
      assert.equal(line.ip, '127.0.0.1');
    } finally {
      admin(['tenant', 'set', 'acme', '--tftp-subnets', '127.0.0.0/8,::1/128']);
    }
    assert.equal(sha256((await get('blob.bin')).data), sha256(blob));
  });
});

describe('secrets', () => {
  test('a configuration holding a password is refused over TFTP unless the tenant allows it', async () => {
    admin(['param', 'set', '-t', 'acme', 'reg.1.auth.password=secret-sip-pw']);
    const name = `${MAC}-polyprov.cfg`;
    await assert.rejects(get(name), tftpError(2, /secrets/));
    assert.equal((await curlTftp(server.tftpPort, name, out())).code, CURLE_TFTP_PERM);

    admin(['tenant', 'set', 'acme', '--tftp-secrets']);
    const http = curl(`${server.httpUrl}/${name}`, ['-u', `acme:${PASSWORD}`]);
    assert.match(http.text, /secret-sip-pw/);
    const o = out();
    assert.equal((await curlTftp(server.tftpPort, name, o)).code, 0);
    assert.equal(readFileSync(o).toString(), http.text);
  });
});

describe('bad input', () => {
  async function answerTo(packet: Buffer): Promise<ReturnType<typeof decodePacket> | null> {
    const raw = await RawUdp.open();
    try {
      raw.send(packet, server.tftpPort);
      const reply = await raw.next(1000);
      return reply ? decodePacket(reply.msg) : null;
    } finally {
      raw.close();
    }
  }

  test('each malformed request gets ERROR 4, packets of no transfer get ERROR 5', async () => {
    const cases: [string, Buffer, number][] = [
      ['truncated RRQ', Buffer.from('\x00\x01blob.b', 'latin1'), 4],
      ['unknown opcode 9', Buffer.from('\x00\x09blob.bin\x00octet\x00', 'latin1'), 4],
      ['mail mode', Buffer.from('\x00\x01blob.bin\x00mail\x00', 'latin1'), 4],
      ['600 options', encodeRequest(OP_RRQ, 'blob.bin', 'octet', Array.from({ length: 600 }, (_, i): [string, string] => [`opt${i}`, '1'])), 4],
      ['a 60 kB option string', encodeRequest(OP_RRQ, 'blob.bin', 'octet', [['x', 'y'.repeat(60_000)]]), 4],
      ['ACK to the listening port', encodeAck(1), 5],
      ['DATA to the listening port', encodeData(1, Buffer.from('hello')), 5],
    ];
    for (const [name, packet, code] of cases) {
      const reply = await answerTo(packet);
      assert.ok(reply && reply.opcode === OP_ERROR, `${name}: an ERROR`);
      assert.equal(reply.opcode === OP_ERROR && reply.code, code, name);
    }
    assert.equal(await answerTo(Buffer.from([0, 1])), null, 'too short to answer: dropped');
    assert.equal(await answerTo(Buffer.from([0, OP_ERROR, 0, 0, 0])), null, 'an ERROR is never answered');
  });

  test('random packets get ERRORs or nothing, are logged a few times only, and a transfer right after works', async () => {
    const rand = seeded(42);
    const raw = await RawUdp.open();
    const logged = () => server.logs.filter((l) => l.msg === 'tftp bad packet').length;
    const before = logged();
    for (let i = 0; i < 300; i++) {
      const packet = Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 100) }, () => Math.floor(rand() * 256)));
      // Keep requests out of it: a random packet that happens to be a valid RRQ would start a transfer.
      if (packet.length >= 2 && packet[0] === 0 && (packet[1] === 1 || packet[1] === 2)) packet[1] = 7;
      raw.send(packet, server.tftpPort);
    }
    await new Promise((r) => setTimeout(r, 500));
    const replies = raw.drain();
    raw.close();
    for (const r of replies) assert.equal(r.msg.readUInt16BE(0), OP_ERROR);
    assert.ok(replies.length <= 300);
    assert.ok(logged() - before <= 3, `garbage is logged at most once a second per source (${logged() - before} lines)`);

    const o = out();
    await curlTftp(server.tftpPort, 'blob.bin', o, ['--tftp-blksize', '1468']);
    assert.equal(sha256File(o), sha256(blob));
  });

  test('file names the edge refuses: backslashes and traversal', async () => {
    await assert.rejects(get('..\\..\\etc\\passwd'), tftpError(2, /backslash/));
    await assert.rejects(get('../../etc/passwd'), tftpError(0, /\.\./));
    await assert.rejects(get('logs/%2e%2e/x'), (err: unknown) => err instanceof TftpError);
  });
});
