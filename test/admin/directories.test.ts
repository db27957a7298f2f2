import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { AdminContext } from '../../src/admin/admin-context.js';
import {
  decodeCsv,
  DirectoryImportError,
  exportSiteDirectory,
  importSiteDirectory,
  setDeviceDirectory,
  showDirectory,
  SITE_DIRECTORY_PATH,
} from '../../src/admin/directories.js';
import { putTreeFile } from '../../src/admin/files.js';
import { addTenant } from '../../src/admin/tenants.js';
import { openAdminContext } from '../../src/app.js';
import { renderDirectory } from '../../src/domain/contact-directory.js';
import type { Tenant } from '../../src/store/store.js';
import { tempDir } from '../support/server-process.js';

// The directory services on their own, for the cases the end-to-end test does not reach.

let dataDir: string;
let ctx: AdminContext;
let t: Tenant;

before(async () => {
  dataDir = tempDir();
  ctx = await openAdminContext({ dataDir });
  t = (await addTenant(ctx, 'acme', { password: 'acme-password-1' })).tenant;
});
after(async () => {
  await ctx?.store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const numbers = async (mac?: string) => (await showDirectory(ctx, t, mac)).contacts.map((c) => `${c.contact}:${c.speedDial ?? '-'}`);

async function refused(p: Promise<unknown>): Promise<DirectoryImportError> {
  const err = await p.then(
    () => assert.fail('expected the import to be refused'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof DirectoryImportError, String(err));
  return err;
}

describe('importing into the site directory', () => {
  test('merge: dropping a clashing replacement brings back the old contact, whose speed dial then wins over a later row', async () => {
    await importSiteDirectory(ctx, t, 'Number,Speed dial\nA,1\nB,2\n', { mode: 'replace' });
    // A moves to 2, which B keeps (clash: A's row is dropped, A keeps 1), so C cannot take 1 either.
    const csv = 'Number,Speed dial\nA,2\nC,1\nD,3\n';
    const err = await refused(importSiteDirectory(ctx, t, csv, { mode: 'merge' }));
    assert.equal(err.reason, 'rows');
    assert.deepEqual(await numbers(), ['A:1', 'B:2'], 'nothing stored');
    const r = await importSiteDirectory(ctx, t, csv, { mode: 'merge', skipBadRows: true });
    assert.deepEqual(await numbers(), ['A:1', 'B:2', 'D:3']);
    assert.deepEqual([r.imported, r.replaced, r.added, r.total, r.skipped.length], [1, 0, 1, 3, 2]);
  });

  test('with skipBadRows, a file whose every row is bad stores nothing', async () => {
    const err = await refused(importSiteDirectory(ctx, t, 'Number,Speed dial\nX,0\nY,-1\n', { mode: 'replace', skipBadRows: true }));
    assert.equal(err.reason, 'all-rows');
    assert.deepEqual(await numbers(), ['A:1', 'B:2', 'D:3']);
  });

  test('a header on a later line still counts as the header', async () => {
    const err = await refused(importSiteDirectory(ctx, t, '\n\nNumber,Colour\n1,red\n', { mode: 'replace', skipBadRows: true }));
    assert.equal(err.reason, 'file');
    assert.deepEqual(err.problems, [{ line: 3, message: err.problems[0]!.message }]);
  });

  test('merge refuses to work on a site directory that is not a directory; replace mends it', async () => {
    await putTreeFile(ctx, t, SITE_DIRECTORY_PATH, Buffer.from('<html>not this</html>'));
    const view = await showDirectory(ctx, t);
    assert.equal(view.readable, false);
    assert.match(view.problems[0] ?? '', /cannot be read as a directory/);
    await assert.rejects(importSiteDirectory(ctx, t, 'Number\n1\n', { mode: 'merge' }), /import without merging to replace it/);
    await assert.rejects(exportSiteDirectory(ctx, t), /cannot export the site directory/);
    const r = await importSiteDirectory(ctx, t, 'Number\n1\n', { mode: 'replace' });
    assert.equal(r.changed, true);
    assert.deepEqual(await numbers(), ['1:-']);
  });
});

describe("a device's directory", () => {
  const MAC = '0004f2aaaaaa';
  const PATH = `contacts/${MAC}-directory.xml`;

  test('follows the core: a tree file at the device path, then any upload over it', async () => {
    assert.equal((await showDirectory(ctx, t, MAC)).source.kind, 'none');
    await putTreeFile(ctx, t, PATH, Buffer.from(renderDirectory([{ firstName: '', lastName: '', contact: 'tree' }])));
    assert.equal((await showDirectory(ctx, t, MAC)).source.kind, 'device-file');
    assert.deepEqual(await numbers(MAC), ['tree:-']);
    const r = await setDeviceDirectory(ctx, t, MAC, 'Number\nadmin\n', { mode: 'merge' });
    assert.deepEqual([r.version, r.replaced, r.added, r.changed], [1, 0, 1, true]);
    assert.deepEqual(await numbers(MAC), ['tree:-', 'admin:-']);
    assert.equal((await showDirectory(ctx, t, MAC)).source.kind, 'device-upload');
  });

  test('setting the same contacts again records no new version', async () => {
    const r = await setDeviceDirectory(ctx, t, MAC, 'Number\ntree\nadmin\n');
    assert.deepEqual([r.version, r.changed], [1, false]);
    assert.equal((await ctx.store.listPhoneUploads(t.id, MAC)).length, 1);
    assert.match(r.warnings.join(), /neither registered/);
  });
});

describe('CSV bytes', () => {
  test('UTF-8 with or without a mark and UTF-16 with one are read; other encodings are refused', () => {
    const text = 'Number,First name\n1,Jürgen ☎\n';
    assert.equal(decodeCsv(Buffer.from(text), 'f'), text);
    assert.equal(decodeCsv(Buffer.from(`\uFEFF${text}`), 'f'), text);
    assert.equal(decodeCsv(Buffer.from(`\uFEFF${text}`, 'utf16le'), 'f'), text);
    assert.equal(decodeCsv(Buffer.from(`\uFEFF${text}`, 'utf16le').swap16(), 'f'), text);
    assert.throws(() => decodeCsv(Buffer.from(text, 'latin1'), '"people.csv"'), /"people.csv" is not UTF-8 text/);
  });
});
