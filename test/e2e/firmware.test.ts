// The firmware library end to end: releases imported from the zips Poly publishes (built here with
// yazl, images of random bytes), target versions set with the real `polyprov` command line, and a
// running server that phones of three models boot from over HTTP (real curl) and TFTP. The server
// is started once and never restarted: every CLI change must be served on the next request.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import { effectiveParameters, parseMasterFile } from '../../src/domain/polycom-xml.js';
import { withDeclaredSize, zipBuffer } from '../support/crafted-zips.js';
import { curl, type CurlResult } from '../support/curl.js';
import { cli, startServer, tempDir, type CliResult, type ServerProcess } from '../support/server-process.js';
import { curlTftp, sha256, sha256File } from '../support/tftp-clients.js';
import { openFds } from '../support/tftp-raw.js';
import { waitFor } from '../support/wait-for.js';

const PASSWORD = 'acme-prov-pw-1';
const AUTH = ['-u', `acme:${PASSWORD}`];

const SPLIT = '6.4.6.1234';
const COMBINED = '5.9.8.5760';
const GLOBAL = '6.3.1.8000';
const SPLIT_ZIP = 'UC_Software_6_4_6_1234_release_sig_split.zip';
const COMBINED_ZIP = 'UC_Software_5_9_8_5760_release_sig_combined.zip';
const GLOBAL_FOLDER = 'UC_Software_6_3_1_8000_release_sig_combined';

interface Phone {
  mac: string;
  model: string;
  part: string;
  ua: string;
}

const fileTransport = (product: string, model: string, version: string, mac: string) => `FileTransport ${product}-${model}-UA/${version} (SN:${mac}) Type/Application`;

const VVX500: Phone = { mac: '0004f2000500', model: 'VVX_500', part: '3111-44500-001', ua: fileTransport('PolycomVVX', 'VVX_500', '5.9.7.4477', '0004f2000500') };
const VVX150: Phone = { mac: '0004f2000150', model: 'VVX_150', part: '3111-48810-001', ua: fileTransport('PolycomVVX', 'VVX_150', '6.1.0.6189', '0004f2000150') };
const SPIP335: Phone = { mac: '0004f2000335', model: 'SPIP_335', part: '2345-12375-001', ua: fileTransport('PolycomSoundPointIP', 'SPIP_335', '4.0.15.1009', '0004f2000335') };
const PHONES = [VVX500, VVX150, SPIP335];
/** A VVX 500 that already runs the split release: a 5.9.8 target is a downgrade for it. */
const NEWER: Phone = { mac: '0004f200beef', model: 'VVX_500', part: '3111-44500-001', ua: fileTransport('PolycomVVX', 'VVX_500', SPLIT, '0004f200beef') };

// Synthetic images of a few hundred KB, each size distinct, so no two can be mistaken for each other.
const SPLIT_IMAGES: Record<string, Buffer> = {
  [VVX500.part]: randomBytes(410_000 + 1),
  [VVX150.part]: randomBytes(330_000 + 3),
  [SPIP335.part]: randomBytes(270_000 + 5),
};
const COMBINED_IMAGE = randomBytes(520_000 + 7);
const GLOBAL_IMAGE = randomBytes(230_000 + 11);

let server: ServerProcess;
let scratch: string;
const zips: Record<string, string> = {};

/** A zip as yazl writes it, saved at `path`; null data is a directory entry. */
async function writeZip(path: string, entries: [string, Buffer | string | null][]): Promise<void> {
  writeFileSync(path, await zipBuffer(entries));
}

const TEMPLATE_MASTER = '<?xml version="1.0" standalone="yes"?>\n<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="" MISC_FILES="" LOG_FILE_DIRECTORY="" OVERRIDES_DIRECTORY="" CONTACTS_DIRECTORY="" LICENSE_DIRECTORY="" USER_PROFILES_DIRECTORY="" CALL_LISTS_DIRECTORY="" COREFILE_DIRECTORY=""/>\n';
const DICTIONARY = '<?xml version="1.0" encoding="UTF-8"?>\n<language><phrase name="Hello" value="Hello"/></language>\n';

function run(...args: string[]): CliResult {
  const r = cli(server.dataDir, args);
  assert.equal(r.code, 0, `polyprov ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
  return r;
}

/** A command that must be refused with a clean message (exit 1, no stack trace). */
function refused(args: string[], message: RegExp): CliResult {
  const r = cli(server.dataDir, args);
  assert.equal(r.code, 1, `polyprov ${args.join(' ')} should be refused with exit 1, got ${r.code}:\n${r.stderr}${r.stdout}`);
  assert.match(r.stderr, /^polyprov: /, r.stderr);
  assert.doesNotMatch(r.stderr, /unexpected error|\n\s+at /, `a clean message, not a stack trace:\n${r.stderr}`);
  assert.match(r.stderr, message);
  return r;
}

interface ListedImage {
  fileName: string;
  kind: string;
  partNumber: string | null;
  models: string[];
  blobKey: string;
  size: number;
}
interface ListedRelease {
  version: string;
  layout: string;
  source: string;
  tenantId: number | null;
  images: ListedImage[];
}

function list(...lib: string[]): ListedRelease[] {
  return JSON.parse(run('firmware', 'list', ...(lib.length ? lib : ['-t', 'acme']), '--json').stdout) as ListedRelease[];
}

const versionsOf = (rs: ListedRelease[]) => rs.map((r) => r.version).sort();

function get(path: string, ua: string, auth = AUTH): CurlResult {
  return curl(`${server.httpUrl}/${path}`, [...auth, '-A', ua]);
}

interface Boot {
  masterPath: string;
  master: Map<string, string>;
  appFilePath: string;
  requests: { path: string; status: number }[];
  image: { path: string; bytes: Buffer } | null;
}

/**
 * What a phone does for its application image: `<mac>.cfg`, else `000000000000.cfg`; its model's
 * APP_FILE_PATH_<tag> or APP_FILE_PATH; then `<dir>/<part>.<basename>` first and the plain path
 * after a 404.
 */
function bootImage(phone: Phone): Boot {
  const requests: Boot['requests'] = [];
  const fetch = (path: string) => {
    const r = get(path, phone.ua);
    requests.push({ path, status: r.status });
    return r;
  };
  let masterPath = `${phone.mac}.cfg`;
  let m = fetch(masterPath);
  if (m.status === 404) {
    masterPath = '000000000000.cfg';
    m = fetch(masterPath);
  }
  assert.equal(m.status, 200, `master file for ${phone.mac}: ${m.text}`);
  const master = parseMasterFile(m.text);
  const appFilePath = master.get(`APP_FILE_PATH_${phone.model.replace(/_/g, '')}`) ?? master.get('APP_FILE_PATH') ?? '';
  const slash = appFilePath.lastIndexOf('/');
  const dir = appFilePath.slice(0, slash + 1);
  const base = appFilePath.slice(slash + 1);
  let image: Boot['image'] = null;
  for (const candidate of [`${dir}${phone.part}.${base}`, appFilePath]) {
    const r = fetch(candidate);
    if (r.status === 200) {
      image = { path: candidate, bytes: r.body };
      break;
    }
  }
  return { masterPath, master, appFilePath, requests, image };
}

const statusOf = (b: Boot, path: string) => b.requests.find((r) => r.path === path)?.status;

function assertSameBytes(actual: Buffer | undefined, expected: Buffer, what: string) {
  assert.ok(actual, `${what}: no bytes`);
  assert.equal(actual.length, expected.length, `${what}: length`);
  assert.equal(sha256(actual), sha256(expected), `${what}: sha256`);
}

interface Explained {
  model: string | null;
  parameters: { name: string; value: string | null; layer: string | null; ref: string | null; shadows: { value: string; layer: string; ref: string }[] }[];
}

function explain(mac: string): Explained {
  return JSON.parse(run('explain', mac, '-t', 'acme', '--json').stdout) as Explained;
}

const downgradeLines = (mac: string) =>
  server.logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('firmware downgrade refused') && l.mac === mac);

before(async () => {
  scratch = tempDir('polyprov-fw-');
  const top = SPLIT_ZIP.replace(/\.zip$/, '');
  zips.split = join(scratch, SPLIT_ZIP);
  await writeZip(zips.split, [
    [`${top}/`, null],
    ...Object.entries(SPLIT_IMAGES).map(([part, bytes]): [string, Buffer] => [`${top}/${part}.sip.ld`, bytes]),
    [`${top}/sip.ver`, `${SPLIT}\n`],
    [`${top}/000000000000.cfg`, TEMPLATE_MASTER],
    [`${top}/SoundPointIPLocalization/`, null],
    [`${top}/SoundPointIPLocalization/English_United_States/SoundPointIP-dictionary.xml`, DICTIONARY],
    [`${top}/SoundPointIPLocalization/Deutsch_Deutschland/SoundPointIP-dictionary.xml`, DICTIONARY],
  ]);
  zips.combined = join(scratch, COMBINED_ZIP);
  await writeZip(zips.combined, [
    ['sip.ld', COMBINED_IMAGE],
    ['sip.ver', `${COMBINED}\r\n`],
  ]);

  server = await startServer({ args: ['--no-ftp', '--no-ftps', '--no-https'] });
  // Everything after the start is done with the CLI, against the running server.
  run('tenant', 'add', 'acme', '--password', PASSWORD);
  run('param', 'set', '-t', 'acme', 'tcpIpApp.sntp.address=ntp.acme.example');
  for (const p of PHONES) run('device', 'add', p.mac, '-t', 'acme', '--label', p.model);
});

after(async () => {
  await server?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('firmware: library, targets and phones end to end', () => {
  test('1. a split and a combined release zip are imported; list and show describe them', () => {
    const split = run('firmware', 'import', '-t', 'acme', zips.split!);
    assert.match(split.stdout, new RegExp(`imported firmware ${SPLIT.replace(/\./g, '\\.')} into tenant "acme": 3 image\\(s\\)`));
    const combined = run('firmware', 'import', '-t', 'acme', zips.combined!);
    assert.match(combined.stdout, new RegExp(`imported firmware ${COMBINED.replace(/\./g, '\\.')} into tenant "acme": 1 image\\(s\\)`));

    const rs = list();
    assert.deepEqual(versionsOf(rs), [COMBINED, SPLIT]);
    const s = rs.find((r) => r.version === SPLIT)!;
    assert.equal(s.layout, 'split');
    assert.equal(s.source, SPLIT_ZIP);
    assert.notEqual(s.tenantId, null, 'in the tenant library, not the global one');
    // Only the three images: sip.ver, the 000000000000.cfg template and the localisation folder are not images.
    assert.deepEqual(
      s.images.map((i) => ({ fileName: i.fileName, kind: i.kind, partNumber: i.partNumber, models: i.models, size: i.size, blobKey: i.blobKey })),
      [SPIP335, VVX500, VVX150]
        .sort((a, b) => a.part.localeCompare(b.part))
        .map((p) => ({ fileName: `${p.part}.sip.ld`, kind: 'application', partNumber: p.part, models: [p.model], size: SPLIT_IMAGES[p.part]!.length, blobKey: sha256(SPLIT_IMAGES[p.part]!) })),
    );
    const c = rs.find((r) => r.version === COMBINED)!;
    assert.equal(c.layout, 'combined');
    assert.equal(c.source, COMBINED_ZIP);
    assert.deepEqual(
      c.images.map((i) => ({ fileName: i.fileName, kind: i.kind, partNumber: i.partNumber, models: i.models, size: i.size })),
      [{ fileName: 'sip.ld', kind: 'application', partNumber: null, models: [], size: COMBINED_IMAGE.length }],
    );

    // show prints each image's SHA-256, which must be that of the bytes in the zip.
    const shown = run('firmware', 'show', SPLIT, '-t', 'acme').stdout;
    assert.match(shown, new RegExp(`firmware ${SPLIT.replace(/\./g, '\\.')} \\(split\\)`));
    for (const [part, bytes] of Object.entries(SPLIT_IMAGES)) {
      const line = shown.split('\n').find((l) => l.includes(`${part}.sip.ld`));
      assert.ok(line, `show lists ${part}.sip.ld:\n${shown}`);
      assert.ok(line.includes(sha256(bytes)), `checksum of ${part}.sip.ld:\n${line}`);
    }
    assert.doesNotMatch(shown, /dictionary|000000000000\.cfg|sip\.ver/, 'only images are listed');
    const shownCombined = run('firmware', 'show', COMBINED, '-t', 'acme').stdout;
    const line = shownCombined.split('\n').find((l) => /^\s*sip\.ld\b/.test(l));
    assert.ok(line?.includes(sha256(COMBINED_IMAGE)), `checksum of sip.ld:\n${shownCombined}`);
  });

  test('2. each model boots its own image; a model-layer target sends the SoundPoint to the combined release', async () => {
    run('firmware', 'target', 'set', SPLIT, '-t', 'acme');
    for (const phone of PHONES) {
      const b = bootImage(phone);
      assert.equal(statusOf(b, `${phone.mac}.cfg`), 404, 'no per-MAC master: the phone falls back to 000000000000.cfg');
      assert.equal(b.masterPath, '000000000000.cfg');
      assert.equal(b.appFilePath, `firmware/${SPLIT}/sip.ld`, `${phone.model}'s APP_FILE_PATH`);
      assert.equal(b.image?.path, `firmware/${SPLIT}/${phone.part}.sip.ld`, `${phone.model} gets its part's image at the first try`);
      assertSameBytes(b.image?.bytes, SPLIT_IMAGES[phone.part]!, `${phone.model}'s image`);
      const ver = get(`firmware/${SPLIT}/sip.ver`, phone.ua);
      assert.equal(ver.status, 200);
      assert.equal(ver.text.trim(), SPLIT);
    }

    run('firmware', 'target', 'set', COMBINED, '--model', 'SPIP_335', '-t', 'acme');
    const sp = bootImage(SPIP335);
    assert.equal(sp.master.get('APP_FILE_PATH_SPIP335'), `firmware/${COMBINED}/sip.ld`);
    assert.equal(sp.appFilePath, `firmware/${COMBINED}/sip.ld`);
    assert.equal(statusOf(sp, `firmware/${COMBINED}/${SPIP335.part}.sip.ld`), 404, 'a combined release has no part image');
    assert.equal(sp.image?.path, `firmware/${COMBINED}/sip.ld`);
    assertSameBytes(sp.image?.bytes, COMBINED_IMAGE, 'the SoundPoint gets the combined image');
    assert.equal(get(`firmware/${COMBINED}/sip.ver`, SPIP335.ua).text.trim(), COMBINED);
    for (const phone of [VVX500, VVX150]) {
      const b = bootImage(phone);
      assert.equal(b.appFilePath, `firmware/${SPLIT}/sip.ld`, `${phone.model} stays on the tenant's target`);
      assertSameBytes(b.image?.bytes, SPLIT_IMAGES[phone.part]!, `${phone.model}'s image`);
    }

    // explain learns the model from the inventory (the sightings above) and shows the model layer.
    const until = Date.now() + 10_000;
    let e = explain(SPIP335.mac);
    while (e.model !== 'SPIP_335' && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 200));
      e = explain(SPIP335.mac);
    }
    assert.equal(e.model, 'SPIP_335', 'the inventory recorded the model from the User-Agent');
    const target = e.parameters.find((p) => p.name === 'polyprov.firmware.version');
    assert.ok(target, 'explain lists polyprov.firmware.version');
    assert.deepEqual({ value: target.value, layer: target.layer, ref: target.ref }, { value: COMBINED, layer: 'model', ref: 'SPIP_335' });
    assert.deepEqual(
      target.shadows.map((s) => ({ value: s.value, layer: s.layer })),
      [{ value: SPLIT, layer: 'tenant' }],
    );

    // The target steers the server; the phone's configuration never carries polyprov.* names.
    const cfg = get(`${SPIP335.mac}-polyprov.cfg`, SPIP335.ua);
    assert.equal(cfg.status, 200);
    const params = effectiveParameters([cfg.text]);
    assert.equal(params.get('tcpIpApp.sntp.address'), 'ntp.acme.example', 'it is the device configuration');
    assert.deepEqual([...params.keys()].filter((n) => n.startsWith('polyprov.')), []);
    assert.doesNotMatch(cfg.text, /polyprov\./);
  });

  test('3. guards: downgrades, removal of a targeted release, polyprov.* parameters, unknown versions and bad imports', async () => {
    // A phone that runs the split release, given an older target at the device layer, is held.
    run('device', 'add', NEWER.mac, '-t', 'acme');
    run('firmware', 'target', 'set', COMBINED, '--device', NEWER.mac, '-t', 'acme');
    const held = bootImage(NEWER);
    assert.equal(held.appFilePath, `firmware/${SPLIT}/sip.ld`, 'the master names the version the phone already runs');
    assert.equal(get('sip.ld', NEWER.ua).status, 404, 'the root image is refused while the phone is held');
    assert.equal(get(`${NEWER.part}.sip.ld`, NEWER.ua).status, 404);
    assert.equal(get('sip.ver', NEWER.ua).status, 404);
    bootImage(NEWER);
    await waitFor('the downgrade warning', () => (downgradeLines(NEWER.mac).length > 0 ? true : undefined));
    await new Promise((r) => setTimeout(r, 300));
    const lines = downgradeLines(NEWER.mac);
    assert.equal(lines.length, 1, 'one warning, not one per request');
    assert.equal(lines[0]!.level, 40, 'a warning');
    assert.equal(lines[0]!.running, SPLIT);
    assert.equal(lines[0]!.target, COMBINED);

    run('firmware', 'target', 'set', COMBINED, '--device', NEWER.mac, '--allow-downgrade', '-t', 'acme');
    const allowed = bootImage(NEWER);
    assert.equal(allowed.masterPath, `${NEWER.mac}.cfg`, 'a device-layer target gives the device its own master');
    assert.equal(allowed.appFilePath, `firmware/${COMBINED}/sip.ld`);
    assertSameBytes(allowed.image?.bytes, COMBINED_IMAGE, 'the downgrade image');
    const root = get('sip.ld', NEWER.ua);
    assert.equal(root.status, 200, 'the root image now answers with the target');
    assertSameBytes(root.body, COMBINED_IMAGE, 'root sip.ld');

    // A targeted release cannot be removed; once the target is gone it can.
    const before = list();
    refused(['firmware', 'remove', SPLIT, '-t', 'acme'], /still the target of: tenant acme, tenant/);
    assert.deepEqual(list(), before, 'nothing removed');
    assert.match(run('firmware', 'target', 'unset', '-t', 'acme').stdout, /target removed/);
    run('firmware', 'remove', SPLIT, '-t', 'acme');
    assert.deepEqual(versionsOf(list()), [COMBINED]);
    assert.equal(get(`firmware/${SPLIT}/${VVX500.part}.sip.ld`, VVX500.ua).status, 404, 'a removed release is no longer served');
    run('firmware', 'import', '-t', 'acme', zips.split!);
    assert.deepEqual(versionsOf(list()), [COMBINED, SPLIT], 'imported again after its removal');

    refused(['param', 'set', '-t', 'acme', `polyprov.firmware.version=${COMBINED}`], /firmware target set/);
    refused(['param', 'set', '-t', 'acme', '--device', NEWER.mac, 'polyprov.firmware.allowDowngrade=1'], /firmware target set/);
    refused(['firmware', 'target', 'set', '7.0.0.1', '-t', 'acme'], /no firmware 7\.0\.0\.1/);
    assert.equal(explain(VVX500.mac).parameters.find((p) => p.name === 'polyprov.firmware.version'), undefined, 'no target was stored');

    const unchanged = list();
    refused(['firmware', 'import', '-t', 'acme', zips.combined!], /already has firmware 5\.9\.8\.5760/);
    const notZip = join(scratch, 'UC_Software_7_1_0_100_release_sig_split.zip');
    writeFileSync(notZip, randomBytes(4096));
    refused(['firmware', 'import', '-t', 'acme', notZip], /as a zip/);
    const truncated = join(scratch, 'UC_Software_7_1_0_300_release_sig_split.zip');
    const whole = readFileSync(zips.split!);
    writeFileSync(truncated, whole.subarray(0, whole.length >> 1));
    refused(['firmware', 'import', '-t', 'acme', truncated], /as a zip/);
    const noImages = join(scratch, 'UC_Software_7_1_0_200_release_sig_split.zip');
    await writeZip(noImages, [
      ['UC_Software_7_1_0_200_release_sig_split/sip.ver', '7.1.0.200\n'],
      ['UC_Software_7_1_0_200_release_sig_split/000000000000.cfg', TEMPLATE_MASTER],
      ['UC_Software_7_1_0_200_release_sig_split/SoundPointIPLocalization/English_United_States/SoundPointIP-dictionary.xml', DICTIONARY],
    ]);
    refused(['firmware', 'import', '-t', 'acme', noImages], /no UC Software image/);
    assert.deepEqual(list(), unchanged, 'a refused import leaves the library as it was');
  });

  test('4. /ucs.xml lists the tenant and global releases, newest first, on the URL the phone used', () => {
    const folder = join(scratch, GLOBAL_FOLDER);
    mkdirSync(folder);
    writeFileSync(join(folder, 'sip.ld'), GLOBAL_IMAGE);
    writeFileSync(join(folder, 'sip.ver'), `${GLOBAL}\n`);
    run('firmware', 'import', '--global', folder);
    assert.deepEqual(versionsOf(list('--global')), [GLOBAL]);
    assert.deepEqual(versionsOf(list()), [COMBINED, SPLIT], "the tenant's own library is unchanged");

    const parser = new XMLParser({ ignoreAttributes: false, parseTagValue: false, isArray: (name) => name === 'PHONE_IMAGE' });
    const manifest = (url: string, auth = AUTH) => {
      const r = curl(url, [...auth, '-A', VVX500.ua]);
      assert.equal(r.status, 200, `${url}: ${r.text}`);
      const doc = parser.parse(r.text) as { PHONE_IMAGES?: { REVISION?: { PHONE_IMAGE?: { VERSION: string; PATH: string }[] } } };
      const images = doc.PHONE_IMAGES?.REVISION?.PHONE_IMAGE;
      assert.ok(images, `a PHONE_IMAGES manifest:\n${r.text}`);
      return images;
    };
    const check = (base: string, expected: string[], auth = AUTH) => {
      const images = manifest(`${base}/ucs.xml`, auth);
      assert.deepEqual(
        images.map((i) => i.VERSION),
        expected,
        'every version of the library, newest first',
      );
      for (const i of images) {
        assert.equal(i.PATH, `${base}/firmware/${i.VERSION}/`);
        const ver = curl(`${i.PATH}sip.ver`, [...auth, '-A', VVX500.ua]);
        assert.equal(ver.status, 200, `${i.PATH}sip.ver`);
        assert.equal(ver.text.trim(), i.VERSION);
        if (auth === AUTH) folderMaster(base, i.PATH, i.VERSION);
      }
    };
    const imageOf: Record<string, Buffer> = { [SPLIT]: SPLIT_IMAGES[VVX500.part]!, [COMBINED]: COMBINED_IMAGE, [GLOBAL]: GLOBAL_IMAGE };
    // The folder's own 000000000000.cfg names that release's image. Whether the phone resolves its
    // APP_FILE_PATH against the folder or the server's root is not settled (fact sheet §3.2 [I]):
    // either reading must lead a VVX 500 to the image, fetched as the phone does (part number first).
    const folderMaster = (base: string, folder: string, version: string) => {
      const m = curl(`${folder}000000000000.cfg`, [...AUTH, '-A', VVX500.ua]);
      assert.equal(m.status, 200, `${folder}000000000000.cfg`);
      const app = parseMasterFile(m.text).get('APP_FILE_PATH');
      assert.ok(app, `APP_FILE_PATH in ${folder}000000000000.cfg`);
      const found = [folder, `${base}/`].some((against) => {
        const url = new URL(app, against).href;
        const slash = url.lastIndexOf('/');
        for (const candidate of [`${url.slice(0, slash + 1)}${VVX500.part}.${url.slice(slash + 1)}`, url]) {
          const r = curl(candidate, [...AUTH, '-A', VVX500.ua]);
          if (r.status === 200) return r.body.equals(imageOf[version]!);
        }
        return false;
      });
      assert.ok(found, `${folder}000000000000.cfg names ${version}'s image (APP_FILE_PATH="${app}")`);
    };
    check(server.httpUrl, [SPLIT, GLOBAL, COMBINED]);
    const g = get(`firmware/${GLOBAL}/sip.ld`, VVX500.ua);
    assertSameBytes(g.body, GLOBAL_IMAGE, "the global release's image through the tenant");

    run('tenant', 'set', 'acme', '--path-prefix', 'acme');
    check(`${server.httpUrl}/acme`, [SPLIT, GLOBAL, COMBINED]);

    // Another tenant sees the global library only.
    run('tenant', 'add', 'beta', '--password', 'beta-prov-pw-1');
    check(server.httpUrl, [GLOBAL], ['-u', 'beta:beta-prov-pw-1']);
    assert.equal(curl(`${server.httpUrl}/firmware/${SPLIT}/sip.ver`, ['-u', 'beta:beta-prov-pw-1']).status, 404, "acme's release is not beta's");
  });

  test('5. aborted image downloads leave the server healthy; the image is exact over HTTP and TFTP', async () => {
    const images: [string, Buffer][] = [
      ...Object.entries(SPLIT_IMAGES).map(([part, bytes]): [string, Buffer] => [`firmware/${SPLIT}/${part}.sip.ld`, bytes]),
      [`firmware/${COMBINED}/sip.ld`, COMBINED_IMAGE],
      [`firmware/${GLOBAL}/sip.ld`, GLOBAL_IMAGE],
    ];
    const pid = server.child.pid!;
    const fdsBefore = openFds(pid);
    const port = Number(new URL(server.httpUrl).port);
    const basic = Buffer.from(`acme:${PASSWORD}`).toString('base64');

    /** GET over a raw socket, closed (reset or half-closed) as soon as the first body bytes arrive. */
    const abortedGet = (path: string, size: number, reset: boolean) =>
      new Promise<void>((resolve, reject) => {
        const sock = connect(port, '127.0.0.1');
        let got = Buffer.alloc(0);
        const timer = setTimeout(() => {
          sock.destroy();
          reject(new Error(`${path}: no body within 5 s`));
        }, 5000);
        sock.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        sock.on('connect', () =>
          sock.write(`GET /${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Basic ${basic}\r\nUser-Agent: ${VVX500.ua}\r\n\r\n`),
        );
        sock.on('data', (chunk: Buffer) => {
          got = Buffer.concat([got, chunk]);
          const end = got.indexOf('\r\n\r\n');
          if (end < 0 || got.length === end + 4) return;
          clearTimeout(timer);
          const head = got.subarray(0, end).toString('latin1');
          if (reset) sock.destroy();
          else sock.end();
          try {
            assert.match(head, /^HTTP\/1\.1 200 /, head);
            assert.match(head, new RegExp(`\\r\\ncontent-length: ${size}\\r\\n`, 'i'), head);
            assert.ok(got.length - end - 4 < size, 'closed before the whole body arrived');
            resolve();
          } catch (err) {
            reject(err);
          }
        });
      });

    for (let i = 0; i < 20; i++) {
      const [path, bytes] = images[i % images.length]!;
      await abortedGet(path, bytes.length, i % 2 === 0);
    }

    for (const [path, bytes] of images) {
      const r = get(path, VVX500.ua);
      assert.equal(r.status, 200, path);
      assertSameBytes(r.body, bytes, `${path} after the aborted downloads`);
    }
    assert.equal(server.child.exitCode, null, 'the server is still running');
    assert.equal(server.child.signalCode, null);
    assert.deepEqual(
      server.logs.filter((l) => typeof l.level === 'number' && l.level >= 50),
      [],
      'no error logged',
    );
    await waitFor('the server back to its descriptors', () => (openFds(pid) <= fdsBefore + 2 ? true : undefined), 5000);

    // TFTP: no login, the client's subnet chooses the tenant.
    run('tenant', 'set', 'acme', '--tftp-subnets', '127.0.0.0/8');
    const out = join(scratch, 'tftp-image');
    const path = `firmware/${SPLIT}/${VVX500.part}.sip.ld`;
    const r = await curlTftp(server.tftpPort, path, out, ['--tftp-blksize', '1468']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256File(out), sha256(SPLIT_IMAGES[VVX500.part]!), 'the image over TFTP');
    assert.equal(server.child.exitCode, null);
  });
  test('6. the CLI refuses a zip bomb past --max-unpacked-mib and a zip whose header lies, and keeps nothing of either', async () => {
    const blobFiles = () =>
      (readdirSync(join(server.dataDir, 'blobs'), { recursive: true, withFileTypes: true }) as { isFile(): boolean; parentPath?: string; path: string; name: string }[])
        .filter((e) => e.isFile())
        .map((e) => join(e.parentPath ?? e.path, e.name))
        .sort();
    const was = { acme: list(), global: list('--global'), blobs: blobFiles() };
    const bomb = join(scratch, 'UC_Software_7_2_0_100_release_sig_combined.zip');
    writeFileSync(bomb, await zipBuffer([['sip.ver', '7.2.0.100\n'], ['sip.ld', Buffer.alloc(3 * 1024 * 1024)]]));
    refused(
      ['firmware', 'import', '-t', 'acme', bomb, '--max-unpacked-mib', '1'],
      /UC_Software_7_2_0_100_release_sig_combined\.zip unpacks to 3\.00 MiB \(1 image\(s\), as its listing says\), more than the limit of 1\.00 MiB: if the release is genuine, import it on the server with polyprov firmware import --max-unpacked-mib <MiB>/,
    );
    refused(['firmware', 'import', '-t', 'acme', bomb, '--max-unpacked-mib', 'lots'], /--max-unpacked-mib takes a whole number of at least 1 \(got "lots"\)/);
    const top = 'UC_Software_7_3_0_100_release_sig_split';
    const liar = join(scratch, `${top}.zip`);
    const honest = await zipBuffer([
      [`${top}/sip.ver`, '7.3.0.100\n'],
      [`${top}/${VVX500.part}.sip.ld`, randomBytes(50_000)],
      [`${top}/${VVX150.part}.sip.ld`, Buffer.alloc(1024 * 1024, 1)],
    ]);
    writeFileSync(liar, withDeclaredSize(honest, `${top}/${VVX150.part}.sip.ld`, 100));
    // Refused after the listing was classified (stderr's first line says so), while unpacking.
    const lied = cli(server.dataDir, ['firmware', 'import', '--global', liar]);
    assert.equal(lied.code, 1, lied.stderr);
    assert.match(lied.stderr, new RegExp(`\\npolyprov: ${top}\\.zip: ${top}/${VVX150.part}\\.sip\\.ld unpacks to more than the 100 bytes its listing declares \\(refused after \\d+\\): the zip is damaged`));
    assert.doesNotMatch(lied.stderr, /stored|\n\s+at /, 'nothing stored, no stack trace');
    assert.deepEqual({ acme: list(), global: list('--global'), blobs: blobFiles() }, was, 'no release, no blob, no temporary file');
    // The same zips, honest or within a raised limit, import.
    writeFileSync(liar, honest);
    run('firmware', 'import', '--global', liar);
    assert.match(run('firmware', 'import', '-t', 'acme', bomb, '--max-unpacked-mib', '3').stdout, /imported firmware 7\.2\.0\.100 into tenant "acme"/);
  });
});
