// The web console in a real browser against a real `polyprov serve`: log in, create a site, set a
// parameter there (a typo is flagged as typed), add a device, assign it (after a reload, so the CSRF
// token comes back from GET /api/v1/me), see the value win in the explain view, and fetch the
// phone's configuration with curl to see it served. Also the bundle's serving on its own (missing
// bundle, client-side routes, hashed assets, traversal) on a bare fastify instance.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { registerConsoleStatic } from '../../src/admin/api/console-static.js';
import { launchChromium } from '../support/browser.js';
import { ensureConsoleBundle } from '../support/console-bundle.js';
import { curl } from '../support/curl.js';
import { cli, startServer, type ServerProcess } from '../support/server-process.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const ARTIFACTS = join(ROOT, 'test-artifacts');
const STEP_MS = 10_000;
const MAC = '0004f2abc001';
const PHONE_UA = `FileTransport PolycomVVX-VVX_450-UA/6.4.6.2163 (SN:${MAC}) Type/Application`;

describe('the web console in headless chromium', () => {
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;
  let adminPassword: string;

  before(async () => {
    ensureConsoleBundle();
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startServer();
    assert.notEqual(server.adminUrl, 'http://127.0.0.1:0', 'the admin API reported its port');
    const added = cli(server.dataDir, ['tenant', 'add', 'acme', '--password', 'acme-password-1']);
    assert.equal(added.code, 0, added.stderr);
    adminPassword = readFileSync(join(server.dataDir, 'initial-admin-password'), 'utf8').trim();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    page.setDefaultTimeout(STEP_MS);
    page.setDefaultNavigationTimeout(STEP_MS);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function shot(name: string): Promise<void> {
    await page.screenshot({ path: join(ARTIFACTS, `console-${name}.png`), fullPage: true });
  }

  test('logs in with the initial administrator and picks the tenant', async () => {
    await page.goto(server.adminUrl + '/');
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').waitFor();
    await shot('login');
    await page.getByLabel('Password').fill(adminPassword);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Tenants' }).waitFor();
    await page.getByRole('link', { name: 'acme' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/t/acme');
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Sites' }).click();
    await page.getByRole('heading', { name: 'Sites' }).waitFor();
  });

  test('creates site hq', async () => {
    await page.getByLabel('Slug').fill('hq');
    await page.getByLabel('Name', { exact: true }).fill('Headquarters');
    await page.getByRole('button', { name: 'Create site' }).click();
    await page.getByRole('heading', { name: 'Site hq' }).waitFor();
    assert.equal(await page.locator('.facts dd').first().textContent(), 'Headquarters');
  });

  test('flags a mistyped parameter name as it is typed, then sets the NTP server at the site', async () => {
    const name = page.getByLabel('Name', { exact: true });
    await name.fill('reg.1.adress');
    await page.getByText('did you mean').waitFor();
    assert.match((await page.locator('.name-check').textContent()) ?? '', /unknown name — did you mean reg\.1\.address\?/);
    const suggestion = page.getByRole('button', { name: 'reg.1.address' });
    await suggestion.waitFor();
    // Choosing the suggestion puts it in the field, and the check then knows the name.
    await suggestion.click();
    assert.equal(await name.inputValue(), 'reg.1.address');
    await page.getByText('known parameter').waitFor();
    await name.fill('tcpIpApp.sntp.address');
    await page.getByText('known parameter').waitFor();
    await page.getByLabel('Value', { exact: true }).fill('hq-ntp.example');
    await page.getByRole('button', { name: 'Set', exact: true }).click();
    const row = page.getByRole('row').filter({ hasText: 'tcpIpApp.sntp.address' });
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /hq-ntp\.example/);
    await shot('site');
  });

  test('adds device 0004f2abc001 and finds it by MAC prefix', async () => {
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Devices' }).click();
    await page.getByRole('heading', { name: 'Devices' }).waitFor();
    await page.getByLabel('MAC', { exact: true }).fill(MAC);
    await page.getByRole('button', { name: 'Add device' }).click();
    await page.getByRole('heading', { name: `Device ${MAC}` }).waitFor();
    await page.getByRole('link', { name: 'Devices' }).first().click();
    await page.getByLabel('MAC prefix').fill('0004F2AB');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: MAC }).waitFor();
    await page.getByLabel('MAC prefix').fill('ffff');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('No devices match.').waitFor();
    await page.getByLabel('MAC prefix').fill('');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: MAC }).click();
    await page.getByRole('heading', { name: `Device ${MAC}` }).waitFor();
  });

  test('after a reload, assigns the device to hq (the session and its CSRF token come back)', async () => {
    await page.reload();
    await page.getByRole('heading', { name: `Device ${MAC}` }).waitFor();
    assert.equal(await page.getByTestId('device-site').textContent(), 'none');
    await page.locator('select[name="device-site"]').selectOption('hq');
    await page.getByRole('button', { name: 'Assign site' }).click();
    await page.getByTestId('device-site').getByText('hq', { exact: true }).waitFor();
    assert.equal(await page.getByRole('alert').count(), 0, 'no error shown');
  });

  test("the explain view shows the site's value winning", async () => {
    const row = page.locator('tr[data-parameter="tcpIpApp.sntp.address"]');
    await row.waitFor();
    assert.equal(await row.locator('td').nth(0).textContent(), 'hq-ntp.example');
    assert.equal(await row.locator('td.layer').textContent(), 'site hq');
    await row.scrollIntoViewIfNeeded();
    await shot('explain');
  });

  test('the phone now receives the value', () => {
    const r = curl(`${server.httpUrl}/${MAC}-polyprov.cfg`, ['-A', PHONE_UA, '-u', 'acme:acme-password-1']);
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /tcpIpApp\.sntp\.address="hq-ntp\.example"/);
  });
});

describe('the console bundle served by the admin API', () => {
  let dir: string;
  let app: FastifyInstance;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'console-bundle-'));
    app = Fastify();
    await registerConsoleStatic(app, dir);
    await app.ready();
  });

  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('without a bundle, / says how to build it', async () => {
    const r = await app.inject({ method: 'GET', url: '/' });
    assert.equal(r.statusCode, 503);
    assert.match(r.body, /npm run build:web/);
  });

  test('with a bundle: files, index.html for console paths, long-lived assets, no traversal, no API paths', async () => {
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>console</title>');
    writeFileSync(join(dir, 'assets', 'app-abc123.js'), 'console.log(1)');
    writeFileSync(join(dir, '..', `${dir.split('/').pop()}-secret`), 'secret');
    try {
      const home = await app.inject({ method: 'GET', url: '/' });
      assert.equal(home.statusCode, 200);
      assert.match(home.body, /<title>console<\/title>/);
      assert.match(String(home.headers['content-security-policy']), /default-src 'self'/);
      const deep = await app.inject({ method: 'GET', url: '/t/acme/devices/0004f2abc001?x=1' });
      assert.equal(deep.statusCode, 200);
      assert.match(deep.body, /<title>console<\/title>/);
      const asset = await app.inject({ method: 'GET', url: '/assets/app-abc123.js' });
      assert.equal(asset.statusCode, 200);
      assert.equal(asset.body, 'console.log(1)');
      assert.match(String(asset.headers['cache-control']), /immutable/);
      for (const url of [`/../${dir.split('/').pop()}-secret`, `/%2e%2e/${dir.split('/').pop()}-secret`, '/%00']) {
        const r = await app.inject({ method: 'GET', url });
        assert.doesNotMatch(r.body, /secret/, url);
      }
      const api = await app.inject({ method: 'GET', url: '/api/v1/nothing-here' });
      assert.equal(api.statusCode, 404);
      assert.doesNotMatch(api.body, /<title>/);
    } finally {
      rmSync(join(dir, '..', `${dir.split('/').pop()}-secret`), { force: true });
    }
  });
});
