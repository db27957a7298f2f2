// The admin API as `polyprov serve` runs it: the first start prints where the initial admin's
// password is, that login opens a session, and a site parameter set through the API reaches a phone.

import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cli, startServer, type ServerProcess } from '../support/server-process.js';
import { curl } from '../support/curl.js';

const MAC = '0004f2abc001';
const UA = `FileTransport PolycomVVX-VVX_450-UA/6.4.6.2163 (SN:${MAC}) Type/Application`;
let server: ServerProcess;
let password: string;

before(async () => {
  server = await startServer();
  const t = cli(server.dataDir, ['tenant', 'add', 'acme', '--password', 'acme-password-1']);
  assert.equal(t.code, 0, t.stderr);
  assert.equal(cli(server.dataDir, ['device', 'add', MAC, '-t', 'acme']).code, 0);
});
after(async () => server?.stop());

async function api(path: string, init: RequestInit & { cookie?: string; csrf?: string } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.cookie) headers.set('cookie', init.cookie);
  if (init.csrf) headers.set('x-csrf-token', init.csrf);
  if (init.body) headers.set('content-type', 'application/json');
  return fetch(`${server.adminUrl}${path}`, { ...init, headers });
}

describe('the admin API served by polyprov serve', () => {
  test('the banner says where the initial password is; the file is private and the password logs in', async () => {
    assert.notEqual(server.adminUrl, 'http://127.0.0.1:0', 'the admin API reported its port');
    const line = server.banner.find((l) => l.includes('first login'));
    assert.ok(line, `a first-login line in the banner:\n${server.banner.join('\n')}`);
    const file = join(server.dataDir, 'initial-admin-password');
    assert.ok(line.includes(file), line);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    password = readFileSync(file, 'utf8').trim();
    assert.ok(!line.includes(password), 'the banner does not print the password itself');
    const wrong = await api('/api/v1/login', { method: 'POST', body: JSON.stringify({ username: 'admin', password: 'admin' }) });
    assert.equal(wrong.status, 401);
  });

  test('a site created and given a parameter through the API reaches the phone', async () => {
    const login = await api('/api/v1/login', { method: 'POST', body: JSON.stringify({ username: 'admin', password }) });
    assert.equal(login.status, 200, await login.clone().text());
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const { csrfToken } = (await login.json()) as { csrfToken: string };

    const noCsrf = await api('/api/v1/tenants/acme/sites', { method: 'POST', cookie, body: JSON.stringify({ slug: 'hq', name: 'HQ' }) });
    assert.equal(noCsrf.status, 403, 'a session needs its CSRF token to write');
    const site = await api('/api/v1/tenants/acme/sites', { method: 'POST', cookie, csrf: csrfToken, body: JSON.stringify({ slug: 'hq', name: 'HQ' }) });
    assert.equal(site.status, 201, await site.clone().text());
    const placed = await api(`/api/v1/tenants/acme/devices/${MAC}`, { cookie });
    const device = await api(`/api/v1/tenants/acme/devices/${MAC}`, {
      method: 'PATCH',
      cookie,
      csrf: csrfToken,
      headers: { 'if-match': placed.headers.get('etag')! },
      body: JSON.stringify({ site: 'hq' }),
    });
    assert.equal(device.status, 200, await device.clone().text());
    const layer = await api('/api/v1/tenants/acme/parameters?scope=site:hq', { cookie });
    const set = await api('/api/v1/tenants/acme/parameters?scope=site:hq', {
      method: 'PATCH',
      cookie,
      csrf: csrfToken,
      headers: { 'if-match': layer.headers.get('etag')! },
      body: JSON.stringify({ values: { 'tcpIpApp.sntp.address': 'hq-ntp.example' } }),
    });
    assert.equal(set.status, 200, await set.clone().text());

    const explain = (await (await api(`/api/v1/tenants/acme/devices/${MAC}/explain`, { cookie })).json()) as { parameters: { name: string; layer: string; effective: string }[] };
    const ntp = explain.parameters.find((p) => p.name === 'tcpIpApp.sntp.address');
    assert.deepEqual([ntp?.layer, ntp?.effective], ['site', 'hq-ntp.example']);

    const phone = curl(`${server.httpUrl}/${MAC}-polyprov.cfg`, ['-u', 'acme:acme-password-1', '-A', UA]);
    assert.equal(phone.status, 200);
    assert.match(phone.text, /tcpIpApp\.sntp\.address="hq-ntp\.example"/);
  });
});
