// Rotation, recovery and pruning of phone logs against a real SQLite store and the local-disk log
// files (the e2e test drives the same through a server; this one reaches the corners).

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import { LocalDiskLogFiles } from '../../src/blobs/local-disk-log-files.js';
import type { LogFileStore } from '../../src/blobs/log-file-store.js';
import { appendToLog, listLogSegments, LogRefused, pruneOldLogSegments, readHeldBytes } from '../../src/provisioning/phone-logs.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store, Tenant } from '../../src/store/store.js';

const MAC = '0004f2000001';
const PATH = `logs/${MAC}-app.log`;
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

let store: Store;
let files: LogFileStore;
let root: string;
let tenant: Tenant;
/** Set to make the next writeAt at offset 0 fail: a crash after the rotation's rename. */
let failNextFreshWrite = false;

beforeEach(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'polyprov-logs-'));
  dirs.push(dir);
  store = await openStore({ dataDir: dir });
  root = join(dir, 'logs');
  const disk = new LocalDiskLogFiles(root);
  files = Object.assign(Object.create(disk) as LocalDiskLogFiles, {
    async writeAt(name: string, offset: number, data: Buffer) {
      if (offset === 0 && failNextFreshWrite) {
        failNextFreshWrite = false;
        throw new Error('simulated crash');
      }
      return disk.writeAt(name, offset, data);
    },
  });
  tenant = await store.createTenant({ slug: 'acme', name: 'Acme', provUsername: 'acme', provPasswordHash: 'h', provDigestHa1: 'd', logMaxBytes: 100, logSegments: 2 });
});
afterEach(() => store.close());

const deps = () => ({ store, logFiles: files });
const target = () => ({ tenantId: tenant.id, mac: MAC, path: PATH });
let sent = Buffer.alloc(0);
beforeEach(() => (sent = Buffer.alloc(0)));

/** Appends like a phone: a range from the phone's current length. */
async function append(text: string, retention: { logMaxBytes: number; logSegments: number } = tenant) {
  const data = Buffer.from(text);
  const r = await appendToLog(deps(), target(), data, `bytes ${sent.length}-${sent.length + data.length - 1}/*`, retention);
  sent = Buffer.concat([sent, data]);
  return r;
}

async function held(): Promise<{ from: number; bytes: Buffer }> {
  const log = (await store.getPhoneLog(tenant.id, PATH))!;
  const segments = await listLogSegments(files, tenant.id, PATH, log.base);
  const from = segments[0]?.start ?? log.base;
  const pieces = await readHeldBytes(files, log, segments, 0, log.base + log.length);
  return { from, bytes: Buffer.concat(pieces.map((p) => p.bytes)) };
}

const chunk = (c: string, n = 40) => c.repeat(n - 1) + '\n';

describe('phone log rotation', () => {
  test("rotates past the cap, keeps the phone's numbering, and keeps only logSegments segments", async () => {
    assert.deepEqual(await append(chunk('a')), { before: 0, after: 40, rotated: false });
    assert.deepEqual(await append(chunk('b')), { before: 40, after: 80, rotated: false });
    assert.deepEqual(await append(chunk('c')), { before: 80, after: 120, rotated: true }, '120 > 100: a and b become a segment');
    let log = await store.getPhoneLog(tenant.id, PATH);
    assert.deepEqual([log?.base, log?.length], [80, 40]);
    for (const c of 'defgh') await append(chunk(c));
    log = await store.getPhoneLog(tenant.id, PATH);
    assert.equal(log!.base + log!.length, sent.length);
    const segments = await listLogSegments(files, tenant.id, PATH, log!.base);
    assert.deepEqual(segments.map((s) => [s.start, s.size]), [[80, 80], [160, 80]], 'the 2 newest: c+d and e+f (a+b dropped, g+h current)');
    assert.ok(segments.every((s) => Math.abs(s.rotatedAt.getTime() - Date.now()) < 60_000));
    const h = await held();
    assert.equal(h.from, 80);
    assert.ok(h.bytes.equals(sent.subarray(80)), 'segments and the current file join up byte for byte');
  });

  test('a chunk larger than the cap starts a current file of its own; an empty log never rotates', async () => {
    assert.equal((await append(chunk('a', 250))).rotated, false, 'nothing to rotate yet');
    assert.equal((await append(chunk('b', 10))).rotated, true);
    const log = await store.getPhoneLog(tenant.id, PATH);
    assert.deepEqual([log?.base, log?.length], [250, 10]);
  });

  test('logSegments 0 keeps no rotated bytes', async () => {
    const none = { logMaxBytes: 100, logSegments: 0 };
    for (const c of 'abcd') await append(chunk(c, 60), none);
    assert.deepEqual(await listLogSegments(files, tenant.id, PATH), []);
    const log = await store.getPhoneLog(tenant.id, PATH);
    assert.deepEqual([log?.base, log?.length], [180, 60]);
  });

  test('stray uncommitted bytes are cut before the current file becomes a segment', async () => {
    await append(chunk('a', 60));
    // A crash after a write but before its commit leaves bytes past the committed length.
    writeFileSync(join(root, String(tenant.id), PATH), Buffer.concat([sent, Buffer.from('STRAY')]));
    await append(chunk('b', 60));
    const [segment] = await listLogSegments(files, tenant.id, PATH);
    assert.equal(segment?.size, 60);
    assert.ok(readFileSync(join(root, segment!.name)).equals(sent.subarray(0, 60)));
  });

  test('a crash between the rename and the commit: the next append puts the current file back first', async () => {
    await append(chunk('a', 60));
    await append(chunk('b', 30));
    failNextFreshWrite = true;
    const data = Buffer.from(chunk('c', 30));
    await assert.rejects(appendToLog(deps(), target(), data, `bytes 90-119/*`, tenant), /simulated crash/);
    // The renamed file is there, starting at the committed base: it is not a committed segment.
    assert.deepEqual((await listLogSegments(files, tenant.id, PATH)).map((s) => s.start), [0]);
    assert.deepEqual(await listLogSegments(files, tenant.id, PATH, 0), []);
    const log = await store.getPhoneLog(tenant.id, PATH);
    assert.deepEqual([log?.base, log?.length], [0, 90], 'nothing committed');
    assert.ok((await held()).bytes.equals(sent), 'readers take the committed bytes from the renamed file meanwhile');
    // The phone HEADs (90) and sends the chunk again.
    assert.deepEqual(await append(chunk('c', 30)), { before: 90, after: 120, rotated: true });
    const h = await held();
    assert.equal(h.from, 0);
    assert.ok(h.bytes.equals(sent));
    assert.deepEqual((await listLogSegments(files, tenant.id, PATH)).map((s) => s.start), [0]);
  });

  test('retries across a rotation are compared with the segment; a different text is refused', async () => {
    await append(chunk('a', 60));
    await append(chunk('b', 60)); // rotates: a is segment [0, 60)
    const retry = sent.subarray(50, 70);
    assert.deepEqual(await appendToLog(deps(), target(), retry, 'bytes 50-69/*', tenant), { before: 120, after: 120, rotated: false });
    const wrong = Buffer.from(retry).fill(0x5a, 0, 3);
    await assert.rejects(appendToLog(deps(), target(), wrong, 'bytes 50-69/*', tenant), (e: unknown) => e instanceof LogRefused && e.reason === 'overlap-mismatch');
    // Bytes no longer held cannot be compared: taken as matching.
    await append(chunk('c', 60));
    await append(chunk('d', 60));
    await append(chunk('e', 60)); // segments now [60..), [120..), [180..) → 2 kept: 120 and 180
    assert.deepEqual((await listLogSegments(files, tenant.id, PATH)).map((s) => s.start), [120, 180]);
    const ancient = Buffer.from(chunk('?', 20));
    assert.equal((await appendToLog(deps(), target(), ancient, 'bytes 0-19/*', tenant)).after, sent.length);
  });

  test('pruneOldLogSegments drops segments past the maximum age and beyond the count, and nothing else', async () => {
    for (const c of 'abcd') await append(chunk(c, 60), { logMaxBytes: 100, logSegments: 10 });
    assert.equal((await listLogSegments(files, tenant.id, PATH)).length, 3);
    const now = Date.now();
    const policy = { id: tenant.id, logSegments: 10, logMaxAgeDays: 7 };
    assert.deepEqual(await pruneOldLogSegments(deps(), policy, new Date(now + 6 * 86_400_000)), []);
    const byCount = await pruneOldLogSegments(deps(), { ...policy, logSegments: 1 }, new Date(now));
    assert.deepEqual(byCount.map((d) => [d.path, d.start]), [[PATH, 0], [PATH, 60]], 'the setting was lowered: the oldest go');
    assert.deepEqual(await pruneOldLogSegments(deps(), { ...policy, logMaxAgeDays: 0 }, new Date(now + 10_000 * 86_400_000)), [], '0: no age limit');
    const byAge = await pruneOldLogSegments(deps(), policy, new Date(now + 8 * 86_400_000));
    assert.deepEqual(byAge.map((d) => d.start), [120]);
    const log = await store.getPhoneLog(tenant.id, PATH);
    assert.equal(log!.base + log!.length, sent.length, 'the current file is never aged out');
    const h = await held();
    assert.ok(h.bytes.equals(sent.subarray(log!.base)));
  });
});
