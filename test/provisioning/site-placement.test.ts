// Devices join their site by address (issue 7): the store places a device on its first sighting,
// and the core then serves it the site's layer, registered or only seen on the wire.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AdminContext } from '../../src/admin/admin-context.js';
import { explainDevice } from '../../src/admin/explain.js';
import { setParameters } from '../../src/admin/parameters.js';
import { addDevice } from '../../src/admin/structure.js';
import { addTenant } from '../../src/admin/tenants.js';
import { LocalDiskBlobStore } from '../../src/blobs/local-disk-blob-store.js';
import { LocalDiskLogFiles } from '../../src/blobs/local-disk-log-files.js';
import { ProvisioningCore, type PhoneRequest } from '../../src/provisioning/core.js';
import { DigestNonces } from '../../src/provisioning/credentials.js';
import { InventoryRecorder } from '../../src/provisioning/inventory-recorder.js';
import { silentLogger } from '../../src/provisioning/logger.js';
import { openStore } from '../../src/store/open-store.js';
import type { Tenant } from '../../src/store/store.js';

const dir = mkdtempSync(join(tmpdir(), 'polyprov-placement-'));
let ctx: AdminContext;
let core: ProvisioningCore;
let inventory: InventoryRecorder;
let acme: Tenant;

before(async () => {
  ctx = { store: await openStore({ dataDir: dir }), blobs: new LocalDiskBlobStore(join(dir, 'blobs')), logFiles: new LocalDiskLogFiles(join(dir, 'logs')) };
  inventory = new InventoryRecorder(ctx.store, silentLogger, { flushMs: 60_000, maxPending: 1000 });
  core = new ProvisioningCore({ store: ctx.store, blobs: ctx.blobs, logFiles: ctx.logFiles, logger: silentLogger, inventory, nonces: new DigestNonces(Buffer.alloc(32, 7)) });
  await addTenant(ctx, 'acme', { password: 'acme-password-1' });
  acme = (await ctx.store.getTenantBySlug('acme'))!;
  const hq = await ctx.store.createSite(acme.id, 'hq', 'HQ', { subnets: [{ public: '203.0.113.0/24', private: [] }] });
  await ctx.store.createSite(acme.id, 'lab', 'Lab', { subnets: [{ public: '198.51.100.0/25', private: [] }] });
  await setParameters(ctx, acme, { site: 'hq' }, ['tcpIpApp.sntp.address=hq-ntp']);
  await setParameters(ctx, acme, { site: 'lab' }, ['tcpIpApp.sntp.address=lab-ntp']);
  await setParameters(ctx, acme, {}, ['tcpIpApp.sntp.address=tenant-ntp']);
  assert.ok(hq.id > 0);
  await addDevice(ctx, acme, '0004f2000010', {});
});
after(async () => {
  await inventory.stop();
  await ctx.store.close();
  rmSync(dir, { recursive: true, force: true });
});

const config = (mac: string, ip: string): PhoneRequest => ({
  protocol: 'https',
  operation: 'read',
  target: `/${mac}-polyprov.cfg`,
  ip,
  credentials: { kind: 'password', username: 'acme', password: 'acme-password-1' },
});

async function ntpServed(mac: string, ip: string): Promise<string | undefined> {
  const a = await core.handle(config(mac, ip));
  assert.ok(a.ok && a.resource.kind === 'generated', `config of ${mac} served`);
  return /tcpIpApp\.sntp\.address="([^"]*)"/.exec(a.resource.body.toString('utf8'))?.[1];
}

describe('sites by subnet', () => {
  test('a device only seen on the wire gets the site its address falls in, from its next request on', async () => {
    const mac = '0004f2000001';
    assert.equal(await ntpServed(mac, '203.0.113.255'), 'tenant-ntp', 'first contact: not placed yet');
    await inventory.flush();
    assert.equal((await ctx.store.getDevice(acme.id, mac))?.registered, false);
    assert.equal(await ntpServed(mac, '203.0.113.255'), 'hq-ntp', 'the last address of hq/24 places it in hq');
    const why = await explainDevice(ctx, acme, mac);
    assert.equal(why.site, 'hq');
    assert.equal(why.parameters.find((p) => p.name === 'tcpIpApp.sntp.address')?.layer, 'site');
  });

  test('edges: the first address of a subnet is in, the one past its end is out', async () => {
    await ntpServed('0004f2000002', '198.51.100.0');
    await ntpServed('0004f2000003', '198.51.100.128');
    await inventory.flush();
    assert.equal(await ntpServed('0004f2000002', '198.51.100.0'), 'lab-ntp');
    assert.equal(await ntpServed('0004f2000003', '198.51.100.128'), 'tenant-ntp', 'just past lab/25');
  });

  test('a registered device without a site is placed too, and is not moved later without re-homing', async () => {
    const mac = '0004f2000010';
    await ntpServed(mac, '203.0.113.7');
    await inventory.flush();
    assert.equal(await ntpServed(mac, '203.0.113.7'), 'hq-ntp');
    await ntpServed(mac, '198.51.100.7');
    await inventory.flush();
    assert.equal(await ntpServed(mac, '198.51.100.7'), 'hq-ntp', 'rehomeDevices is off: it stays in hq');
  });
});
