// Store.updateGroup on SQLite (temp data dir) and a throwaway PostgreSQL cluster: renaming a group
// and changing its name keep its devices and parameters (they refer to its id), a slug another
// group of the tenant has is a ConflictError that changes nothing, groups of other tenants are out
// of reach, and each change moves the revisions the core reloads on.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConflictError, NotFoundError } from '../../src/store/errors.js';
import type { Store } from '../../src/store/store.js';
import { BACKENDS, bareTenant, storeBackends } from '../support/store-backends.js';

const backends = storeBackends('group-test');

async function rejectsWith(p: Promise<unknown>, cls: new (...args: any[]) => Error, message: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${String(err)}`);
    assert.match((err as Error).message, message);
    return true;
  });
}

before(() => backends.start());
after(() => backends.stop());

for (const backend of BACKENDS) {
  describe(`updateGroup on ${backend}`, () => {
    test('renames and renames back; devices and parameters follow; the name alone changes; revisions move', async () => {
      const store = (await backends.fresh(backend)).store;
      const acme = await bareTenant(store, 'acme');
      const sales = await store.createGroup(acme, 'sales', 'Sales');
      const device = await store.registerDevice(acme, '0004f2a1b2c3', { groupId: sales.id });
      await store.setParameters(acme, { kind: 'group', id: sales.id }, { 'up.headsetMode': '1' });
      const revision = await store.revision();
      const tenantRevision = (await store.getTenantBySlug('acme'))!.revision;

      const renamed = await store.updateGroup(acme, sales.id, { slug: 'field-sales' });
      assert.deepEqual(renamed, { id: sales.id, tenantId: acme, slug: 'field-sales', name: 'Sales' });
      assert.equal(await store.getGroup(acme, 'sales'), undefined);
      assert.deepEqual(await store.getGroup(acme, 'field-sales'), renamed);
      assert.equal((await store.getDevice(acme, device.mac))!.groupId, sales.id);
      assert.deepEqual(await store.listParameters(acme, { kind: 'group', id: sales.id }), [{ scope: 'group', scopeId: sales.id, name: 'up.headsetMode', value: '1' }]);
      assert.ok((await store.revision()) > revision, 'the global revision moved');
      assert.ok((await store.getTenantBySlug('acme'))!.revision > tenantRevision, "the tenant's revision moved");

      assert.deepEqual(await store.updateGroup(acme, sales.id, { name: 'Field sales' }), { id: sales.id, tenantId: acme, slug: 'field-sales', name: 'Field sales' });
      assert.deepEqual(await store.updateGroup(acme, sales.id, { slug: 'sales', name: 'Sales' }), sales);
      assert.deepEqual(await store.updateGroup(acme, sales.id, { slug: 'sales' }), sales, 'its own slug is no clash');
      assert.deepEqual(await store.updateGroup(acme, sales.id, {}), sales, 'an empty patch keeps everything');
      assert.deepEqual((await store.listGroups(acme)).map((g) => g.slug), ['sales']);
    });

    test("a slug in use is a ConflictError naming it, changing nothing; other tenants' groups and slugs are apart", async () => {
      const store = (await backends.fresh(backend)).store;
      const acme = await bareTenant(store, 'acme');
      const globex = await bareTenant(store, 'globex');
      const sales = await store.createGroup(acme, 'sales', 'Sales');
      await store.createGroup(acme, 'support', 'Support');
      const theirs = await store.createGroup(globex, 'support', 'Their support');
      const revision = await store.revision();

      await rejectsWith(store.updateGroup(acme, sales.id, { slug: 'support', name: 'Renamed' }), ConflictError, /group "support" already exists in tenant "acme": choose another slug/);
      assert.deepEqual(await store.getGroup(acme, 'sales'), sales, 'the refused change left the group as it was');
      assert.equal(await store.revision(), revision, 'a refused change moves no revision');

      await rejectsWith(store.updateGroup(acme, theirs.id, { name: 'Hijacked' }), NotFoundError, /group \d+ does not exist in tenant "acme"/);
      assert.deepEqual(await store.getGroup(globex, 'support'), theirs);
      await rejectsWith(store.updateGroup(9999, sales.id, { name: 'x' }), NotFoundError, /tenant 9999 does not exist/);

      // Another tenant's slug is free to take.
      const moved = await store.updateGroup(globex, theirs.id, { slug: 'sales' });
      assert.deepEqual([moved.slug, (await store.getGroup(acme, 'sales'))?.id], ['sales', sales.id]);
    });
  });
}
