// Staged rollouts end to end through the admin services and the core, on a real store: the canary
// moves first, the rollout pauses when the canary does not come back on the new version by the
// deadline and resumes when it does, the next wave follows, a rollback sends phones back, and
// explain shows the rollout layer. Phones "report" their version by fetching files with their UA.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { explainDevice } from '../../src/admin/explain.js';
import { importRelease, setFirmwareTarget } from '../../src/admin/firmware.js';
import { createRollout, rollBackRollout, rolloutStatus, tickRollouts } from '../../src/admin/rollouts.js';
import { addDevice } from '../../src/admin/structure.js';
import { addTenant } from '../../src/admin/tenants.js';
import type { Tenant } from '../../src/store/store.js';
import { startInProcessCore, type InProcessCore } from '../support/in-process-core.js';
import { tempDir } from '../support/server-process.js';
import { waitFor } from '../support/wait-for.js';

let env: InProcessCore;
let acme: Tenant;
const OLD = '5.9.8.5760';
const NEW = '6.4.6.1234';
const macs = Array.from({ length: 10 }, (_, i) => `0004f2${(0x100 + i).toString(16).padStart(6, '0')}`);

function releaseFolder(version: string): string {
  const dir = join(tempDir(), `fw-${version}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, '3111-44500-001.sip.ld'), `image ${version}`);
  writeFileSync(join(dir, 'sip.ver'), version);
  return dir;
}

/** What the phone's boot reads: its own master if it has one, else the shared one; the APP_FILE_PATH for its model. */
async function bootAppFilePath(mac: string, running: string): Promise<string> {
  const userAgent = `FileTransport PolycomVVX-VVX_500-UA/${running} (SN:${mac}) Type/Application`;
  const credentials = { kind: 'password' as const, username: 'acme', password: 'acme-password-1' };
  for (const name of [`${mac}.cfg`, '000000000000.cfg']) {
    const a = await env.core.handle({ protocol: 'http', operation: 'read', target: `/${name}`, ip: '127.0.0.1', credentials, userAgent });
    if (!a.ok) continue;
    assert.equal(a.resource.kind, 'generated');
    const xml = (a.resource as { body: Buffer }).body.toString('utf8');
    return (/APP_FILE_PATH_VVX500="([^"]*)"/.exec(xml) ?? /APP_FILE_PATH="([^"]*)"/.exec(xml))![1]!;
  }
  throw new Error('no master');
}

/** Each phone boots with the version it runs; the inventory records it (flushed every 50 ms here). */
async function boot(running: Record<string, string>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [mac, v] of Object.entries(running)) out[mac] = await bootAppFilePath(mac, v);
  await waitFor('the inventory has the versions', async () => {
    const devices = await env.ctx.store.listDevices(acme.id);
    return Object.entries(running).every(([mac, v]) => devices.find((d) => d.mac === mac)?.firmware === v) ? true : undefined;
  }, 5000);
  return out;
}

before(async () => {
  env = await startInProcessCore();
  acme = (await addTenant(env.ctx, 'acme', { password: 'acme-password-1' })).tenant;
  for (const v of [OLD, NEW]) await importRelease(env.ctx, acme, [releaseFolder(v)]);
  for (const mac of macs) await addDevice(env.ctx, acme, mac, {});
  await setFirmwareTarget(env.ctx, acme, {}, OLD);
  // Every device reports its model and the old version once, as phones do on their first boot.
  await boot(Object.fromEntries(macs.map((m) => [m, OLD])));
});
after(async () => {
  await env?.close();
});

test('canary first, pause when it does not come back on the new version, resume when it does, then everyone; rollback', async () => {
  const r = await createRollout(env.ctx, acme, { name: 'vvx-646', from: OLD, to: NEW, selector: { model: 'VVX_500' }, waves: [10, 100], waveIntervalMs: 0, deadlineMs: 300, maxFailurePercent: 0 });
  const canary = r.members.filter((m) => m.wave === 0).map((m) => m.mac);
  const rest = macs.filter((m) => !canary.includes(m));
  assert.equal(canary.length, 1);

  // Only the canary is sent to the new version.
  const first = await boot(Object.fromEntries(macs.map((m) => [m, OLD])));
  for (const m of canary) assert.equal(first[m], `firmware/${NEW}/sip.ld`);
  for (const m of rest) assert.equal(first[m], `firmware/${OLD}/sip.ld`);
  const explained = await explainDevice(env.ctx, acme, canary[0]!);
  const target = explained.parameters.find((p) => p.name === 'polyprov.firmware.version')!;
  assert.deepEqual([target.value, target.layer, target.ref], [NEW, 'rollout', 'vvx-646']);

  // The canary comes back on the old version: nothing moves before the deadline, a pause after it.
  assert.equal((await tickRollouts(env.ctx, acme))[0]!.decision.action, 'wait');
  await new Promise((res) => setTimeout(res, 350));
  const paused = (await tickRollouts(env.ctx, acme))[0]!.decision;
  assert.equal(paused.action, 'pause');
  const status = await rolloutStatus(env.ctx, acme, 'vvx-646');
  assert.equal(status.rollout.status, 'paused');
  assert.deepEqual(status.stuck.map((s) => s.mac), canary);
  assert.equal((await boot({ [rest[0]!]: OLD }))[rest[0]!], `firmware/${OLD}/sip.ld`, 'a paused rollout releases no one else');

  // The canary reports the new version: resume, then the next wave.
  await boot(Object.fromEntries(canary.map((m) => [m, NEW])));
  assert.equal((await tickRollouts(env.ctx, acme))[0]!.decision.action, 'resume');
  assert.deepEqual((await tickRollouts(env.ctx, acme))[0]!.decision, { action: 'advance', wave: 1 });
  const all = await boot(Object.fromEntries(rest.map((m) => [m, OLD])));
  for (const m of rest) assert.equal(all[m], `firmware/${NEW}/sip.ld`);

  // Rolled back: every released phone goes back, even the ones already on the new version.
  await rollBackRollout(env.ctx, acme, 'vvx-646');
  const back = await boot({ [canary[0]!]: NEW, [rest[0]!]: OLD });
  assert.equal(back[canary[0]!], `firmware/${OLD}/sip.ld`);
  assert.equal(back[rest[0]!], `firmware/${OLD}/sip.ld`);
  assert.equal((await tickRollouts(env.ctx, acme)).length, 0, 'a rolled-back rollout is not ticked');
});

test('a rollout needs a newer version in a library, matching devices, and a free name', async () => {
  const base = { selector: {}, waves: [100], waveIntervalMs: 0, deadlineMs: 1000, maxFailurePercent: 0 };
  await assert.rejects(createRollout(env.ctx, acme, { ...base, name: 'down', from: NEW, to: OLD }), /not newer/);
  await assert.rejects(createRollout(env.ctx, acme, { ...base, name: 'ghost', from: OLD, to: '7.0.0.1' }), /no firmware 7\.0\.0\.1/);
  await assert.rejects(createRollout(env.ctx, acme, { ...base, name: 'none', from: OLD, to: NEW, selector: { model: 'VVX_150' } }), /no registered device/);
});
