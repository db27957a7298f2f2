import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { LocalDiskBlobStore, sweepTemporaryFiles } from '../../src/blobs/local-disk-blob-store.js';

async function text(r: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

test('blobs are content-addressed, stored once, read whole or by range', async () => {
  const root = mkdtempSync(join(tmpdir(), 'blobs-'));
  const blobs = new LocalDiskBlobStore(root);
  const a = await blobs.put(Readable.from([Buffer.from('hello '), Buffer.from('world')]));
  const b = await blobs.put(Buffer.from('hello world'));
  assert.equal(a.key, b.key);
  assert.equal(a.size, 11);
  assert.equal((await blobs.stat(a.key))?.size, 11);
  assert.equal(await text(blobs.read(a.key)), 'hello world');
  assert.equal(await text(blobs.read(a.key, { start: 6, end: 10 })), 'world');
  assert.equal(await blobs.stat('0'.repeat(64)), undefined);
  assert.throws(() => blobs.read('../../etc/passwd'), /invalid blob key/);
});

test('a failed write leaves no temporary file; old leftovers of killed writes are swept, young ones kept', async () => {
  const root = mkdtempSync(join(tmpdir(), 'blobs-'));
  const blobs = new LocalDiskBlobStore(root);
  const failing = new Readable({
    read() {
      this.destroy(new Error('client went away'));
    },
  });
  await assert.rejects(blobs.put(failing), /client went away/);
  mkdirSync(join(root, 'tmp'), { recursive: true });
  const old = join(root, 'tmp', 'old');
  const young = join(root, 'tmp', 'young');
  writeFileSync(old, 'x');
  writeFileSync(young, 'y');
  const twoHoursAgo = (Date.now() - 2 * 3_600_000) / 1000;
  utimesSync(old, twoHoursAgo, twoHoursAgo);
  assert.equal(await sweepTemporaryFiles(root), 1);
  assert.equal(existsSync(old), false);
  assert.equal(existsSync(young), true);
});
