import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Contact } from '../../src/domain/contact-directory.js';
import { parseDirectory, renderDirectory } from '../../src/domain/contact-directory.js';
import { contactsFromCsv } from '../../src/domain/contact-directory-csv.js';
import { curl, type CurlResult } from '../support/curl.js';
import { userAgentOf, VVX_450 } from '../support/phone-boot.js';
import { cli, startServer, tempDir, type CliResult, type ServerProcess } from '../support/server-process.js';

// Contact directories through the real command line against a running server: what the admin
// imports is what a phone reads, what a phone uploads the admin can read and export, and an admin's
// per-device directory is what that phone reads next.

const PASSWORD = 'acme-prov-pw-1';
const AUTH = ['-u', `acme:${PASSWORD}`];
const MAC = '0004f2000001';
const OTHER = '0004f2000002';
const PHONE_UA = userAgentOf({ ...VVX_450, mac: MAC });
const SITE = 'contacts/000000000000-directory.xml';

const CSV = [
  'First name,Last name,Number,Speed dial,Label,Auto divert',
  'Jane,"Doe, Jr.",1001,1,"Front ""desk""",yes',
  'Jürgen,Müller,1002,,Büro ☎,',
  '"O\'Brien, Seán",,sip:sean@example.com,12,,no',
  '',
].join('\n');
const EXPECTED: Contact[] = [
  { firstName: 'Jane', lastName: 'Doe, Jr.', contact: '1001', speedDial: 1, label: 'Front "desk"', autoDivert: true },
  { firstName: 'Jürgen', lastName: 'Müller', contact: '1002', label: 'Büro ☎' },
  { firstName: "O'Brien, Seán", lastName: '', contact: 'sip:sean@example.com', speedDial: 12, autoDivert: false },
];

let server: ServerProcess;
let scratch: string;

before(async () => {
  server = await startServer();
  scratch = tempDir();
  const made = cli(server.dataDir, ['tenant', 'add', 'acme', '--password', PASSWORD]);
  assert.equal(made.code, 0, made.stderr);
});

after(async () => {
  await server?.stop();
});

function file(text: string | Buffer, ext = 'csv'): string {
  const p = join(scratch, `${randomBytes(4).toString('hex')}.${ext}`);
  writeFileSync(p, text);
  return p;
}

function run(...args: string[]): CliResult {
  const r = cli(server.dataDir, args);
  assert.equal(r.code, 0, `polyprov ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
  return r;
}

function phoneGet(path: string, mac = MAC): CurlResult {
  return curl(`${server.httpUrl}/${path}`, [...AUTH, '-A', userAgentOf({ ...VVX_450, mac })]);
}

/** What a phone reads at `path`, parsed as phones would: it must be a clean directory. */
function served(path: string): Contact[] {
  const r = phoneGet(path);
  assert.equal(r.status, 200, `${path}: ${r.text}`);
  const parsed = parseDirectory(r.text);
  assert.deepEqual(parsed.problems, [], 'the served directory is clean');
  return parsed.contacts;
}

describe('the site directory: CSV import and export', () => {
  test('before any import, export gives a header-only CSV and show says there is none', () => {
    const exported = run('directory', 'export');
    assert.deepEqual(contactsFromCsv(exported.stdout), { contacts: [], errors: [] });
    assert.match(exported.stdout, /^First name,Last name,Number,Speed dial/);
    assert.match(run('directory', 'show').stdout, /no site directory yet/);
    assert.equal(phoneGet(SITE).status, 404);
  });

  test('an imported CSV (quotes, commas, unicode, speed dials) is what the phone reads', () => {
    const r = run('directory', 'import', file(CSV));
    assert.match(r.stdout, /^imported 3 contacts \(0 replaced, 3 new\); the site directory has 3 contacts\n$/);
    assert.deepEqual(served(SITE), EXPECTED);
    const shown = run('directory', 'show').stdout;
    assert.match(shown, /Jürgen\s+Müller\s+1002/);
    assert.deepEqual((JSON.parse(run('directory', 'show', '--json').stdout) as { contacts: Contact[] }).contacts, EXPECTED);
  });

  test('export gives back an equivalent CSV, on standard output or to a file', () => {
    const exported = run('directory', 'export').stdout;
    assert.deepEqual(contactsFromCsv(exported), { contacts: EXPECTED, errors: [] });
    const out = join(scratch, 'out.csv');
    assert.match(run('directory', 'export', '-o', out).stdout, /wrote 3 contacts/);
    assert.equal(readFileSync(out, 'utf8'), exported);
    // Exported, then imported again: nothing changes.
    assert.match(run('directory', 'import', out).stdout, /imported 3 contacts \(3 replaced, 0 new\); the site directory has 3 contacts, unchanged/);
  });

  test('a CSV with a bad row is refused as a whole, naming the line; nothing changes', () => {
    const before = phoneGet(SITE).text;
    const bad = ['Number,First name,Speed dial', '2001,Ann,5', '2002,Bob,five', '"2003,Cy,6', ''].join('\n');
    const r = cli(server.dataDir, ['directory', 'import', file(bad)]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /line 3: speed dial must be a whole number from 1 to 9999 \(got "five"\)/);
    assert.match(r.stderr, /line 4: .*never closed/);
    assert.match(r.stderr, /nothing was changed/);
    assert.equal(phoneGet(SITE).text, before);

    // --skip-bad-rows cannot skip an unreadable tail: skipping would silently drop rows.
    const skipped = cli(server.dataDir, ['directory', 'import', '--skip-bad-rows', file(bad)]);
    assert.equal(skipped.code, 1);
    assert.match(skipped.stderr, /skips bad rows only/);
    // Nor an unknown column, which would silently drop data from every row.
    const header = cli(server.dataDir, ['directory', 'import', '--skip-bad-rows', file('Number,Emial\n2001,a@b\n')]);
    assert.equal(header.code, 1);
    assert.match(header.stderr, /line 1: unknown column "Emial"/);
    assert.equal(phoneGet(SITE).text, before);

    // A file that is not UTF-8 is refused rather than garbled.
    const latin1 = cli(server.dataDir, ['directory', 'import', file(Buffer.from('Number,First name\n1,J\xfcrgen\n', 'latin1'))]);
    assert.equal(latin1.code, 1);
    assert.match(latin1.stderr, /is not UTF-8 text/);
    assert.equal(phoneGet(SITE).text, before);
  });

  test('merge updates the contact with the same number and adds the new one; conflicts are refused', () => {
    const merge = ['First name,Last name,Number,Speed dial', 'Jane,Doe,1001,2', 'Zoë,Zed,1005,1', ''].join('\n');
    const r = run('directory', 'import', '--merge', file(merge));
    assert.match(r.stdout, /^imported 2 contacts \(1 replaced, 1 new\); the site directory has 4 contacts\n$/);
    const expected = [
      { firstName: 'Jane', lastName: 'Doe', contact: '1001', speedDial: 2 },
      EXPECTED[1]!,
      EXPECTED[2]!,
      { firstName: 'Zoë', lastName: 'Zed', contact: '1005', speedDial: 1 },
    ];
    assert.deepEqual(served(SITE), expected);

    // Speed dial 12 belongs to a contact the file leaves alone.
    const before = phoneGet(SITE).text;
    const clash = cli(server.dataDir, ['directory', 'import', '--merge', file('Number,Speed dial\n1006,12\n1007,13\n')]);
    assert.equal(clash.code, 1);
    assert.match(clash.stderr, /contact "1006": speed dial 12 is already used by contact "sip:sean@example.com" \(O'Brien, Seán\)/);
    assert.equal(phoneGet(SITE).text, before);
    // With --skip-bad-rows the clashing row is left out and the other goes in.
    const skipped = run('directory', 'import', '--merge', '--skip-bad-rows', file('Number,Speed dial\n1006,12\n1007,13\n'));
    assert.match(skipped.stdout, /imported 1 contact \(0 replaced, 1 new\); skipped 1 bad row; the site directory has 5 contacts/);
    assert.match(skipped.stderr, /speed dial 12 is already used/);
    assert.deepEqual(served(SITE).map((c) => c.contact), ['1001', '1002', 'sip:sean@example.com', '1005', '1007']);

    // Replace mode (the default) says what it dropped.
    assert.match(run('directory', 'import', file(CSV)).stdout, /imported 3 contacts \(3 replaced, 0 new\); removed 2 not in the file; the site directory has 3 contacts/);
    assert.deepEqual(served(SITE), EXPECTED);
  });
});

describe('per-device directories', () => {
  const PHONE_DIR = `contacts/${MAC}-directory.xml`;
  const phoneContacts: Contact[] = [
    { firstName: 'Mum', lastName: '', contact: '+441234567890', speedDial: 1 },
    { firstName: 'Pizza', lastName: 'Place', contact: '5550100', label: 'Friday' },
  ];

  function phonePut(xml: string): CurlResult {
    return curl(`${server.httpUrl}/${PHONE_DIR}`, [...AUTH, '-A', PHONE_UA, '-T', file(xml, 'xml')]);
  }

  test('a device without a directory of its own reads the site one', () => {
    assert.equal(phoneGet(`contacts/${OTHER}-directory.xml`, OTHER).status, 404, 'so the phone falls back to the site directory');
    assert.match(run('directory', 'show', '--device', OTHER).stdout, /0004f2000002 has no directory of its own .*: it reads the site directory/);
    const exported = run('directory', 'export', '--device', OTHER);
    assert.deepEqual(contactsFromCsv(exported.stdout), { contacts: [], errors: [] });
    assert.match(exported.stderr, /no directory of its own/);
  });

  test("the phone's own upload is listed by show --device and exported as CSV", () => {
    // Written the way a phone writes it: CDATA and an unknown element are normal.
    const xml = renderDirectory(phoneContacts).replace('<fn>Mum</fn>', '<fn><![CDATA[Mum]]></fn>').replace('<item_list>', '<item_list><!-- edited on the phone -->');
    assert.equal(phonePut(xml).status, 201);
    const shown = run('directory', 'show', '--device', MAC.toUpperCase());
    assert.match(shown.stdout, new RegExp(`directory of ${MAC} ${PHONE_DIR}: 2 contacts, version 1 of 1`));
    assert.match(shown.stdout, /Pizza\s+Place\s+5550100/);
    const json = JSON.parse(run('directory', 'show', '--device', MAC, '--json').stdout) as { contacts: Contact[]; source: { kind: string; version: number } };
    assert.deepEqual(json.contacts, phoneContacts);
    assert.equal(json.source.kind, 'device-upload');
    assert.deepEqual(contactsFromCsv(run('directory', 'export', '--device', MAC).stdout), { contacts: phoneContacts, errors: [] });
  });

  test("directory set --device: the phone's next read gets the admin's version; a later phone edit wins in turn", () => {
    const mine = ['First name,Last name,Number,Speed dial', 'Help,Desk,7000,1', 'Mum,,+441234567890,2', ''].join('\n');
    const r = run('directory', 'set', '--device', MAC, file(mine));
    assert.match(r.stdout, /^imported 2 contacts \(1 replaced, 1 new\); removed 1 not in the file; the directory of 0004f2000001 \(version 2\) has 2 contacts\n$/);
    assert.equal(r.stderr, '', 'the device has been seen: no warning');
    const admins = [
      { firstName: 'Help', lastName: 'Desk', contact: '7000', speedDial: 1 },
      { firstName: 'Mum', lastName: '', contact: '+441234567890', speedDial: 2 },
    ];
    assert.deepEqual(served(PHONE_DIR), admins);
    assert.deepEqual(served(SITE), EXPECTED, 'the site directory is untouched');
    assert.match(run('directory', 'show', '--device', MAC).stdout, /version 2 of 2/);

    // The phone's user edits contacts afterwards: the phone's upload is the newest and wins.
    assert.equal(phonePut(renderDirectory(phoneContacts)).status, 204);
    assert.deepEqual(served(PHONE_DIR), phoneContacts);
    assert.match(run('directory', 'show', '--device', MAC).stdout, /version 3 of 3/);

    // Bad rows are refused for a device too, naming the line; nothing is recorded.
    const bad = cli(server.dataDir, ['directory', 'set', '--device', MAC, file('Number,Ring type\n1,2\n2,99\n')]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /line 3: ring type must be a whole number from 1 to 21/);
    assert.match(run('directory', 'show', '--device', MAC).stdout, /version 3 of 3/);

    // A MAC never seen is accepted, with a warning; the site MAC is not a device.
    const unseen = run('directory', 'set', '--device', '00:04:f2:00:00:09', file(mine));
    assert.match(unseen.stderr, /0004f2000009 is neither registered .* nor seen/);
    const site = cli(server.dataDir, ['directory', 'set', '--device', '000000000000', file(mine)]);
    assert.equal(site.code, 1);
    assert.match(site.stderr, /not a device MAC address/);
  });
});
