import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { curl } from '../support/curl.js';
import { cli, startServer, tempDir, type ServerProcess } from '../support/server-process.js';

// The verification policy comes in a later issue; for now the server asks for the phone's device
// certificate, reads its CN (= the MAC on Poly's factory certificates) and logs a mismatch.
let server: ServerProcess;
let certDir: string;
const AUTH = ['-u', 'acme:acme-password-1'];

function clientCert(cn: string): string[] {
  const key = join(certDir, `${cn}.key`);
  const crt = join(certDir, `${cn}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt, '-days', '1', '-subj', `/O=Polycom Inc./CN=${cn}`], { stdio: 'ignore' });
  return ['--cert', crt, '--key', key];
}

before(async () => {
  const dataDir = tempDir();
  certDir = tempDir();
  assert.equal(cli(dataDir, ['tenant', 'add', 'acme', '--password', 'acme-password-1']).code, 0);
  server = await startServer({ dataDir, args: ['--request-client-cert', '--no-http'] });
});
after(async () => server?.stop());

const mismatches = () => server.logs.filter((l) => l.msg === 'MAC in path and client certificate disagree');

test('a device certificate whose CN differs from the MAC in the path is logged', async () => {
  const r = curl(`${server.httpsUrl}/0004f2000001-polyprov.cfg`, [...AUTH, ...clientCert('0004f2000099')]);
  assert.equal(r.status, 200, 'not enforced yet');
  for (let i = 0; i < 40 && mismatches().length === 0; i++) await new Promise((res) => setTimeout(res, 50));
  assert.equal(mismatches().length, 1);
  assert.equal(mismatches()[0]!.certCn, '0004f2000099');
  assert.equal(mismatches()[0]!.pathMac, '0004f2000001');
});

test('a matching certificate, and no certificate at all, are served without a warning', async () => {
  const before = mismatches().length;
  assert.equal(curl(`${server.httpsUrl}/0004f2000002-polyprov.cfg`, [...AUTH, ...clientCert('0004f2000002')]).status, 200);
  assert.equal(curl(`${server.httpsUrl}/0004f2000002-polyprov.cfg`, AUTH).status, 200);
  await new Promise((res) => setTimeout(res, 300));
  assert.equal(mismatches().length, before);
});
