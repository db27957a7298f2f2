// Store.replaceLayerParameters on SQLite (temp data dir) and a throwaway PostgreSQL cluster: the
// layer becomes exactly the values given (kept names aside) in one transaction that bumps the
// revisions once; a row the database refuses half-way through leaves the old layer and the
// revisions as they were; refusals before writing change nothing. Then the admin service on top
// (replaceParameters, behind PUT …/parameters): what it checks, keeps and writes.
//
// The mid-way failure is a real database error: the test adds a trigger that refuses one row name,
// placed after the first insert batch, so the delete and part of the inserts have run when it fails.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import type { AdminContext } from '../../src/admin/admin-context.js';
import { replaceParameters } from '../../src/admin/parameters.js';
import { addTenant } from '../../src/admin/tenants.js';
import { openAdminContext } from '../../src/app.js';
import { isServerOnlyParameter } from '../../src/domain/firmware-policy.js';
import { NotFoundError } from '../../src/store/errors.js';
import { SQLITE_FILE_NAME } from '../../src/store/open-store.js';
import type { Scope, Store } from '../../src/store/store.js';
import { BACKENDS, bareTenant, storeBackends, type BackendName } from '../support/store-backends.js';

const backends = storeBackends('replace-test');

/** The name the poison trigger refuses. */
const POISON = 'x.poison';

interface Fresh {
  store: Store;
  /** Runs SQL on the same database beside the store (to add or drop the trigger). */
  exec(sqlText: string): Promise<void>;
  /** Admin services on the same database (a store of their own). */
  admin(): Promise<AdminContext>;
}

/** A store on a fresh database of the backend, with SQL and admin services beside it. */
async function fresh(backend: BackendName): Promise<Fresh> {
  const { store, dataDir, databaseUrl } = await backends.fresh(backend);
  return {
    store,
    admin: () => adminOn(dataDir, databaseUrl),
    exec: async (sqlText) => {
      if (!databaseUrl) {
        const side = new BetterSqlite3(join(dataDir, SQLITE_FILE_NAME), { timeout: 15000 });
        try {
          side.exec(sqlText);
        } finally {
          side.close();
        }
        return;
      }
      const side = new pg.Client({ connectionString: databaseUrl });
      await side.connect();
      try {
        await side.query(sqlText);
      } finally {
        await side.end();
      }
    },
  };
}

/** Admin services on the same database; closed with the test file's stores. */
async function adminOn(dataDir: string, databaseUrl?: string): Promise<AdminContext> {
  const ctx = await openAdminContext({ dataDir, ...(databaseUrl ? { databaseUrl } : {}) });
  admins.push(ctx);
  return ctx;
}
const admins: AdminContext[] = [];

const ADD_POISON = {
  sqlite: `create trigger poison_row before insert on parameters when new.name = '${POISON}' begin select raise(abort, 'poisoned row'); end;`,
  postgres: `create function poison_row() returns trigger language plpgsql as $$ begin if new.name = '${POISON}' then raise exception 'poisoned row'; end if; return new; end $$;
             create trigger poison_row before insert on parameters for each row execute function poison_row();`,
};
const DROP_POISON = { sqlite: 'drop trigger poison_row;', postgres: 'drop trigger poison_row on parameters;' };

/** A layer as name → value. */
async function layerOf(store: Store, tenantId: number, scope: Scope): Promise<Record<string, string>> {
  return Object.fromEntries((await store.listParameters(tenantId, scope)).map((r) => [r.name, r.value]));
}

/** The global revision and each named tenant's. */
async function revisions(store: Store, ...slugs: string[]): Promise<number[]> {
  return [await store.revision(), ...(await Promise.all(slugs.map(async (s) => (await store.getTenantBySlug(s))!.revision)))];
}

/** `count` parameters p.0000=v0 … (more than one insert batch when count > 500). */
function many(count: number, prefix = 'p'): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}.${String(i).padStart(4, '0')}`, `v${i}`]));
}

before(() => backends.start());
after(async () => {
  for (const ctx of admins) await ctx.store.close().catch(() => undefined);
  await backends.stop();
});

for (const backend of BACKENDS) {
  describe(`replaceLayerParameters on ${backend}`, () => {
    test('the layer becomes the values, kept names stay, nothing else moves, revisions move once', async () => {
      const { store } = await fresh(backend);
      const acme = await bareTenant(store, 'acme');
      const globex = await bareTenant(store, 'globex');
      const sales = { kind: 'group', id: (await store.createGroup(acme, 'sales', 'Sales')).id } as const;
      const support = { kind: 'group', id: (await store.createGroup(acme, 'support', 'Support')).id } as const;
      const acmeTenant = { kind: 'tenant', id: acme } as const;
      const globexTenant = { kind: 'tenant', id: globex } as const;
      await store.setParameters(acme, sales, { 'up.a': '1', 'up.b': '2', 'polyprov.firmware.version': '6.4.6' });
      await store.setParameters(acme, support, { 'up.a': 'support' });
      await store.setParameters(acme, acmeTenant, { 'up.b': 'tenant' });
      await store.setParameters(globex, globexTenant, { 'up.a': 'globex' });
      const [global, acmeRevision, globexRevision] = await revisions(store, 'acme', 'globex');

      await store.replaceLayerParameters(acme, sales, { 'up.a': '9', 'up.c': '3' }, isServerOnlyParameter);
      assert.deepEqual(await layerOf(store, acme, sales), { 'polyprov.firmware.version': '6.4.6', 'up.a': '9', 'up.c': '3' });
      assert.deepEqual(await revisions(store, 'acme', 'globex'), [global! + 1, acmeRevision! + 1, globexRevision], 'one bump of the global and the tenant revision');
      assert.deepEqual(await layerOf(store, acme, support), { 'up.a': 'support' }, 'another layer of the tenant');
      assert.deepEqual(await layerOf(store, acme, acmeTenant), { 'up.b': 'tenant' });
      assert.deepEqual(await layerOf(store, globex, globexTenant), { 'up.a': 'globex' }, 'another tenant');

      // More rows than one insert batch, then without keep: the layer is exactly the values.
      const big = many(1200);
      await store.replaceLayerParameters(acme, sales, big);
      assert.deepEqual(await layerOf(store, acme, sales), big);
      await store.replaceLayerParameters(acme, sales, {});
      assert.deepEqual(await layerOf(store, acme, sales), {});
      assert.deepEqual(await revisions(store, 'acme'), [global! + 3, acmeRevision! + 3]);
    });

    test('a row the database refuses half-way leaves the old layer and the revisions as they were', async () => {
      const { store, exec } = await fresh(backend);
      const acme = await bareTenant(store, 'acme');
      const sales = { kind: 'group', id: (await store.createGroup(acme, 'sales', 'Sales')).id } as const;
      const old = { ...many(3, 'old'), 'polyprov.firmware.version': '6.4.6' };
      await store.setParameters(acme, sales, old);
      const revisionsBefore = await revisions(store, 'acme');
      await exec(ADD_POISON[backend]);
      // The poisoned row comes after the first batch of 500: the delete and 500 inserts have run.
      const values = { ...many(600), [POISON]: '1', ...many(10, 'q') };
      await assert.rejects(store.replaceLayerParameters(acme, sales, values, isServerOnlyParameter), /poisoned row/);
      assert.deepEqual(await layerOf(store, acme, sales), old, 'the old layer is intact');
      assert.deepEqual(await revisions(store, 'acme'), revisionsBefore, 'no revision moved');

      await exec(DROP_POISON[backend]);
      await store.replaceLayerParameters(acme, sales, values, isServerOnlyParameter);
      assert.deepEqual(await layerOf(store, acme, sales), { ...values, 'polyprov.firmware.version': '6.4.6' });
    });

    test('refusals before writing: a non-string value, a kept name in the values, a scope or tenant that does not exist', async () => {
      const { store } = await fresh(backend);
      const acme = await bareTenant(store, 'acme');
      const globex = await bareTenant(store, 'globex');
      const sales = { kind: 'group', id: (await store.createGroup(acme, 'sales', 'Sales')).id } as const;
      const theirs = { kind: 'group', id: (await store.createGroup(globex, 'theirs', 'Theirs')).id } as const;
      await store.setParameters(acme, sales, { 'up.a': '1' });
      await store.setParameters(globex, theirs, { 'up.a': 'globex' });
      const revisionsBefore = await revisions(store, 'acme', 'globex');

      await assert.rejects(store.replaceLayerParameters(acme, sales, { 'up.a': '2', 'up.b': null as unknown as string }), (err: unknown) => err instanceof TypeError && /up\.b: value must be a string/.test(err.message));
      await assert.rejects(store.replaceLayerParameters(acme, sales, { 'polyprov.firmware.version': '6.4.6' }, isServerOnlyParameter), (err: unknown) => err instanceof TypeError && /polyprov\.firmware\.version is kept/.test(err.message));
      await assert.rejects(store.replaceLayerParameters(acme, theirs, {}), (err: unknown) => err instanceof NotFoundError && /group \d+ does not exist in tenant "acme"/.test(err.message));
      await assert.rejects(store.replaceLayerParameters(acme, { kind: 'tenant', id: globex }, {}), NotFoundError);
      await assert.rejects(store.replaceLayerParameters(9999, sales, {}), (err: unknown) => err instanceof NotFoundError && /tenant 9999 does not exist/.test(err.message));

      assert.deepEqual(await layerOf(store, acme, sales), { 'up.a': '1' });
      assert.deepEqual(await layerOf(store, globex, theirs), { 'up.a': 'globex' }, "another tenant's layer is out of reach");
      assert.deepEqual(await revisions(store, 'acme', 'globex'), revisionsBefore);
    });
  });
}

for (const backend of BACKENDS) {
  describe(`replaceParameters (the admin service) on ${backend}`, () => {
    let ctx: AdminContext;
    before(async () => {
      ctx = await (await fresh(backend)).admin();
    });
    const layer = async (scope: Scope) => layerOf(ctx.store, (await ctx.store.getTenantBySlug('acme'))!.id, scope);

    test('checks only what is new or changes, keeps polyprov settings, and writes nothing when nothing changes', async () => {
      const t = (await addTenant(ctx, 'acme', { password: 'acme-password-1' })).tenant;
      const sales = { kind: 'group', id: (await ctx.store.createGroup(t.id, 'sales', 'Sales')).id } as const;
      await ctx.store.setParameters(t.id, sales, { 'up.headsetMode': '1', 'acme.custom': 'forced once', 'polyprov.firmware.version': '6.4.6' });

      // One name left out: only that one goes; a name forced once and kept needs no force again.
      const dropOne = await replaceParameters(ctx, t, { group: 'sales' }, { 'acme.custom': 'forced once' });
      assert.deepEqual([dropOne.changed, dropOne.removed, dropOne.set, dropOne.warnings], [true, ['up.headsetMode'], {}, []]);
      assert.deepEqual(await layer(sales), { 'acme.custom': 'forced once', 'polyprov.firmware.version': '6.4.6' });

      // The same layer again (polyprov settings may be repeated unchanged): no write, no revision.
      const revision = await ctx.store.revision();
      const same = await replaceParameters(ctx, t, { group: 'sales' }, { 'acme.custom': 'forced once', 'polyprov.firmware.version': '6.4.6' });
      assert.deepEqual([same.changed, await ctx.store.revision()], [false, revision]);

      // Unknown new names are refused unless forced, and nothing is written; changing polyprov settings is refused.
      await assert.rejects(replaceParameters(ctx, t, { group: 'sales' }, { 'acme.other': '1' }), /nothing set:[\s\S]*acme\.other[\s\S]*--force/);
      await assert.rejects(replaceParameters(ctx, t, { group: 'sales' }, { 'polyprov.firmware.version': '7.0.0' }), /polyprov's own setting[\s\S]*firmware target/);
      await assert.rejects(replaceParameters(ctx, t, { group: 'sales' }, { 'up.headsetMode': 'x\u0001' }), /XML files cannot carry/);
      assert.equal(await ctx.store.revision(), revision, 'refusals write nothing');
      const forced = await replaceParameters(ctx, t, { group: 'sales' }, { 'acme.other': '1', 'up.headsetMode': '0' }, { force: true });
      assert.deepEqual([forced.set, forced.removed, forced.warnings.length], [{ 'acme.other': '1', 'up.headsetMode': '0' }, ['acme.custom'], 1]);
      assert.deepEqual(await layer(sales), { 'acme.other': '1', 'polyprov.firmware.version': '6.4.6', 'up.headsetMode': '0' });
      assert.equal(await ctx.store.revision(), revision + 1, 'one write');

      // An empty layer keeps only polyprov's settings.
      await replaceParameters(ctx, t, { group: 'sales' }, {});
      assert.deepEqual(await layer(sales), { 'polyprov.firmware.version': '6.4.6' });
    });

    test('a model layer: nothing to set creates no policy; something to set creates it', async () => {
      const t = (await ctx.store.getTenantBySlug('acme'))!;
      assert.deepEqual((await replaceParameters(ctx, t, { model: 'VVX 450' }, {})).changed, false);
      assert.equal((await ctx.store.listModelPolicies(t.id)).length, 0);
      await replaceParameters(ctx, t, { model: 'VVX 450' }, { 'up.headsetMode': '1' });
      const [policy] = await ctx.store.listModelPolicies(t.id);
      assert.deepEqual(await layer({ kind: 'model', id: policy!.id }), { 'up.headsetMode': '1' });
    });
  });
}
