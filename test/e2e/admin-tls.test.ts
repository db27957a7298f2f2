// `serve --admin-tls`: the console and admin API over HTTPS with the HTTPS edge's certificate (here
// the generated self-signed one), verified by curl against that certificate with no -k; the
// session cookie is then Secure, and plain HTTP on the port gets no API answer.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startServer, type ServerProcess } from '../support/server-process.js';

let server: ServerProcess;
let caFile: string;

function curlApi(path: string, extra: string[] = []): { status: number; stderr: string; out: string } {
  const r = spawnSync('curl', ['-sS', '--max-time', '10', '-i', '--cacert', caFile, ...extra, `${server.adminUrl}${path}`], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status ?? -1, stderr: r.stderr, out: r.stdout };
}

before(async () => {
  server = await startServer({ args: ['--admin-tls'] });
  caFile = join(server.dataDir, 'tls', 'self-signed.crt');
});
after(async () => server?.stop());

describe('serve --admin-tls', () => {
  test('the banner and the log line say HTTPS', () => {
    assert.match(server.adminUrl, /^https:\/\/127\.0\.0\.1:[1-9]\d*$/);
    assert.ok(server.banner.some((l) => /ADMIN https:\/\/127\.0\.0\.1:\d+\//.test(l)), server.banner.join('\n'));
    assert.ok(server.logs.some((l) => l.protocol === 'admin-api' && l.tls === true && l.msg === 'listening'));
  });

  test('curl verifies the certificate and gets the API; the login cookie is Secure', () => {
    const me = curlApi('/api/v1/me');
    assert.equal(me.status, 0, me.stderr);
    assert.match(me.out, /^HTTP\/1\.1 401/);
    const password = readFileSync(join(server.dataDir, 'initial-admin-password'), 'utf8').trim();
    const login = curlApi('/api/v1/login', ['-H', 'content-type: application/json', '--data', JSON.stringify({ username: 'admin', password })]);
    assert.equal(login.status, 0, login.stderr);
    assert.match(login.out, /^HTTP\/1\.1 200/);
    const cookie = /^set-cookie: (pp_session=[^\r\n]*)/im.exec(login.out)?.[1] ?? '';
    assert.match(cookie, /;\s*Secure/i);
    assert.match(cookie, /;\s*HttpOnly/i);
  });

  test('plain HTTP on the admin port gets no API answer', () => {
    const r = spawnSync('curl', ['-sS', '--max-time', '5', '-o', '/dev/null', '-w', '%{http_code}', `${server.adminUrl.replace('https:', 'http:')}/api/v1/me`], { encoding: 'utf8', timeout: 20_000 });
    assert.match(r.stdout, /^(000|400)$/, 'the API must not answer over plain HTTP');
  });
});
