// Release imports against zip bombs and zips whose headers lie: the importer (admin/firmware.ts)
// refuses a release whose listed sizes pass the unpacked limit before reading a byte, counts the
// bytes really unpacked and stops at the first one past what the zip declared, and leaves nothing
// behind (no release row, no blob, no temporary file), through the service and through the REST
// API (413 for a release too large, 400 for a zip that lies). Real SQLite store, real blob folder,
// real fastify listener on 127.0.0.1; the CLI's flag is tested in test/e2e/firmware.test.ts.

import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startAdminApi, type RunningAdminApi } from '../../src/admin/api/start-admin-api.js';
import { DEFAULT_MAX_UNPACKED_BYTES, importRelease, ReleaseTooLarge } from '../../src/admin/firmware.js';
import { addTenant } from '../../src/admin/tenants.js';
import { openCore, type OpenCore } from '../../src/app.js';
import type { Tenant } from '../../src/store/store.js';
import { addTestAdmins, adminApiClient, errorRecordingLogger, logInTestAdmins, type TestAdmins, type Who } from '../support/admin-api.js';
import { withDeclaredSize, zipBuffer } from '../support/crafted-zips.js';
import { tempDir } from '../support/server-process.js';

const MIB = 1024 * 1024;
/** The API's limit in this test: small, so a bomb is cheap to build. */
const API_LIMIT = 1 * MIB;
const TOP = 'UC_Software_6_4_6_1234_release_sig_split';
const BOMB_ZIP = `${TOP}.zip`;

let dataDir: string;
let scratch: string;
let opened: OpenCore;
let api: RunningAdminApi;
let acme: Tenant;
const { logger, lines: errorLines } = errorRecordingLogger();
const { logIn } = adminApiClient(() => `http://127.0.0.1:${api.port}`);
const who: TestAdmins = { root: {}, acmeAdmin: {}, acmeReader: {}, globexAdmin: {} };

/** 3 MiB of zeros in one image: a zip of a few KB. */
let bomb: Buffer;
/** An honest image first, then one that declares 1000 bytes and unpacks to 2 MiB. */
let liar: Buffer;
const HONEST = randomBytes(64 * 1024);

/** Every file under the blob folder (blobs and temporary files), relative. */
function blobFiles(): string[] {
  const root = join(dataDir, 'blobs');
  return (readdirSync(root, { recursive: true, withFileTypes: true }) as { isFile(): boolean; parentPath?: string; path: string; name: string }[])
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? e.path, e.name).slice(root.length))
    .sort();
}

/** What the store and the blob folder hold of firmware, to compare before and after a refusal. */
async function stored(): Promise<{ releases: string[]; blobs: string[] }> {
  const releases = [...(await opened.ctx.store.listFirmwareReleases(null)), ...(await opened.ctx.store.listFirmwareReleases(acme.id))].map((r) => `${r.tenantId}/${r.version}`).sort();
  return { releases, blobs: blobFiles() };
}

const uploadFolders = () => readdirSync(tmpdir()).filter((n) => n.startsWith('polyprov-firmware-upload-'));

function file(name: string, bytes: Buffer): string {
  const p = join(scratch, name);
  writeFileSync(p, bytes);
  return p;
}

/** A zip upload as `as`, through fetch with the zip's bytes. */
async function upload(as: Who, path: string, zip: Buffer): Promise<{ status: number; body: { status: number; detail: string; version?: string } }> {
  const res = await fetch(`http://127.0.0.1:${api.port}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/zip', cookie: as.cookie!, 'x-csrf-token': as.csrf! },
    body: new Uint8Array(zip),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: (await res.json()) as { status: number; detail: string } };
}

before(async () => {
  dataDir = tempDir('polyprov-fw-limits-');
  scratch = join(dataDir, 'scratch');
  mkdirSync(scratch);
  opened = await openCore({ dataDir, inventoryFlushMs: 50, blobCacheMb: 16 }, logger);
  acme = (await addTenant(opened.ctx, 'acme', { password: 'acme-password-1' })).tenant;
  await addTenant(opened.ctx, 'globex', {});
  // One honest import first: the blob folder exists, and a refusal must not touch what it holds.
  await importRelease(opened.ctx, acme, [file('UC_Software_5_9_8_5760_release_sig_combined.zip', await zipBuffer([['sip.ver', '5.9.8.5760\n'], ['sip.ld', randomBytes(1000)]]))]);
  bomb = await zipBuffer([
    [`${TOP}/sip.ver`, '6.4.6.1234\n'],
    [`${TOP}/3111-44500-001.sip.ld`, Buffer.alloc(3 * MIB)],
  ]);
  assert.ok(bomb.length < 64 * 1024, `the bomb is small (${bomb.length} bytes)`);
  liar = withDeclaredSize(
    await zipBuffer([
      [`${TOP}/sip.ver`, '6.4.6.1234\n'],
      [`${TOP}/3111-44500-001.sip.ld`, HONEST],
      [`${TOP}/3111-48840-001.sip.ld`, Buffer.alloc(2 * MIB, 7)],
    ]),
    `${TOP}/3111-48840-001.sip.ld`,
    1000,
  );
  await addTestAdmins(opened.ctx);
  api = await startAdminApi(opened.ctx, { host: '127.0.0.1', port: 0, logger, firmwareLimits: { maxUnpackedBytes: API_LIMIT, maxEntries: 20 } });
  await logInTestAdmins(logIn, who);
});

after(async () => {
  await api?.close();
  await opened?.inventory.stop();
  await opened?.ctx.store.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  assert.deepEqual(errorLines, [], 'no request failed on the server side');
});

describe('release imports within limits', () => {
  test('a zip whose images unpack past the limit is refused from its listing, and nothing is stored', async () => {
    const was = await stored();
    const zip = file(BOMB_ZIP, bomb);
    await assert.rejects(importRelease(opened.ctx, acme, [zip], { maxUnpackedBytes: 2 * MIB }), (err: Error) => {
      assert.ok(err instanceof ReleaseTooLarge, String(err));
      assert.match(err.message, /UC_Software_6_4_6_1234_release_sig_split\.zip unpacks to 3\.00 MiB \(1 image\(s\), as its listing says\), more than the limit of 2\.00 MiB: if the release is genuine, import it on the server with polyprov firmware import --max-unpacked-mib <MiB>/);
      return true;
    });
    assert.deepEqual(await stored(), was);
    // The default limit is 2 GiB, and a release exactly at the limit passes.
    assert.equal(DEFAULT_MAX_UNPACKED_BYTES, 2 * 1024 ** 3);
    const r = await importRelease(opened.ctx, acme, [zip], { maxUnpackedBytes: 3 * MIB });
    assert.deepEqual([r.version, r.images.map((i) => i.size)], ['6.4.6.1234', [3 * MIB]]);
    await opened.ctx.store.deleteFirmwareRelease(acme.id, '6.4.6.1234');
  });

  test('a zip whose header lies is refused while it unpacks, and the honest image before it is not left behind', async () => {
    const was = await stored();
    await assert.rejects(importRelease(opened.ctx, acme, [file(BOMB_ZIP, liar)]), (err: Error) => {
      assert.ok(!(err instanceof ReleaseTooLarge), 'a lie is a damaged zip, not a large release');
      assert.match(err.message, /3111-48840-001\.sip\.ld unpacks to more than the 1000 bytes its listing declares \(refused after \d+\): the zip is damaged or made to hide its size; rebuild it/);
      return true;
    });
    assert.deepEqual(await stored(), was, 'no release row, no blob (not even the honest image), no temporary file');
  });

  test('a zip whose header claims more than its entry holds is refused before anything is stored', async () => {
    const was = await stored();
    const short = withDeclaredSize(
      await zipBuffer([
        [`${TOP}/sip.ver`, '6.4.6.1234\n'],
        [`${TOP}/3111-44500-001.sip.ld`, HONEST],
        [`${TOP}/3111-48840-001.sip.ld`, Buffer.alloc(1000, 7)],
      ]),
      `${TOP}/3111-48840-001.sip.ld`,
      5000,
    );
    await assert.rejects(importRelease(opened.ctx, acme, [file(BOMB_ZIP, short)]), /3111-48840-001\.sip\.ld unpacks to fewer bytes than the 5000 bytes its listing declares \(refused after 1000\)/);
    assert.deepEqual(await stored(), was);
  });

  test('a zip or a folder holding more files than the entry limit is refused before anything is read', async () => {
    const was = await stored();
    const many = await zipBuffer(Array.from({ length: 6 }, (_, i): [string, string] => [`${TOP}/extra-${i}.txt`, 'x']));
    await assert.rejects(importRelease(opened.ctx, acme, [file(BOMB_ZIP, many)], { maxEntries: 5 }), /"UC_Software_6_4_6_1234_release_sig_split\.zip" holds 6 entries, more than the 5 a release may have: .*polyprov firmware import --max-entries/);
    const folder = join(scratch, TOP);
    mkdirSync(folder);
    for (let i = 0; i < 6; i++) writeFileSync(join(folder, `${i}.txt`), 'x');
    await assert.rejects(importRelease(opened.ctx, acme, [folder], { maxEntries: 5 }), /holds 6 files and folders, more than the 5 a release may have/);
    assert.deepEqual(await stored(), was);
  });

  test('a zip that lists one name twice is refused', async () => {
    const twice = await zipBuffer([
      [`${TOP}/sip.ver`, '6.4.6.1234\n'],
      [`${TOP}/3111-44500-001.sip.ld`, 'one'],
      [`${TOP}/3111-44500-001.sip.ld`, 'two'],
    ]);
    await assert.rejects(importRelease(opened.ctx, acme, [file(BOMB_ZIP, twice)]), /lists "UC_Software_6_4_6_1234_release_sig_split\/3111-44500-001\.sip\.ld" twice/);
  });
});

describe('release uploads through the API within limits', () => {
  test("a bomb is answered 413 in a tenant's library and in the global one; a lying zip 400; nothing stays", async () => {
    const was = await stored();
    const folders = new Set(uploadFolders());
    const tenant = await upload(who.acmeAdmin, `/api/v1/tenants/acme/firmware?filename=${BOMB_ZIP}`, bomb);
    assert.equal(tenant.status, 413, JSON.stringify(tenant.body));
    assert.match(tenant.body.detail, /^UC_Software_6_4_6_1234_release_sig_split\.zip unpacks to 3\.00 MiB .*more than the limit of 1\.00 MiB: if the release is genuine, import it on the server/);
    const global = await upload(who.root, `/api/v1/firmware?filename=${BOMB_ZIP}`, bomb);
    assert.equal(global.status, 413, JSON.stringify(global.body));
    assert.match(global.body.detail, /unpacks to 3\.00 MiB/);

    const lying = await upload(who.acmeAdmin, `/api/v1/tenants/acme/firmware?filename=${BOMB_ZIP}`, liar);
    assert.equal(lying.status, 400, JSON.stringify(lying.body));
    assert.match(lying.body.detail, /^UC_Software_6_4_6_1234_release_sig_split\.zip: UC_Software_6_4_6_1234_release_sig_split\/3111-48840-001\.sip\.ld unpacks to more than the 1000 bytes its listing declares/);
    assert.doesNotMatch(lying.body.detail, /polyprov-firmware-upload-/, 'the temporary folder is not named');

    const many = await zipBuffer(Array.from({ length: 21 }, (_, i): [string, string] => [`${TOP}/extra-${i}.txt`, 'x']));
    const crowded = await upload(who.acmeAdmin, `/api/v1/tenants/acme/firmware?filename=${BOMB_ZIP}`, many);
    assert.equal(crowded.status, 413, JSON.stringify(crowded.body));
    assert.match(crowded.body.detail, /holds 21 entries, more than the 20 a release may have/);

    assert.deepEqual(await stored(), was, 'no release row, no blob');
    assert.deepEqual(uploadFolders().filter((n) => !folders.has(n)), [], 'every temporary upload folder is removed');
    // Within the limit, the same route imports.
    const small = await zipBuffer([[`${TOP}/sip.ver`, '6.4.6.1234\n'], [`${TOP}/3111-44500-001.sip.ld`, Buffer.alloc(API_LIMIT)]]);
    const ok = await upload(who.acmeAdmin, `/api/v1/tenants/acme/firmware?filename=${BOMB_ZIP}`, small);
    assert.deepEqual([ok.status, ok.body.version], [201, '6.4.6.1234']);
  });
});
