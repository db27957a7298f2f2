import assert from 'node:assert/strict';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
import { cli, tempDir } from '../support/server-process.js';

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

describe('dry runs', () => {
  // A tenant of their own, so that the counts here do not depend on the tests above.
  let dry: Tenant;
  const MAC = '0004f2bbbbbb';
  before(async () => {
    dry = (await addTenant(ctx, 'dry', { password: 'dry-password-1' })).tenant;
  });
  const numbersOf = async (tenant: Tenant, mac?: string) => (await showDirectory(ctx, tenant, mac)).contacts.map((c) => `${c.contact}:${c.speedDial ?? '-'}`);

  /** Every blob file of the data folder, and the revisions the core reloads on. */
  async function stored() {
    const blobs = readdirSync(join(dataDir, 'blobs'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
    return { blobs, revision: await ctx.store.revision(), files: await ctx.store.listFiles(dry.id), uploads: await ctx.store.listPhoneUploads(dry.id) };
  }

  test('of the site directory: nothing stored, the same result as the real import that follows', async () => {
    await importSiteDirectory(ctx, dry, 'Number,Speed dial\nA,1\nB,2\n', { mode: 'replace' });
    const view = await showDirectory(ctx, dry);
    const before = await stored();
    const csv = 'Number,Speed dial\nB,5\nC,3\nD,x\n';
    const preview = await importSiteDirectory(ctx, dry, csv, { mode: 'merge', skipBadRows: true, dryRun: true });
    assert.deepEqual(await stored(), before, 'no blob, no file, no revision');
    assert.deepEqual(await showDirectory(ctx, dry), view);
    assert.deepEqual([preview.dryRun, preview.changed, preview.imported, preview.replaced, preview.added, preview.total, preview.skipped.map((p) => p.line)], [true, true, 2, 1, 1, 3, [4]]);

    const real = await importSiteDirectory(ctx, dry, csv, { mode: 'merge', skipBadRows: true });
    assert.deepEqual(real, { ...preview, dryRun: false });
    assert.equal((await stored()).blobs, before.blobs + 1, 'the real import stores the new directory');
    assert.deepEqual(await numbersOf(dry), ['A:1', 'B:5', 'C:3']);

    // The same content again: unchanged, dry or not; a refused file is refused the same way.
    assert.deepEqual(await importSiteDirectory(ctx, dry, 'Number,Speed dial\nA,1\nB,5\nC,3\n', { mode: 'replace', dryRun: true }), { ...real, imported: 3, replaced: 3, added: 0, skipped: [], changed: false, dryRun: true });
    const err = await refused(importSiteDirectory(ctx, dry, csv, { mode: 'merge', dryRun: true }));
    assert.deepEqual([err.reason, err.problems.map((p) => p.line)], ['rows', [4]]);
  });

  test("of a device's directory: no upload version, no blob; the version it reports is the one the real run records", async () => {
    const before = await stored();
    const first = await setDeviceDirectory(ctx, dry, MAC, 'Number\n100\n', { mode: 'replace', dryRun: true });
    assert.deepEqual(await stored(), before);
    assert.equal((await showDirectory(ctx, dry, MAC)).source.kind, 'none');
    assert.deepEqual([first.dryRun, first.changed, first.version, first.total], [true, true, 1, 1]);
    assert.match(first.warnings.join(), /neither registered/);
    assert.deepEqual(await setDeviceDirectory(ctx, dry, MAC, 'Number\n100\n', { mode: 'replace' }), { ...first, dryRun: false });

    const middle = await stored();
    const second = await setDeviceDirectory(ctx, dry, MAC, 'Number\n200\n', { mode: 'merge', dryRun: true });
    assert.deepEqual(await stored(), middle, 'no second version');
    assert.deepEqual([second.changed, second.version, second.added, second.total], [true, 2, 1, 2]);
    assert.deepEqual(await setDeviceDirectory(ctx, dry, MAC, 'Number\n200\n', { mode: 'merge' }), { ...second, dryRun: false });
    const same = await setDeviceDirectory(ctx, dry, MAC, 'Number\n100\n200\n', { mode: 'replace', dryRun: true });
    assert.deepEqual([same.changed, same.version], [false, 2], 'unchanged: the version served now');
    assert.deepEqual((await stored()).uploads.map((u) => u.version), [1, 2]);
  });

  test('polyprov directory import/set --dry-run say what would happen and store nothing', async () => {
    const before = await stored();
    const file = join(dataDir, 'dry-run.csv');
    writeFileSync(file, 'Number\n900\n');
    const site = cli(dataDir, ['directory', 'import', '--tenant', 'dry', '--dry-run', file]);
    assert.equal(site.code, 0, site.stderr);
    assert.match(site.stdout, /^dry run, nothing stored: would import 1 contact \(0 replaced, 1 new\); would remove 3 not in the file; the site directory would have 1 contact\n$/);
    const device = cli(dataDir, ['directory', 'set', '--tenant', 'dry', '--device', MAC, '--dry-run', file]);
    assert.equal(device.code, 0, device.stderr);
    assert.match(device.stdout, new RegExp(`^dry run, nothing stored: would import 1 contact .*the directory of ${MAC} \\(version 3\\) would have 1 contact\n$`));
    assert.deepEqual(await stored(), before);
  });
});
