// The console's dashboard, devices list and device page in headless chromium against a real
// `polyprov serve`. Devices are registered with the real CLI; phones are curl with a Poly
// User-Agent through the HTTP edge (configuration fetches, a log upload with an error line, an
// override upload, a directory upload, a wrong password); the NOTIFY of a resync goes over real UDP
// to a socket in this process on 127.0.0.1 that answers 200 like a phone.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { renderDirectory } from '../../src/domain/contact-directory.js';
import { parseOverrideFile } from '../../src/domain/override-file.js';
import { launchChromium } from '../support/browser.js';
import { ensureConsoleBundle } from '../support/console-bundle.js';
import { curl, type CurlResult } from '../support/curl.js';
import { cli, startServer, tempDir, type ServerProcess } from '../support/server-process.js';
import { phoneResponse } from '../support/sipp.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const ARTIFACTS = join(ROOT, 'test-artifacts');
const STEP_MS = 20_000;
const ACME = ['-u', 'acme:acme-password-1'];
const GLOBEX = ['-u', 'globex:globex-password-1'];

// Seen by the server (curl as the phone): two VVX 450s and a VVX 350; one is also registered.
const P1 = '0004f2000a01';
const P2 = '0004f2000a02';
const P3 = '0004f2000a03';
// Registered with the CLI, never seen.
const NEVER = '0004f2000b01';
// globex's VVX 450: never in acme's lists, counts or filters.
const GLOBEX_MAC = '0004f2000a04';
const ALL_ACME = [P1, P2, P3, NEVER].sort();

const ua = (mac: string, model: string) => `FileTransport PolycomVVX-${model}-UA/6.4.6.2163 (SN:${mac}) Type/Application`;
const ERROR_LINE = '0517184030|sip  |5|00|Registration failed: 503 Service Unavailable';
const APP_LOG = [
  '0517184023|so   |*|00|---------- Initial log entry ----------',
  '0517184024|sip  |4|00|Registration succeeded',
  '0517184025|cfg  |4|00|Prm|Parameter reg.1.address requested type 1',
  ERROR_LINE,
  '',
].join('\n');
// What a phone uploads when its user changed a setting (the bytes are the phone's, as in test/e2e).
const PHONE_CFG = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<PHONE_CONFIG><OVERRIDES reg.1.displayName="Front desk"/></PHONE_CONFIG>\n`;

describe('the console: dashboard, devices list, device page', () => {
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;
  let scratch: string;
  let phone: Socket;
  const notifies: string[] = [];

  function polyprov(args: string[]): string {
    const r = cli(server.dataDir, args);
    assert.equal(r.code, 0, `polyprov ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  /** A request as the phone makes it, through the HTTP edge. */
  function phoneGet(path: string, mac: string, model = 'VVX_450', auth = ACME): CurlResult {
    return curl(`${server.httpUrl}/${path}`, [...auth, '-A', ua(mac, model)]);
  }

  /** A PUT as the phone makes it (whole file, no range: a log append or a new upload version). */
  function phonePut(path: string, mac: string, body: string): CurlResult {
    const file = join(scratch, randomBytes(4).toString('hex'));
    writeFileSync(file, body);
    return curl(`${server.httpUrl}/${path}`, [...ACME, '-A', ua(mac, 'VVX_450'), '-T', file]);
  }

  async function shot(name: string): Promise<void> {
    await page.screenshot({ path: join(ARTIFACTS, `console-${name}.png`), fullPage: true });
  }

  /** The MACs in the devices table, in order (none when the page says no device matches). */
  async function listedMacs(): Promise<string[]> {
    await page.locator('table[aria-label="Devices"], p:text("No devices match.")').first().waitFor();
    return page.locator('table[aria-label="Devices"] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-mac') ?? ''));
  }

  /** Waits until the devices table shows exactly `macs` (the list reloads when the URL changes). */
  async function expectListed(macs: string[], what: string): Promise<void> {
    const deadline = Date.now() + STEP_MS;
    let seen: string[] = [];
    while (Date.now() < deadline) {
      seen = await listedMacs();
      if (JSON.stringify(seen) === JSON.stringify(macs)) return;
      await page.waitForTimeout(100);
    }
    assert.deepEqual(seen, macs, what);
  }

  before(async () => {
    ensureConsoleBundle();
    mkdirSync(ARTIFACTS, { recursive: true });
    scratch = tempDir('console-device-');
    server = await startServer();
    assert.notEqual(server.adminUrl, 'http://127.0.0.1:0', 'the admin API reported its port');
    polyprov(['tenant', 'add', 'acme', '--password', 'acme-password-1']);
    polyprov(['tenant', 'add', 'globex', '--password', 'globex-password-1']);
    polyprov(['group', 'add', 'floor-1', '-t', 'acme', '--name', 'First floor']);
    polyprov(['device', 'add', P1, '-t', 'acme']);
    polyprov(['device', 'add', NEVER, '-t', 'acme']);

    // A phone on loopback: answers every NOTIFY 200 OK.
    phone = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      phone.once('error', reject);
      phone.bind(0, '127.0.0.1', () => resolve());
    });
    phone.on('message', (buf, from) => {
      const text = buf.toString('utf8');
      notifies.push(text);
      phone.send(phoneResponse(text, 200, 'OK'), from.port, from.address);
    });
    polyprov(['notify', 'config', '-t', 'acme', '--target', `127.0.0.1:${phone.address().port}`, '--request-uri', 'sip:{mac}@{host}:{port}']);

    for (const [mac, model] of [[P1, 'VVX_450'], [P2, 'VVX_450'], [P3, 'VVX_350']] as const) {
      assert.equal(phoneGet('000000000000.cfg', mac, model).status, 200);
      assert.equal(phoneGet(`${mac}-polyprov.cfg`, mac, model).status, 200);
    }
    assert.equal(phoneGet(`${GLOBEX_MAC}-polyprov.cfg`, GLOBEX_MAC, 'VVX_450', GLOBEX).status, 200);
    // A file acme does not have: a failed request of acme's (refused credentials count under no
    // tenant, so that nobody can add failures to a tenant's chart).
    assert.equal(phoneGet('no-such-file.cfg', P2).status, 404);
    assert.equal(phonePut(`logs/${P1}-app.log`, P1, APP_LOG).status, 201);
    assert.equal(phonePut(`overrides/${P1}-phone.cfg`, P1, PHONE_CFG).status, 201);
    const contacts = renderDirectory([
      { firstName: 'Help', lastName: 'Desk', contact: '7000', speedDial: 1 },
      { firstName: 'Pizza', lastName: 'Place', contact: '5550100' },
    ]);
    assert.equal(phonePut(`contacts/${P1}-directory.xml`, P1, contacts).status, 201);

    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    page.setDefaultTimeout(STEP_MS);
    page.setDefaultNavigationTimeout(STEP_MS);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    phone?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  test('logs in and opens the dashboard from the tenant navigation', async () => {
    await page.goto(server.adminUrl + '/');
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(readFileSync(join(server.dataDir, 'initial-admin-password'), 'utf8').trim());
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('link', { name: 'acme' }).click();
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Dashboard' }).click();
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/t/acme');
  });

  test("the dashboard shows acme's devices seen, their models, the error line, and request bars", async () => {
    // Request counts reach the store in the server's periodic flush: reload until they are there (bounded).
    const bars = page.locator('svg.requests-chart rect.bar-ok');
    const failedBars = page.locator('svg.requests-chart rect.bar-failed');
    for (let i = 0; i < 40 && ((await bars.count()) === 0 || (await failedBars.count()) === 0); i++) {
      await page.waitForTimeout(500);
      await page.reload();
      await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
      await page.getByRole('img', { name: /Provisioning requests/ }).waitFor();
    }
    assert.ok((await bars.count()) > 0, 'the chart has bars of answered requests');
    assert.ok((await failedBars.count()) > 0, 'and of failed ones (the missing file)');
    assert.match((await page.getByRole('img', { name: /Provisioning requests/ }).getAttribute('aria-label')) ?? '', /\d+ requests, [1-9]\d* failed/);

    assert.equal((await page.getByTestId('seen-in-window').locator('dd').textContent())?.trim(), '3', 'P1, P2, P3 (not the never-seen device, not globex)');
    const models = page.getByRole('table', { name: 'Models' });
    assert.deepEqual(await models.locator('tbody tr').evaluateAll((rows) => rows.map((r) => [...r.children].map((c) => c.textContent))), [
      ['VVX_450', '2'],
      ['VVX_350', '1'],
      ['not reported', '1'],
    ], 'most first; the never-seen device reported none');
    const errors = page.getByRole('table', { name: 'Recent errors' });
    const row = errors.getByRole('row').filter({ hasText: ERROR_LINE });
    await row.waitFor();
    assert.equal(await row.getByRole('link', { name: P1 }).getAttribute('href'), `/t/acme/devices/${P1}?log=app#logs`);
    await shot('dashboard');

    // The window is in the URL: a week, then back to a day.
    await page.getByLabel('Window').selectOption({ label: 'last 7 days' });
    await page.getByText('Seen in the last 7 days').waitFor();
    assert.equal(new URL(page.url()).search, '?hours=168');
    assert.match((await page.getByRole('img', { name: /Provisioning requests/ }).getAttribute('aria-label')) ?? '', /in \d+-minute buckets/);
    assert.ok((await bars.count()) > 0);
    await page.reload();
    await page.getByText('Seen in the last 7 days').waitFor();
    await page.getByLabel('Window').selectOption({ label: 'last 24 hours' });
    await page.getByText('Seen in the last 24 hours').waitFor();
  });

  test('the error links to the device page, whose log viewer marks the error line; grep narrows it', async () => {
    await page.getByRole('table', { name: 'Recent errors' }).getByRole('link', { name: P1 }).click();
    await page.getByRole('heading', { name: `Device ${P1}` }).waitFor();
    const lines = page.getByRole('table', { name: 'app log lines' });
    await lines.waitFor();
    const rows = lines.locator('tbody tr');
    assert.equal(await rows.count(), 4);
    const errorRow = rows.filter({ hasText: 'Registration failed: 503' });
    assert.equal(await errorRow.getAttribute('class'), 'log-error');
    assert.equal(await errorRow.locator('.badge-error').textContent(), 'error');
    assert.equal(await lines.locator('tbody tr.log-error').count(), 1, 'only the level-5 line is an error');
    assert.equal(await lines.locator('.badge-error').count(), 1);
    await page.getByText('4 lines, 1 error.').waitFor();

    await page.getByLabel('Search (regular expression)').fill('registration');
    await page.getByRole('button', { name: 'Show lines' }).click();
    await page.getByText('2 lines matching /registration/i, 1 error.').waitFor();
    assert.deepEqual(await rows.evaluateAll((rs) => rs.map((r) => r.querySelector('td:last-child')?.textContent)), ['Registration succeeded', 'Registration failed: 503 Service Unavailable']);
    assert.equal(await lines.locator('tbody tr.log-error').count(), 1, 'the error line stays marked');
    await page.getByLabel('Ignore case').uncheck();
    await page.getByRole('button', { name: 'Show lines' }).click();
    await page.getByText('0 lines matching /registration/, 0 errors.').waitFor();
    await page.getByLabel('Search (regular expression)').fill('fail(');
    await page.getByRole('button', { name: 'Show lines' }).click();
    assert.match((await page.getByRole('alert').textContent()) ?? '', /invalid regular expression "fail\("/);
    await page.getByLabel('Search (regular expression)').fill('503|Initial');
    await page.getByRole('button', { name: 'Show lines' }).click();
    await page.getByText('2 lines matching /503|Initial/, 1 error.').waitFor();
    await page.locator('#logs').scrollIntoViewIfNeeded();
    await shot('device-logs');
  });

  test("the device page shows the phone's directory with where it came from, and assigns a group", async () => {
    const contacts = page.getByRole('table', { name: 'Contacts' });
    await contacts.waitFor();
    assert.deepEqual(await contacts.locator('tbody tr').evaluateAll((rows) => rows.map((r) => [...r.children].slice(0, 3).map((c) => c.textContent))), [
      ['Desk', 'Help', '7000'],
      ['Place', 'Pizza', '5550100'],
    ]);
    assert.match((await page.getByTestId('directory-source').textContent()) ?? '', new RegExp(`contacts/${P1}-directory\\.xml \\(version 1 of 1, uploaded by the phone`));

    // Someone else changes the device meanwhile: the edit based on the page's ETag is refused.
    polyprov(['device', 'set', P1, '-t', 'acme', '--label', 'Reception desk']);
    await page.getByRole('combobox', { name: /^Group/ }).selectOption('floor-1');
    await page.getByRole('button', { name: 'Assign group' }).click();
    assert.match((await page.getByRole('alert').textContent()) ?? '', /reload to see the current values/);
    await page.getByRole('button', { name: 'Reload the device' }).click();
    await page.getByRole('button', { name: 'Reload the device' }).waitFor({ state: 'detached' });
    await page.getByRole('combobox', { name: /^Group/ }).selectOption('floor-1');
    await page.getByRole('button', { name: 'Assign group' }).click();
    await page.getByTestId('device-group').getByText('floor-1', { exact: true }).waitFor();
    assert.equal(await page.getByRole('alert').count(), 0, 'no error shown');
  });

  test("clearing the overrides (after a confirmation) empties them, and the phone's next read gets the empty file", async () => {
    const overrides = page.getByRole('table', { name: 'Overrides phone' });
    await overrides.getByRole('row').filter({ hasText: 'reg.1.displayName' }).filter({ hasText: 'Front desk' }).waitFor();
    // The effective configuration shows it too, as the phone's own value.
    await page.locator('tr[data-parameter="reg.1.displayName"]').filter({ hasText: 'Front desk' }).waitFor();
    assert.equal(phoneGet(`overrides/${P1}-phone.cfg`, P1).text, PHONE_CFG, 'served back as uploaded until cleared');
    await page.getByRole('button', { name: 'Clear overrides' }).click();
    // Nothing happens before the confirmation; Cancel leaves it all.
    await page.getByRole('group', { name: 'Confirm: Clear overrides' }).getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await overrides.count(), 1);
    await page.getByRole('button', { name: 'Clear overrides' }).click();
    await page.getByRole('button', { name: 'Yes, clear overrides' }).click();
    await page.getByRole('status').filter({ hasText: 'Cleared -phone.cfg: the phone drops its local changes' }).waitFor();
    await page.getByText('Cleared: the phone is served the empty override file.').waitFor();
    assert.equal(await overrides.count(), 0, 'no parameter left');
    await page.locator('tr[data-parameter="reg.1.displayName"]').waitFor({ state: 'detached' });
    assert.equal(await page.getByRole('button', { name: 'Clear overrides' }).count(), 0, 'nothing left to clear');

    const served = phoneGet(`overrides/${P1}-phone.cfg`, P1);
    assert.equal(served.status, 200);
    const parsed = parseOverrideFile(served.text);
    assert.ok(parsed.ok, served.text);
    assert.equal(parsed.params.size, 0, 'the phone is served an empty -phone.cfg');
  });

  test('resync sends the phone a NOTIFY and shows its answer: ok', async () => {
    await page.getByRole('button', { name: 'Resync now' }).click();
    await page.getByTestId('resync-status').filter({ hasText: /done — ok/ }).waitFor({ timeout: 40_000 });
    const result = page.getByRole('table', { name: 'Reach results' }).locator('tbody tr').first();
    await result.waitFor();
    assert.deepEqual(await result.locator('td').evaluateAll((cells) => cells.slice(1, 4).map((c) => c.textContent)), ['notify', 'ok', '200']);
    assert.ok(notifies.some((n) => n.startsWith(`NOTIFY sip:${P1}@127.0.0.1:${phone.address().port} SIP/2.0\r\n`) && /Event: check-sync/i.test(n)), notifies.join('\n---\n'));
  });

  test('the devices list filters by model and status, keeps the filters over a reload, and never shows globex', async () => {
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Devices' }).click();
    await page.getByRole('heading', { name: 'Devices' }).waitFor();
    await expectListed(ALL_ACME, 'every acme device, no globex device');

    await page.getByLabel('Model').fill('VVX_450');
    await page.getByRole('button', { name: 'Search' }).click();
    await expectListed([P1, P2], 'model VVX_450');
    assert.equal(new URL(page.url()).search, '?model=VVX_450');
    const p1 = page.locator(`tr[data-mac="${P1}"]`);
    assert.deepEqual(await p1.locator('td').evaluateAll((cells) => cells.slice(1, 6).map((c) => c.textContent)), ['yes', '—', 'floor-1', 'VVX_450', '6.4.6.2163']);
    await shot('devices-filtered');

    await page.reload();
    await page.getByRole('heading', { name: 'Devices' }).waitFor();
    await expectListed([P1, P2], 'model VVX_450 after a reload');
    assert.equal(await page.getByLabel('Model').inputValue(), 'VVX_450', 'the form shows the filter again');

    await page.getByLabel('Status').selectOption('online');
    await expectListed([P1, P2], 'VVX_450 and online');
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expectListed(ALL_ACME, 'no filter');
    await page.getByLabel('Status').selectOption('never');
    await expectListed([NEVER], 'never seen');
    assert.equal(new URL(page.url()).search, '?status=never');
    await page.reload();
    await expectListed([NEVER], 'never seen after a reload');
    await page.getByLabel('Status').selectOption('offline');
    await expectListed([], 'none was seen before the last 24 hours');
    await page.getByLabel('Status').selectOption('online');
    await expectListed([P1, P2, P3], 'online');

    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expectListed(ALL_ACME, 'no filter');
    await page.getByLabel('Registered').selectOption('false');
    await expectListed([P2, P3], 'seen only');
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expectListed(ALL_ACME, 'no filter');
    await page.getByLabel('Seen after (UTC)').fill('2020-01-01T00:00');
    await page.getByRole('button', { name: 'Search' }).click();
    await expectListed([P1, P2, P3], 'seen since 2020');
    assert.equal(new URL(page.url()).searchParams.get('seenAfter'), '2020-01-01T00:00:00.000Z', 'the form takes UTC');
    await page.getByLabel('Seen before (UTC)').fill('2020-06-01T00:00');
    await page.getByRole('button', { name: 'Search' }).click();
    await expectListed([], 'none seen in the first half of 2020');
    await page.getByLabel('Seen after (UTC)').fill('2021-01-01T00:00');
    await page.getByRole('button', { name: 'Search' }).click();
    assert.match((await page.getByRole('alert').textContent()) ?? '', /seenAfter .* must be earlier than seenBefore/, "the API's detail is shown");
  });

  test('paging with a small limit reaches the last device', async () => {
    await page.goto(`${server.adminUrl}/t/acme/devices?limit=3`);
    await page.getByRole('heading', { name: 'Devices' }).waitFor();
    const seen: string[] = [];
    const next = page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Next page' });
    for (let i = 0; i < 5; i++) {
      await page.locator('table[aria-label="Devices"] tbody tr').first().waitFor();
      const macs = await listedMacs();
      assert.ok(macs.length <= 3, `at most 3 per page: ${macs.join(', ')}`);
      seen.push(...macs);
      if ((await next.count()) === 0) break;
      const first = macs[0]!;
      await next.click();
      await page.locator(`tr[data-mac="${first}"]`).waitFor({ state: 'detached' });
    }
    assert.deepEqual(seen, ALL_ACME);
    assert.match(new URL(page.url()).search, /^\?limit=3&cursor=/);
    await page.getByRole('link', { name: 'First page' }).click();
    await expectListed(ALL_ACME.slice(0, 3), 'back to the first page');
  });
});
