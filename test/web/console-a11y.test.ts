// Every console page, as an administrator's laptop shows it (1366×768): axe-core finds no serious or
// critical WCAG 2 A/AA violation (labels, names, contrast, landmarks), nothing is wider than the
// screen, and the whole way from the login form to a device's log runs on the keyboard alone, with
// a visible focus on every stop.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/browser.js';
import { ensureConsoleBundle } from '../support/console-bundle.js';
import { curl } from '../support/curl.js';
import { cli, startServer, tempDir, type ServerProcess } from '../support/server-process.js';

const AXE_SOURCE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const ROOT = new URL('../..', import.meta.url).pathname;
const ARTIFACTS = join(ROOT, 'test-artifacts');
const STEP_MS = 15_000;
const MAC = '0004f2abc0a1';
const ACME = ['-u', 'acme:acme-password-1'];
const UA = `FileTransport PolycomVVX-VVX_450-UA/6.4.6.2163 (SN:${MAC}) Type/Application`;
const APP_LOG = ['0517184023|so   |*|00|---------- Initial log entry ----------', '0517184030|sip  |5|00|Registration failed: 503 Service Unavailable', ''].join('\n');

/** The pages a logged-in super-admin can open, each with the heading that says it is ready. */
const PAGES: { path: string; heading: string }[] = [
  { path: '/', heading: 'Tenants' },
  { path: '/t/acme', heading: 'Dashboard' },
  { path: '/t/acme/devices', heading: 'Devices' },
  { path: `/t/acme/devices/${MAC}`, heading: `Device ${MAC}` },
  { path: '/t/acme/sites', heading: 'Sites' },
  { path: '/t/acme/sites/hq', heading: 'Site hq' },
  { path: '/t/acme/groups', heading: 'Groups' },
  { path: '/t/acme/groups/floor-1', heading: 'Group floor-1' },
  { path: '/t/acme/models', heading: 'Models' },
  { path: '/t/acme/models/VVX_450', heading: 'Model VVX_450' },
  { path: '/t/acme/firmware', heading: 'Firmware' },
  { path: '/t/acme/rollouts', heading: 'Rollouts' },
  { path: '/users', heading: 'Users' },
  { path: '/me/tokens', heading: 'My API tokens' },
];

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

describe('the console is accessible, fits a laptop screen and works from the keyboard', () => {
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;
  let adminPassword: string;

  function polyprov(args: string[]): void {
    const r = cli(server.dataDir, args);
    assert.equal(r.code, 0, `polyprov ${args.join(' ')}: ${r.stderr}`);
  }

  before(async () => {
    ensureConsoleBundle();
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startServer();
    polyprov(['tenant', 'add', 'acme', '--password', 'acme-password-1']);
    polyprov(['site', 'add', 'hq', '-t', 'acme', '--name', 'Headquarters']);
    polyprov(['group', 'add', 'floor-1', '-t', 'acme', '--name', 'First floor']);
    polyprov(['model', 'set', 'VVX_450', '-t', 'acme']);
    polyprov(['device', 'add', MAC, '-t', 'acme', '--site', 'hq']);
    polyprov(['param', 'set', 'tcpIpApp.sntp.address=ntp.example', '-t', 'acme']);
    // The phone boots and uploads a log with an error line, so the dashboard and device page have content.
    assert.equal(curl(`${server.httpUrl}/${MAC}-polyprov.cfg`, [...ACME, '-A', UA]).status, 200);
    const file = join(tempDir('console-a11y-'), randomBytes(4).toString('hex'));
    writeFileSync(file, APP_LOG);
    const put = curl(`${server.httpUrl}/logs/${MAC}-app.log`, [...ACME, '-A', UA, '-T', file]);
    assert.ok(put.status >= 200 && put.status < 300, `log upload: ${put.status} ${put.text}`);
    adminPassword = readFileSync(join(server.dataDir, 'initial-admin-password'), 'utf8').trim();
    browser = await launchChromium();
    // bypassCSP: axe-core is injected as a script, which the console's strict CSP would refuse.
    page = await browser.newPage({ viewport: { width: 1366, height: 768 }, bypassCSP: true });
    page.setDefaultTimeout(STEP_MS);
    page.setDefaultNavigationTimeout(STEP_MS);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** axe-core's serious and critical WCAG 2 A/AA violations on the page as it is now. */
  async function axeViolations(): Promise<AxeViolation[]> {
    await page.addScriptTag({ path: AXE_SOURCE });
    const violations = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<{ violations: AxeViolation[] }> } }).axe;
      const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
    });
    return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  }

  function describeViolations(vs: AxeViolation[]): string {
    return vs.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`).join('\n');
  }

  /** How far the page is wider than the window, in CSS pixels (0 when it fits). */
  function overflow(): Promise<number> {
    return page.evaluate(() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth));
  }

  /** Presses Tab (at most `max` times) until the focused element matches, and checks its focus is visible. */
  async function tabTo(what: string, isIt: (el: { tag: string; text: string; label: string }) => boolean, max = 40): Promise<void> {
    for (let i = 0; i < max; i++) {
      await page.keyboard.press('Tab');
      const el = await page.evaluate(() => {
        const a = document.activeElement as HTMLElement | null;
        if (!a) return null;
        const style = getComputedStyle(a);
        const labelled = a.id ? document.querySelector(`label[for="${a.id}"]`)?.textContent : a.closest('label')?.textContent;
        return {
          tag: a.tagName.toLowerCase(),
          text: (a.textContent ?? '').trim(),
          label: (labelled ?? a.getAttribute('aria-label') ?? '').trim(),
          focusVisible: a.matches(':focus-visible') && ((style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none'),
        };
      });
      if (el && isIt(el)) {
        assert.ok(el.focusVisible, `${what} shows where the focus is (an outline or a ring)`);
        return;
      }
    }
    assert.fail(`${what} was not reached with ${max} presses of Tab`);
  }

  test('the login page passes axe and fits the screen', async () => {
    await page.goto(server.adminUrl + '/');
    await page.getByRole('heading', { name: 'polyprov console' }).waitFor();
    const vs = await axeViolations();
    assert.deepEqual(vs, [], describeViolations(vs));
    assert.equal(await overflow(), 0);
    // The checks are not a rubber stamp: an unlabelled field and a too-wide block are caught.
    await page.evaluate(() => {
      const probe = document.createElement('div');
      probe.id = 'a11y-probe';
      probe.innerHTML = '<input type="text"><div style="width:2000px;height:1px"></div>';
      document.body.append(probe);
    });
    assert.ok((await axeViolations()).some((v) => v.id === 'label'), 'axe reports the unlabelled field');
    assert.ok((await overflow()) > 0, 'the overflow check sees the wide block');
    await page.evaluate(() => document.getElementById('a11y-probe')?.remove());
  });

  test('from the login form to a device log with the keyboard alone', async () => {
    await tabTo('the Username field', (el) => el.tag === 'input' && /username/i.test(el.label));
    await page.keyboard.type('admin');
    await tabTo('the Password field', (el) => el.tag === 'input' && /password/i.test(el.label), 3);
    await page.keyboard.type(adminPassword);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Tenants' }).waitFor();
    await tabTo('the link to acme', (el) => el.tag === 'a' && el.text === 'acme');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await tabTo('the Devices section link', (el) => el.tag === 'a' && el.text === 'Devices');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Devices' }).waitFor();
    await tabTo(`the link to device ${MAC}`, (el) => el.tag === 'a' && el.text.startsWith(MAC), 80);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: `Device ${MAC}` }).waitFor();
    await tabTo('the Show lines button of the log viewer', (el) => el.tag === 'button' && el.text === 'Show lines', 120);
    await page.keyboard.press('Enter');
    await page.locator('tr.log-error').first().waitFor();
    assert.match((await page.locator('tr.log-error').first().textContent()) ?? '', /Registration failed: 503/);
  });

  for (const p of PAGES) {
    test(`${p.path} passes axe (WCAG 2.1 A/AA, serious and critical) and is no wider than 1366 px`, async () => {
      await page.goto(server.adminUrl + p.path);
      await page.getByRole('heading', { name: p.heading, exact: true }).first().waitFor();
      // Pages fill in after their requests: wait until no "Loading…" is left.
      await page.waitForFunction(() => !document.body.textContent?.includes('Loading…'), undefined, { timeout: STEP_MS });
      const vs = await axeViolations();
      if (vs.length) await page.screenshot({ path: join(ARTIFACTS, `console-a11y-${p.path.replace(/\W+/g, '_')}.png`), fullPage: true });
      assert.deepEqual(vs, [], describeViolations(vs));
      assert.equal(await overflow(), 0, `${p.path} scrolls sideways at 1366×768`);
    });
  }
});
