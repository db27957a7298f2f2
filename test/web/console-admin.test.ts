// The console's editors in a real browser against a real `polyprov serve`: a tenant created from the
// tenants page (its one-time password lets a phone in), a group with a parameter (a typo flagged as
// typed and fixed) that wins in a device's explanation, a model policy whose parameter a VVX 450
// receives, a stale site edit refused with 412 and redone after a reload, users (add, change,
// remove; a tenant admin sees only its tenant and no Users link), and an API token used with curl
// and revoked.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../support/browser.js';
import { ensureConsoleBundle } from '../support/console-bundle.js';
import { curl } from '../support/curl.js';
import { cli, startServer, type ServerProcess } from '../support/server-process.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const ARTIFACTS = join(ROOT, 'test-artifacts');
const STEP_MS = 10_000;
const VIEWPORT = { width: 1366, height: 768 };
const MAC = '0004f2abc002';
const OTHER_MAC = '0004f2abc003';
const ua = (model: string, mac: string) => `FileTransport PolycomVVX-${model}-UA/6.4.6.2163 (SN:${mac}) Type/Application`;
const ACME_AUTH = ['-u', 'acme:acme-password-1'];
const AUDITOR_PASSWORD = 'Looks-but-never-touches-7';

describe('the console editors in headless chromium', () => {
  let server: ServerProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let adminPassword: string;
  let opsPassword = '';
  let token = '';

  function run(args: string[]): void {
    const r = cli(server.dataDir, args);
    assert.equal(r.code, 0, `polyprov ${args.join(' ')}: ${r.stderr}`);
  }

  before(async () => {
    ensureConsoleBundle();
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startServer();
    assert.notEqual(server.adminUrl, 'http://127.0.0.1:0', 'the admin API reported its port');
    run(['tenant', 'add', 'acme', '--password', 'acme-password-1']);
    run(['device', 'add', MAC, '-t', 'acme']);
    run(['param', 'set', 'tcpIpApp.sntp.address=tenant-ntp.example', '-t', 'acme']);
    adminPassword = readFileSync(join(server.dataDir, 'initial-admin-password'), 'utf8').trim();
    browser = await launchChromium();
    context = await browser.newContext({ viewport: VIEWPORT });
    context.setDefaultTimeout(STEP_MS);
    context.setDefaultNavigationTimeout(STEP_MS);
    page = await context.newPage();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function shot(p: Page, name: string): Promise<void> {
    await p.screenshot({ path: join(ARTIFACTS, `console-${name}.png`), fullPage: true });
  }

  async function logIn(username: string, password: string): Promise<void> {
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Tenants' }).waitFor();
  }

  const sections = () => page.getByRole('navigation', { name: 'Sections' });
  const account = () => page.getByRole('navigation', { name: 'Account' });

  test('a super-admin creates tenant beta and is shown its provisioning password once', async () => {
    await page.goto(server.adminUrl + '/');
    await logIn('admin', adminPassword);
    await page.getByLabel('Tenant slug').fill('beta');
    await page.getByRole('button', { name: 'Create tenant' }).click();
    const secret = page.getByRole('textbox', { name: 'Provisioning password of beta' });
    await secret.waitFor();
    await page.getByText('Copy it now').waitFor();
    const password = await secret.inputValue();
    assert.ok(password.length >= 12, `a generated password: ${password}`);
    await page.getByRole('link', { name: 'beta' }).waitFor();
    await shot(page, 'tenants');
    // The password is the tenant's: a phone naming beta gets in with it, and not with another.
    assert.equal(curl(`${server.httpUrl}/000000000000.cfg`, ['-A', ua('VVX_450', OTHER_MAC), '-u', `beta:${password}`]).status, 200);
    assert.equal(curl(`${server.httpUrl}/000000000000.cfg`, ['-A', ua('VVX_450', OTHER_MAC), '-u', 'beta:not-the-password']).status, 401);
    await page.getByRole('button', { name: 'I have copied it' }).click();
    assert.equal(await page.getByRole('textbox', { name: 'Provisioning password of beta' }).count(), 0, 'the password is gone once dismissed');
  });

  test('creates group floor-1 and sets a parameter there, a typo flagged as typed and fixed', async () => {
    await page.getByRole('link', { name: 'acme' }).click();
    await sections().getByRole('link', { name: 'Groups' }).click();
    await page.getByRole('heading', { name: 'Groups' }).waitFor();
    await page.getByLabel('Slug').fill('floor-1');
    await page.getByLabel('Name', { exact: true }).fill('Floor 1');
    await page.getByRole('button', { name: 'Create group' }).click();
    await page.getByRole('heading', { name: 'Group floor-1' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/t/acme/groups/floor-1');

    await page.getByLabel('Name', { exact: true }).fill('tcpIpApp.sntp.adress');
    await page.getByText('unknown name — did you mean').waitFor();
    await page.getByRole('button', { name: 'tcpIpApp.sntp.address', exact: true }).click();
    assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'tcpIpApp.sntp.address');
    await page.getByText('known parameter').waitFor();
    await page.getByLabel('Value', { exact: true }).fill('floor1-ntp.example');
    await page.getByRole('button', { name: 'Set', exact: true }).click();
    const row = page.getByRole('table', { name: 'Parameters' }).getByRole('row').filter({ hasText: 'tcpIpApp.sntp.address' });
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /floor1-ntp\.example/);
    await shot(page, 'group');
  });

  test('changes the display name of floor-1 with its ETag', async () => {
    await page.getByLabel('Display name').fill('First floor');
    await page.getByRole('button', { name: 'Save group' }).click();
    await page.locator('.facts dd').getByText('First floor', { exact: true }).waitFor();
    assert.equal(await page.getByRole('alert').count(), 0);
  });

  test('renames a scratch group (the page follows the new slug), then deletes it after confirming', async () => {
    await sections().getByRole('link', { name: 'Groups' }).click();
    await page.getByLabel('Slug').fill('scratch');
    await page.getByRole('button', { name: 'Create group' }).click();
    await page.getByRole('heading', { name: 'Group scratch' }).waitFor();
    await page.getByLabel('Slug').fill('scratch-2');
    await page.getByRole('button', { name: 'Save group' }).click();
    await page.getByRole('heading', { name: 'Group scratch-2' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/t/acme/groups/scratch-2');
    await page.getByRole('button', { name: 'Delete group' }).click();
    await page.getByRole('button', { name: 'Yes, delete the group' }).click();
    await page.getByRole('heading', { name: 'Groups', exact: true }).waitFor();
    await page.getByRole('link', { name: 'floor-1' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'scratch-2' }).count(), 0);
  });

  test("a device put in floor-1 (by the CLI) gets the group's value over the tenant's, in its explanation and its file", async () => {
    run(['device', 'set', MAC, '--group', 'floor-1', '-t', 'acme']);
    await page.goto(`${server.adminUrl}/t/acme/devices/${MAC}`);
    const row = page.locator('tr[data-parameter="tcpIpApp.sntp.address"]');
    await row.waitFor();
    const text = (await row.textContent()) ?? '';
    assert.match(text, /floor1-ntp\.example/);
    assert.match(text, /group floor-1/);
    assert.match(text, /tenant-ntp\.example/, 'the shadowed tenant value is shown');
    const r = curl(`${server.httpUrl}/${MAC}-polyprov.cfg`, ['-A', ua('VVX_450', MAC), ...ACME_AUTH]);
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /tcpIpApp\.sntp\.address="floor1-ntp\.example"/);
  });

  test('adds a policy for VVX_450 (typed vvx450) with a parameter and a firmware path; a VVX 450 receives it, a VVX 350 does not', async () => {
    await sections().getByRole('link', { name: 'Models' }).click();
    await page.getByRole('heading', { name: 'Models' }).waitFor();
    // The field suggests the models polyprov knows (GET /api/v1/model-names), not only reported ones.
    const field = page.getByLabel('Model', { exact: true });
    const listId = await field.getAttribute('list');
    await page.waitForFunction((id) => (document.getElementById(id!)?.querySelectorAll('option').length ?? 0) > 20, listId);
    const suggested = await page.locator(`datalist[id="${listId}"] option`).evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    assert.ok(suggested.includes('SSIP_6000') && suggested.includes('VVX_450'), suggested.join(' '));
    await field.fill('vvx450');
    await page.getByRole('button', { name: 'Add policy' }).click();
    await page.getByRole('heading', { name: 'Model VVX_450' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/t/acme/models/VVX_450');

    await page.getByLabel('Name', { exact: true }).fill('up.backlight.idleIntensity');
    await page.getByText('known parameter').waitFor();
    await page.getByLabel('Value', { exact: true }).fill('2');
    await page.getByRole('button', { name: 'Set', exact: true }).click();
    await page.getByRole('table', { name: 'Parameters' }).getByRole('row').filter({ hasText: 'up.backlight.idleIntensity' }).waitFor();

    await page.getByLabel('APP_FILE_PATH').fill('firmware/6.4.6/[PHONE_PART_NUMBER].sip.ld');
    await page.getByRole('button', { name: 'Save path' }).click();
    await page.getByTestId('model-app-file-path').getByText('firmware/6.4.6/[PHONE_PART_NUMBER].sip.ld').waitFor();
    await shot(page, 'models');

    const vvx450 = curl(`${server.httpUrl}/${MAC}-polyprov.cfg`, ['-A', ua('VVX_450', MAC), ...ACME_AUTH]);
    assert.equal(vvx450.status, 200, vvx450.text);
    assert.match(vvx450.text, /up\.backlight\.idleIntensity="2"/);
    const vvx350 = curl(`${server.httpUrl}/${OTHER_MAC}-polyprov.cfg`, ['-A', ua('VVX_350', OTHER_MAC), ...ACME_AUTH]);
    assert.equal(vvx350.status, 200, vvx350.text);
    assert.doesNotMatch(vvx350.text, /up\.backlight\.idleIntensity/);

    await sections().getByRole('link', { name: 'Models' }).click();
    await page.getByRole('link', { name: 'VVX_450' }).waitFor();
  });

  test("a site edit made from a stale page is refused with 412, then made after reloading the page's copy", async () => {
    await sections().getByRole('link', { name: 'Sites' }).click();
    await page.getByLabel('Slug').fill('hq');
    await page.getByRole('button', { name: 'Create site' }).click();
    await page.getByRole('heading', { name: 'Site hq' }).waitFor();
    await page.getByRole('button', { name: 'Edit site' }).click();

    const second = await context.newPage();
    try {
      await second.goto(`${server.adminUrl}/t/acme/sites/hq`);
      await second.getByRole('button', { name: 'Edit site' }).click();
      await second.getByLabel('Location').fill('Building B');
      await second.getByRole('button', { name: 'Save site' }).click();
      await second.getByTestId('site-location').getByText('Building B').waitFor();
    } finally {
      await second.close();
    }

    await page.getByLabel('Location').fill('Building A');
    await page.getByRole('button', { name: 'Save site' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /changed since you read it/);
    await shot(page, 'stale-edit');
    await page.getByRole('button', { name: 'Reload current values' }).click();
    await page.getByTestId('site-location').getByText('Building B').waitFor();
    assert.equal(await page.getByLabel('Location').inputValue(), 'Building B', 'the form starts again from the current values');
    assert.equal(await page.getByRole('alert').count(), 0);
    await page.getByLabel('Location').fill('Building A');
    await page.getByLabel('TFTP subnets').fill('10.1.0.0/16');
    await page.getByRole('button', { name: 'Save site' }).click();
    await page.getByRole('status').getByText('Site saved.').waitFor();
    assert.equal(await page.getByTestId('site-location').textContent(), 'Building A');
    assert.match((await page.locator('.facts dd').nth(3).textContent()) ?? '', /10\.1\.0\.0\/16/);
  });

  test('adds a tenant admin for acme with a generated password, and changes then removes a read-only user', async () => {
    await account().getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await page.getByLabel('Username').fill('acme-ops');
    await page.getByRole('combobox', { name: /^Role/ }).selectOption('tenant-admin');
    await page.getByRole('combobox', { name: /^Tenant/ }).selectOption('acme');
    await page.getByRole('button', { name: 'Add user' }).click();
    const secret = page.getByRole('textbox', { name: 'Password of acme-ops' });
    await secret.waitFor();
    opsPassword = await secret.inputValue();
    assert.ok(opsPassword.length >= 12);
    const row = page.getByRole('table', { name: 'Users' }).getByRole('row').filter({ hasText: 'acme-ops' });
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /tenant-admin\s*acme/);
    await shot(page, 'users');
    await page.getByRole('button', { name: 'I have copied it' }).click();

    await page.getByLabel('Username').fill('auditor');
    await page.getByRole('combobox', { name: /^Role/ }).selectOption('read-only');
    await page.getByRole('combobox', { name: /^Tenant/ }).selectOption('acme');
    await page.getByLabel('Password').fill(AUDITOR_PASSWORD);
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.getByRole('link', { name: 'auditor' }).waitFor();

    await page.getByLabel('Username').fill('viewer');
    await page.getByRole('combobox', { name: /^Role/ }).selectOption('read-only');
    await page.getByLabel('Password').fill('Reads-only-2026!');
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.getByRole('link', { name: 'viewer' }).click();
    await page.getByRole('heading', { name: 'User viewer' }).waitFor();
    await page.getByRole('combobox', { name: /^Tenant/ }).selectOption('beta');
    await page.getByRole('checkbox', { name: /Disabled/ }).check();
    await page.getByRole('button', { name: 'Save user' }).click();
    await page.locator('.facts dd').getByText('disabled', { exact: true }).waitFor();
    assert.equal(await page.locator('.facts dd').nth(1).textContent(), 'beta');
    await page.getByRole('button', { name: 'Remove user' }).click();
    await page.getByRole('button', { name: 'Yes, remove the user' }).click();
    await page.getByRole('heading', { name: 'Users', exact: true }).waitFor();
    await page.getByRole('link', { name: 'acme-ops' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'viewer' }).count(), 0);
  });

  test('the tenant admin sees only acme and no Users link', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    await logIn('acme-ops', opsPassword);
    const tenants = page.getByRole('table', { name: 'Tenants' });
    await tenants.getByRole('link', { name: 'acme' }).waitFor();
    assert.deepEqual(await tenants.locator('tbody tr td:first-child').allTextContents(), ['acme']);
    assert.equal(await page.getByRole('link', { name: 'Users' }).count(), 0);
    assert.equal(await page.getByRole('form', { name: 'Create tenant' }).count(), 0);
    await account().getByRole('link', { name: 'My tokens' }).waitFor();
  });

  test('creates an API token on /me/tokens, uses it with curl, revokes it', async () => {
    await account().getByRole('link', { name: 'My tokens' }).click();
    await page.getByRole('heading', { name: 'My API tokens' }).waitFor();
    await page.getByLabel('Token name').fill('ci script');
    await page.getByRole('button', { name: 'Create token' }).click();
    const secret = page.getByRole('textbox', { name: 'Your new API token' });
    await secret.waitFor();
    token = await secret.inputValue();
    await page.getByRole('table', { name: 'API tokens' }).waitFor();
    await shot(page, 'tokens');
    const me = curl(`${server.adminUrl}/api/v1/me`, ['-H', `authorization: Bearer ${token}`]);
    assert.equal(me.status, 200, me.text);
    assert.equal((JSON.parse(me.text) as { username: string }).username, 'acme-ops');

    const row = page.getByRole('table', { name: 'API tokens' }).getByRole('row').filter({ hasText: 'ci script' });
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /active/);
    await row.getByRole('button', { name: 'Revoke ci script' }).click();
    await row.getByRole('button', { name: 'Yes, revoke' }).click();
    await row.getByText(/^revoked/).waitFor();
    assert.equal(curl(`${server.adminUrl}/api/v1/me`, ['-H', `authorization: Bearer ${token}`]).status, 401);
  });

  test('a read-only user of acme sees the group and its parameters without the controls the API would refuse', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await logIn('auditor', AUDITOR_PASSWORD);
    await page.goto(`${server.adminUrl}/t/acme/groups/floor-1`);
    await page.getByRole('table', { name: 'Parameters' }).getByRole('row').filter({ hasText: 'floor1-ntp.example' }).waitFor();
    for (const name of ['Set', 'Delete group', 'Save group', 'Remove tcpIpApp.sntp.address']) assert.equal(await page.getByRole('button', { name, exact: true }).count(), 0, name);
    await sections().getByRole('link', { name: 'Sites' }).click();
    await page.getByRole('link', { name: 'hq' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Create site' }).count(), 0);
  });
});
