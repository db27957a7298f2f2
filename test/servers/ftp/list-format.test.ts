import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseList } from 'basic-ftp';
import type { DirectoryEntry } from '../../../src/provisioning/core.js';
import { formatListing, listLine, mlsdLine, timeVal } from '../../../src/servers/ftp/list-format.js';

const NOW = new Date(Date.UTC(2025, 5, 15, 12, 0, 0));
const ENTRIES: DirectoryEntry[] = [
  { name: 'sip.ld', kind: 'file', size: 123456789, modified: new Date(Date.UTC(2025, 5, 1, 8, 5, 9)) },
  { name: 'logs', kind: 'dir', size: 0, modified: new Date(Date.UTC(2025, 5, 14, 23, 59, 0)) },
  { name: 'old file.cfg', kind: 'file', size: 0, modified: new Date(Date.UTC(2019, 0, 2, 3, 4, 5)) },
];

describe('listings', () => {
  test('LIST lines have the ls -l shape; recent times show the hour, old ones the year', () => {
    assert.equal(listLine(ENTRIES[0]!, NOW), '-rw-r--r-- 1 ftp ftp    123456789 Jun  1 08:05 sip.ld');
    assert.equal(listLine(ENTRIES[1]!, NOW), 'drwxr-xr-x 1 ftp ftp            0 Jun 14 23:59 logs');
    assert.equal(listLine(ENTRIES[2]!, NOW), '-rw-r--r-- 1 ftp ftp            0 Jan  2  2019 old file.cfg');
  });

  test('MLSD facts are RFC 3659: type, size, modify in UTC', () => {
    assert.equal(timeVal(ENTRIES[0]!.modified), '20250601080509');
    assert.equal(mlsdLine(ENTRIES[0]!), 'type=file;size=123456789;modify=20250601080509; sip.ld');
    assert.equal(mlsdLine(ENTRIES[1]!), 'type=dir;size=0;modify=20250614235900; logs');
  });

  test('a real client parses every style back to the same names, kinds and sizes', () => {
    for (const style of ['list', 'mlsd'] as const) {
      const parsed = parseList(formatListing(ENTRIES, style, NOW).toString('utf8'));
      assert.deepEqual(
        parsed.map((f) => [f.name, f.isDirectory, f.size]),
        ENTRIES.map((e) => [e.name, e.kind === 'dir', e.size]),
        style,
      );
    }
    const mlsd = parseList(formatListing(ENTRIES, 'mlsd', NOW).toString('utf8'));
    assert.equal(mlsd[0]!.modifiedAt?.toISOString(), '2025-06-01T08:05:09.000Z');
    assert.equal(formatListing(ENTRIES, 'nlst').toString(), 'sip.ld\r\nlogs\r\nold file.cfg\r\n');
  });

  test('a name cannot break a listing into forged lines', () => {
    const out = formatListing([{ name: 'a\r\nb', kind: 'file', size: 1, modified: NOW }], 'nlst').toString();
    assert.equal(out, 'a??b\r\n');
  });
});
