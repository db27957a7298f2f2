// The console's firmware and rollout pages in headless chromium against a real `polyprov serve`:
// release zips (built here with yazl as Poly publishes them: sip.ver and one <part>.sip.ld image per
// model) uploaded through the page's file input, the tenant target set from the page and served to a
// phone (curl with a Poly User-Agent), one device pinned to another release on its own page, a
// rollout created, paused (a stale ETag refused with 412 and redone after a reload) and resumed, and
// the removal of a targeted release refused with the API's sentence.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { zipBuffer } from '../support/crafted-zips.js';
import { parseMasterFile } from '../../src/domain/polycom-xml.js';
import { launchChromium } from '../support/browser.js';
import { ensureConsoleBundle } from '../support/console-bundle.js';
import { curl } from '../support/curl.js';
import { cli, startServer, tempDir, type ServerProcess } from '../support/server-process.js';

const AXE_SOURCE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const ROOT = new URL('../..', import.meta.url).pathname;
const ARTIFACTS = join(ROOT, 'test-artifacts');
const STEP_MS = 20_000;
const ACME = ['-u', 'acme:acme-password-1'];

const OLD = '6.3.1.1000';
const NEW = '6.4.6.1234';
const PHONE_A = { mac: '0004f2f00500', model: 'VVX_500', part: '3111-44500-001' };
const PHONE_B = { mac: '0004f2f00150', model: 'VVX_150', part: '3111-48810-001' };
const ua = (p: { mac: string; model: string }) => `FileTransport PolycomVVX-${p.model}-UA/6.1.0.6189 (SN:${p.mac}) Type/Application`;

/** A release zip as Poly publishes a split one: a top folder, sip.ver and an image per part number. */
async function writeReleaseZip(path: string, version: string): Promise<void> {
  const top = `UC_Software_${version.replace(/\./g, '_')}_release_sig_split`;
  const images = [PHONE_A, PHONE_B].map((p): [string, Buffer] => [`${top}/${p.part}.sip.ld`, randomBytes(40_000 + p.part.length)]);
  writeFileSync(path, await zipBuffer([[`${top}/sip.ver`, `${version}
`], ...images]));
}

/** The APP_FILE_PATH the phone's master file gives its model (the model's own attribute first). */
function appFilePath(master: string, model: string): string {
  const m = parseMasterFile(master);
  return m.get(`APP_FILE_PATH_${model.replace(/_/g, '')}`) ?? m.get('APP_FILE_PATH') ?? '';
}

describe('the firmware and rollout pages in headless chromium', () => {
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;
  let scratch: string;
  const zips: Record<string, string> = {};

  function run(args: string[]): void {
    const r = cli(server.dataDir, args);
    assert.equal(r.code, 0, `polyprov ${args.join(' ')}: ${r.stderr}`);
  }

  /** What the phone gets: its own <mac>.cfg when it has one, else 000000000000.cfg, as phones fall back. */
  function masterFor(p: typeof PHONE_A): { path: string; appFilePath: string } {
    const own = curl(`${server.httpUrl}/${p.mac}.cfg`, [...ACME, '-A', ua(p)]);
    if (own.status === 200) return { path: `${p.mac}.cfg`, appFilePath: appFilePath(own.text, p.model) };
    assert.equal(own.status, 404, `${p.mac}.cfg: ${own.status} ${own.text}`);
    const shared = curl(`${server.httpUrl}/000000000000.cfg`, [...ACME, '-A', ua(p)]);
    assert.equal(shared.status, 200, shared.text);
    return { path: '000000000000.cfg', appFilePath: appFilePath(shared.text, p.model) };
  }

  async function shot(name: string): Promise<void> {
    await page.screenshot({ path: join(ARTIFACTS, `console-${name}.png`), fullPage: true });
  }

  const sections = () => page.getByRole('navigation', { name: 'Sections' });
  const releaseRow = (version: string) => page.getByRole('table', { name: 'Releases' }).locator(`tr[data-release="${version}"]`);

  before(async () => {
    ensureConsoleBundle();
    mkdirSync(ARTIFACTS, { recursive: true });
    scratch = tempDir('console-firmware-');
    for (const v of [OLD, NEW]) {
      zips[v] = join(scratch, `UC_Software_${v.replace(/\./g, '_')}_release_sig_split.zip`);
      await writeReleaseZip(zips[v]!, v);
    }
    zips.bad = join(scratch, 'not-a-release.zip');
    writeFileSync(zips.bad, 'this is no zip at all');
    server = await startServer({ args: ['--no-ftp', '--no-ftps'] });
    run(['tenant', 'add', 'acme', '--password', 'acme-password-1']);
    for (const p of [PHONE_A, PHONE_B]) {
      run(['device', 'add', p.mac, '-t', 'acme']);
      // The phones boot once, so the inventory knows their model and version.
      assert.equal(curl(`${server.httpUrl}/${p.mac}-polyprov.cfg`, [...ACME, '-A', ua(p)]).status, 200);
    }
    const adminPassword = readFileSync(join(server.dataDir, 'initial-admin-password'), 'utf8').trim();
    browser = await launchChromium();
    // bypassCSP: the last test injects axe-core as a script, which the console's strict CSP would refuse.
    page = await browser.newPage({ viewport: { width: 1366, height: 768 }, bypassCSP: true });
    page.setDefaultTimeout(STEP_MS);
    page.setDefaultNavigationTimeout(STEP_MS);
    await page.goto(server.adminUrl + '/');
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(adminPassword);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Tenants' }).waitFor();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  test('two release zips are uploaded through the file input and listed; a file that is no zip is refused with its reason', async () => {
    await page.getByRole('link', { name: 'acme' }).click();
    await sections().getByRole('link', { name: 'Firmware' }).click();
    await page.getByRole('heading', { name: 'Firmware', exact: true }).waitFor();
    await page.getByText('No release yet: upload one').waitFor();

    for (const v of [OLD, NEW]) {
      await page.getByLabel('Release zip').setInputFiles(zips[v]!);
      await page.getByRole('button', { name: 'Upload', exact: true }).click();
      await page.getByRole('status').filter({ hasText: `Imported firmware ${v} (2 images).` }).waitFor();
      await releaseRow(v).waitFor();
    }
    const row = (await releaseRow(NEW).textContent()) ?? '';
    assert.match(row, /tenant/);
    assert.match(row, /VVX_150, VVX_500/, 'the models its images name');
    assert.match(row, /split/);
    // Newest first.
    assert.deepEqual(await page.getByRole('table', { name: 'Releases' }).locator('tbody tr').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-release'))), [NEW, OLD]);
    // The server holds them: a phone can fetch an image of each.
    for (const v of [OLD, NEW]) assert.equal(curl(`${server.httpUrl}/firmware/${v}/${PHONE_A.part}.sip.ld`, [...ACME, '-A', ua(PHONE_A)]).status, 200, `an image of ${v}`);

    await page.getByLabel('Release zip').setInputFiles(zips.bad!);
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    const alert = page.getByRole('form', { name: 'Upload a release' }).getByRole('alert');
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /zip/i, 'the API says what is wrong with the file');
    assert.equal(await page.getByRole('table', { name: 'Releases' }).locator('tbody tr').count(), 2, 'nothing was imported');
  });

  test('the tenant target is set from the page and a phone is sent to firmware/<version>/', async () => {
    const before = masterFor(PHONE_A);
    assert.doesNotMatch(before.appFilePath, /firmware\//, `no target yet: ${before.appFilePath}`);
    await page.getByText('No tenant-wide target').waitFor();
    await page.getByLabel('Target version').selectOption(OLD);
    await page.getByRole('button', { name: 'Set target' }).click();
    await page.getByText(`Target set to ${OLD} (tenant library).`).waitFor();
    await page.getByTestId('fw-target-tenant').getByText(OLD).waitFor();

    const m = masterFor(PHONE_A);
    assert.equal(m.path, '000000000000.cfg');
    assert.equal(m.appFilePath, `firmware/${OLD}/sip.ld`);
    // The fleet table is read again after the change: both phones run 6.1.0 against the target.
    const fleet = page.getByRole('table', { name: 'Fleet status' }).getByRole('row').filter({ hasText: OLD });
    await fleet.waitFor();
    assert.match((await fleet.textContent()) ?? '', /6\.1\.0\.6189.*2.*not on target/);
    await shot('firmware');
  });

  test("a device pinned to the other release on its page gets its own master, and explain names the device layer", async () => {
    await page.goto(`${server.adminUrl}/t/acme/devices/${PHONE_B.mac}`);
    const section = page.getByRole('region', { name: 'Firmware' });
    await section.getByTestId('device-effective-target').getByText(`${OLD} (from tenant)`).waitFor();
    assert.match((await section.textContent()) ?? '', /Running6\.1\.0\.6189/);
    await page.getByLabel('Pin to version').selectOption(NEW);
    await page.getByRole('button', { name: 'Pin device' }).click();
    await section.getByTestId('device-effective-target').getByText(`${NEW} (from device ${PHONE_B.mac})`).waitFor();
    const explained = page.locator('tr[data-parameter="polyprov.firmware.version"]');
    await explained.filter({ hasText: NEW }).waitFor();
    assert.match((await explained.textContent()) ?? '', /device/);

    const pinned = masterFor(PHONE_B);
    assert.equal(pinned.path, `${PHONE_B.mac}.cfg`, 'a pinned device gets its own master file');
    assert.equal(pinned.appFilePath, `firmware/${NEW}/sip.ld`);
    assert.equal(masterFor(PHONE_A).appFilePath, `firmware/${OLD}/sip.ld`, 'the other phone still follows the tenant');

    // Removing the pin puts the device back on the tenant's target.
    await page.getByRole('button', { name: 'Remove the pin' }).click();
    await page.getByRole('button', { name: 'Yes, remove the pin' }).click();
    await section.getByTestId('device-effective-target').getByText(`${OLD} (from tenant)`).waitFor();
    assert.equal(masterFor(PHONE_B).appFilePath, `firmware/${OLD}/sip.ld`);
    // Pinned again for the rest of the test, so a release is targeted at two layers.
    await page.getByLabel('Pin to version').selectOption(NEW);
    await page.getByRole('button', { name: 'Pin device' }).click();
    await section.getByTestId('device-effective-target').getByText(`${NEW} (from device ${PHONE_B.mac})`).waitFor();
  });

  test('a rollout is created from the page, paused (a stale ETag refused, then redone) and resumed', async () => {
    await sections().getByRole('link', { name: 'Rollouts' }).click();
    await page.getByRole('heading', { name: 'Rollouts', exact: true }).waitFor();
    await page.getByText('No rollout yet.').waitFor();
    await page.getByLabel('Rollout name').fill('spring');
    assert.equal(await page.getByLabel('From version').inputValue(), OLD, 'from the older release by default');
    assert.equal(await page.getByLabel('To version').inputValue(), NEW, 'to the newest by default');
    await page.getByRole('button', { name: 'Create rollout' }).click();
    await page.getByRole('status').getByRole('link', { name: 'spring' }).click();
    await page.getByRole('heading', { name: 'Rollout spring' }).waitFor();
    await page.getByTestId('rollout-status').getByText('running').waitFor();
    const waves = page.getByRole('table', { name: 'Waves' });
    assert.equal(await waves.locator('tbody tr').count(), 3, 'the default waves 1, 10, 100 %');
    assert.match((await waves.locator('tbody tr').first().textContent()) ?? '', /1 %.*yes/, 'the first wave is released at once');

    // Someone pauses it behind the page's back: the page's ETag is stale and its pause is refused.
    run(['rollout', 'pause', 'spring', '-t', 'acme']);
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByRole('alert').waitFor();
    await page.getByRole('button', { name: 'Reload current values' }).click();
    await page.getByTestId('rollout-status').getByText('paused').waitFor();
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByTestId('rollout-status').getByText('running', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByTestId('rollout-status').getByText(/paused by admin/).waitFor();
    await shot('rollout');
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByTestId('rollout-status').getByText('running', { exact: true }).waitFor();
    const status = JSON.parse(cli(server.dataDir, ['rollout', 'status', 'spring', '-t', 'acme', '--json']).stdout) as { rollout: { status: string } };
    assert.equal(status.rollout.status, 'running', 'the server holds what the page shows');

    await sections().getByRole('link', { name: 'Rollouts' }).click();
    const listed = page.getByRole('table', { name: 'Rollouts' }).getByRole('row').filter({ hasText: 'spring' });
    await listed.waitFor();
    assert.match((await listed.textContent()) ?? '', new RegExp(`${OLD} → ${NEW}.*2.*running.*wave 1 of 3`));
  });

  test('removing a targeted release is refused with the API sentence, and the release stays', async () => {
    await sections().getByRole('link', { name: 'Firmware' }).click();
    await releaseRow(OLD).waitFor();
    await page.getByRole('button', { name: `Remove ${OLD}` }).click();
    await page.getByRole('button', { name: `Yes, remove ${OLD}` }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    const text = (await alert.textContent()) ?? '';
    assert.match(text, new RegExp(`firmware ${OLD.replace(/\./g, '\\.')} is still the target of`));
    assert.match(text, /spring/, 'the rollout that needs it is named too');
    await releaseRow(OLD).waitFor();
    assert.equal(curl(`${server.httpUrl}/firmware/${OLD}/${PHONE_A.part}.sip.ld`, [...ACME, '-A', ua(PHONE_A)]).status, 200, 'still served');
  });

  test('the filled-in firmware, rollout and device pages pass axe (WCAG 2.1 A/AA, serious and critical) and fit 1366 px', async () => {
    for (const [path, heading] of [
      ['/t/acme/firmware', 'Firmware'],
      ['/t/acme/rollouts', 'Rollouts'],
      ['/t/acme/rollouts/spring', 'Rollout spring'],
      [`/t/acme/devices/${PHONE_B.mac}`, `Device ${PHONE_B.mac}`],
    ] as const) {
      await page.goto(server.adminUrl + path);
      await page.getByRole('heading', { name: heading, exact: true }).waitFor();
      await page.locator('table').first().waitFor();
      await page.addScriptTag({ path: AXE_SOURCE });
      const violations = await page.evaluate(async () => {
        const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<{ violations: { id: string; impact: string | null; nodes: { target: string[] }[] }[] }> } }).axe;
        const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
        return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      });
      assert.deepEqual(violations, [], `${path}`);
      assert.equal(await page.evaluate(() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth)), 0, `${path} scrolls sideways at 1366×768`);
    }
  });
});
