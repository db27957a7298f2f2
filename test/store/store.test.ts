// The same Store suite against SQLite (temp data dir) and a throwaway PostgreSQL cluster.
// Every test gets a fresh database: a new data dir on SQLite, a new database on PostgreSQL.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { InCodeMigrationProvider } from '../../src/store/migrations/index.js';
import { DomainError } from '../../src/domain/domain-error.js';
import { ConflictError, NotFoundError } from '../../src/store/errors.js';
import { openStore } from '../../src/store/open-store.js';
import type { FirmwareImage, ImportPlan, NewAuditEntry, NewFirmwareRelease, NewReachJob, NewRollout, NewTenant, ReachJob, ReachResult, Rollout, Sighting, Store, Tenant } from '../../src/store/store.js';
import { startThrowawayPostgres } from '../support/postgres.js';
import type { ThrowawayPostgres } from '../support/postgres.js';

const here = dirname(fileURLToPath(import.meta.url));

interface Fresh {
  store: Store;
  /** Opens another store instance on the same database (as another process would). */
  open(): Promise<Store>;
  dataDir: string;
  databaseUrl: string | undefined;
}

interface Backend {
  name: 'sqlite' | 'postgres';
  setup(): Promise<void>;
  teardown(): Promise<void>;
  fresh(): Promise<Fresh>;
}

const tempDirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'polyprov-store-test-'));
  tempDirs.push(d);
  return d;
}

const opened: Store[] = [];
async function track(p: Promise<Store>): Promise<Store> {
  const s = await p;
  opened.push(s);
  return s;
}

const sqliteBackend: Backend = {
  name: 'sqlite',
  async setup() {},
  async teardown() {},
  async fresh() {
    const dataDir = join(tempDir(), 'data', 'nested'); // openStore must create it
    const open = () => track(openStore({ dataDir }));
    return { store: await open(), open, dataDir, databaseUrl: undefined };
  },
};

let cluster: ThrowawayPostgres | undefined;
let dbCounter = 0;
const postgresBackend: Backend = {
  name: 'postgres',
  async setup() {
    cluster = await startThrowawayPostgres();
    console.log(`# throwaway PostgreSQL ready in ${cluster.startupMs} ms`);
  },
  async teardown() {
    await cluster?.stop();
  },
  async fresh() {
    if (!cluster) throw new Error('cluster not started');
    const name = `t${process.pid}_${++dbCounter}`;
    const admin = new pg.Client({ connectionString: cluster.adminUrl });
    await admin.connect();
    try {
      await admin.query(`create database ${name}`);
    } finally {
      await admin.end();
    }
    const databaseUrl = `postgres://postgres@127.0.0.1:${cluster.port}/${name}`;
    const dataDir = tempDir();
    const open = () => track(openStore({ dataDir, databaseUrl }));
    return { store: await open(), open, dataDir, databaseUrl };
  },
};

after(() => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

function tenantInput(slug: string, extra: Partial<NewTenant> = {}): NewTenant {
  return { slug, name: `Tenant ${slug}`, provUsername: slug, provPasswordHash: `hash-${slug}`, provDigestHa1: `ha1-${slug}`, ...extra };
}

async function rejectsWith(p: Promise<unknown>, cls: new (...args: any[]) => Error, message?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${String(err)}`);
    if (message) assert.match((err as Error).message, message);
    return true;
  });
}

function fwImage(fileName: string, extra: Partial<FirmwareImage> = {}): FirmwareImage {
  const blobKey = createHash('sha256').update(fileName).digest('hex');
  return { fileName, kind: 'application', partNumber: null, models: [], blobKey, size: 1000, ...extra };
}

function fwRelease(tenantId: number | null, version: string, images: FirmwareImage[] = [fwImage('sip.ld')]): NewFirmwareRelease {
  return { tenantId, version, layout: 'combined', source: `polycom-uc-${version}.zip`, images };
}

/** A rollout of the given devices (all in wave 0 unless told), from 6.4.0 to 6.4.6 in waves 1/10/100. */
function rolloutInput(tenantId: number, name: string, members: (string | { mac: string; wave: number })[], extra: Partial<NewRollout> = {}): NewRollout {
  return {
    tenantId,
    name,
    fromVersion: '6.4.0.1234',
    toVersion: '6.4.6.0001',
    selector: {},
    waves: [1, 10, 100],
    waveIntervalMs: 3_600_000,
    deadlineMs: 1_800_000,
    maxFailurePercent: 5,
    window: null,
    waveStartedAt: '2025-03-01T02:00:00.000Z',
    members: members.map((m) => (typeof m === 'string' ? { mac: m, wave: 0 } : m)),
    ...extra,
  };
}

/** A one-off NOTIFY that the phone answered 200, unless told otherwise. */
function reachResult(tenantId: number, mac: string, extra: Partial<ReachResult> = {}): ReachResult {
  return {
    tenantId,
    mac,
    method: 'notify',
    outcome: 'ok',
    status: 200,
    detail: 'OK',
    target: `udp:10.0.0.5:5060 sip:${mac}@10.0.0.5`,
    jobId: null,
    at: '2025-03-01T02:00:00.000Z',
    ...extra,
  };
}

function reachJobInput(tenantId: number, macs: string[], extra: Partial<NewReachJob> = {}): NewReachJob {
  return { tenantId, method: 'notify', selector: {}, ratePerSecond: 2, jitter: 0.1, macs, ...extra };
}

/** Runs the changes one after the other, settling each like Promise.allSettled. */
async function sequentially<T>(n: number, run: (i: number) => Promise<T>): Promise<PromiseSettledResult<T>[]> {
  const out: PromiseSettledResult<T>[] = [];
  for (let i = 0; i < n; i++) out.push(await run(i).then((value) => ({ status: 'fulfilled' as const, value }), (reason: unknown) => ({ status: 'rejected' as const, reason })));
  return out;
}

async function tenantRevision(store: Store, slug: string): Promise<number> {
  const t = await store.getTenantBySlug(slug);
  assert.ok(t, `tenant ${slug} exists`);
  return t.revision;
}

for (const backend of [sqliteBackend, postgresBackend]) {
  describe(`store on ${backend.name}`, () => {
    let f: Fresh;
    let store: Store;

    before(() => backend.setup());
    after(() => backend.teardown());
    afterEach(async () => {
      while (opened.length) await opened.pop()!.close();
    });

    async function fresh(): Promise<void> {
      f = await backend.fresh();
      store = f.store;
    }

    test('reports its dialect and starts at revision 0', async () => {
      await fresh();
      assert.equal(store.dialect, backend.name);
      assert.equal(await store.revision(), 0);
      assert.deepEqual(await store.listTenants(), []);
    });

    test('migrations are idempotent: opening again keeps data and applies nothing twice', async () => {
      await fresh();
      const t = await store.createTenant(tenantInput('acme'));
      await store.setParameters(t.id, { kind: 'tenant', id: t.id }, { a: '1' });
      await store.close();
      opened.splice(opened.indexOf(store), 1);
      const again = await f.open();
      const third = await f.open();
      assert.equal(await again.revision(), 2);
      assert.deepEqual(
        (await third.listTenants()).map((x) => x.slug),
        ['acme'],
      );
      assert.deepEqual(await third.listParameters(t.id), [{ scope: 'tenant', scopeId: t.id, name: 'a', value: '1' }]);
    });

    test('tenant CRUD with defaults, host names and extra config files', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      assert.equal(typeof a.id, 'number');
      assert.equal(a.slug, 'acme');
      assert.equal(a.name, 'Tenant acme');
      assert.equal(a.provUsername, 'acme');
      assert.equal(a.provPasswordHash, 'hash-acme');
      assert.equal(a.provDigestHa1, 'ha1-acme');
      assert.equal(a.pathPrefix, null);
      assert.deepEqual(a.hostnames, []);
      assert.equal(a.unknownDevices, 'serve');
      assert.equal(a.appFilePath, 'sip.ld');
      assert.deepEqual(a.extraConfigFiles, []);
      assert.equal(a.revision, 1);
      assert.ok(!Number.isNaN(Date.parse(a.createdAt)));

      const b = await store.createTenant(
        tenantInput('beta', {
          pathPrefix: 'beta',
          hostnames: ['Prov.Beta.example', 'alt.beta.example', 'prov.beta.example'],
          unknownDevices: 'refuse',
          appFilePath: 'firmware/6.4.0/sip.ld',
          extraConfigFiles: ['common/site.cfg', 'x y.cfg'],
        }),
      );
      assert.deepEqual(b.hostnames, ['alt.beta.example', 'prov.beta.example']);
      assert.equal(b.pathPrefix, 'beta');
      assert.equal(b.unknownDevices, 'refuse');
      assert.equal(b.appFilePath, 'firmware/6.4.0/sip.ld');
      assert.deepEqual(b.extraConfigFiles, ['common/site.cfg', 'x y.cfg']);

      assert.deepEqual(await store.getTenantBySlug('beta'), b);
      assert.equal(await store.getTenantBySlug('nope'), undefined);
      assert.deepEqual(
        (await store.listTenants()).map((t) => t.slug),
        ['acme', 'beta'],
      );

      const b2 = await store.updateTenant(b.id, {
        name: 'Beta Inc',
        pathPrefix: null,
        hostnames: ['new.beta.example'],
        extraConfigFiles: [],
        unknownDevices: 'serve',
        provPasswordHash: 'h2',
        provDigestHa1: 'd2',
      });
      assert.equal(b2.name, 'Beta Inc');
      assert.equal(b2.pathPrefix, null);
      assert.deepEqual(b2.hostnames, ['new.beta.example']);
      assert.deepEqual(b2.extraConfigFiles, []);
      assert.equal(b2.unknownDevices, 'serve');
      assert.equal(b2.provPasswordHash, 'h2');
      assert.equal(b2.provDigestHa1, 'd2');
      assert.equal(b2.appFilePath, 'firmware/6.4.0/sip.ld', 'absent fields are kept');
      assert.equal(b2.provUsername, 'beta');
      assert.equal(b2.createdAt, b.createdAt);
      assert.deepEqual(await store.getTenantBySlug('beta'), b2);

      // Host names given up by one tenant can be taken by another.
      await store.updateTenant(a.id, { hostnames: ['alt.beta.example'], pathPrefix: 'beta' });
      assert.deepEqual((await store.getTenantBySlug('acme'))!.hostnames, ['alt.beta.example']);

      await store.deleteTenant(b.id);
      assert.equal(await store.getTenantBySlug('beta'), undefined);
      assert.deepEqual(
        (await store.listTenants()).map((t) => t.slug),
        ['acme'],
      );
      await rejectsWith(store.updateTenant(b.id, { name: 'x' }), NotFoundError);
      await rejectsWith(store.deleteTenant(b.id), NotFoundError);
    });

    test('every tenant uniqueness rule throws ConflictError naming the holder, and changes nothing', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme', { pathPrefix: 'acme', hostnames: ['p.example.com'] }));
      const b = await store.createTenant(tenantInput('beta'));
      const rev = await store.revision();

      await rejectsWith(store.createTenant(tenantInput('acme', { provUsername: 'other' })), ConflictError, /^tenant "acme" already exists$/);
      await rejectsWith(
        store.createTenant(tenantInput('gamma', { provUsername: 'beta' })),
        ConflictError,
        /^provisioning username "beta" is used by tenant "beta"$/,
      );
      await rejectsWith(
        store.createTenant(tenantInput('gamma', { pathPrefix: 'acme' })),
        ConflictError,
        /^path prefix "acme" is used by tenant "acme"$/,
      );
      await rejectsWith(
        store.createTenant(tenantInput('gamma', { hostnames: ['q.example.com', 'P.Example.COM'] })),
        ConflictError,
        /^host name "p\.example\.com" is used by tenant "acme"$/,
      );
      await rejectsWith(store.updateTenant(b.id, { provUsername: 'acme' }), ConflictError, /provisioning username "acme" is used by tenant "acme"/);
      await rejectsWith(store.updateTenant(b.id, { pathPrefix: 'acme' }), ConflictError, /path prefix "acme" is used by tenant "acme"/);
      await rejectsWith(store.updateTenant(b.id, { hostnames: ['p.example.com'] }), ConflictError, /host name "p\.example\.com" is used by tenant "acme"/);

      assert.equal(await store.revision(), rev, 'failed mutations roll back their revision bump');
      assert.deepEqual(
        (await store.listTenants()).map((t) => t.slug),
        ['acme', 'beta'],
      );
      assert.deepEqual((await store.getTenantBySlug('beta'))!.hostnames, []);

      // A tenant may keep its own values.
      const a2 = await store.updateTenant(a.id, { provUsername: 'acme', pathPrefix: 'acme', hostnames: ['p.example.com'] });
      assert.equal(a2.pathPrefix, 'acme');
      assert.deepEqual(a2.hostnames, ['p.example.com']);
    });

    test('revisions: every mutation bumps global and tenant revision; recordSightings bumps neither', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const other = await store.createTenant(tenantInput('other'));
      assert.equal(await store.revision(), 2);
      const site = await store.createSite(a.id, 'hq', 'HQ');
      const group = await store.createGroup(a.id, 'sales', 'Sales');
      const steps: [string, () => Promise<unknown>][] = [
        ['updateTenant', () => store.updateTenant(a.id, { name: 'Acme 2' })],
        ['createSite', () => store.createSite(a.id, 'branch', 'Branch')],
        ['deleteSite', async () => store.deleteSite(a.id, (await store.getSite(a.id, 'branch'))!.id)],
        ['createGroup', () => store.createGroup(a.id, 'support', 'Support')],
        ['deleteGroup', async () => store.deleteGroup(a.id, (await store.getGroup(a.id, 'support'))!.id)],
        ['upsertModelPolicy (insert)', () => store.upsertModelPolicy(a.id, 'VVX_500', {})],
        ['upsertModelPolicy (update)', () => store.upsertModelPolicy(a.id, 'VVX_500', { appFilePath: 'x.ld' })],
        ['deleteModelPolicy', async () => store.deleteModelPolicy(a.id, (await store.getModelPolicy(a.id, 'VVX_500'))!.id)],
        ['registerDevice', () => store.registerDevice(a.id, '0004f2000001', { siteId: site.id })],
        ['updateDevice', async () => store.updateDevice(a.id, (await store.getDevice(a.id, '0004f2000001'))!.id, { groupId: group.id })],
        ['setParameters', () => store.setParameters(a.id, { kind: 'tenant', id: a.id }, { x: '1' })],
        ['unsetParameters', () => store.unsetParameters(a.id, { kind: 'tenant', id: a.id }, ['x'])],
        ['putFile', () => store.putFile({ tenantId: a.id, path: 'f.cfg', blobKey: 'k', size: 1, contentType: 'text/plain' })],
        ['deleteFile', () => store.deleteFile(a.id, 'f.cfg')],
        ['deleteDevice', async () => store.deleteDevice(a.id, (await store.getDevice(a.id, '0004f2000001'))!.id)],
      ];
      for (const [what, step] of steps) {
        const g0 = await store.revision();
        const t0 = await tenantRevision(store, 'acme');
        await step();
        assert.equal(await store.revision(), g0 + 1, `${what} bumps the global revision by one`);
        assert.equal(await tenantRevision(store, 'acme'), t0 + 1, `${what} bumps the tenant revision by one`);
      }
      assert.equal(await tenantRevision(store, 'other'), 1, "other tenants' revisions do not move");

      const g0 = await store.revision();
      const t0 = await tenantRevision(store, 'acme');
      await store.recordSightings([{ tenantId: a.id, mac: '0004f2000009', at: new Date().toISOString(), ip: '10.0.0.9' }]);
      assert.equal((await store.getDevice(a.id, '0004f2000009'))?.lastIp, '10.0.0.9');
      assert.equal(await store.revision(), g0, 'recordSightings leaves the global revision');
      assert.equal(await tenantRevision(store, 'acme'), t0, 'recordSightings leaves the tenant revision');

      await store.deleteTenant(other.id);
      assert.equal(await store.revision(), g0 + 1, 'deleteTenant bumps the global revision');
    });

    test('sites and groups: create, get, list ordered by slug, conflicts, delete', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const b = await store.createTenant(tenantInput('beta'));
      const hq = await store.createSite(a.id, 'hq', 'Headquarters');
      await store.createSite(a.id, 'branch', 'Branch');
      const bhq = await store.createSite(b.id, 'hq', 'Beta HQ');
      assert.deepEqual(hq, { id: hq.id, tenantId: a.id, slug: 'hq', name: 'Headquarters', tftpSubnets: [], description: '', location: '', subnets: [] });
      const narrowed = await store.updateSite(a.id, hq.id, { tftpSubnets: ['10.1.5.0/24'] });
      assert.deepEqual(narrowed.tftpSubnets, ['10.1.5.0/24']);
      assert.deepEqual((await store.getSite(a.id, 'hq'))?.tftpSubnets, ['10.1.5.0/24']);
      await store.updateSite(a.id, hq.id, { tftpSubnets: [] });
      assert.deepEqual(await store.getSite(a.id, 'hq'), hq);
      assert.equal(await store.getSite(a.id, 'nope'), undefined);
      assert.deepEqual(
        (await store.listSites(a.id)).map((s) => s.slug),
        ['branch', 'hq'],
      );
      await rejectsWith(store.createSite(a.id, 'hq', 'again'), ConflictError, /site "hq" already exists in tenant "acme"/);
      await rejectsWith(store.createSite(9999, 'hq', 'x'), NotFoundError);
      await rejectsWith(store.deleteSite(a.id, bhq.id), NotFoundError, /site/);
      await store.deleteSite(a.id, hq.id);
      assert.equal(await store.getSite(a.id, 'hq'), undefined);
      assert.deepEqual(await store.getSite(b.id, 'hq'), bhq);
      await rejectsWith(store.deleteSite(a.id, hq.id), NotFoundError);

      const sales = await store.createGroup(a.id, 'sales', 'Sales');
      await store.createGroup(a.id, 'admins', 'Admins');
      assert.deepEqual(await store.getGroup(a.id, 'sales'), sales);
      assert.deepEqual(
        (await store.listGroups(a.id)).map((g) => g.slug),
        ['admins', 'sales'],
      );
      assert.deepEqual(await store.listGroups(b.id), []);
      await rejectsWith(store.createGroup(a.id, 'sales', 'again'), ConflictError, /group "sales" already exists in tenant "acme"/);
      await store.deleteGroup(a.id, sales.id);
      assert.equal(await store.getGroup(a.id, 'sales'), undefined);
      await rejectsWith(store.deleteGroup(a.id, sales.id), NotFoundError);
    });

    test('model policies: upsert keeps on undefined, clears on null; list, get, delete', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const m = await store.upsertModelPolicy(a.id, 'VVX_500', { appFilePath: 'vvx500/sip.ld' });
      assert.deepEqual(m, { id: m.id, tenantId: a.id, model: 'VVX_500', appFilePath: 'vvx500/sip.ld' });
      const kept = await store.upsertModelPolicy(a.id, 'VVX_500', {});
      assert.deepEqual(kept, m, 'undefined keeps the current value and the id');
      const changed = await store.upsertModelPolicy(a.id, 'VVX_500', { appFilePath: 'other.ld' });
      assert.equal(changed.appFilePath, 'other.ld');
      const cleared = await store.upsertModelPolicy(a.id, 'VVX_500', { appFilePath: null });
      assert.equal(cleared.appFilePath, null);
      assert.equal(cleared.id, m.id);
      const fresh2 = await store.upsertModelPolicy(a.id, 'SSIP_6000', {});
      assert.equal(fresh2.appFilePath, null);
      assert.deepEqual(
        (await store.listModelPolicies(a.id)).map((x) => x.model),
        ['SSIP_6000', 'VVX_500'],
      );
      assert.deepEqual(await store.getModelPolicy(a.id, 'VVX_500'), cleared);
      assert.equal(await store.getModelPolicy(a.id, 'VVX_600'), undefined);
      await store.deleteModelPolicy(a.id, m.id);
      assert.equal(await store.getModelPolicy(a.id, 'VVX_500'), undefined);
      await rejectsWith(store.deleteModelPolicy(a.id, m.id), NotFoundError);
      await rejectsWith(store.upsertModelPolicy(4242, 'VVX_500', {}), NotFoundError);
    });

    test('devices: register, update (undefined keeps, null clears), get, list, delete, cross-tenant refs refused', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const b = await store.createTenant(tenantInput('beta'));
      const site = await store.createSite(a.id, 'hq', 'HQ');
      const group = await store.createGroup(a.id, 'sales', 'Sales');
      const foreignSite = await store.createSite(b.id, 'hq', 'Beta HQ');

      const d = await store.registerDevice(a.id, '0004F2ABCDEF', { label: 'Reception', siteId: site.id, groupId: group.id, appFilePath: 'd.ld' });
      assert.deepEqual(d, {
        id: d.id,
        tenantId: a.id,
        mac: '0004f2abcdef',
        registered: true,
        label: 'Reception',
        siteId: site.id,
        groupId: group.id,
        appFilePath: 'd.ld',
        firstSeen: null,
        lastSeen: null,
        lastIp: null,
        model: null,
        firmware: null,
        updaterVersion: null,
        phase: null,
        serial: null,
        lastFile: null,
        userAgent: null,
      });
      const plain = await store.registerDevice(a.id, '0004f2000001', {});
      assert.equal(plain.label, '');
      assert.equal(plain.siteId, null);
      assert.equal(plain.registered, true);

      await rejectsWith(store.registerDevice(a.id, '0004f2abcdef', {}), ConflictError, /device 0004f2abcdef is already registered in tenant "acme"/);
      await rejectsWith(store.registerDevice(a.id, '0004f2000002', { siteId: foreignSite.id }), NotFoundError, /site/);
      await rejectsWith(store.registerDevice(a.id, '0004f2000002', { groupId: 999_999 }), NotFoundError, /group/);
      assert.equal(await store.getDevice(a.id, '0004f2000002'), undefined, 'refused registration leaves nothing');

      const u1 = await store.updateDevice(a.id, d.id, { label: 'Lobby' });
      assert.equal(u1.label, 'Lobby');
      assert.equal(u1.siteId, site.id, 'undefined keeps');
      assert.equal(u1.appFilePath, 'd.ld');
      const u2 = await store.updateDevice(a.id, d.id, { siteId: null, appFilePath: null });
      assert.equal(u2.siteId, null, 'null clears');
      assert.equal(u2.appFilePath, null);
      assert.equal(u2.groupId, group.id);
      assert.deepEqual(await store.updateDevice(a.id, d.id, {}), u2);
      await rejectsWith(store.updateDevice(a.id, d.id, { siteId: foreignSite.id }), NotFoundError);
      await rejectsWith(store.updateDevice(b.id, d.id, { label: 'x' }), NotFoundError, /device/);
      await rejectsWith(store.updateDevice(a.id, 999_999, {}), NotFoundError);

      assert.deepEqual(await store.getDevice(a.id, '0004F2ABCDEF'), u2, 'lookup by MAC ignores case');
      assert.equal(await store.getDevice(b.id, '0004f2abcdef'), undefined);
      await store.recordSightings([{ tenantId: a.id, mac: '0004f2000000', at: new Date().toISOString() }]);
      assert.deepEqual(
        (await store.listDevices(a.id)).map((x) => [x.mac, x.registered]),
        [
          ['0004f2000000', false],
          ['0004f2000001', true],
          ['0004f2abcdef', true],
        ],
      );
      await store.deleteDevice(a.id, d.id);
      assert.equal(await store.getDevice(a.id, '0004f2abcdef'), undefined);
      await rejectsWith(store.deleteDevice(a.id, d.id), NotFoundError);
    });

    test('registering a seen-only device adopts it and keeps its inventory', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const site = await store.createSite(a.id, 'hq', 'HQ');
      await store.recordSightings([
        {
          tenantId: a.id,
          mac: '0004f2000001',
          at: '2025-01-01T10:00:00.000Z',
          ip: '10.0.0.1',
          model: 'VVX_500',
          firmware: '6.4.0.1234',
          updaterVersion: '6.4.0.1000',
          phase: 'application',
          serial: 'SN1',
          lastFile: '0004f2000001.cfg',
          userAgent: 'FileTransport PolycomVVX-VVX_500-UA/6.4.0.1234',
        },
      ]);
      const seen = await store.getDevice(a.id, '0004f2000001');
      assert.ok(seen);
      assert.equal(seen.registered, false);
      assert.equal(seen.label, '');

      const adopted = await store.registerDevice(a.id, '0004F2000001', { label: 'Desk 1', siteId: site.id });
      assert.deepEqual(adopted, { ...seen, registered: true, label: 'Desk 1', siteId: site.id });
      assert.equal(adopted.id, seen.id);
      assert.equal((await store.listDevices(a.id)).length, 1);
    });

    test('recordSightings merges a batch, never moves last_seen backwards, keeps absent fields and admin fields', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const group = await store.createGroup(a.id, 'g', 'G');
      await store.registerDevice(a.id, '0004f2000002', { label: 'Kept', groupId: group.id });
      const rev = await store.revision();

      // Two sightings of one device in one batch, given out of time order.
      await store.recordSightings([
        { tenantId: a.id, mac: '0004f2000001', at: '2025-01-01T10:05:00.000Z', ip: '10.0.0.2', lastFile: 'b.cfg' },
        { tenantId: a.id, mac: '0004F2000001', at: '2025-01-01T10:00:00.000Z', ip: '10.0.0.1', model: 'VVX_400', firmware: '5.9' },
        { tenantId: a.id, mac: '0004f2000002', at: '2025-01-01T10:00:00.000Z', ip: '10.0.0.3', phase: 'updater' },
        { tenantId: 999_999, mac: '0004f2000003', at: '2025-01-01T10:00:00.000Z' }, // tenant gone: dropped
      ]);
      let d1 = (await store.getDevice(a.id, '0004f2000001'))!;
      assert.equal(d1.registered, false);
      assert.equal(d1.firstSeen, '2025-01-01T10:00:00.000Z');
      assert.equal(d1.lastSeen, '2025-01-01T10:05:00.000Z');
      assert.equal(d1.lastIp, '10.0.0.2', 'the later sighting wins');
      assert.equal(d1.model, 'VVX_400', 'a field only the earlier sighting had is kept');
      assert.equal(d1.firmware, '5.9');
      assert.equal(d1.lastFile, 'b.cfg');
      assert.equal(d1.serial, null);

      // Next batch: later, with only some fields.
      await store.recordSightings([{ tenantId: a.id, mac: '0004f2000001', at: '2025-01-01T11:00:00.000Z', firmware: '6.4' }]);
      d1 = (await store.getDevice(a.id, '0004f2000001'))!;
      assert.equal(d1.lastSeen, '2025-01-01T11:00:00.000Z');
      assert.equal(d1.firmware, '6.4');
      assert.equal(d1.lastIp, '10.0.0.2', 'absent fields keep the stored value');
      assert.equal(d1.model, 'VVX_400');
      assert.equal(d1.firstSeen, '2025-01-01T10:00:00.000Z');

      // A late (older) batch: last_seen stays, newer fields stay, empty fields get filled.
      await store.recordSightings([
        { tenantId: a.id, mac: '0004f2000001', at: '2025-01-01T09:00:00.000Z', ip: '10.9.9.9', firmware: '4.0', serial: 'SN-1' },
      ]);
      d1 = (await store.getDevice(a.id, '0004f2000001'))!;
      assert.equal(d1.lastSeen, '2025-01-01T11:00:00.000Z', 'last_seen never moves backwards');
      assert.equal(d1.firstSeen, '2025-01-01T09:00:00.000Z', 'first_seen moves to the earliest sighting');
      assert.equal(d1.lastIp, '10.0.0.2');
      assert.equal(d1.firmware, '6.4');
      assert.equal(d1.serial, 'SN-1');

      const d2 = (await store.getDevice(a.id, '0004f2000002'))!;
      assert.equal(d2.registered, true, 'registration untouched');
      assert.equal(d2.label, 'Kept');
      assert.equal(d2.groupId, group.id);
      assert.equal(d2.lastIp, '10.0.0.3');
      assert.equal(d2.phase, 'updater');
      assert.equal(d2.firstSeen, '2025-01-01T10:00:00.000Z');

      assert.equal(await store.getDevice(999_999, '0004f2000003'), undefined);
      await store.recordSightings([]);
      assert.equal(await store.revision(), rev, 'no revision bump');
    });

    test('recordSightings: a batch of 1000 devices, then 1000 updates', async (t) => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const b = await store.createTenant(tenantInput('beta'));
      const batch = (at: string): Sighting[] =>
        Array.from({ length: 1000 }, (_, i) => ({
          tenantId: i % 2 ? a.id : b.id,
          mac: `0004f2${i.toString(16).padStart(6, '0')}`,
          at,
          ip: `10.0.${i >> 8}.${i & 255}`,
          model: 'VVX_500',
          firmware: '6.4.0.1234',
          phase: 'application' as const,
          lastFile: `0004f2${i.toString(16).padStart(6, '0')}.cfg`,
          userAgent: 'FileTransport PolycomVVX-VVX_500-UA/6.4.0.1234 Type/Application',
        }));
      let t0 = performance.now();
      await store.recordSightings(batch('2025-01-01T10:00:00.000Z'));
      const insertMs = performance.now() - t0;
      t0 = performance.now();
      await store.recordSightings(batch('2025-01-01T10:01:00.000Z'));
      const updateMs = performance.now() - t0;
      t0 = performance.now();
      for (let i = 0; i < 1000; i++) await store.revision();
      const revisionUs = performance.now() - t0; // 1000 calls: total ms = µs per call
      t.diagnostic(
        `${backend.name}: recordSightings 1000 new devices ${insertMs.toFixed(1)} ms, 1000 updates ${updateMs.toFixed(1)} ms; revision() ${revisionUs.toFixed(0)} µs/call`,
      );
      assert.equal((await store.listDevices(a.id)).length, 500);
      assert.equal((await store.listDevices(b.id)).length, 500);
      const d = (await store.getDevice(a.id, '0004f2000001'))!;
      assert.equal(d.lastSeen, '2025-01-01T10:01:00.000Z');
      assert.equal(d.firstSeen, '2025-01-01T10:00:00.000Z');
      assert.equal(d.lastIp, '10.0.0.1');
    });

    test('parameters: set, replace, unset with count, list by scope in layer order', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const b = await store.createTenant(tenantInput('beta'));
      const site = await store.createSite(a.id, 'hq', 'HQ');
      const group = await store.createGroup(a.id, 'g', 'G');
      const model = await store.upsertModelPolicy(a.id, 'VVX_500', {});
      const dev = await store.registerDevice(a.id, '0004f2000001', {});
      const tenantScope = { kind: 'tenant' as const, id: a.id };

      await store.setParameters(a.id, tenantScope, { 'reg.1.address': '100', 'lcl.ml.lang': 'English_United_Kingdom' });
      await store.setParameters(a.id, tenantScope, { 'reg.1.address': '200', 'tcpIpApp.sntp.address': 'pool.ntp.org' });
      await store.setParameters(a.id, { kind: 'device', id: dev.id }, { 'reg.1.address': '300' });
      await store.setParameters(a.id, { kind: 'group', id: group.id }, { 'reg.1.label': 'G' });
      await store.setParameters(a.id, { kind: 'site', id: site.id }, { 'reg.1.label': 'S' });
      await store.setParameters(a.id, { kind: 'model', id: model.id }, { 'up.x': 'M' });
      await store.setParameters(b.id, { kind: 'tenant', id: b.id }, { 'reg.1.address': 'beta' });
      await store.setParameters(a.id, tenantScope, {});

      assert.deepEqual(await store.listParameters(a.id, tenantScope), [
        { scope: 'tenant', scopeId: a.id, name: 'lcl.ml.lang', value: 'English_United_Kingdom' },
        { scope: 'tenant', scopeId: a.id, name: 'reg.1.address', value: '200' },
        { scope: 'tenant', scopeId: a.id, name: 'tcpIpApp.sntp.address', value: 'pool.ntp.org' },
      ]);
      assert.deepEqual(
        (await store.listParameters(a.id)).map((p) => `${p.scope}:${p.name}=${p.value}`),
        ['tenant:lcl.ml.lang=English_United_Kingdom', 'tenant:reg.1.address=200', 'tenant:tcpIpApp.sntp.address=pool.ntp.org', 'model:up.x=M', 'site:reg.1.label=S', 'group:reg.1.label=G', 'device:reg.1.address=300'],
      );
      assert.deepEqual(await store.listParameters(a.id, { kind: 'site', id: 999_999 }), []);

      assert.equal(await store.unsetParameters(a.id, tenantScope, ['reg.1.address', 'nope', 'reg.1.address']), 1);
      assert.equal(await store.unsetParameters(a.id, tenantScope, ['reg.1.address']), 0);
      assert.equal(await store.unsetParameters(a.id, tenantScope, []), 0);
      assert.equal(await store.unsetParameters(a.id, { kind: 'device', id: dev.id }, ['reg.1.address']), 1);
      assert.deepEqual(
        (await store.listParameters(a.id, tenantScope)).map((p) => p.name),
        ['lcl.ml.lang', 'tcpIpApp.sntp.address'],
      );
      assert.deepEqual(await store.listParameters(b.id), [{ scope: 'tenant', scopeId: b.id, name: 'reg.1.address', value: 'beta' }]);

      // A layer must exist in the tenant.
      await rejectsWith(store.setParameters(a.id, { kind: 'site', id: 999_999 }, { x: '1' }), NotFoundError);
      await rejectsWith(store.setParameters(a.id, { kind: 'tenant', id: b.id }, { x: '1' }), NotFoundError);
      await rejectsWith(store.setParameters(b.id, { kind: 'device', id: dev.id }, { x: '1' }), NotFoundError);
      await rejectsWith(store.setParameters(999_999, { kind: 'tenant', id: 999_999 }, { x: '1' }), NotFoundError);
      assert.deepEqual(await store.listParameters(b.id), [{ scope: 'tenant', scopeId: b.id, name: 'reg.1.address', value: 'beta' }]);

      // Many at once (more than one INSERT chunk).
      const many: Record<string, string> = {};
      for (let i = 0; i < 1200; i++) many[`attendant.resourceList.${i}.address`] = `${i}`;
      await store.setParameters(a.id, { kind: 'group', id: group.id }, many);
      assert.equal((await store.listParameters(a.id, { kind: 'group', id: group.id })).length, 1201);
      assert.equal(await store.unsetParameters(a.id, { kind: 'group', id: group.id }, Object.keys(many)), 1200);
    });

    test('odd names and values round-trip: __proto__, constructor, unicode, quotes, newlines', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const values = Object.create(null) as Record<string, string>;
      values['__proto__'] = 'proto';
      values['constructor'] = 'ctor';
      values['hasOwnProperty'] = '';
      values['reg.1.displayName'] = 'Zoë \'O"Brien\' — 東京 📞\nline2\r\n\ttab \\ back';
      await store.setParameters(a.id, { kind: 'tenant', id: a.id }, values);
      const rows = await store.listParameters(a.id);
      const got = Object.fromEntries(rows.map((r) => [r.name, r.value]));
      assert.deepEqual(
        rows.map((r) => r.name),
        ['__proto__', 'constructor', 'hasOwnProperty', 'reg.1.displayName'],
      );
      assert.equal(Object.getOwnPropertyDescriptor(got, '__proto__')?.value, 'proto');
      assert.equal(got['constructor'], 'ctor');
      assert.equal(got['hasOwnProperty'], '');
      assert.equal(got['reg.1.displayName'], values['reg.1.displayName']);

      const t = await store.updateTenant(a.id, { name: 'Ünïcødé "Co" \'Ltd\'\n2', extraConfigFiles: ['a "b".cfg', 'ü/ß.cfg'] });
      assert.equal(t.name, 'Ünïcødé "Co" \'Ltd\'\n2');
      assert.deepEqual((await store.getTenantBySlug('acme'))!.extraConfigFiles, ['a "b".cfg', 'ü/ß.cfg']);
    });

    test('cascades: deleting a site, group, model or device removes its parameters; devices lose the site', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const site = await store.createSite(a.id, 'hq', 'HQ');
      const site2 = await store.createSite(a.id, 'branch', 'Branch');
      const group = await store.createGroup(a.id, 'g', 'G');
      const model = await store.upsertModelPolicy(a.id, 'VVX_500', {});
      const d1 = await store.registerDevice(a.id, '0004f2000001', { siteId: site.id, groupId: group.id });
      const d2 = await store.registerDevice(a.id, '0004f2000002', { siteId: site2.id, groupId: group.id });
      for (const scope of [
        { kind: 'tenant' as const, id: a.id },
        { kind: 'site' as const, id: site.id },
        { kind: 'site' as const, id: site2.id },
        { kind: 'group' as const, id: group.id },
        { kind: 'model' as const, id: model.id },
        { kind: 'device' as const, id: d1.id },
        { kind: 'device' as const, id: d2.id },
      ]) {
        await store.setParameters(a.id, scope, { p: `${scope.kind}${scope.id}` });
      }
      const scopes = async () => (await store.listParameters(a.id)).map((p) => `${p.scope}:${p.scopeId}`);

      await store.deleteSite(a.id, site.id);
      assert.equal((await store.getDevice(a.id, d1.mac))!.siteId, null, "the site's devices fall back to no site");
      assert.equal((await store.getDevice(a.id, d2.mac))!.siteId, site2.id);
      assert.ok(!(await scopes()).includes(`site:${site.id}`));
      assert.ok((await scopes()).includes(`site:${site2.id}`));

      await store.deleteGroup(a.id, group.id);
      assert.equal((await store.getDevice(a.id, d1.mac))!.groupId, null);
      assert.equal((await store.getDevice(a.id, d2.mac))!.groupId, null);
      assert.ok(!(await scopes()).includes(`group:${group.id}`));

      await store.deleteModelPolicy(a.id, model.id);
      assert.ok(!(await scopes()).includes(`model:${model.id}`));

      await store.deleteDevice(a.id, d1.id);
      assert.deepEqual(await scopes(), [`tenant:${a.id}`, `site:${site2.id}`, `device:${d2.id}`]);

      // A new device must not inherit the deleted one's parameters (ids are not reused).
      const d3 = await store.registerDevice(a.id, '0004f2000003', {});
      assert.deepEqual(await store.listParameters(a.id, { kind: 'device', id: d3.id }), []);
    });

    test('deleting a tenant removes everything in it and nothing of other tenants', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme', { hostnames: ['a.example'], pathPrefix: 'acme' }));
      const b = await store.createTenant(tenantInput('beta', { hostnames: ['b.example'] }));
      for (const t of [a, b]) {
        const site = await store.createSite(t.id, 'hq', 'HQ');
        await store.createGroup(t.id, 'g', 'G');
        await store.upsertModelPolicy(t.id, 'VVX_500', { appFilePath: 'x' });
        await store.registerDevice(t.id, '0004f2000001', { siteId: site.id });
        await store.recordSightings([{ tenantId: t.id, mac: '0004f2000009', at: new Date().toISOString() }]);
        await store.setParameters(t.id, { kind: 'tenant', id: t.id }, { a: '1' });
        await store.putFile({ tenantId: t.id, path: 'x.cfg', blobKey: 'k', size: 3, contentType: 'text/plain' });
      }
      await store.deleteTenant(a.id);
      assert.deepEqual(await store.listSites(a.id), []);
      assert.deepEqual(await store.listGroups(a.id), []);
      assert.deepEqual(await store.listModelPolicies(a.id), []);
      assert.deepEqual(await store.listDevices(a.id), []);
      assert.deepEqual(await store.listParameters(a.id), []);
      assert.deepEqual(await store.listFiles(a.id), []);
      await rejectsWith(store.loadTenantPolicy(a.id), NotFoundError);

      const pb = await store.loadTenantPolicy(b.id);
      assert.equal(pb.sites.length, 1);
      assert.equal(pb.groups.length, 1);
      assert.equal(pb.models.length, 1);
      assert.equal((await store.listDevices(b.id)).length, 2);
      assert.equal(pb.parameters.length, 1);
      assert.equal(pb.files.length, 1);

      // Everything the tenant held is free again.
      const again = await store.createTenant(tenantInput('acme', { hostnames: ['a.example'], pathPrefix: 'acme' }));
      assert.notEqual(again.id, a.id);
      assert.deepEqual(await store.listDevices(again.id), []);
    });

    test('files: put, replace, get, list ordered by path, delete', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const b = await store.createTenant(tenantInput('beta'));
      const big = 5 * 1024 ** 3; // beyond 32 bits: bigint on PostgreSQL, still a number
      const f1 = await store.putFile({ tenantId: a.id, path: 'firmware/6.4/sip.ld', blobKey: 'aa'.repeat(32), size: big, contentType: 'application/octet-stream' });
      assert.deepEqual(f1, { tenantId: a.id, path: 'firmware/6.4/sip.ld', blobKey: 'aa'.repeat(32), size: big, contentType: 'application/octet-stream', createdAt: f1.createdAt });
      assert.ok(!Number.isNaN(Date.parse(f1.createdAt)));
      await store.putFile({ tenantId: a.id, path: 'B.cfg', blobKey: 'b', size: 1, contentType: 'text/xml' });
      await store.putFile({ tenantId: a.id, path: 'a.cfg', blobKey: 'a', size: 2, contentType: 'text/xml' });
      await store.putFile({ tenantId: b.id, path: 'a.cfg', blobKey: 'other', size: 9, contentType: 'text/xml' });
      assert.deepEqual(await store.getFile(a.id, 'firmware/6.4/sip.ld'), f1);
      assert.strictEqual((await store.getFile(a.id, 'firmware/6.4/sip.ld'))!.size, big);

      const replaced = await store.putFile({ tenantId: a.id, path: 'a.cfg', blobKey: 'a2', size: 22, contentType: 'application/xml' });
      assert.equal(replaced.blobKey, 'a2');
      assert.equal(replaced.size, 22);
      assert.deepEqual(await store.getFile(a.id, 'a.cfg'), replaced);
      assert.equal((await store.getFile(b.id, 'a.cfg'))!.blobKey, 'other');
      assert.deepEqual(
        (await store.listFiles(a.id)).map((x) => x.path),
        ['B.cfg', 'a.cfg', 'firmware/6.4/sip.ld'],
      );
      assert.equal(await store.getFile(a.id, 'nope'), undefined);

      assert.equal(await store.deleteFile(a.id, 'a.cfg'), true);
      assert.equal(await store.deleteFile(a.id, 'a.cfg'), false);
      assert.equal(await store.getFile(a.id, 'a.cfg'), undefined);
      assert.equal((await store.getFile(b.id, 'a.cfg'))!.blobKey, 'other');
      await rejectsWith(store.putFile({ tenantId: 999_999, path: 'x', blobKey: 'k', size: 1, contentType: 't' }), NotFoundError);
    });

    test('loadTenantPolicy returns the whole tenant: registered devices only', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme', { hostnames: ['p.acme.example'], extraConfigFiles: ['x.cfg'] }));
      const b = await store.createTenant(tenantInput('beta'));
      const site = await store.createSite(a.id, 'hq', 'HQ');
      const group = await store.createGroup(a.id, 'g', 'G');
      const model = await store.upsertModelPolicy(a.id, 'VVX_500', { appFilePath: 'v.ld' });
      const dev = await store.registerDevice(a.id, '0004f2000001', { siteId: site.id, groupId: group.id });
      await store.recordSightings([
        { tenantId: a.id, mac: '0004f2000001', at: '2025-01-01T00:00:00.000Z', ip: '10.0.0.1' },
        { tenantId: a.id, mac: '0004f2000002', at: '2025-01-01T00:00:00.000Z', ip: '10.0.0.2' },
      ]);
      await store.setParameters(a.id, { kind: 'device', id: dev.id }, { d: '1' });
      await store.setParameters(a.id, { kind: 'tenant', id: a.id }, { t: '1' });
      await store.putFile({ tenantId: a.id, path: 'x.cfg', blobKey: 'k', size: 1, contentType: 'text/xml' });
      await store.createSite(b.id, 'other', 'Other');
      await store.setParameters(b.id, { kind: 'tenant', id: b.id }, { t: 'b' });

      const p = await store.loadTenantPolicy(a.id);
      assert.deepEqual(p.tenant, await store.getTenantBySlug('acme'));
      assert.deepEqual(p.tenant.hostnames, ['p.acme.example']);
      assert.deepEqual(p.sites, [site]);
      assert.deepEqual(p.groups, [group]);
      assert.deepEqual(p.models, [model]);
      assert.deepEqual(
        p.devices.map((d) => [d.mac, d.registered, d.lastIp]),
        [['0004f2000001', true, '10.0.0.1']],
      );
      assert.deepEqual(p.parameters, [
        { scope: 'tenant', scopeId: a.id, name: 't', value: '1' },
        { scope: 'device', scopeId: dev.id, name: 'd', value: '1' },
      ]);
      assert.deepEqual(
        p.files.map((x) => x.path),
        ['x.cfg'],
      );
      await rejectsWith(store.loadTenantPolicy(999_999), NotFoundError);
    });

    test('two store instances on one database see each other’s writes and revisions', async () => {
      await fresh();
      const other = await f.open();
      const a = await store.createTenant(tenantInput('acme'));
      assert.equal(await other.revision(), 1);
      assert.deepEqual(await other.getTenantBySlug('acme'), a);
      await other.setParameters(a.id, { kind: 'tenant', id: a.id }, { x: 'from other' });
      assert.equal(await store.revision(), 2);
      assert.equal((await store.getTenantBySlug('acme'))!.revision, 2);
      assert.deepEqual(await store.listParameters(a.id), [{ scope: 'tenant', scopeId: a.id, name: 'x', value: 'from other' }]);
      await store.recordSightings([{ tenantId: a.id, mac: '0004f2000001', at: '2025-01-01T00:00:00.000Z' }]);
      assert.equal((await other.getDevice(a.id, '0004f2000001'))!.firstSeen, '2025-01-01T00:00:00.000Z');
      await rejectsWith(other.createTenant(tenantInput('acme', { provUsername: 'zz' })), ConflictError);
    });

    test('several processes open a fresh database at once (concurrent migrations) and write', async () => {
      const dataDir = join(tempDir(), 'shared');
      let databaseUrl: string | undefined;
      if (backend.name === 'postgres') {
        const probe = await backend.fresh(); // a new, empty database: the children migrate it
        databaseUrl = probe.databaseUrl;
        // Drop what the probe migrated, so the children race on an empty database.
        const c = new pg.Client({ connectionString: databaseUrl });
        await c.connect();
        await c.query('drop schema public cascade; create schema public');
        await c.end();
        await probe.store.close();
        opened.splice(opened.indexOf(probe.store), 1);
      }
      const workers = 4;
      const rounds = 15;
      const children = Array.from({ length: workers }, (_, i) =>
        spawn(process.execPath, ['--import', 'tsx', join(here, 'concurrent-writer.ts'), dataDir, databaseUrl ?? '-', String(i), String(rounds)], {
          stdio: ['pipe', 'pipe', 'pipe'],
        }),
      );
      const outputs = children.map((c) => {
        let out = '';
        let err = '';
        c.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
        c.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
        const ready = new Promise<void>((resolve, reject) => {
          const onData = () => out.includes('ready\n') && resolve();
          c.stdout!.on('data', onData);
          c.once('exit', (code) => reject(new Error(`child exited (${code}) before ready: ${err}`)));
        });
        const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
          c.once('close', (code) => resolve({ code, out, err })),
        );
        return { ready, done };
      });
      const kill = setTimeout(() => children.forEach((c) => c.kill('SIGKILL')), 60_000);
      try {
        // All children loaded and waiting: release them together, so their migrations overlap.
        await Promise.all(outputs.map((o) => o.ready));
        for (const c of children) c.stdin!.end('go\n');
        const results = await Promise.all(outputs.map((o) => o.done));
        for (const r of results) assert.equal(r.code, 0, `child failed: ${r.err}`);
        for (const r of results) assert.match(r.out, /"ok":true/);
      } finally {
        clearTimeout(kill);
      }
      const s = await track(openStore({ dataDir, databaseUrl }));
      const tenants = await s.listTenants();
      assert.deepEqual(
        tenants.map((t) => t.slug),
        ['w0', 'w1', 'w2', 'w3'],
      );
      assert.equal(await s.revision(), workers * (1 + rounds), 'every admin write bumped the global revision exactly once');
      for (const t of tenants) {
        assert.equal(t.revision, 1 + rounds);
        assert.equal((await s.listParameters(t.id)).length, rounds);
        assert.equal((await s.listDevices(t.id)).length, rounds);
      }
    });

    test('phone logs: updatePhoneLog commits the returned length, rolls back on a throw, and serialises writers', async () => {
      await fresh();
      const t = await store.createTenant(tenantInput('acme'));
      const p = 'logs/0004f2000001-app.log';
      assert.equal(await store.getPhoneLog(t.id, p), undefined);
      assert.equal(await store.updatePhoneLog(t.id, p, '0004f2000001', async (len) => len + 10), 10);
      await assert.rejects(store.updatePhoneLog(t.id, p, '0004f2000001', async () => { throw new Error('refused'); }), /refused/);
      assert.equal((await store.getPhoneLog(t.id, p))?.length, 10, 'a refused write changes nothing');
      await assert.rejects(store.updatePhoneLog(t.id, 'logs/0004f2000009-app.log', '0004f2000009', async () => { throw new Error('x'); }));
      assert.equal(await store.getPhoneLog(t.id, 'logs/0004f2000009-app.log'), undefined, 'nor creates the row');
      // Concurrent writers each see the length the previous one committed.
      const seen: number[] = [];
      await Promise.all(
        Array.from({ length: 8 }, () =>
          store.updatePhoneLog(t.id, p, '0004f2000001', async (len) => {
            seen.push(len);
            await new Promise((r) => setTimeout(r, 5));
            return len + 1;
          }),
        ),
      );
      assert.equal((await store.getPhoneLog(t.id, p))?.length, 18);
      assert.deepEqual([...seen].sort((a, b) => a - b), [10, 11, 12, 13, 14, 15, 16, 17]);
    });

    test('log retention settings: defaults on a new tenant, given values, patches that keep what they do not name', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      assert.deepEqual([a.logMaxBytes, a.logSegments, a.logMaxAgeDays], [10 * 1024 * 1024, 5, 90]);
      const b = await store.createTenant(tenantInput('beta', { logMaxBytes: 2048, logSegments: 2, logMaxAgeDays: 0 }));
      assert.deepEqual([b.logMaxBytes, b.logSegments, b.logMaxAgeDays], [2048, 2, 0]);
      const big = await store.updateTenant(a.id, { logMaxBytes: 2 ** 40 });
      assert.deepEqual([big.logMaxBytes, big.logSegments, big.logMaxAgeDays], [2 ** 40, 5, 90], 'bigint round-trips as a number');
      const b2 = await store.updateTenant(b.id, { logSegments: 0, logMaxAgeDays: 30 });
      assert.deepEqual([b2.logMaxBytes, b2.logSegments, b2.logMaxAgeDays], [2048, 0, 30]);
      assert.deepEqual(await store.getTenantBySlug('beta'), b2);
      assert.deepEqual((await store.listTenants()).map((t) => t.logMaxBytes), [2 ** 40, 2048]);
      assert.equal((await store.loadTenantPolicy(b.id)).tenant.logMaxAgeDays, 30);
    });

    test('override policy settings: defaults, given values, patches, and the list round-tripping as JSON', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      assert.deepEqual([a.overridePolicy, a.overridePatterns, a.stripDisallowedOverrides], ['allow-all', [], false]);
      const b = await store.createTenant(tenantInput('beta', { overridePolicy: 'deny-list', overridePatterns: ['reg.*', 'up.*.x'], stripDisallowedOverrides: true }));
      assert.deepEqual([b.overridePolicy, b.overridePatterns, b.stripDisallowedOverrides], ['deny-list', ['reg.*', 'up.*.x'], true]);
      const b2 = await store.updateTenant(b.id, { stripDisallowedOverrides: false });
      assert.deepEqual([b2.overridePolicy, b2.overridePatterns, b2.stripDisallowedOverrides], ['deny-list', ['reg.*', 'up.*.x'], false], 'a patch keeps what it does not name');
      assert.equal(b2.revision, b.revision + 1);
      const a2 = await store.updateTenant(a.id, { overridePolicy: 'allow-list', overridePatterns: ['lcl.ml.lang'], stripDisallowedOverrides: true });
      assert.deepEqual([a2.overridePolicy, a2.overridePatterns, a2.stripDisallowedOverrides, a2.logSegments], ['allow-list', ['lcl.ml.lang'], true, 5]);
      assert.deepEqual(await store.getTenantBySlug('beta'), b2);
      assert.deepEqual((await store.loadTenantPolicy(a.id)).tenant.overridePatterns, ['lcl.ml.lang']);
      assert.deepEqual((await store.listTenants()).map((t) => t.stripDisallowedOverrides), [true, false]);
    });

    test('migration 0004 gives existing tenants and logs the default retention and base 0', async () => {
      const dataDir = tempDir();
      const dbName = `m${process.pid}_${++dbCounter}`;
      let databaseUrl: string | undefined;
      let db: Kysely<any>;
      if (backend.name === 'sqlite') {
        db = new Kysely<any>({ dialect: new SqliteDialect({ database: new BetterSqlite3(join(dataDir, 'polyprov.sqlite')) }) });
      } else {
        const admin = new pg.Client({ connectionString: cluster!.adminUrl });
        await admin.connect();
        await admin.query(`create database ${dbName}`).finally(() => admin.end());
        databaseUrl = `postgres://postgres@127.0.0.1:${cluster!.port}/${dbName}`;
        db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: databaseUrl }) }) });
      }
      try {
        const { error } = await new Migrator({ db, provider: new InCodeMigrationProvider(backend.name) }).migrateTo('0003-phone-logs');
        assert.equal(error, undefined);
        const row = await db
          .insertInto('tenants')
          .values({ slug: 'old', name: 'Old', prov_username: 'old', prov_password_hash: 'h', prov_digest_ha1: 'd', path_prefix: null, unknown_devices: 'serve', app_file_path: 'sip.ld', extra_config_files: '[]', revision: 1, created_at: new Date().toISOString() })
          .returning('id')
          .executeTakeFirstOrThrow();
        await db.insertInto('phone_logs').values({ tenant_id: row.id, path: 'logs/0004f2000001-app.log', mac: '0004f2000001', length: 42, updated_at: new Date().toISOString() }).execute();
      } finally {
        await db.destroy();
      }
      store = await track(openStore({ dataDir, ...(databaseUrl ? { databaseUrl } : {}) }));
      const t = await store.getTenantBySlug('old');
      assert.deepEqual([t?.logMaxBytes, t?.logSegments, t?.logMaxAgeDays], [10 * 1024 * 1024, 5, 90]);
      assert.deepEqual([t?.overridePolicy, t?.overridePatterns, t?.stripDisallowedOverrides], ['allow-all', [], false], 'migration 0005 defaults');
      const log = await store.getPhoneLog(t!.id, 'logs/0004f2000001-app.log');
      assert.deepEqual([log?.length, log?.base], [42, 0]);
    });

    test('phone logs: a rotation commits length and base together; a plain length keeps the base; a throw keeps both; listPhoneLogs', async () => {
      await fresh();
      const t = await store.createTenant(tenantInput('acme'));
      const p = 'logs/0004f2000001-app.log';
      const seen: [number, number][] = [];
      const write = (next: (len: number, base: number) => number | { length: number; base: number }) =>
        store.updatePhoneLog(t.id, p, '0004f2000001', async (len, base) => {
          seen.push([len, base]);
          return next(len, base);
        });
      assert.equal(await write((len) => len + 1500), 1500);
      assert.equal(await write((len, base) => ({ length: 700, base: base + len })), 700, 'rotation: the current file restarts');
      assert.deepEqual(await write((len) => len + 100), 800);
      await assert.rejects(write(() => { throw new Error('refused mid-rotation'); }), /refused/);
      assert.equal(await write((len, base) => ({ length: 50, base: base + len })), 50);
      assert.deepEqual(seen, [[0, 0], [1500, 0], [700, 1500], [800, 1500], [800, 1500]]);
      const log = await store.getPhoneLog(t.id, p);
      assert.deepEqual([log?.length, log?.base], [50, 2300], "the phone's view: 2350 bytes");
      await assert.rejects(write(() => ({ length: -1, base: 0 })), RangeError);
      await assert.rejects(write(() => ({ length: 1, base: 0.5 })), RangeError);
      assert.deepEqual(await store.getPhoneLog(t.id, p), log, 'invalid results commit nothing');

      await store.updatePhoneLog(t.id, 'logs/0004f2000001-boot.log', '0004f2000001', async () => 10);
      await store.updatePhoneLog(t.id, 'logs/0004f2000002-app.log', '0004f2000002', async () => 20);
      assert.deepEqual((await store.listPhoneLogs(t.id)).map((l) => `${l.path}:${l.base}+${l.length}`), [
        'logs/0004f2000001-app.log:2300+50',
        'logs/0004f2000001-boot.log:0+10',
        'logs/0004f2000002-app.log:0+20',
      ]);
      assert.deepEqual((await store.listPhoneLogs(t.id, '0004F2000002')).map((l) => l.path), ['logs/0004f2000002-app.log']);
      const other = await store.createTenant(tenantInput('beta'));
      assert.deepEqual(await store.listPhoneLogs(other.id), []);
    });

    test('phone uploads: versions count up per path, the newest is the latest, revisions stay put, tenant deletion cascades', async () => {
      await fresh();
      const t = await store.createTenant(tenantInput('acme'));
      const rev = await store.revision();
      const key = 'a'.repeat(64);
      const p = 'overrides/0004f2000001-phone.cfg';
      const v1 = await store.recordPhoneUpload({ tenantId: t.id, mac: '0004f2000001', path: p, blobKey: key, size: 10, problem: null });
      const v2 = await store.recordPhoneUpload({ tenantId: t.id, mac: '0004f2000001', path: p, blobKey: 'b'.repeat(64), size: 11, problem: 'not well-formed XML: x' });
      const other = await store.recordPhoneUpload({ tenantId: t.id, mac: '0004f2000001', path: 'overrides/0004f2000001-web.cfg', blobKey: key, size: 10, problem: null });
      assert.deepEqual([v1.version, v2.version, other.version], [1, 2, 1]);
      const latest = await store.latestPhoneUpload(t.id, p);
      assert.equal(latest?.version, 2);
      assert.equal(latest?.problem, 'not well-formed XML: x');
      assert.equal(latest?.size, 11);
      assert.equal(await store.latestPhoneUpload(t.id, 'overrides/0004f2000009-phone.cfg'), undefined);
      assert.deepEqual((await store.listPhoneUploads(t.id, '0004f2000001')).map((u) => `${u.path}#${u.version}`), [
        `${p}#1`,
        `${p}#2`,
        'overrides/0004f2000001-web.cfg#1',
      ]);
      assert.equal(await store.revision(), rev, 'uploads are not policy: caches stay valid');
      await store.deleteTenant(t.id);
      const again = await store.createTenant(tenantInput('acme'));
      assert.deepEqual(await store.listPhoneUploads(again.id, '0004f2000001'), []);
    });

    /** Rows of a table, counted over a connection of its own (behind the store's back). */
    async function countRows(
      table: 'firmware_releases' | 'firmware_images' | 'rollouts' | 'rollout_members' | 'reach_results' | 'reach_jobs' | 'reach_job_devices',
    ): Promise<number> {
      if (backend.name === 'sqlite') {
        const db = new BetterSqlite3(join(f.dataDir, 'polyprov.sqlite'), { readonly: true });
        try {
          return Number((db.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n);
        } finally {
          db.close();
        }
      }
      const c = new pg.Client({ connectionString: f.databaseUrl });
      await c.connect();
      try {
        return Number((await c.query(`select count(*) as n from ${table}`)).rows[0].n);
      } finally {
        await c.end();
      }
    }

    test('firmware library: add, get, list by version, delete; images round-trip ordered by file name', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const big = 5 * 1024 ** 3; // beyond 32 bits: bigint on PostgreSQL, still a number
      const images: FirmwareImage[] = [
        fwImage('sip.ld', { models: [] }),
        fwImage('3111-48500-001.sip.ld', { partNumber: '3111-48500-001', models: ['VVX_500', 'VVX_501'], size: big }),
        fwImage('3111-44500-001.bootrom.ld', { kind: 'bootrom', partNumber: '3111-44500-001', models: ['VVX_300'] }),
        fwImage('3111-44500-001.sip.ld', { partNumber: '3111-44500-001', models: ['VVX_300'], size: 0 }),
        fwImage('updater.ld', { kind: 'updater' }),
        fwImage('8440.dect.ld', { kind: 'dect', models: ['"quoted"', 'ünïcode'] }),
      ];
      const r = await store.addFirmwareRelease({ tenantId: a.id, version: '6.4.0.1234', layout: 'mixed', source: 'uploads/UC 6.4.0.zip', images });
      const sorted = [...images].sort((x, y) => (x.fileName < y.fileName ? -1 : 1));
      assert.deepEqual(r, { id: r.id, tenantId: a.id, version: '6.4.0.1234', layout: 'mixed', source: 'uploads/UC 6.4.0.zip', createdAt: r.createdAt, images: sorted });
      assert.ok(Number.isInteger(r.id) && r.id > 0);
      assert.ok(!Number.isNaN(Date.parse(r.createdAt)));
      assert.deepEqual(
        r.images.map((i) => i.fileName),
        ['3111-44500-001.bootrom.ld', '3111-44500-001.sip.ld', '3111-48500-001.sip.ld', '8440.dect.ld', 'sip.ld', 'updater.ld'],
      );
      const got = await store.getFirmwareRelease(a.id, '6.4.0.1234');
      assert.deepEqual(got, r);
      assert.strictEqual(got!.images.find((i) => i.fileName === '3111-48500-001.sip.ld')!.size, big);

      const older = await store.addFirmwareRelease(fwRelease(a.id, '5.9.7.0001', []));
      assert.deepEqual(older.images, []);
      const newest = await store.addFirmwareRelease(fwRelease(a.id, '7.0.0'));
      assert.deepEqual(
        (await store.listFirmwareReleases(a.id)).map((x) => x.version),
        ['5.9.7.0001', '6.4.0.1234', '7.0.0'],
      );
      assert.deepEqual((await store.listFirmwareReleases(a.id))[1], r, 'list carries the images too');
      assert.deepEqual((await store.listFirmwareReleases(a.id))[0]!.images, []);
      assert.deepEqual(await store.listFirmwareReleases(null), []);
      assert.equal(await store.getFirmwareRelease(a.id, '6.4.0'), undefined);
      assert.equal(await store.getFirmwareRelease(null, '6.4.0.1234'), undefined);

      assert.equal(await store.deleteFirmwareRelease(a.id, '6.4.0.1234'), true);
      assert.equal(await store.deleteFirmwareRelease(a.id, '6.4.0.1234'), false);
      assert.equal(await store.getFirmwareRelease(a.id, '6.4.0.1234'), undefined);
      assert.deepEqual(await store.listFirmwareReleases(a.id), [older, newest]);
      assert.equal(await countRows('firmware_images'), 1, "the deleted release's images are gone");

      await assert.rejects(store.addFirmwareRelease(fwRelease(a.id, '8.0', [fwImage('sip.ld', { size: -1 })])), TypeError);
      await assert.rejects(store.addFirmwareRelease(fwRelease(a.id, '8.0', [fwImage('sip.ld', { size: 1.5 })])), TypeError);
      await rejectsWith(store.addFirmwareRelease(fwRelease(a.id, '8.0', [fwImage('sip.ld'), fwImage('sip.ld', { size: 2 })])), ConflictError, /sip\.ld/);
      await rejectsWith(store.addFirmwareRelease(fwRelease(999_999, '8.0')), NotFoundError);
      assert.equal(await store.getFirmwareRelease(a.id, '8.0'), undefined, 'refused releases leave nothing behind');
    });

    test('firmware library: a version is unique per library; tenants and the global library keep their own', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const b = await store.createTenant(tenantInput('beta'));
      const ra = await store.addFirmwareRelease(fwRelease(a.id, '6.4.0', [fwImage('sip.ld', { size: 1 })]));
      const rb = await store.addFirmwareRelease(fwRelease(b.id, '6.4.0', [fwImage('sip.ld', { size: 2 })]));
      const rg = await store.addFirmwareRelease(fwRelease(null, '6.4.0', [fwImage('sip.ld', { size: 3 })]));
      assert.equal(new Set([ra.id, rb.id, rg.id]).size, 3);
      assert.deepEqual([ra.tenantId, rb.tenantId, rg.tenantId], [a.id, b.id, null]);
      assert.deepEqual(await store.getFirmwareRelease(a.id, '6.4.0'), ra);
      assert.deepEqual(await store.getFirmwareRelease(b.id, '6.4.0'), rb);
      assert.deepEqual(await store.getFirmwareRelease(null, '6.4.0'), rg);
      assert.deepEqual(await store.listFirmwareReleases(null), [rg], "the global library lists only its own");

      await rejectsWith(store.addFirmwareRelease(fwRelease(a.id, '6.4.0', [fwImage('other.ld')])), ConflictError, /"6\.4\.0" already exists in the firmware library of tenant "acme"/);
      await rejectsWith(store.addFirmwareRelease(fwRelease(null, '6.4.0', [fwImage('other.ld')])), ConflictError, /"6\.4\.0" already exists in the global firmware library/);
      assert.deepEqual(await store.listFirmwareReleases(a.id), [ra], 'a conflict changes nothing');
      assert.deepEqual(await store.listFirmwareReleases(null), [rg]);

      const globalOnly = await store.addFirmwareRelease(fwRelease(null, '7.0.0'));
      assert.equal(await store.getFirmwareRelease(a.id, '7.0.0'), undefined, 'a tenant lookup does not fall back to the global library');
      assert.deepEqual(await store.getFirmwareRelease(null, '7.0.0'), globalOnly);

      assert.equal(await store.deleteFirmwareRelease(a.id, '6.4.0'), true);
      assert.deepEqual(await store.getFirmwareRelease(b.id, '6.4.0'), rb);
      assert.deepEqual(await store.getFirmwareRelease(null, '6.4.0'), rg);
      assert.equal(await store.deleteFirmwareRelease(a.id, '7.0.0'), false, "a tenant cannot delete the global library's release");
      assert.equal(await store.deleteFirmwareRelease(null, '6.4.0'), true);
      assert.deepEqual(await store.getFirmwareRelease(b.id, '6.4.0'), rb);
      assert.deepEqual(await store.listFirmwareReleases(null), [globalOnly]);
    });

    test('firmware library: deleting a tenant deletes its releases and their images, not the global ones', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const b = await store.createTenant(tenantInput('beta'));
      await store.addFirmwareRelease(fwRelease(a.id, '6.4.0', [fwImage('sip.ld'), fwImage('updater.ld', { kind: 'updater' })]));
      await store.addFirmwareRelease(fwRelease(a.id, '7.0.0'));
      const rb = await store.addFirmwareRelease(fwRelease(b.id, '6.4.0'));
      const rg = await store.addFirmwareRelease(fwRelease(null, '6.4.0', [fwImage('sip.ld'), fwImage('bootrom.ld', { kind: 'bootrom' })]));
      assert.deepEqual([await countRows('firmware_releases'), await countRows('firmware_images')], [4, 6]);

      await store.deleteTenant(a.id);
      assert.deepEqual(await store.listFirmwareReleases(a.id), []);
      assert.deepEqual([await countRows('firmware_releases'), await countRows('firmware_images')], [2, 3], "only the tenant's rows went");
      assert.deepEqual(await store.listFirmwareReleases(null), [rg]);
      assert.deepEqual(await store.listFirmwareReleases(b.id), [rb]);
      assert.deepEqual((await store.loadTenantPolicy(b.id)).firmware, [rb, rg]);

      const again = await store.createTenant(tenantInput('acme'));
      assert.deepEqual(await store.listFirmwareReleases(again.id), []);
      await store.addFirmwareRelease(fwRelease(again.id, '6.4.0'));
    });

    test('loadTenantPolicy returns the tenant’s own firmware releases, then the global library', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const b = await store.createTenant(tenantInput('beta'));
      assert.deepEqual((await store.loadTenantPolicy(a.id)).firmware, []);
      const g7 = await store.addFirmwareRelease(fwRelease(null, '7.0.0'));
      const g5 = await store.addFirmwareRelease(fwRelease(null, '5.9.0', [fwImage('sip.ld'), fwImage('3111-44500-001.sip.ld', { partNumber: '3111-44500-001', models: ['VVX_300'] })]));
      const a8 = await store.addFirmwareRelease(fwRelease(a.id, '8.0.0'));
      const a6 = await store.addFirmwareRelease({ ...fwRelease(a.id, '6.4.0'), layout: 'split' });
      const a7 = await store.addFirmwareRelease(fwRelease(a.id, '7.0.0'));
      await store.addFirmwareRelease(fwRelease(b.id, '6.0.0'));
      assert.deepEqual((await store.loadTenantPolicy(a.id)).firmware, [a6, a7, a8, g5, g7]);
      const pb = await store.loadTenantPolicy(b.id);
      assert.deepEqual(
        pb.firmware.map((x) => [x.tenantId, x.version]),
        [[b.id, '6.0.0'], [null, '5.9.0'], [null, '7.0.0']],
      );
      const fresh2 = await store.createTenant(tenantInput('gamma'));
      assert.deepEqual((await store.loadTenantPolicy(fresh2.id)).firmware, [g5, g7], 'a tenant without a library of its own sees the global one');
    });

    test('firmware revisions: a tenant library moves that tenant, the global library moves every tenant', async () => {
      await fresh();
      await store.createTenant(tenantInput('acme'));
      await store.createTenant(tenantInput('beta'));
      const a = (await store.getTenantBySlug('acme'))!;
      const revs = async () => [await store.revision(), await tenantRevision(store, 'acme'), await tenantRevision(store, 'beta')];
      const steps: [string, () => Promise<unknown>, number[]][] = [
        ['add to a tenant library', () => store.addFirmwareRelease(fwRelease(a.id, '6.4.0')), [1, 1, 0]],
        ['delete from a tenant library', () => store.deleteFirmwareRelease(a.id, '6.4.0'), [1, 1, 0]],
        ['add to the global library', () => store.addFirmwareRelease(fwRelease(null, '6.4.0')), [1, 1, 1]],
        ['delete from the global library', () => store.deleteFirmwareRelease(null, '6.4.0'), [1, 1, 1]],
      ];
      for (const [what, step, moves] of steps) {
        const was = await revs();
        await step();
        assert.deepEqual(await revs(), was.map((v, i) => v + moves[i]!), what);
      }
      await store.addFirmwareRelease(fwRelease(null, '7.0.0'));
      const was = await revs();
      await rejectsWith(store.addFirmwareRelease(fwRelease(null, '7.0.0')), ConflictError);
      assert.deepEqual(await revs(), was, 'a refused add moves nothing');
    });

    test('rollouts: create, get, list by name, update, delete; every field and the members round-trip', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const b = await store.createTenant(tenantInput('beta'));
      const long = 5 * 1024 ** 3; // beyond 32 bits: bigint on PostgreSQL, still a number
      const input = rolloutInput(
        a.id,
        'vvx-6.4.6',
        [{ mac: '0004F2000003', wave: 2 }, { mac: '0004f2000002', wave: 0 }, { mac: '0004f2000009', wave: 1 }, { mac: '0004f2000001', wave: 2 }],
        { selector: { site: 'hq', model: 'VVX_500' }, waveIntervalMs: long, deadlineMs: 7_200_000, maxFailurePercent: 0.5, window: null },
      );
      const r = await store.createRollout(input);
      const expected: Rollout = {
        id: r.id,
        tenantId: a.id,
        name: 'vvx-6.4.6',
        fromVersion: '6.4.0.1234',
        toVersion: '6.4.6.0001',
        selector: { site: 'hq', model: 'VVX_500' },
        waves: [1, 10, 100],
        waveIntervalMs: long,
        deadlineMs: 7_200_000,
        maxFailurePercent: 0.5,
        window: null,
        status: 'running',
        currentWave: 0,
        waveStartedAt: '2025-03-01T02:00:00.000Z',
        reason: null,
        createdAt: r.createdAt,
        updatedAt: r.createdAt,
        members: [
          { mac: '0004f2000002', wave: 0 },
          { mac: '0004f2000009', wave: 1 },
          { mac: '0004f2000001', wave: 2 },
          { mac: '0004f2000003', wave: 2 },
        ],
      };
      assert.deepEqual(r, expected, 'status running, wave 0, MACs lower-case, members by wave then MAC');
      assert.ok(Number.isInteger(r.id) && r.id > 0);
      assert.ok(!Number.isNaN(Date.parse(r.createdAt)));
      const got = await store.getRollout(a.id, 'vvx-6.4.6');
      assert.deepEqual(got, expected);
      assert.strictEqual(got!.maxFailurePercent, 0.5);
      assert.strictEqual(got!.waveIntervalMs, long);

      const windowed = await store.createRollout(
        rolloutInput(a.id, 'Zeta', ['0004f2000010'], { window: '01:00-05:00', waves: [100], maxFailurePercent: 0, deadlineMs: 0, selector: { group: 'lobby' } }),
      );
      assert.deepEqual([windowed.window, windowed.waves, windowed.maxFailurePercent, windowed.deadlineMs, windowed.selector], ['01:00-05:00', [100], 0, 0, { group: 'lobby' }]);
      const empty = await store.createRollout(rolloutInput(a.id, 'alpha', [], { waves: [12.5, 100] }));
      assert.deepEqual([empty.members, empty.waves], [[], [12.5, 100]]);
      assert.deepEqual(
        (await store.listRollouts(a.id)).map((x) => x.name),
        ['Zeta', 'alpha', 'vvx-6.4.6'],
        'by name in code-unit order',
      );
      assert.deepEqual((await store.listRollouts(a.id))[2], expected, 'the list carries every field and the members');
      assert.deepEqual(await store.listRollouts(b.id), []);
      assert.equal(await store.getRollout(b.id, 'vvx-6.4.6'), undefined, "another tenant's rollout is not found");
      assert.equal(await store.getRollout(a.id, 'nope'), undefined);

      const paused = await store.updateRollout(a.id, r.id, { status: 'paused', reason: '3 of 10 phones of wave 2 of 3 failed' });
      assert.deepEqual(paused, { ...expected, status: 'paused', reason: '3 of 10 phones of wave 2 of 3 failed', updatedAt: paused.updatedAt });
      assert.ok(paused.updatedAt >= paused.createdAt);
      assert.deepEqual(await store.getRollout(a.id, 'vvx-6.4.6'), paused);
      const advanced = await store.updateRollout(a.id, r.id, { status: 'running', currentWave: 2, waveStartedAt: '2025-03-02T03:04:05.678Z', reason: null });
      assert.deepEqual(advanced, { ...expected, currentWave: 2, waveStartedAt: '2025-03-02T03:04:05.678Z', updatedAt: advanced.updatedAt });
      const kept = await store.updateRollout(a.id, r.id, { reason: 'note' });
      assert.deepEqual([kept.status, kept.currentWave, kept.waveStartedAt, kept.reason], ['running', 2, '2025-03-02T03:04:05.678Z', 'note'], 'undefined keeps');
      assert.deepEqual(await store.getRollout(a.id, 'vvx-6.4.6'), kept);

      await rejectsWith(store.updateRollout(a.id, 999_999, { status: 'paused' }), NotFoundError);
      await rejectsWith(store.updateRollout(b.id, r.id, { status: 'paused' }), NotFoundError, /rollout \d+ does not exist in tenant "beta"/);
      await assert.rejects(store.updateRollout(a.id, r.id, { currentWave: 3 }), TypeError, 'a wave the rollout does not have');
      await assert.rejects(store.updateRollout(a.id, r.id, { currentWave: -1 }), TypeError);
      await assert.rejects(store.updateRollout(a.id, r.id, { status: 'done' as never }), TypeError);
      await assert.rejects(store.updateRollout(a.id, r.id, { waveStartedAt: 'soon' }), TypeError);
      assert.deepEqual(await store.getRollout(a.id, 'vvx-6.4.6'), kept, 'refused updates change nothing');

      const bad: [string, Partial<NewRollout>][] = [
        ['no waves', { waves: [] }],
        ['falling waves', { waves: [10, 5, 100] }],
        ['last wave not 100', { waves: [1, 10, 90] }],
        ['a 0 % wave', { waves: [0, 100] }],
        ['a wave index outside the waves', { members: [{ mac: '0004f20000aa', wave: 3 }] }],
        ['a fractional wave index', { members: [{ mac: '0004f20000aa', wave: 0.5 }] }],
        ['a member without a MAC', { members: [{ mac: '', wave: 0 }] }],
        ['a window out of range', { window: '25:00-01:00' }],
        ['an empty window', { window: '01:00-01:00' }],
        ['a window that is no window', { window: 'nights' }],
        ['more than 100 % may fail', { maxFailurePercent: 101 }],
        ['a negative failure percentage', { maxFailurePercent: -1 }],
        ['a fractional deadline', { deadlineMs: 1.5 }],
        ['a negative interval', { waveIntervalMs: -1 }],
        ['a start that is no time', { waveStartedAt: 'not a time' }],
        ['an empty name', { name: '' }],
        ['an empty target version', { toVersion: '' }],
        ['an unknown selector field', { selector: { building: 'x' } as never }],
      ];
      for (const [what, extra] of bad) {
        await assert.rejects(store.createRollout(rolloutInput(a.id, 'bad', ['0004f20000aa'], extra)), TypeError, what);
      }
      await rejectsWith(store.createRollout(rolloutInput(a.id, 'bad', ['0004f20000aa', '0004F20000AA'])), ConflictError, /0004f20000aa is listed more than once/);
      await rejectsWith(store.createRollout(rolloutInput(999_999, 'bad', ['0004f20000aa'])), NotFoundError);
      assert.equal(await store.getRollout(a.id, 'bad'), undefined, 'refused rollouts leave nothing behind');

      assert.equal(await store.deleteRollout(a.id, 'vvx-6.4.6'), true);
      assert.equal(await store.deleteRollout(a.id, 'vvx-6.4.6'), false);
      assert.equal(await store.deleteRollout(b.id, 'Zeta'), false, "a tenant cannot delete another tenant's rollout");
      assert.equal(await store.getRollout(a.id, 'vvx-6.4.6'), undefined);
      assert.deepEqual(await store.listRollouts(a.id), [windowed, empty]);
      assert.deepEqual([await countRows('rollouts'), await countRows('rollout_members')], [2, 1], "the deleted rollout's members are gone");
    });

    test('rollouts: a name is unique per tenant', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const b = await store.createTenant(tenantInput('beta'));
      const ra = await store.createRollout(rolloutInput(a.id, 'vvx-6.4.6', ['0004f2000001']));
      const rb = await store.createRollout(rolloutInput(b.id, 'vvx-6.4.6', ['0004f2000001']));
      assert.notEqual(ra.id, rb.id);
      await rejectsWith(store.createRollout(rolloutInput(a.id, 'vvx-6.4.6', ['0004f2000002'])), ConflictError, /rollout "vvx-6\.4\.6" already exists in tenant "acme"/);
      await store.updateRollout(a.id, ra.id, { status: 'completed' });
      await rejectsWith(store.createRollout(rolloutInput(a.id, 'vvx-6.4.6', ['0004f2000002'])), ConflictError, /already exists/);
      assert.deepEqual(
        (await store.getRollout(a.id, 'vvx-6.4.6'))!.members,
        [{ mac: '0004f2000001', wave: 0 }],
        'a conflict changes nothing',
      );
      assert.deepEqual(await store.getRollout(b.id, 'vvx-6.4.6'), rb);
      await store.createRollout(rolloutInput(a.id, 'VVX-6.4.6', ['0004f2000002']));
      assert.deepEqual(
        (await store.listRollouts(a.id)).map((x) => x.name),
        ['VVX-6.4.6', 'vvx-6.4.6'],
        'names are case-sensitive',
      );
    });

    test('rollouts: a device is in at most one running or paused rollout of its tenant', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const b = await store.createTenant(tenantInput('beta'));
      const [m1, m2, m3] = ['0004f2000001', '0004f2000002', '0004f2000003'];
      const r1 = await store.createRollout(rolloutInput(a.id, 'r1', [m1, { mac: m2, wave: 1 }]));
      await rejectsWith(store.createRollout(rolloutInput(a.id, 'r2', [m3, m2.toUpperCase()])), ConflictError, /device 0004f2000002 is already in rollout "r1" \(running\)/);
      await store.updateRollout(a.id, r1.id, { status: 'paused', reason: 'too many failures' });
      await rejectsWith(store.createRollout(rolloutInput(a.id, 'r2', [m2, m3])), ConflictError, /device 0004f2000002 is already in rollout "r1" \(paused\)/);
      assert.equal(await store.getRollout(a.id, 'r2'), undefined);
      await store.updateRollout(a.id, r1.id, { status: 'running', reason: null }); // its own members do not conflict
      await store.createRollout(rolloutInput(b.id, 'r2', [m1, m2])); // the same MACs in another tenant

      await store.updateRollout(a.id, r1.id, { status: 'completed' });
      const r2 = await store.createRollout(rolloutInput(a.id, 'r2', [m2, m3]));
      await store.updateRollout(a.id, r2.id, { status: 'rolled-back', reason: 'rolled back by admin' });
      const r3 = await store.createRollout(rolloutInput(a.id, 'r3', [m2]));
      assert.deepEqual(r3.members, [{ mac: m2, wave: 0 }]);

      // Reviving a finished rollout must not put a device into two active ones.
      await rejectsWith(store.updateRollout(a.id, r1.id, { status: 'running' }), ConflictError, /device 0004f2000002 is already in rollout "r3" \(running\)/);
      await rejectsWith(store.updateRollout(a.id, r2.id, { status: 'paused' }), ConflictError, /"r3"/);
      assert.equal((await store.getRollout(a.id, 'r1'))!.status, 'completed', 'a refused revival changes nothing');
      await store.updateRollout(a.id, r3.id, { status: 'completed' });
      assert.equal((await store.updateRollout(a.id, r1.id, { status: 'running' })).status, 'running');
      await rejectsWith(store.createRollout(rolloutInput(a.id, 'r4', [m1])), ConflictError, /"r1"/);
    });

    test('loadTenantPolicy returns the tenant’s rollouts, whatever their status, with their members', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const b = await store.createTenant(tenantInput('beta'));
      assert.deepEqual((await store.loadTenantPolicy(a.id)).rollouts, []);
      const done = await store.createRollout(rolloutInput(a.id, 'old', ['0004f2000001', '0004f2000002']));
      const finished = await store.updateRollout(a.id, done.id, { status: 'completed', currentWave: 2 });
      const live = await store.createRollout(
        rolloutInput(a.id, 'new', [{ mac: '0004f2000002', wave: 1 }, { mac: '0004f2000001', wave: 0 }, { mac: '0004f2000003', wave: 2 }], { maxFailurePercent: 2.5, window: '22:00-04:00' }),
      );
      const other = await store.createRollout(rolloutInput(b.id, 'new', ['0004f2000009']));
      const pa = await store.loadTenantPolicy(a.id);
      assert.deepEqual(pa.rollouts, [live, finished]);
      assert.deepEqual(pa.rollouts[0]!.members.map((m) => m.mac), ['0004f2000001', '0004f2000002', '0004f2000003']);
      assert.deepEqual((await store.loadTenantPolicy(b.id)).rollouts, [other]);
    });

    test('rollout revisions: create, update and delete move the tenant and the global revision; refusals move nothing', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      await store.createTenant(tenantInput('beta'));
      const revs = async () => [await store.revision(), await tenantRevision(store, 'acme'), await tenantRevision(store, 'beta')];
      let id = 0;
      const steps: [string, () => Promise<unknown>][] = [
        ['createRollout', async () => (id = (await store.createRollout(rolloutInput(a.id, 'r', ['0004f2000001']))).id)],
        ['updateRollout (pause)', () => store.updateRollout(a.id, id, { status: 'paused', reason: 'x' })],
        ['updateRollout (advance)', () => store.updateRollout(a.id, id, { status: 'running', currentWave: 1, waveStartedAt: new Date().toISOString() })],
        ['deleteRollout', () => store.deleteRollout(a.id, 'r')],
      ];
      for (const [what, step] of steps) {
        const was = await revs();
        await step();
        assert.deepEqual(await revs(), [was[0]! + 1, was[1]! + 1, was[2]], what);
      }
      const r = await store.createRollout(rolloutInput(a.id, 'r', ['0004f2000001']));
      const was = await revs();
      await rejectsWith(store.createRollout(rolloutInput(a.id, 'r', ['0004f2000002'])), ConflictError);
      await rejectsWith(store.createRollout(rolloutInput(a.id, 'r2', ['0004f2000001'])), ConflictError);
      await assert.rejects(store.updateRollout(a.id, r.id, { currentWave: 9 }), TypeError);
      await rejectsWith(store.updateRollout(a.id, r.id + 1, { status: 'paused' }), NotFoundError);
      assert.deepEqual(await revs(), was, 'refused changes move nothing');
    });

    test('deleting a tenant deletes its rollouts and their members, and nothing of other tenants', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const b = await store.createTenant(tenantInput('beta'));
      await store.createRollout(rolloutInput(a.id, 'r1', ['0004f2000001', { mac: '0004f2000002', wave: 2 }]));
      const done = await store.createRollout(rolloutInput(a.id, 'r0', ['0004f2000003']));
      await store.updateRollout(a.id, done.id, { status: 'rolled-back', reason: 'x' });
      const rb = await store.createRollout(rolloutInput(b.id, 'r1', ['0004f2000001']));
      assert.deepEqual([await countRows('rollouts'), await countRows('rollout_members')], [3, 4]);

      await store.deleteTenant(a.id);
      assert.deepEqual(await store.listRollouts(a.id), []);
      assert.deepEqual([await countRows('rollouts'), await countRows('rollout_members')], [1, 1], "only the tenant's rows went");
      assert.deepEqual(await store.listRollouts(b.id), [rb]);
      assert.deepEqual((await store.loadTenantPolicy(b.id)).rollouts, [rb]);

      const again = await store.createTenant(tenantInput('acme'));
      assert.deepEqual(await store.listRollouts(again.id), []);
      await store.createRollout(rolloutInput(again.id, 'r1', ['0004f2000001', '0004f2000002']));
    });

    /** Runs one statement over a connection of its own, with foreign keys enforced (behind the store's back). */
    async function execRaw(statement: string): Promise<void> {
      if (backend.name === 'sqlite') {
        const db = new BetterSqlite3(join(f.dataDir, 'polyprov.sqlite'), { timeout: 15000 });
        try {
          db.pragma('foreign_keys = ON');
          db.prepare(statement).run();
        } finally {
          db.close();
        }
        return;
      }
      const c = new pg.Client({ connectionString: f.databaseUrl });
      await c.connect();
      try {
        await c.query(statement);
      } finally {
        await c.end();
      }
    }

    const reachCounts = async () => [await countRows('reach_results'), await countRows('reach_jobs'), await countRows('reach_job_devices')];

    test('reach results: the newest per device and method by insertion, history newest first with a limit, per tenant', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const b = await store.createTenant(tenantInput('beta'));
      const [m1, m2] = ['0004f2000001', '0004f2000002'];
      const rev = await store.revision();
      await store.recordReachResults([]);

      const first = reachResult(a.id, m1, { at: '2025-03-01T02:00:00Z' });
      const push = reachResult(a.id, m1, { method: 'push', outcome: 'error', status: null, detail: 'connect ECONNREFUSED 10.0.0.5:443', target: 'https://10.0.0.5/push' });
      const superseded = reachResult(a.id, m2.toUpperCase(), { outcome: 'rejected', status: 481, detail: 'Call/Transaction Does Not Exist' });
      const m2Timeout = reachResult(a.id, m2, { outcome: 'timeout', status: null, detail: 'no final answer after 7 attempts', at: '2025-03-01T01:00:00.000Z' });
      const other = reachResult(b.id, m1, { outcome: 'rejected', status: 403, detail: 'Forbidden' });
      await store.recordReachResults([first, push, superseded, m2Timeout, other]);
      // Newer by insertion, although its time says it is older.
      const retry = reachResult(a.id, m1, { outcome: 'rejected', status: 486, detail: 'Busy Here', at: '2025-02-28T23:00:00.000Z' });
      await store.recordReachResults([retry]);

      const asStored = (r: ReachResult): ReachResult => ({ ...r, mac: r.mac.toLowerCase(), at: new Date(r.at).toISOString() });
      assert.deepEqual(await store.latestReachResults(a.id), [asStored(retry), asStored(push), asStored(m2Timeout)], 'by mac then method; the later of one batch wins too');
      assert.deepEqual(await store.latestReachResults(a.id, m1.toUpperCase()), [asStored(retry), asStored(push)]);
      assert.deepEqual(await store.latestReachResults(a.id, '0004f2000009'), []);
      assert.deepEqual(await store.latestReachResults(b.id), [other]);

      assert.deepEqual(await store.reachHistory(a.id, m1, 10), [asStored(retry), asStored(push), asStored(first)], 'newest first');
      assert.deepEqual(await store.reachHistory(a.id, m1, 2), [asStored(retry), asStored(push)]);
      assert.deepEqual(await store.reachHistory(a.id, m1, 0), []);
      assert.deepEqual(await store.reachHistory(a.id, m2.toUpperCase(), 10), [asStored(m2Timeout), asStored(superseded)]);
      assert.deepEqual(await store.reachHistory(b.id, m1, 10), [other], "another tenant's results stay its own");
      assert.equal(await store.revision(), rev, 'results are not policy: caches stay valid');
      assert.equal(await tenantRevision(store, 'acme'), a.revision);
    });

    test('reach jobs: create, pending in order, results mark devices done, a retry replaces, status, list newest first', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const b = await store.createTenant(tenantInput('beta'));
      const [m1, m2, m3] = ['0004f2000001', '0004f2000002', '0004f2000003'];
      const rev = await store.revision();
      const job = await store.createReachJob(reachJobInput(a.id, [m3.toUpperCase(), m1, m2], { selector: { site: 'hq', model: 'VVX_500' }, ratePerSecond: 0.5, jitter: 0.123456789 }));
      const expected: ReachJob = {
        id: job.id,
        tenantId: a.id,
        method: 'notify',
        selector: { site: 'hq', model: 'VVX_500' },
        ratePerSecond: 0.5,
        jitter: 0.123456789, // beyond a 4-byte float: double precision on PostgreSQL
        status: 'running',
        total: 3,
        done: 0,
        outcomes: { ok: 0, rejected: 0, timeout: 0, error: 0 },
        createdAt: job.createdAt,
        updatedAt: job.createdAt,
      };
      assert.deepEqual(job, expected);
      assert.ok(Number.isInteger(job.id) && job.id > 0 && !Number.isNaN(Date.parse(job.createdAt)));
      assert.deepEqual(await store.getReachJob(a.id, job.id), expected);
      assert.deepEqual(await store.pendingReachJobDevices(a.id, job.id), [m3, m1, m2], 'creation order, lower-case');

      const r3 = reachResult(a.id, m3, { jobId: job.id });
      const r2 = reachResult(a.id, m2, { jobId: job.id, outcome: 'timeout', status: null, detail: 'no answer' });
      await store.recordReachResults([r3, reachResult(a.id, m1), r2]); // the one-off for m1 is no part of the job
      let got = await store.getReachJob(a.id, job.id);
      assert.deepEqual([got?.total, got?.done, got?.outcomes], [3, 2, { ok: 1, rejected: 0, timeout: 1, error: 0 }]);
      assert.ok(got!.updatedAt >= job.updatedAt, 'progress moves updatedAt');
      assert.deepEqual(await store.pendingReachJobDevices(a.id, job.id), [m1]);

      await store.recordReachResults([reachResult(a.id, m2, { jobId: job.id })]); // a retry
      got = await store.getReachJob(a.id, job.id);
      assert.deepEqual([got?.done, got?.outcomes], [2, { ok: 2, rejected: 0, timeout: 0, error: 0 }], 'the retry replaces the outcome, counted once');
      assert.deepEqual((await store.reachHistory(a.id, m2, 10)).map((r) => r.outcome), ['ok', 'timeout'], 'both results are kept');
      assert.deepEqual(await store.pendingReachJobDevices(a.id, job.id), [m1]);

      await store.recordReachResults([reachResult(a.id, m1, { jobId: job.id, outcome: 'error', status: null, detail: 'no address known' })]);
      assert.deepEqual(await store.pendingReachJobDevices(a.id, job.id), []);
      const done = await store.setReachJobStatus(a.id, job.id, 'done');
      assert.deepEqual(done, { ...expected, status: 'done', done: 3, outcomes: { ok: 2, rejected: 0, timeout: 0, error: 1 }, updatedAt: done.updatedAt });
      assert.ok(done.updatedAt >= got!.updatedAt);
      assert.deepEqual(await store.getReachJob(a.id, job.id), done);

      const second = await store.createReachJob(reachJobInput(a.id, [m2], { method: 'push', ratePerSecond: 1 / 3, jitter: 1 }));
      assert.deepEqual([second.method, second.ratePerSecond, second.jitter, second.selector, second.total], ['push', 1 / 3, 1, {}, 1]);
      const cancelled = await store.setReachJobStatus(a.id, second.id, 'cancelled');
      assert.equal(cancelled.status, 'cancelled');
      assert.deepEqual(await store.listReachJobs(a.id), [cancelled, done], 'newest first, with their counters');
      const back = await store.setReachJobStatus(a.id, second.id, 'running');
      assert.deepEqual(await store.pendingReachJobDevices(a.id, back.id), [m2], 'a running job is resumed from its pending devices');

      assert.deepEqual(await store.listReachJobs(b.id), []);
      assert.equal(await store.getReachJob(b.id, job.id), undefined, "another tenant's job is not found");
      assert.equal(await store.getReachJob(a.id, 999_999), undefined);
      await rejectsWith(store.setReachJobStatus(b.id, job.id, 'cancelled'), NotFoundError, /reach job \d+ does not exist in tenant "beta"/);
      await rejectsWith(store.setReachJobStatus(a.id, 999_999, 'cancelled'), NotFoundError);
      await rejectsWith(store.pendingReachJobDevices(b.id, job.id), NotFoundError, /reach job \d+ does not exist in tenant "beta"/);
      await assert.rejects(store.setReachJobStatus(a.id, job.id, 'paused' as never), TypeError);
      assert.deepEqual(await store.getReachJob(a.id, job.id), done, 'refused changes change nothing');
      assert.equal(await store.revision(), rev, 'jobs are not policy: caches stay valid');
    });

    test('reach: nonsense is a TypeError (and an unknown tenant NotFoundError) that leaves nothing behind', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const bad: [string, Partial<NewReachJob>][] = [
        ['no devices', { macs: [] }],
        ['a MAC twice', { macs: ['0004f2000001', '0004F2000001'] }],
        ['an empty MAC', { macs: [''] }],
        ['a rate of 0', { ratePerSecond: 0 }],
        ['a negative rate', { ratePerSecond: -1 }],
        ['a rate that is no number', { ratePerSecond: Number.NaN }],
        ['an endless rate', { ratePerSecond: Number.POSITIVE_INFINITY }],
        ['a negative jitter', { jitter: -0.01 }],
        ['a jitter above 1', { jitter: 1.01 }],
        ['an unknown method', { method: 'sms' as never }],
        ['a selector that is a list', { selector: ['hq'] as never }],
        ['a selector field that is no string', { selector: { site: 3 } as never }],
      ];
      for (const [what, extra] of bad) {
        await assert.rejects(store.createReachJob(reachJobInput(a.id, ['0004f2000001'], extra)), TypeError, what);
      }
      await assert.rejects(store.createReachJob(reachJobInput(a.id, ['0004f2000001', '0004F2000001'])), /device 0004f2000001 is listed more than once/);
      await rejectsWith(store.createReachJob(reachJobInput(999_999, ['0004f2000001'])), NotFoundError, /tenant 999999 does not exist/);

      const badResults: [string, Partial<ReachResult>][] = [
        ['an unknown outcome', { outcome: 'maybe' as never }],
        ['an unknown method', { method: 'sms' as never }],
        ['a fractional status', { status: 200.5 }],
        ['a time that is no time', { at: 'yesterday' }],
        ['an empty MAC', { mac: '' }],
        ['a detail that is no string', { detail: undefined as never }],
        ['a job id that is no id', { jobId: 0 }],
      ];
      for (const [what, extra] of badResults) {
        await assert.rejects(store.recordReachResults([reachResult(a.id, '0004f2000002'), reachResult(a.id, '0004f2000001', extra)]), TypeError, what);
      }
      await rejectsWith(store.recordReachResults([reachResult(999_999, '0004f2000001')]), NotFoundError, /tenant 999999 does not exist/);
      await assert.rejects(store.reachHistory(a.id, '0004f2000001', -1), TypeError);
      await assert.rejects(store.reachHistory(a.id, '0004f2000001', 1.5), TypeError);
      assert.deepEqual(await store.listReachJobs(a.id), []);
      assert.deepEqual(await reachCounts(), [0, 0, 0], 'refusals leave nothing behind');

      const edges = await store.createReachJob(reachJobInput(a.id, ['0004f2000001'], { ratePerSecond: 0.001, jitter: 0 }));
      assert.deepEqual([edges.ratePerSecond, edges.jitter], [0.001, 0], 'the bounds themselves are fine');
    });

    test('recordReachResults: an unknown job, another tenant’s job or a device not in the job is NotFoundError and records nothing', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const b = await store.createTenant(tenantInput('beta'));
      const [m1, m2] = ['0004f2000001', '0004f2000002'];
      const job = await store.createReachJob(reachJobInput(a.id, [m1, m2]));
      const fine = [reachResult(a.id, m2), reachResult(a.id, m1, { jobId: job.id })];

      await rejectsWith(store.recordReachResults([...fine, reachResult(a.id, m2, { jobId: 999_999 })]), NotFoundError, /reach job 999999 does not exist in tenant "acme"/);
      await rejectsWith(store.recordReachResults([...fine, reachResult(b.id, m2, { jobId: job.id })]), NotFoundError, /reach job \d+ does not exist in tenant "beta"/);
      await rejectsWith(store.recordReachResults([...fine, reachResult(a.id, '0004F2000009', { jobId: job.id })]), NotFoundError, /device 0004f2000009 is not in reach job \d+ of tenant "acme"/);
      assert.deepEqual(await store.latestReachResults(a.id), [], 'the good results of a refused batch are not recorded');
      assert.deepEqual(await store.latestReachResults(b.id), []);
      const unchanged = await store.getReachJob(a.id, job.id);
      assert.deepEqual(unchanged, job, 'the job is untouched: no device done, updatedAt kept');
      assert.deepEqual(await store.pendingReachJobDevices(a.id, job.id), [m1, m2]);
      assert.equal(await countRows('reach_results'), 0);

      await store.recordReachResults(fine);
      assert.deepEqual(await store.pendingReachJobDevices(a.id, job.id), [m2]);
    });

    test('reach: deleting a tenant deletes its results, jobs and job devices, and nothing of other tenants', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const b = await store.createTenant(tenantInput('beta'));
      const c = await store.createTenant(tenantInput('gamma'));
      const macs = ['0004f2000001', '0004f2000002'];
      for (const t of [a, b, c]) {
        const job = await store.createReachJob(reachJobInput(t.id, macs));
        await store.createReachJob(reachJobInput(t.id, macs.slice(1), { method: 'push' }));
        await store.recordReachResults([reachResult(t.id, macs[0]!, { jobId: job.id }), reachResult(t.id, macs[1]!)]);
      }
      assert.deepEqual(await reachCounts(), [6, 6, 9]);
      const keptJobs = await store.listReachJobs(c.id);
      const keptResults = await store.latestReachResults(c.id);

      await store.deleteTenant(a.id);
      assert.deepEqual(await reachCounts(), [4, 4, 6], "only the tenant's rows went");
      // The schema's own cascades, without the store's explicit deletes.
      await execRaw(`delete from tenants where id = ${b.id}`);
      assert.deepEqual(await reachCounts(), [2, 2, 3], 'the foreign keys cascade from tenants');
      assert.deepEqual(await store.listReachJobs(c.id), keptJobs);
      assert.deepEqual(await store.latestReachResults(c.id), keptResults);

      const again = await store.createTenant(tenantInput('acme'));
      assert.deepEqual(await store.listReachJobs(again.id), []);
      assert.deepEqual(await store.latestReachResults(again.id), []);
    });

    // -------------------------------------------------------------------------------------------
    // Lens-style sites, placement by address, bulk import

    /** Everything of these tenants a reader can see, to show that a refused change changed nothing. */
    async function everything(tenantIds: number[]) {
      return {
        revision: await store.revision(),
        tenants: await store.listTenants(),
        policies: await Promise.all(tenantIds.map((id) => store.loadTenantPolicy(id))),
        devices: await Promise.all(tenantIds.map((id) => store.listDevices(id))),
      };
    }

    test('sites: description, location and Lens subnets round-trip; overlapping subnets are refused naming both sites, changing nothing', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const b = await store.createTenant(tenantInput('beta'));
      const hqSubnets = [{ public: '203.0.113.0/24', private: ['10.1.0.0/16'] }];
      const hq = await store.createSite(a.id, 'hq', 'Headquarters', { description: 'Main office', location: 'Floor 3, Zürich "Nord"', subnets: hqSubnets });
      assert.deepEqual(hq, { id: hq.id, tenantId: a.id, slug: 'hq', name: 'Headquarters', tftpSubnets: [], description: 'Main office', location: 'Floor 3, Zürich "Nord"', subnets: hqSubnets });
      assert.deepEqual(await store.getSite(a.id, 'hq'), hq);
      // One public subnet, disjoint private subnets: allowed. Subnets are stored normalised.
      const branch = await store.createSite(a.id, 'branch', 'Branch', {
        subnets: [
          { public: '203.0.113.0/24', private: ['10.2.0.0/16'] },
          { public: '2001:DB8:0::/48', private: [] },
        ],
      });
      assert.deepEqual(branch.subnets, [
        { public: '203.0.113.0/24', private: ['10.2.0.0/16'] },
        { public: '2001:db8::/48', private: [] },
      ]);
      assert.deepEqual((await store.loadTenantPolicy(a.id)).sites, [branch, hq]);
      await store.createSite(b.id, 'hq', 'Beta HQ', { subnets: [{ public: '203.0.113.0/24', private: [] }] }); // other tenants do not count

      const before = await everything([a.id, b.id]);
      await rejectsWith(
        store.createSite(a.id, 'lab', 'Lab', { subnets: [{ public: '203.0.113.128/25', private: ['10.1.5.0/24'] }] }),
        ConflictError,
        /^in tenant "acme", the subnets of sites "hq" and "lab" overlap: 203\.0\.113\.0\/24 \(private 10\.1\.0\.0\/16\) of "hq" and 203\.0\.113\.128\/25 \(private 10\.1\.5\.0\/24\) of "lab"/,
      );
      await rejectsWith(store.updateSite(a.id, branch.id, { name: 'Renamed', subnets: [{ public: '203.0.113.0/24', private: [] }] }), ConflictError, /sites "hq" and "branch" overlap/);
      await rejectsWith(store.updateSite(a.id, branch.id, { subnets: [{ public: '10.0.0.0/8', private: [] }, { public: '10.9.0.0/16', private: [] }] }), ConflictError, /site "branch" lists 10\.0\.0\.0\/8 .* and 10\.9\.0\.0\/16 .*which overlap/);
      await assert.rejects(store.createSite(a.id, 'bad', 'Bad', { subnets: [{ public: '10.0.0.1/8', private: [] }] }), (e: unknown) => e instanceof DomainError && /did you mean 10\.0\.0\.0\/8/.test(e.message));
      assert.deepEqual(await everything([a.id, b.id]), before, 'refusals change nothing, not even the revision');

      // A site may change its own subnets (its old ones do not count against it); absent fields are kept.
      const moved = await store.updateSite(a.id, hq.id, { description: 'Moved', subnets: [{ public: '203.0.113.0/24', private: ['10.1.0.0/16', '10.3.0.0/16'] }] });
      assert.deepEqual(moved, { ...hq, description: 'Moved', subnets: [{ public: '203.0.113.0/24', private: ['10.1.0.0/16', '10.3.0.0/16'] }] });
      const renamed = await store.updateSite(a.id, hq.id, { name: 'HQ', location: '' });
      assert.deepEqual(renamed, { ...moved, name: 'HQ', location: '' });
      assert.deepEqual(await store.updateSite(a.id, branch.id, {}), branch);
      assert.deepEqual((await store.updateSite(a.id, branch.id, { subnets: [] })).subnets, []);
      // Now free: the lab fits.
      await store.createSite(a.id, 'lab', 'Lab', { subnets: [{ public: '203.0.113.128/25', private: ['10.4.0.0/16'] }] });
    });

    test('tenants: rehomeDevices defaults to off, is given at creation and patched', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const b = await store.createTenant(tenantInput('beta', { rehomeDevices: true }));
      assert.equal(a.rehomeDevices, false);
      assert.equal(b.rehomeDevices, true);
      assert.equal((await store.updateTenant(a.id, { rehomeDevices: true })).rehomeDevices, true);
      assert.equal((await store.updateTenant(a.id, { name: 'Acme' })).rehomeDevices, true, 'a patch without it keeps it');
      assert.equal((await store.updateTenant(b.id, { rehomeDevices: false })).rehomeDevices, false);
      assert.deepEqual(
        (await store.listTenants()).map((t) => t.rehomeDevices),
        [true, false],
      );
    });

    test('recordSightings places devices by their address: edges of a subnet, private subnets decide, no re-home unless the tenant asks', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const other = await store.createTenant(tenantInput('other'));
      const hq = await store.createSite(a.id, 'hq', 'HQ', { subnets: [{ public: '203.0.113.0/24', private: [] }] });
      const f1 = await store.createSite(a.id, 'floor-1', 'Floor 1', { subnets: [{ public: '198.51.100.0/24', private: ['10.1.0.0/16'] }] });
      const f2 = await store.createSite(a.id, 'floor-2', 'Floor 2', { subnets: [{ public: '198.51.100.0/24', private: ['10.2.0.0/16'] }] });
      const manual = await store.createSite(a.id, 'manual', 'Manual');
      await store.registerDevice(a.id, '0004f2000010', { siteId: manual.id });
      await store.registerDevice(a.id, '0004f2000011', { label: 'registered, no site' });
      const siteOf = async (mac: string, tenantId = a.id) => (await store.getDevice(tenantId, mac))?.siteId;
      const at = '2025-01-01T10:00:00.000Z';

      let g0 = await store.revision();
      let t0 = await tenantRevision(store, 'acme');
      await store.recordSightings([
        { tenantId: a.id, mac: '0004f2000001', at, ip: '203.0.113.0' },
        { tenantId: a.id, mac: '0004f2000002', at, ip: '203.0.113.255' },
        { tenantId: a.id, mac: '0004f2000003', at, ip: '203.0.114.0' },
        { tenantId: a.id, mac: '0004f2000004', at, ip: '203.0.112.255' },
        { tenantId: a.id, mac: '0004f2000005', at, ip: '198.51.100.7', privateIp: '10.2.3.4' },
        { tenantId: a.id, mac: '0004f2000006', at, ip: '198.51.100.7', privateIp: '10.1.3.4' },
        { tenantId: a.id, mac: '0004f2000007', at, ip: '198.51.100.7' },
        { tenantId: a.id, mac: '0004f2000008', at },
        { tenantId: a.id, mac: '0004f2000010', at, ip: '203.0.113.9' },
        { tenantId: a.id, mac: '0004f2000011', at, ip: '::ffff:203.0.113.10' },
        { tenantId: other.id, mac: '0004f2000001', at, ip: '203.0.113.1' },
      ]);
      const macs = ['0004f2000001', '0004f2000002', '0004f2000003', '0004f2000004', '0004f2000005', '0004f2000006', '0004f2000007', '0004f2000008', '0004f2000010', '0004f2000011'];
      assert.deepEqual(await Promise.all(macs.map((m) => siteOf(m))), [hq.id, hq.id, null, null, f2.id, f1.id, null, null, manual.id, hq.id]);
      assert.equal(await siteOf('0004f2000001', other.id), null, 'another tenant’s sites never place a device');
      assert.equal(await tenantRevision(store, 'acme'), t0 + 1, 'placing devices bumps the tenant revision once per batch');
      assert.equal(await store.revision(), g0 + 1);
      assert.equal(await tenantRevision(store, 'other'), 1);

      // Addresses that moved: without the tenant's option, a placed device stays; nothing changes, nothing is bumped.
      const later = '2025-01-01T11:00:00.000Z';
      const moves: Sighting[] = [
        { tenantId: a.id, mac: '0004f2000001', at: later, ip: '198.51.100.9', privateIp: '10.1.0.1' },
        { tenantId: a.id, mac: '0004f2000010', at: later, ip: '203.0.113.9' },
        { tenantId: a.id, mac: '0004f2000002', at: later, ip: '192.0.2.1' },
        { tenantId: a.id, mac: '0004f2000005', at: later, ip: '198.51.100.7', privateIp: '10.2.3.4' },
      ];
      g0 = await store.revision();
      t0 = await tenantRevision(store, 'acme');
      await store.recordSightings(moves);
      assert.deepEqual(await Promise.all(['0004f2000001', '0004f2000010', '0004f2000002', '0004f2000005'].map((m) => siteOf(m))), [hq.id, manual.id, hq.id, f2.id]);
      assert.equal((await store.getDevice(a.id, '0004f2000001'))?.lastIp, '198.51.100.9');
      assert.equal(await tenantRevision(store, 'acme'), t0, 'no site changed: no bump');
      assert.equal(await store.revision(), g0);

      // With rehomeDevices, devices follow their address into another site; an address in no site keeps the site.
      await store.updateTenant(a.id, { rehomeDevices: true });
      g0 = await store.revision();
      t0 = await tenantRevision(store, 'acme');
      await store.recordSightings(moves.map((s) => ({ ...s, at: '2025-01-01T12:00:00.000Z' })));
      assert.deepEqual(await Promise.all(['0004f2000001', '0004f2000010', '0004f2000002', '0004f2000005'].map((m) => siteOf(m))), [f1.id, hq.id, hq.id, f2.id]);
      assert.equal(await tenantRevision(store, 'acme'), t0 + 1);
      assert.equal(await store.revision(), g0 + 1);
      // Seen again where they already belong: nothing moves, nothing is bumped.
      await store.recordSightings(moves.map((s) => ({ ...s, at: '2025-01-01T12:30:00.000Z' })));
      assert.equal(await tenantRevision(store, 'acme'), t0 + 1);

      // A late batch carries an older address: the stored newest address decides, so nothing moves back.
      t0 = await tenantRevision(store, 'acme');
      await store.recordSightings([{ tenantId: a.id, mac: '0004f2000001', at: '2025-01-01T09:00:00.000Z', ip: '203.0.113.50' }]);
      assert.equal(await siteOf('0004f2000001'), f1.id);
      assert.equal(await tenantRevision(store, 'acme'), t0);
    });

    function importPlan(extra: Partial<ImportPlan> = {}): ImportPlan {
      return { sites: [], groups: [], models: [], devices: [], ...extra };
    }

    test('applyImport creates and updates sites, groups, models, devices and parameters (merge and replace), counts what changed, bumps once', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const b = await store.createTenant(tenantInput('beta'));
      const hq = await store.createSite(a.id, 'hq', 'HQ', { location: 'Old place', tftpSubnets: ['10.0.0.0/8'] });
      await store.setParameters(a.id, { kind: 'site', id: hq.id }, { 'tcpIpApp.sntp.address': 'ntp.old', 'keep.me': '1' });
      const sales = await store.createGroup(a.id, 'sales', 'Sales');
      await store.setParameters(a.id, { kind: 'group', id: sales.id }, { a: '1', b: '2' });
      const vvx500 = await store.upsertModelPolicy(a.id, 'VVX_500', { appFilePath: 'vvx.ld' });
      const d1 = await store.registerDevice(a.id, '0004f2000001', { label: 'Old label', siteId: hq.id, groupId: sales.id });
      await store.setParameters(a.id, { kind: 'device', id: d1.id }, { 'reg.1.address': '1001', 'reg.1.label': 'Old' });
      await store.registerDevice(a.id, '0004f2000002', { label: 'Same', siteId: hq.id });
      const at = '2025-01-01T10:00:00.000Z';
      await store.recordSightings([
        { tenantId: a.id, mac: '0004f2000001', at, model: 'VVX_500' },
        { tenantId: a.id, mac: '0004f2000003', at, model: 'VVX_400', ip: '10.0.0.3' },
      ]);
      await store.registerDevice(b.id, '0004f2000009', {});
      const bBefore = await everything([b.id]);
      const g0 = await store.revision();
      const t0 = await tenantRevision(store, 'acme');

      const plan = importPlan({
        sites: [
          { slug: 'hq', name: 'Headquarters', description: 'Main', subnets: [{ public: '203.0.113.0/24', private: [] }], parameters: { mode: 'merge', values: { 'tcpIpApp.sntp.address': 'ntp.new' } } },
          { slug: 'branch', name: 'Branch', location: 'Bern', parameters: { mode: 'replace', values: { x: '1' } } },
        ],
        groups: [
          { slug: 'sales', name: 'Sales', parameters: { mode: 'replace', values: { a: '1', c: '3' } } },
          { slug: 'support', name: 'Support' },
        ],
        models: [{ model: 'VVX_500', parameters: { mode: 'merge', values: { 'up.x': '1' } } }, { model: 'SSIP_6000' }],
        devices: [
          { mac: '00:04:F2:00:00:01', label: 'Reception', site: 'branch', group: null, model: 'VVX_600', parameters: { mode: 'replace', values: { 'reg.1.address': '1001' } } },
          { mac: '0004f2000002', label: 'Same', site: 'hq' },
          { mac: '0004f2000003', site: 'hq', model: 'VVX_600' },
          { mac: '0004f2000004', label: 'New', group: 'support', model: 'VVX_250', parameters: { mode: 'merge', values: Object.fromEntries([['reg.1.address', '1004'], ['__proto__', 'odd']]) } },
        ],
      });
      const counts = await store.applyImport(a.id, plan);
      assert.deepEqual(counts, {
        created: { sites: 1, groups: 1, models: 1, devices: 2 },
        updated: { sites: 1, groups: 1, models: 1, devices: 1 },
        parametersSet: 6,
        parametersRemoved: 2,
      });
      assert.equal(await tenantRevision(store, 'acme'), t0 + 1, 'one bump for the whole import');
      assert.equal(await store.revision(), g0 + 1);
      assert.deepEqual(await everything([b.id]), { ...bBefore, revision: g0 + 1, tenants: await store.listTenants() }, 'other tenants untouched');

      const policy = await store.loadTenantPolicy(a.id);
      const site = (slug: string) => policy.sites.find((s) => s.slug === slug)!;
      const group = (slug: string) => policy.groups.find((g) => g.slug === slug)!;
      assert.deepEqual(site('hq'), { ...hq, name: 'Headquarters', description: 'Main', location: 'Old place', subnets: [{ public: '203.0.113.0/24', private: [] }] });
      assert.deepEqual(site('branch'), { id: site('branch').id, tenantId: a.id, slug: 'branch', name: 'Branch', tftpSubnets: [], description: '', location: 'Bern', subnets: [] });
      assert.deepEqual(policy.groups.map((g) => [g.slug, g.name]), [['sales', 'Sales'], ['support', 'Support']]);
      assert.deepEqual(policy.models.map((m) => [m.model, m.appFilePath]), [['SSIP_6000', null], ['VVX_500', 'vvx.ld']]);
      const dev = (mac: string) => policy.devices.find((d) => d.mac === mac)!;
      assert.deepEqual(
        policy.devices.map((d) => [d.mac, d.registered, d.label, d.siteId, d.groupId, d.model]),
        [
          ['0004f2000001', true, 'Reception', site('branch').id, null, 'VVX_500'],
          ['0004f2000002', true, 'Same', hq.id, null, null],
          ['0004f2000003', true, '', hq.id, null, 'VVX_400'],
          ['0004f2000004', true, 'New', null, group('support').id, 'VVX_250'],
        ],
        'the seen-only device is registered with its inventory; a model the phone reported wins over the file',
      );
      assert.equal(dev('0004f2000003').lastIp, '10.0.0.3');
      const params = (await store.listParameters(a.id)).map((p) => `${p.scope}:${p.scopeId}:${p.name}=${p.value}`);
      assert.deepEqual(
        params.sort(),
        [
          `device:${d1.id}:reg.1.address=1001`,
          `device:${dev('0004f2000004').id}:__proto__=odd`,
          `device:${dev('0004f2000004').id}:reg.1.address=1004`,
          `group:${sales.id}:a=1`,
          `group:${sales.id}:c=3`,
          `model:${vvx500.id}:up.x=1`,
          `site:${hq.id}:keep.me=1`,
          `site:${hq.id}:tcpIpApp.sntp.address=ntp.new`,
          `site:${site('branch').id}:x=1`,
        ].sort(),
      );

      // The same file again changes nothing (and says so), but still counts as one change of the tenant.
      const before = await everything([a.id]);
      const again = await store.applyImport(a.id, plan);
      assert.deepEqual(again, { created: { sites: 0, groups: 0, models: 0, devices: 0 }, updated: { sites: 0, groups: 0, models: 0, devices: 0 }, parametersSet: 0, parametersRemoved: 0 });
      const after = await everything([a.id]);
      assert.equal(after.policies[0]!.tenant.revision, t0 + 2);
      assert.deepEqual({ ...after, revision: 0, tenants: [], policies: after.policies.map((p) => ({ ...p, tenant: null })) }, { ...before, revision: 0, tenants: [], policies: before.policies.map((p) => ({ ...p, tenant: null })) });

      // Only parameters change: the row counts as updated. An empty replace clears the layer.
      const third = await store.applyImport(
        a.id,
        importPlan({
          sites: [{ slug: 'hq', name: 'Headquarters' }],
          groups: [{ slug: 'sales', name: 'Sales', parameters: { mode: 'replace', values: {} } }],
          devices: [{ mac: '0004f2000002', parameters: { mode: 'merge', values: { y: '2' } } }],
        }),
      );
      assert.deepEqual(third, { created: { sites: 0, groups: 0, models: 0, devices: 0 }, updated: { sites: 0, groups: 1, models: 0, devices: 1 }, parametersSet: 1, parametersRemoved: 2 });
      assert.deepEqual(await store.listParameters(a.id, { kind: 'group', id: sales.id }), []);
      assert.equal((await store.getDevice(a.id, '0004f2000002'))?.label, 'Same', 'fields the plan leaves out are kept');
      assert.deepEqual(await store.getSite(a.id, 'hq'), site('hq'), 'a site given with its name only keeps the rest');
    });

    test('applyImport refusals name the problem and leave the database exactly as it was', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const b = await store.createTenant(tenantInput('beta'));
      const hq = await store.createSite(a.id, 'hq', 'HQ', { subnets: [{ public: '203.0.113.0/24', private: [] }] });
      await store.setParameters(a.id, { kind: 'site', id: hq.id }, { x: '1' });
      await store.registerDevice(a.id, '0004f2000002', { label: 'Kept', siteId: hq.id });
      await store.registerDevice(b.id, '0004f2000099', {});
      await store.recordSightings([{ tenantId: b.id, mac: '0004f2000098', at: '2025-01-01T10:00:00.000Z' }]);
      const good = (): ImportPlan =>
        importPlan({
          sites: [{ slug: 'new', name: 'New', subnets: [{ public: '198.51.100.0/24', private: [] }], parameters: { mode: 'replace', values: { y: '2' } } }],
          groups: [{ slug: 'g', name: 'G' }],
          models: [{ model: 'VVX_500', parameters: { mode: 'merge', values: { z: '3' } } }],
          devices: [
            { mac: '0004f2000001', site: 'new', group: 'g', parameters: { mode: 'merge', values: { w: '4' } } },
            { mac: '0004f2000002', label: 'Changed', site: null },
            // Only seen in another tenant, never registered there: not a conflict.
            { mac: '0004f2000098', site: 'hq' },
          ],
        });
      const before = await everything([a.id, b.id]);
      const refusals: [string, ImportPlan, new (...args: any[]) => Error, RegExp][] = [
        ['a MAC registered in another tenant', { ...good(), devices: [...good().devices, { mac: '0004F2000099' }] }, ConflictError, /^device 0004f2000099 is registered in tenant "beta"/],
        ['subnets overlapping an existing site', { ...good(), sites: [...good().sites, { slug: 'lab', name: 'Lab', subnets: [{ public: '203.0.113.128/25', private: [] }] }] }, ConflictError, /sites "hq" and "lab" overlap/],
        [
          'subnets overlapping another site of the plan',
          { ...good(), sites: [...good().sites, { slug: 'lab', name: 'Lab', subnets: [{ public: '198.51.100.0/25', private: ['10.0.0.0/8'] }] }] },
          ConflictError,
          /sites "new" and "lab" overlap: 198\.51\.100\.0\/24 \(any private address\) of "new" and 198\.51\.100\.0\/25 of "lab"/,
        ],
        ['a MAC twice', { ...good(), devices: [...good().devices, { mac: '00-04-f2-00-00-01' }] }, ConflictError, /^device 0004f2000001 is given twice in the import/],
        ['a site twice', { ...good(), sites: [...good().sites, { slug: 'new', name: 'Again' }] }, ConflictError, /^site "new" is given twice/],
        ['a group twice', { ...good(), groups: [...good().groups, { slug: 'g', name: 'Again' }] }, ConflictError, /^group "g" is given twice/],
        ['a model twice', { ...good(), models: [...good().models, { model: 'VVX_500' }] }, ConflictError, /^model VVX_500 is given twice/],
        ['an unknown site', { ...good(), devices: [...good().devices, { mac: '0004f2000003', site: 'nowhere' }] }, NotFoundError, /^device 0004f2000003 names site "nowhere", which does not exist in tenant "acme"/],
        ['an unknown group', { ...good(), devices: [...good().devices, { mac: '0004f2000003', group: 'nobody' }] }, NotFoundError, /^device 0004f2000003 names group "nobody"/],
        ['a bad MAC', { ...good(), devices: [...good().devices, { mac: '0004f20000' }] }, TypeError, /"0004f20000" is not a device MAC address/],
        ['a value that is not text', { ...good(), devices: [{ mac: '0004f2000003', parameters: { mode: 'merge', values: { n: 5 as unknown as string } } }] }, TypeError, /parameter n: value must be a string/],
        ['an unknown mode', { ...good(), groups: [{ slug: 'g', name: 'G', parameters: { mode: 'add' as 'merge', values: {} } }] }, TypeError, /mode: 'merge' \| 'replace'/],
      ];
      for (const [what, plan, cls, message] of refusals) {
        await assert.rejects(store.applyImport(a.id, plan), (err: unknown) => {
          assert.ok(err instanceof cls, `${what}: expected ${cls.name}, got ${String(err)}`);
          assert.match((err as Error).message, message, what);
          return true;
        });
        assert.deepEqual(await everything([a.id, b.id]), before, `${what}: nothing changed`);
      }
      await rejectsWith(store.applyImport(9999, good()), NotFoundError, /tenant 9999 does not exist/);

      // The plan the refusals were built from goes through.
      const counts = await store.applyImport(a.id, good());
      assert.deepEqual(counts.created, { sites: 1, groups: 1, models: 1, devices: 2 });
      assert.equal((await store.getDevice(b.id, '0004f2000098'))?.registered, false, 'the other tenant’s seen-only row is its own');
      assert.equal((await store.getDevice(a.id, '0004f2000098'))?.siteId, hq.id);
    });

    test('applyImport: 20,000 devices with parameters in one transaction, then a re-import that changes half', async (t) => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const n = 20_000;
      const mac = (i: number) => `0004f2${i.toString(16).padStart(6, '0')}`;
      const plan = (label: (i: number) => string): ImportPlan =>
        importPlan({
          sites: Array.from({ length: 20 }, (_, i) => ({ slug: `site-${i}`, name: `Site ${i}`, subnets: [{ public: `198.51.${i}.0/24`, private: [] }] })),
          groups: Array.from({ length: 10 }, (_, i) => ({ slug: `group-${i}`, name: `Group ${i}` })),
          models: [{ model: 'VVX_500' }, { model: 'VVX_600' }],
          devices: Array.from({ length: n }, (_, i) => ({
            mac: mac(i),
            label: label(i),
            site: `site-${i % 20}`,
            group: `group-${i % 10}`,
            model: i % 2 ? 'VVX_500' : 'VVX_600',
            parameters: { mode: 'replace' as const, values: { 'reg.1.address': String(1000 + i), 'reg.1.label': label(i) } },
          })),
        });
      let t0 = performance.now();
      const counts = await store.applyImport(a.id, plan((i) => `Desk ${i}`));
      const firstMs = performance.now() - t0;
      assert.deepEqual(counts, { created: { sites: 20, groups: 10, models: 2, devices: n }, updated: { sites: 0, groups: 0, models: 0, devices: 0 }, parametersSet: 2 * n, parametersRemoved: 0 });
      t0 = performance.now();
      const second = await store.applyImport(a.id, plan((i) => (i % 2 ? `Desk ${i}` : `Moved ${i}`)));
      const secondMs = performance.now() - t0;
      t.diagnostic(`${backend.name}: applyImport ${n} new devices ${firstMs.toFixed(0)} ms, ${n / 2} changed ${secondMs.toFixed(0)} ms`);
      assert.deepEqual(second, { created: { sites: 0, groups: 0, models: 0, devices: 0 }, updated: { sites: 0, groups: 0, models: 0, devices: n / 2 }, parametersSet: n / 2, parametersRemoved: 0 });
      const devices = await store.listDevices(a.id);
      assert.equal(devices.length, n);
      const sites = new Map((await store.listSites(a.id)).map((s) => [s.id, s.slug]));
      const d = devices.find((x) => x.mac === mac(12_346))!;
      assert.deepEqual([d.label, sites.get(d.siteId!), d.model, d.registered], ['Moved 12346', 'site-6', 'VVX_600', true]);
      const params = await store.listParameters(a.id, { kind: 'device', id: d.id });
      assert.deepEqual(params.map((p) => `${p.name}=${p.value}`), ['reg.1.address=13346', 'reg.1.label=Moved 12346']);
      assert.equal((await store.listParameters(a.id)).length, 2 * n);
    });

    test('findDeviceTenants names the tenant each MAC is registered in', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const b = await store.createTenant(tenantInput('beta'));
      await store.registerDevice(b.id, '0004f2000001', {});
      await store.registerDevice(a.id, '0004f2000001', {});
      await store.registerDevice(b.id, '0004f2000002', {});
      await store.recordSightings([{ tenantId: a.id, mac: '0004f2000003', at: '2025-01-01T10:00:00.000Z' }]);
      const found = await store.findDeviceTenants(['0004F2000001', '0004f2000002', '0004f2000003', '0004f2000004']);
      assert.deepEqual([...found].sort(), [
        ['0004f2000001', 'acme'],
        ['0004f2000002', 'beta'],
      ]);
      const many = Array.from({ length: 2500 }, (_, i) => `0004f2${(i + 16).toString(16).padStart(6, '0')}`);
      assert.equal((await store.findDeviceTenants([...many, '0004f2000002'])).get('0004f2000002'), 'beta', 'long lists are looked up in chunks');
      assert.equal((await store.findDeviceTenants([])).size, 0);
    });

    test('migration 0010 gives existing sites no description, location or subnets, and tenants no re-homing', async () => {
      const dataDir = tempDir();
      let databaseUrl: string | undefined;
      let db: Kysely<any>;
      if (backend.name === 'sqlite') {
        db = new Kysely<any>({ dialect: new SqliteDialect({ database: new BetterSqlite3(join(dataDir, 'polyprov.sqlite')) }) });
      } else {
        const dbName = `m${process.pid}_${++dbCounter}`;
        const admin = new pg.Client({ connectionString: cluster!.adminUrl });
        await admin.connect();
        await admin.query(`create database ${dbName}`).finally(() => admin.end());
        databaseUrl = `postgres://postgres@127.0.0.1:${cluster!.port}/${dbName}`;
        db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: databaseUrl }) }) });
      }
      try {
        const { error } = await new Migrator({ db, provider: new InCodeMigrationProvider(backend.name) }).migrateTo('0009-reach');
        assert.equal(error, undefined);
        const row = await db
          .insertInto('tenants')
          .values({ slug: 'old', name: 'Old', prov_username: 'old', prov_password_hash: 'h', prov_digest_ha1: 'd', path_prefix: null, unknown_devices: 'serve', app_file_path: 'sip.ld', extra_config_files: '[]', revision: 1, created_at: new Date().toISOString() })
          .returning('id')
          .executeTakeFirstOrThrow();
        await db.insertInto('sites').values({ tenant_id: row.id, slug: 'hq', name: 'HQ', tftp_subnets: '["10.0.0.0/8"]' }).execute();
      } finally {
        await db.destroy();
      }
      store = await track(openStore({ dataDir, ...(databaseUrl ? { databaseUrl } : {}) }));
      const t = await store.getTenantBySlug('old');
      assert.equal(t?.rehomeDevices, false);
      const site = await store.getSite(t!.id, 'hq');
      assert.deepEqual([site?.tftpSubnets, site?.description, site?.location, site?.subnets], [['10.0.0.0/8'], '', '', []]);
    });

    // -----------------------------------------------------------------------------------------
    // Administrators, tokens, sessions, audit log, login failures

    test('admin users: create, get by name in any case, list by name, update, delete; role and tenant must go together', async () => {
      await fresh();
      const acme = await store.createTenant(tenantInput('acme'));
      const revision = await store.revision();
      const root = await store.createAdminUser({ username: 'Root', passwordHash: 'scrypt$h1', role: 'super-admin', tenantId: null });
      assert.equal(typeof root.id, 'number');
      assert.deepEqual({ ...root, createdAt: '' }, { id: root.id, username: 'Root', passwordHash: 'scrypt$h1', role: 'super-admin', tenantId: null, createdAt: '', disabled: false });
      assert.ok(!Number.isNaN(Date.parse(root.createdAt)));
      const bob = await store.createAdminUser({ username: 'bob', passwordHash: 'scrypt$h2', role: 'tenant-admin', tenantId: acme.id });
      const carol = await store.createAdminUser({ username: 'carol', passwordHash: 'scrypt$h3', role: 'read-only', tenantId: null, disabled: true });
      assert.equal(carol.disabled, true);

      assert.deepEqual(await store.getAdminUserByName('ROOT'), root);
      assert.deepEqual(await store.getAdminUserByName('root'), root);
      assert.deepEqual(await store.getAdminUser(bob.id), bob);
      assert.equal(await store.getAdminUserByName('nobody'), undefined);
      assert.equal(await store.getAdminUser(9999), undefined);
      assert.deepEqual((await store.listAdminUsers()).map((u) => u.username), ['bob', 'carol', 'Root'], 'ordered by lower-case name');
      assert.deepEqual((await store.listAdminUsers({ tenantId: acme.id })).map((u) => u.username), ['bob']);

      await rejectsWith(store.createAdminUser({ username: 'rOOt', passwordHash: 'x', role: 'read-only', tenantId: null }), ConflictError, /^user "Root" already exists$/);
      await rejectsWith(store.createAdminUser({ username: 'dan', passwordHash: 'x', role: 'tenant-admin', tenantId: 9999 }), NotFoundError, /tenant 9999 does not exist/);
      await rejectsWith(store.createAdminUser({ username: 'dan', passwordHash: 'x', role: 'tenant-admin', tenantId: null }), TypeError, /admin user "dan": a tenant-admin works in one tenant/);
      await rejectsWith(store.createAdminUser({ username: 'dan', passwordHash: 'x', role: 'super-admin', tenantId: acme.id }), TypeError, /a super-admin covers every tenant/);
      await rejectsWith(store.createAdminUser({ username: 'dan', passwordHash: 'x', role: 'root' as 'read-only', tenantId: null }), TypeError, /unknown role "root"/);
      await rejectsWith(store.createAdminUser({ username: '', passwordHash: 'x', role: 'read-only', tenantId: null }), TypeError, /no user name/);
      await rejectsWith(store.createAdminUser({ username: 'dan', passwordHash: '', role: 'read-only', tenantId: null }), TypeError, /no password hash/);
      assert.equal((await store.listAdminUsers()).length, 3, 'refusals created nothing');

      const promoted = await store.updateAdminUser(bob.id, { role: 'super-admin', tenantId: null, passwordHash: 'scrypt$new' });
      assert.deepEqual([promoted.role, promoted.tenantId, promoted.passwordHash, promoted.username, promoted.createdAt], ['super-admin', null, 'scrypt$new', 'bob', bob.createdAt]);
      const reader = await store.updateAdminUser(carol.id, { tenantId: acme.id, disabled: false });
      assert.deepEqual([reader.role, reader.tenantId, reader.disabled, reader.passwordHash], ['read-only', acme.id, false, 'scrypt$h3'], 'absent fields are kept');
      await rejectsWith(store.updateAdminUser(carol.id, { role: 'super-admin' }), TypeError, /a super-admin covers every tenant/);
      await rejectsWith(store.updateAdminUser(carol.id, { tenantId: 9999 }), NotFoundError, /tenant 9999 does not exist/);
      await rejectsWith(store.updateAdminUser(9999, { disabled: true }), NotFoundError, /admin user 9999 does not exist/);
      assert.deepEqual(await store.getAdminUser(carol.id), reader, 'refused updates changed nothing');

      assert.equal(await store.deleteAdminUser(carol.id), true);
      assert.equal(await store.deleteAdminUser(carol.id), false);
      assert.equal(await store.getAdminUserByName('carol'), undefined);
      assert.equal(await store.revision(), revision, 'administrators do not move the revision phones are served by');
    });

    test('admin users: the last enabled super-admin cannot be removed, disabled or demoted, even by several writers at once', async () => {
      await fresh();
      const acme = await store.createTenant(tenantInput('acme'));
      const root = await store.createAdminUser({ username: 'root', passwordHash: 'h', role: 'super-admin', tenantId: null });
      const off = await store.createAdminUser({ username: 'off', passwordHash: 'h', role: 'super-admin', tenantId: null, disabled: true });
      const last = /^user "root" is the last enabled super-admin: add \(or enable\) another super-admin first$/;
      await rejectsWith(store.deleteAdminUser(root.id), ConflictError, last);
      await rejectsWith(store.updateAdminUser(root.id, { disabled: true }), ConflictError, last);
      await rejectsWith(store.updateAdminUser(root.id, { role: 'tenant-admin', tenantId: acme.id }), ConflictError, last);
      assert.deepEqual(await store.getAdminUser(root.id), root);
      // A disabled super-admin is not the last enabled one: it can go.
      assert.equal(await store.deleteAdminUser(off.id), true);
      // With others enabled, any may go, but never all: on PostgreSQL from several connections at
      // once (SQLite's write transactions take turns: one process's connections would only wait).
      const more = [root];
      for (const name of ['second', 'third', 'fourth']) more.push(await store.createAdminUser({ username: name, passwordHash: 'h', role: 'super-admin', tenantId: null }));
      const writers = backend.name === 'postgres' ? await Promise.all(more.map(() => f.open())) : more.map(() => store);
      const change = (i: number) => (i % 2 ? writers[i]!.updateAdminUser(more[i]!.id, { disabled: true }) : writers[i]!.updateAdminUser(more[i]!.id, { role: 'read-only' }));
      const outcomes = backend.name === 'postgres' ? await Promise.allSettled(more.map((_, i) => change(i))) : await sequentially(more.length, change);
      assert.deepEqual(outcomes.map((o) => o.status).filter((x) => x === 'fulfilled').length, more.length - 1);
      const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
      assert.ok(refused.reason instanceof ConflictError, String(refused.reason));
      const enabled = (await store.listAdminUsers()).filter((u) => u.role === 'super-admin' && !u.disabled);
      assert.equal(enabled.length, 1);
    });

    test('API tokens: create, find by hash with the user, touch never backwards, revoke keeps the first time, list; they go with their user', async () => {
      await fresh();
      const root = await store.createAdminUser({ username: 'root', passwordHash: 'h', role: 'super-admin', tenantId: null });
      const bob = await store.createAdminUser({ username: 'bob', passwordHash: 'h', role: 'read-only', tenantId: null });
      const hash = (s: string) => createHash('sha256').update(s).digest('hex');
      const t1 = await store.createApiToken({ userId: bob.id, name: 'billing sync', tokenHash: hash('one'), prefix: 'pp_aaaaaaaa', expiresAt: '2030-01-01T00:00:00Z' });
      assert.deepEqual({ ...t1, createdAt: '' }, { id: t1.id, userId: bob.id, name: 'billing sync', prefix: 'pp_aaaaaaaa', createdAt: '', lastUsedAt: null, revokedAt: null, expiresAt: '2030-01-01T00:00:00.000Z' });
      const t2 = await store.createApiToken({ userId: bob.id, name: 'ci', tokenHash: hash('two'), prefix: 'pp_bbbbbbbb', expiresAt: null });
      await store.createApiToken({ userId: root.id, name: 'ops', tokenHash: hash('three'), prefix: 'pp_cccccccc', expiresAt: null });

      const found = await store.findApiTokenByHash(hash('two'));
      assert.deepEqual(found, { token: t2, user: bob });
      assert.equal(await store.findApiTokenByHash(hash('nope')), undefined);
      assert.deepEqual(await store.getApiToken(t1.id), t1);
      assert.equal(await store.getApiToken(9999), undefined);

      await store.touchApiToken(t2.id, '2025-03-01T10:00:00Z');
      await store.touchApiToken(t2.id, '2025-03-01T09:00:00Z');
      assert.equal((await store.getApiToken(t2.id))!.lastUsedAt, '2025-03-01T10:00:00.000Z', 'an older time does not move it back');
      await store.touchApiToken(t2.id, '2025-03-01T11:00:00Z');
      assert.equal((await store.getApiToken(t2.id))!.lastUsedAt, '2025-03-01T11:00:00.000Z');

      const revoked = await store.revokeApiToken(t2.id, '2025-03-02T00:00:00Z');
      assert.equal(revoked?.revokedAt, '2025-03-02T00:00:00.000Z');
      assert.equal((await store.revokeApiToken(t2.id, '2025-03-05T00:00:00Z'))?.revokedAt, '2025-03-02T00:00:00.000Z', 'a second revocation keeps the first time');
      assert.equal(await store.revokeApiToken(9999, '2025-03-02T00:00:00Z'), undefined);
      assert.equal((await store.findApiTokenByHash(hash('two')))?.token.revokedAt, '2025-03-02T00:00:00.000Z', 'found whatever its state: the caller decides');

      assert.deepEqual((await store.listApiTokens(bob.id)).map((t) => t.name), ['billing sync', 'ci']);
      await rejectsWith(store.createApiToken({ userId: bob.id, name: 'again', tokenHash: hash('one'), prefix: 'pp_x', expiresAt: null }), ConflictError);
      await rejectsWith(store.createApiToken({ userId: 9999, name: 'x', tokenHash: hash('four'), prefix: 'pp_x', expiresAt: null }), NotFoundError, /admin user 9999 does not exist/);
      await rejectsWith(store.createApiToken({ userId: bob.id, name: 'x', tokenHash: 'plain-token', prefix: 'pp_x', expiresAt: null }), TypeError, /SHA-256/);
      await rejectsWith(store.createApiToken({ userId: bob.id, name: '', tokenHash: hash('five'), prefix: 'pp_x', expiresAt: null }), TypeError, /no name/);
      await rejectsWith(store.createApiToken({ userId: bob.id, name: 'x', tokenHash: hash('six'), prefix: 'pp_x', expiresAt: 'soon' }), TypeError, /bad time "soon"/);

      assert.equal(await store.deleteAdminUser(bob.id), true);
      assert.deepEqual(await store.listApiTokens(bob.id), []);
      assert.equal(await store.findApiTokenByHash(hash('one')), undefined);
      assert.equal((await store.listApiTokens(root.id)).length, 1, "another user's tokens stay");
    });

    test('sessions: create, find with the user, touch never backwards, delete, prune; a new password or disabling ends them', async () => {
      await fresh();
      await store.createAdminUser({ username: 'root', passwordHash: 'h', role: 'super-admin', tenantId: null });
      const bob = await store.createAdminUser({ username: 'bob', passwordHash: 'h', role: 'read-only', tenantId: null });
      const id = (n: number) => createHash('sha256').update(`session ${n}`).digest('hex');
      const s1 = await store.createSession({ id: id(1), userId: bob.id, csrfToken: 'csrf-1', createdAt: '2025-03-01T10:00:00Z', expiresAt: '2025-03-08T10:00:00Z' });
      assert.deepEqual(s1, { id: id(1), userId: bob.id, csrfToken: 'csrf-1', createdAt: '2025-03-01T10:00:00.000Z', expiresAt: '2025-03-08T10:00:00.000Z', lastSeenAt: '2025-03-01T10:00:00.000Z' });
      assert.deepEqual(await store.findSession(id(1)), { session: s1, user: bob });
      assert.equal(await store.findSession(id(99)), undefined);

      await store.touchSession(id(1), '2025-03-01T12:00:00Z');
      await store.touchSession(id(1), '2025-03-01T11:00:00Z');
      assert.equal((await store.findSession(id(1)))!.session.lastSeenAt, '2025-03-01T12:00:00.000Z');

      await rejectsWith(store.createSession({ id: id(1), userId: bob.id, csrfToken: 'c', createdAt: '2025-03-01T10:00:00Z', expiresAt: '2025-03-08T10:00:00Z' }), ConflictError);
      await rejectsWith(store.createSession({ id: id(2), userId: 9999, csrfToken: 'c', createdAt: '2025-03-01T10:00:00Z', expiresAt: '2025-03-08T10:00:00Z' }), NotFoundError);
      await rejectsWith(store.createSession({ id: 'secret', userId: bob.id, csrfToken: 'c', createdAt: '2025-03-01T10:00:00Z', expiresAt: '2025-03-08T10:00:00Z' }), TypeError, /SHA-256/);

      assert.equal(await store.deleteSession(id(1)), true);
      assert.equal(await store.deleteSession(id(1)), false);

      // prune: past the absolute end, or idle since before the cut-off; the others stay.
      const at = (n: number, created: string, expires: string) => store.createSession({ id: id(n), userId: bob.id, csrfToken: `c${n}`, createdAt: created, expiresAt: expires });
      await at(10, '2025-03-01T00:00:00Z', '2025-03-02T00:00:00Z'); // ended
      await at(11, '2025-03-01T00:00:00Z', '2025-03-09T00:00:00Z'); // idle since 00:00
      await at(12, '2025-03-01T00:00:00Z', '2025-03-09T00:00:00Z');
      await store.touchSession(id(12), '2025-03-02T11:00:00Z'); // active
      assert.equal(await store.pruneSessions('2025-03-02T12:00:00Z', '2025-03-02T00:00:00Z'), 2);
      assert.ok(await store.findSession(id(12)));
      assert.equal(await store.findSession(id(11)), undefined);

      await at(13, '2025-03-02T00:00:00Z', '2025-03-09T00:00:00Z');
      await store.updateAdminUser(bob.id, { role: 'read-only' });
      assert.ok(await store.findSession(id(13)), 'other changes keep the sessions');
      await store.updateAdminUser(bob.id, { passwordHash: 'h2' });
      assert.equal(await store.findSession(id(13)), undefined, 'a new password ends them');
      await at(14, '2025-03-02T00:00:00Z', '2025-03-09T00:00:00Z');
      await store.updateAdminUser(bob.id, { disabled: true });
      assert.equal(await store.findSession(id(14)), undefined, 'disabling ends them');

      await store.updateAdminUser(bob.id, { disabled: false });
      await at(15, '2025-03-02T00:00:00Z', '2025-03-09T00:00:00Z');
      await at(16, '2025-03-02T00:00:00Z', '2025-03-09T00:00:00Z');
      assert.equal(await store.deleteUserSessions(bob.id), 2);
      await at(17, '2025-03-02T00:00:00Z', '2025-03-09T00:00:00Z');
      await store.deleteAdminUser(bob.id);
      assert.equal(await store.findSession(id(17)), undefined, 'sessions go with their user');
    });

    test('audit log: entries keep their order and JSON values, filter by tenant (or none), page by id; nonsense writes nothing', async () => {
      await fresh();
      const entry = (n: number, tenantId: number | null, extra: Partial<NewAuditEntry> = {}): NewAuditEntry => ({
        at: `2025-03-01T10:00:0${n % 10}Z`,
        userId: 3,
        username: 'alice',
        tenantId,
        action: 'parameter.set',
        target: `site s${n}`,
        before: null,
        after: { n },
        ip: '192.0.2.1',
        ...extra,
      });
      await store.appendAudit([
        entry(1, 1, { before: { 'reg.1.label': 'old', odd: ['é', '"q"', null, 1.5, JSON.parse('{"__proto__":"x"}')] }, after: 'plain text' }),
        entry(2, 2),
        entry(3, null, { userId: null, username: '(cli)', action: 'user.add', ip: null }),
      ]);
      await store.appendAudit([entry(4, 1), entry(5, 1)]);
      await store.appendAudit([]);

      const all = await store.listAudit({ limit: 100 });
      assert.deepEqual(all.map((e) => e.target), ['site s5', 'site s4', 'site s3', 'site s2', 'site s1'], 'newest first');
      assert.ok(all.every((e, i) => i === 0 || e.id < all[i - 1]!.id));
      const first = all[4]!;
      assert.deepEqual(
        { ...first, id: 0 },
        { id: 0, at: '2025-03-01T10:00:01.000Z', userId: 3, username: 'alice', tenantId: 1, action: 'parameter.set', target: 'site s1', before: { 'reg.1.label': 'old', odd: ['é', '"q"', null, 1.5, JSON.parse('{"__proto__":"x"}')] }, after: 'plain text', ip: '192.0.2.1' },
      );
      assert.deepEqual([all[2]!.userId, all[2]!.tenantId, all[2]!.ip, all[2]!.before], [null, null, null, null]);

      assert.deepEqual((await store.listAudit({ limit: 100, tenantId: 1 })).map((e) => e.target), ['site s5', 'site s4', 'site s1']);
      assert.deepEqual((await store.listAudit({ limit: 100, tenantId: null })).map((e) => e.target), ['site s3']);
      const page1 = await store.listAudit({ limit: 2 });
      const page2 = await store.listAudit({ limit: 2, before: page1[1]!.id });
      const page3 = await store.listAudit({ limit: 2, before: page2[1]!.id });
      assert.deepEqual([...page1, ...page2, ...page3].map((e) => e.target), all.map((e) => e.target));
      assert.deepEqual(await store.listAudit({ limit: 0 }), []);
      await rejectsWith(store.listAudit({ limit: -1 }), TypeError, /bad limit/);
      await rejectsWith(store.listAudit({ limit: 5, before: 0 }), TypeError, /bad cursor/);

      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      for (const [what, bad, message] of [
        ['no action', entry(6, 1, { action: '' }), /action must be a non-empty string/],
        ['a bad time', entry(6, 1, { at: 'yesterday' }), /bad time/],
        ['a cycle', entry(6, 1, { after: cyclic }), /after is not JSON/],
        ['a bigint', entry(6, 1, { before: 1n }), /before is not JSON/],
        ['a bad tenant id', entry(6, 1.5), /bad tenantId/],
      ] as const) {
        await assert.rejects(store.appendAudit([entry(7, 1), bad]), (e: unknown) => e instanceof TypeError && message.test(e.message), what);
      }
      assert.equal((await store.listAudit({ limit: 100 })).length, 5, 'a refused batch writes none of its entries');
    });

    test('login failures: recorded under every key, newest first within the window and limit, cleared per key, forgotten when old', async () => {
      await fresh();
      await store.recordLoginFailure(['user bob @1', 'address 1'], '2025-03-01T10:00:00Z');
      await store.recordLoginFailure(['user bob @1', 'address 1'], '2025-03-01T10:05:00Z');
      await store.recordLoginFailure(['user eve @1', 'address 1'], '2025-03-01T10:06:00Z');
      await store.recordLoginFailure(['address 2'], '2025-03-01T10:07:00Z');
      assert.deepEqual(await store.recentLoginFailures('address 1', '2025-03-01T09:00:00Z', 10), ['2025-03-01T10:06:00.000Z', '2025-03-01T10:05:00.000Z', '2025-03-01T10:00:00.000Z']);
      assert.deepEqual(await store.recentLoginFailures('address 1', '2025-03-01T09:00:00Z', 2), ['2025-03-01T10:06:00.000Z', '2025-03-01T10:05:00.000Z']);
      assert.deepEqual(await store.recentLoginFailures('address 1', '2025-03-01T10:05:00Z', 10), ['2025-03-01T10:06:00.000Z', '2025-03-01T10:05:00.000Z'], 'the window starts at since, inclusive');
      assert.deepEqual(await store.recentLoginFailures('user bob @1', '2025-03-01T09:00:00Z', 10), ['2025-03-01T10:05:00.000Z', '2025-03-01T10:00:00.000Z']);
      assert.deepEqual(await store.recentLoginFailures('nobody', '2025-03-01T09:00:00Z', 10), []);

      await store.clearLoginFailures('user bob @1');
      assert.deepEqual(await store.recentLoginFailures('user bob @1', '2025-03-01T09:00:00Z', 10), []);
      assert.equal((await store.recentLoginFailures('address 1', '2025-03-01T09:00:00Z', 10)).length, 3, 'other keys stay');

      await store.recordLoginFailure(['address 3'], '2025-03-01T10:30:00Z', '2025-03-01T10:06:00Z');
      assert.deepEqual(await store.recentLoginFailures('address 1', '2025-01-01T00:00:00Z', 10), ['2025-03-01T10:06:00.000Z'], 'failures before forgetBefore are gone, of every key');
      assert.equal((await store.recentLoginFailures('address 2', '2025-01-01T00:00:00Z', 10)).length, 1);
      await rejectsWith(store.recordLoginFailure([''], '2025-03-01T10:30:00Z'), TypeError, /non-empty string/);
    });

    test('deleting a tenant deletes its administrators with their tokens and sessions; audit entries and other users stay', async () => {
      await fresh();
      const a = await store.createTenant(tenantInput('acme'));
      const b = await store.createTenant(tenantInput('beta'));
      const hash = (s: string) => createHash('sha256').update(s).digest('hex');
      const users = [];
      for (const t of [a, b]) {
        const u = await store.createAdminUser({ username: `admin-${t.slug}`, passwordHash: 'h', role: 'tenant-admin', tenantId: t.id });
        await store.createApiToken({ userId: u.id, name: 'x', tokenHash: hash(`token ${t.slug}`), prefix: 'pp_x', expiresAt: null });
        await store.createSession({ id: hash(`session ${t.slug}`), userId: u.id, csrfToken: 'c', createdAt: '2025-03-01T00:00:00Z', expiresAt: '2099-01-01T00:00:00Z' });
        await store.appendAudit([{ at: '2025-03-01T00:00:00Z', userId: u.id, username: u.username, tenantId: t.id, action: 'site.add', target: 'site hq', before: null, after: null, ip: null }]);
        users.push(u);
      }
      const reader = await store.createAdminUser({ username: 'reader', passwordHash: 'h', role: 'read-only', tenantId: null });
      await store.deleteTenant(a.id);
      assert.deepEqual((await store.listAdminUsers()).map((u) => u.username), ['admin-beta', 'reader']);
      assert.equal(await store.findApiTokenByHash(hash('token acme')), undefined);
      assert.equal(await store.findSession(hash('session acme')), undefined);
      assert.ok(await store.findApiTokenByHash(hash('token beta')));
      assert.ok(await store.findSession(hash('session beta')));
      assert.deepEqual((await store.listAudit({ limit: 10, tenantId: a.id })).map((e) => e.username), ['admin-acme'], "the removed tenant's history stays");
      assert.equal((await store.getAdminUser(reader.id))?.tenantId, null);
    });
  });
}
