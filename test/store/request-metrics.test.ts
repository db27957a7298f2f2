// Request counts (migration 0012) on SQLite (temp data dir) and a throwaway PostgreSQL cluster:
// upsert-increments from several store instances (as several workers), N-minute buckets, tenant
// isolation, the no-tenant row, pruning, and the inventory recorder's flush that carries them.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { InventoryRecorder } from '../../src/provisioning/inventory-recorder.js';
import { silentLogger } from '../../src/provisioning/logger.js';
import type { RequestCount, Store } from '../../src/store/store.js';
import { BACKENDS, bareTenant, storeBackends } from '../support/store-backends.js';

const backends = storeBackends('metrics-test');

const M = (iso: string) => `2026-03-01T${iso}:00.000Z`;
const count = (tenantId: number | null, minute: string, protocol: RequestCount['protocol'], ok: number, failed = 0): RequestCount => ({ tenantId, minute: M(minute), protocol, ok, failed });
const range = (from: string, to: string, bucketMinutes: number) => ({ from: M(from), to: M(to), bucketMinutes });

before(() => backends.start());
after(() => backends.stop());

for (const backend of BACKENDS) {
  describe(`request metrics on ${backend}`, () => {
    test('counts add up per tenant, minute and protocol, and sum into aligned N-minute buckets', async () => {
      const { store } = await backends.fresh(backend);
      const acme = await bareTenant(store, 'acme');
      const globex = await bareTenant(store, 'globex');
      // The same row twice in one batch, and again in a later batch.
      await store.addRequestCounts([count(acme, '10:00', 'http', 3, 1), count(acme, '10:00', 'http', 2, 0), count(acme, '10:04', 'tftp', 1, 1), count(globex, '10:00', 'http', 50, 50)]);
      await store.addRequestCounts([count(acme, '10:00', 'http', 1, 1), count(acme, '10:05', 'ftps', 0, 2), count(null, '10:00', 'http', 0, 7), count(acme, '10:09', 'https', 4)]);
      assert.deepEqual(await store.requestBuckets(acme, range('10:00', '10:10', 1)), [
        { at: M('10:00'), protocol: 'http', ok: 6, failed: 2 },
        { at: M('10:04'), protocol: 'tftp', ok: 1, failed: 1 },
        { at: M('10:05'), protocol: 'ftps', ok: 0, failed: 2 },
        { at: M('10:09'), protocol: 'https', ok: 4, failed: 0 },
      ]);
      assert.deepEqual(await store.requestBuckets(acme, range('10:00', '10:10', 5)), [
        { at: M('10:00'), protocol: 'http', ok: 6, failed: 2 },
        { at: M('10:00'), protocol: 'tftp', ok: 1, failed: 1 },
        { at: M('10:05'), protocol: 'ftps', ok: 0, failed: 2 },
        { at: M('10:05'), protocol: 'https', ok: 4, failed: 0 },
      ]);
      // Buckets are aligned to multiples of their size, whatever `from` is; `to` is exclusive.
      assert.deepEqual(await store.requestBuckets(acme, range('10:04', '10:09', 30)), [
        { at: M('10:00'), protocol: 'ftps', ok: 0, failed: 2 },
        { at: M('10:00'), protocol: 'tftp', ok: 1, failed: 1 },
      ]);
      assert.deepEqual(await store.requestBuckets(globex, range('09:00', '11:00', 60)), [{ at: M('10:00'), protocol: 'http', ok: 50, failed: 50 }]);
      assert.deepEqual(await store.requestBuckets(null, range('09:00', '11:00', 60)), [{ at: M('10:00'), protocol: 'http', ok: 0, failed: 7 }]);
      assert.deepEqual(await store.requestBuckets(acme, range('11:00', '12:00', 60)), []);
    });

    test('several store instances (workers) adding into the same rows lose nothing', async () => {
      const { store, open } = await backends.fresh(backend);
      const acme = await bareTenant(store, 'acme');
      const workers = [store, await open(), await open()];
      const batch = [count(acme, '10:00', 'http', 1, 1), count(acme, '10:00', 'tftp', 2), count(acme, '10:01', 'http', 1)];
      const adds = workers.flatMap((w) => [() => w.addRequestCounts(batch), () => w.addRequestCounts([...batch].reverse())]);
      // better-sqlite3 is synchronous: two connections of one process waiting on each other's write
      // lock would block the thread, so on SQLite (where begin immediate serializes writers anyway) they take turns.
      if (backend === 'postgres') await Promise.all(adds.map((add) => add()));
      else for (const add of adds) await add();
      assert.deepEqual(await store.requestBuckets(acme, range('10:00', '10:02', 2)), [
        { at: M('10:00'), protocol: 'http', ok: 12, failed: 6 },
        { at: M('10:00'), protocol: 'tftp', ok: 12, failed: 0 },
      ]);
    });

    test('pruning deletes minutes before the cutoff, of every tenant; deleting a tenant deletes its counts', async () => {
      const { store } = await backends.fresh(backend);
      const acme = await bareTenant(store, 'acme');
      const globex = await bareTenant(store, 'globex');
      await store.addRequestCounts([count(acme, '09:59', 'http', 1), count(null, '09:00', 'tftp', 1), count(acme, '10:00', 'http', 1), count(globex, '10:30', 'ftp', 1)]);
      assert.equal(await store.pruneRequestCounts(M('10:00')), 2);
      assert.deepEqual(await store.requestBuckets(acme, range('00:00', '23:00', 60)), [{ at: M('10:00'), protocol: 'http', ok: 1, failed: 0 }]);
      assert.deepEqual(await store.requestBuckets(null, range('00:00', '23:00', 60)), []);
      await store.deleteTenant(globex);
      assert.deepEqual(await store.requestBuckets(globex, range('00:00', '23:00', 60)), []);
      assert.equal(await store.pruneRequestCounts(M('23:00')), 1, 'only acme row was left');
    });

    test('nonsense is refused with a TypeError and adds nothing', async () => {
      const { store } = await backends.fresh(backend);
      const acme = await bareTenant(store, 'acme');
      const good = count(acme, '10:00', 'http', 1);
      const bad: [Partial<RequestCount>, RegExp][] = [
        [{ minute: '2026-03-01T10:00:30.000Z' }, /minute boundary/],
        [{ minute: 'yesterday' }, /minute boundary/],
        [{ ok: -1 }, /non-negative integers/],
        [{ failed: 1.5 }, /non-negative integers/],
        [{ protocol: 'gopher' as RequestCount['protocol'] }, /unknown protocol "gopher"/],
        [{ tenantId: 0 }, /bad tenant id 0/],
      ];
      for (const [patch, message] of bad) await assert.rejects(store.addRequestCounts([good, { ...good, ...patch }]), (e: unknown) => e instanceof TypeError && message.test(e.message));
      assert.deepEqual(await store.requestBuckets(acme, range('00:00', '23:00', 60)), []);
      await assert.rejects(store.requestBuckets(acme, range('10:00', '11:00', 0)), TypeError);
      await assert.rejects(store.requestBuckets(acme, { from: 'soon', to: M('11:00'), bucketMinutes: 5 }), /not an ISO-8601 time/);
    });

    test('the inventory recorder counts in memory and adds the counts on flush and on stop', async () => {
      const { store } = await backends.fresh(backend);
      const acme = await bareTenant(store, 'acme');
      const recorder = new InventoryRecorder(store, silentLogger, { flushMs: 600_000, maxPending: 1000 });
      // Recent minutes: a flush also prunes counts older than 14 days.
      const at = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
      const iso = (ms: number) => new Date(ms).toISOString();
      const all = (bucketMinutes: number) => ({ from: iso(at - 3_600_000), to: iso(at + 3_600_000), bucketMinutes });
      recorder.requests.count(acme, 'http', true, at + 1_000);
      recorder.requests.count(acme, 'http', false, at + 59_999);
      recorder.requests.count(null, 'tftp', false, at + 60_000);
      assert.deepEqual(await store.requestBuckets(acme, all(1)), [], 'nothing is written before a flush');
      await recorder.flush();
      recorder.requests.count(acme, 'http', true, at + 2_000);
      await recorder.stop();
      assert.deepEqual(await store.requestBuckets(acme, all(1)), [{ at: iso(at), protocol: 'http', ok: 2, failed: 1 }]);
      assert.deepEqual(await store.requestBuckets(null, all(1)), [{ at: iso(at + 60_000), protocol: 'tftp', ok: 0, failed: 1 }]);
    });
  });
}
