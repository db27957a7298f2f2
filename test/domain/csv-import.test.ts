import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { devicesToCsv, groupsToCsv, modelsToCsv, sitesToCsv } from '../../src/domain/csv-export.js';
import { columnLetter, formatImportError, readImportCsv, slugFromName, type CsvImport, type DeviceRow, type SiteRow } from '../../src/domain/csv-import.js';

const LENS_SUBNETS = '{"public-subnet-list":[{"mask-length":24,"ip-address":"203.0.113.0","private-subnet-list":[{"mask-length":16,"ip-address":"10.1.0.0"}]}]}';
/** A CSV cell holding the text, quoted as spreadsheets do. */
const quoted = (text: string) => `"${text.replace(/"/g, '""')}"`;
const lines = (...rows: string[]) => `${rows.join('\n')}\n`;
const errorsOf = (r: CsvImport) => r.errors.map(formatImportError);

function devices(r: CsvImport): DeviceRow[] {
  assert.equal(r.kind, 'devices');
  return r.rows as DeviceRow[];
}

describe('readImportCsv: reading the file', () => {
  it('takes ",", ";" or TAB from the header line and reads the same rows', () => {
    const rows = [
      ['mac_address', 'site_name', 'label', 'reg.1.address'],
      ['0004f2000001', 'hq', 'Reception', '1001'],
      ['00:04:F2:00:00:02', 'branch', 'Desk 2', '1002'],
    ];
    for (const sep of [',', ';', '\t']) {
      const r = readImportCsv(lines(...rows.map((cells) => cells.join(sep))));
      assert.deepEqual(errorsOf(r), [], `separator ${JSON.stringify(sep)}`);
      assert.equal(r.delimiter, sep);
      assert.deepEqual(devices(r), [
        { line: 2, parameters: { 'reg.1.address': '1001' }, mac: '0004f2000001', site: 'hq', label: 'Reception' },
        { line: 3, parameters: { 'reg.1.address': '1002' }, mac: '0004f2000002', site: 'branch', label: 'Desk 2' },
      ]);
    }
    // A comma inside a value of a ";" file is just a character.
    assert.equal(devices(readImportCsv(lines('mac_address;label', '0004f2000001;Smith, Bob')))[0]!.label, 'Smith, Bob');
  });

  it('reads a UTF-8 BOM and CRLF line ends as spreadsheets write them', () => {
    const r = readImportCsv('\uFEFFmac_address,label\r\n0004f2000001,Zürich\r\n\r\n0004f2000002,x\r\n');
    assert.deepEqual(errorsOf(r), []);
    assert.deepEqual(devices(r).map((d) => [d.line, d.mac, d.label]), [
      [2, '0004f2000001', 'Zürich'],
      [4, '0004f2000002', 'x'],
    ]);
  });

  it('keeps line breaks, separators and quotes inside quoted values, and counts lines physically (also with CRLF inside quotes)', () => {
    for (const eol of ['\n', '\r\n']) {
      const text = ['mac_address,reg.1.label,reg.1.address', `0004f2000001,${quoted(`two${eol}lines`)},"a, ""b"""`, `0004f2000002,${quoted(`x${eol}${eol}y`)},1`, 'zz,bad,1', ''].join(eol);
      const r = readImportCsv(text);
      assert.deepEqual(errorsOf(r), [`7:1: mac_address: invalid MAC address "zz": expected 12 hexadecimal digits, e.g. 0004f2a1b2c3 (00:04:f2:a1:b2:c3, 00-04-f2-a1-b2-c3 and 0004.f2a1.b2c3 are accepted too)`], `line ends ${JSON.stringify(eol)}`);
      const rows = devices(r);
      assert.equal(rows[0]!.parameters['reg.1.label'], `two${eol}lines`);
      assert.equal(rows[0]!.parameters['reg.1.address'], 'a, "b"');
      assert.deepEqual([rows[0]!.line, rows[1]!.line], [2, 4]);
      // The cell after a multi-line value starts on a later line than its row.
      assert.deepEqual(rows[1]!.cellLines, [4, 4, 6]);
    }
  });

  it('places a quote that is never closed at the line and column where its row starts, and keeps the errors before it', () => {
    const r = readImportCsv(lines('mac_address,label', 'nope,a', '', '0004f2000002,"open', '0004f2000003,x', '0004f2000004,y'));
    assert.deepEqual(errorsOf(r), [
      '2:1: mac_address: invalid MAC address "nope": expected 12 hexadecimal digits, e.g. 0004f2a1b2c3 (00:04:f2:a1:b2:c3, 00-04-f2-a1-b2-c3 and 0004.f2a1.b2c3 are accepted too)',
      '4:2: a quoted value that starts in this row is never closed (a closing " is missing); nothing after it could be read',
    ]);
    const stray = readImportCsv(lines('mac_address,label', '0004f2000001,"x"y'));
    assert.match(errorsOf(stray)[0]!, /^2:2: a quoted value is followed by more characters/);
  });

  it('tells the kind from the header, or takes it from --kind', () => {
    assert.equal(readImportCsv(lines('site_name', 'HQ')).kind, 'sites');
    assert.equal(readImportCsv(lines('label,mac_address,site_name', 'x,0004f2000001,hq')).kind, 'devices');
    assert.equal(readImportCsv(lines('group_name,name', 'sales,Sales')).kind, 'groups');
    assert.equal(readImportCsv(lines('model,reg.1.address', 'VVX_450,1')).kind, 'models');
    assert.deepEqual(errorsOf(readImportCsv(lines('reg.1.address', '1'))), [
      '1:1: cannot tell what the file holds: its header has none of mac_address (devices), site_name (sites), group (groups) or model (model policies); add the column or give --kind',
    ]);
    assert.match(errorsOf(readImportCsv(lines('site_name', 'HQ'), { kind: 'devices' })).join('\n'), /1:1: a devices file needs a mac_address column/);
    assert.deepEqual(errorsOf(readImportCsv('')), ['1:1: the file is empty: expected a header row such as mac_address,device_model,site_name,group,label,serial_number']);
  });
});

describe('readImportCsv: columns', () => {
  it('refuses an unknown column, naming its letter and the header line; suggests a parameter for a near miss', () => {
    const r = readImportCsv(lines('', 'mac_address,label,colour,reg.1.adress', '0004f2000001,x,red,1001'));
    assert.deepEqual(errorsOf(r), [
      `2:3: unknown column C ("colour"): neither a column of a devices file (mac_address, device_model, site_name, group, label, serial_number) nor a parameter of Poly's UC Software templates (--force imports it as a parameter anyway)`,
      `2:4: unknown column D ("reg.1.adress"): neither a column of a devices file (mac_address, device_model, site_name, group, label, serial_number) nor a parameter of Poly's UC Software templates; did you mean reg.1.address? (--force imports it as a parameter anyway)`,
    ]);
    assert.equal(columnLetter(28), 'AB');
  });

  it('with force, takes an unknown but well-formed parameter name', () => {
    const r = readImportCsv(lines('mac_address,reg.1.adress,feature.future', '0004f2000001,1001,1'), { force: true });
    assert.deepEqual(errorsOf(r), []);
    assert.deepEqual(devices(r)[0]!.parameters, { 'reg.1.adress': '1001', 'feature.future': '1' });
  });

  it("refuses another kind's column, a malformed name, polyprov's own settings, a repeated column and a title-less column", () => {
    const r = readImportCsv(lines('site_name,model,bad name,polyprov.firmware.version,reg.1.address,REG.1.address,reg.1.address,,description', 'HQ,x,x,x,x,x,x,,d'));
    const found = errorsOf(r);
    assert.match(found[0]!, /^1:2: unknown column B \("model"\): a sites file has the columns site_name, description/);
    assert.match(found[1]!, /^1:3: unknown column C \("bad name"\): .*character " " is not allowed/);
    assert.match(found[2]!, /^1:4: column D \("polyprov\.firmware\.version"\) is polyprov's own setting/);
    assert.match(found[3]!, /^1:6: unknown column F \("REG\.1\.address"\).*did you mean reg\.1\.address\?/);
    assert.match(found[4]!, /^1:7: column G \("reg\.1\.address"\) repeats column E/);
    assert.match(found[5]!, /^1:8: column H has no header/);
    assert.equal(found.length, 6);
  });

  it('ignores separators at the end of rows, as Lens does, but not a value in a column without a header', () => {
    const ok = readImportCsv(lines('mac_address,label,,', '0004f2000001,x,,', '0004f2000002,y'));
    assert.deepEqual(errorsOf(ok), []);
    assert.equal(devices(ok).length, 2);
    assert.deepEqual(errorsOf(readImportCsv(lines('mac_address,label', '0004f2000001,Smith,Bob'))), [
      '2:3: value "Bob" in column C, which has no header: a value containing "," must be in double quotes',
    ]);
    assert.match(errorsOf(readImportCsv(lines('mac_address,label,reg.1.address', '0004f2000001')))[0]!, /^2:2: 1 value where the header has 3 columns/);
  });
});

describe('readImportCsv: devices', () => {
  it('checks parameter values by type like param set, at their cell, unless forced', () => {
    const csv = lines('mac_address,prov.polling.enabled,prov.polling.mode', '0004f2000001,yes,abs', '0004f2000002,1,sometimes');
    const r = readImportCsv(csv);
    assert.equal(r.errors.length, 2, errorsOf(r).join('\n'));
    assert.match(errorsOf(r)[0]!, /^2:2: .*prov\.polling\.enabled.*--force imports it anyway/);
    assert.match(errorsOf(r)[1]!, /^3:3: .*prov\.polling\.mode/);
    const forced = readImportCsv(csv, { force: true });
    assert.deepEqual(forced.errors, []);
    assert.equal(devices(forced)[0]!.parameters['prov.polling.enabled'], 'yes');
  });

  it('refuses a bad MAC and a MAC given twice, naming both lines', () => {
    const r = readImportCsv(lines('label,mac_address', 'a,0004f2000001', 'b,000000000000', 'c,00-04-F2-00-00-01'));
    assert.deepEqual(errorsOf(r), [
      '3:2: mac_address: "000000000000" is not a device MAC address: 000000000000 names the files shared by all phones; give the phone\'s own MAC, e.g. 0004f2a1b2c3',
      '4:2: MAC 0004f2000001 is also on line 2: each may appear once per file',
    ]);
  });

  it('maps device_model from Lens names and refuses unknown ones at their cell', () => {
    const r = readImportCsv(lines('mac_address,device_model', '0004f2000001,Poly Trio 8300', '0004f2000002,VVX_450', '0004f2000003,Trio 8400', '0004f2000004,'));
    assert.deepEqual(devices(r).map((d) => d.model), ['Trio_8300', 'VVX_450', undefined]);
    assert.equal(r.errors.length, 1);
    assert.match(formatImportError(r.errors[0]!), /^4:2: device_model: unknown device model "Trio 8400"/);
  });

  it('merge: empty cells leave values alone; replace: empty cells clear fields and only non-empty parameters remain', () => {
    const text = lines('mac_address,site_name,group,label,device_model,reg.1.address,reg.1.label', '0004f2000001,,,,,1001,', '0004f2000002,hq,sales,Desk,,,');
    assert.deepEqual(devices(readImportCsv(text)), [
      { line: 2, parameters: { 'reg.1.address': '1001' }, mac: '0004f2000001' },
      { line: 3, parameters: {}, mac: '0004f2000002', site: 'hq', group: 'sales', label: 'Desk' },
    ]);
    const replaced = readImportCsv(text, { mode: 'replace' });
    assert.equal(replaced.mode, 'replace');
    assert.deepEqual(devices(replaced), [
      { line: 2, parameters: { 'reg.1.address': '1001' }, mac: '0004f2000001', site: '', group: '', label: '' },
      { line: 3, parameters: {}, mac: '0004f2000002', site: 'hq', group: 'sales', label: 'Desk' },
    ]);
    // A column the file does not have is never touched, whatever the mode.
    assert.deepEqual(devices(readImportCsv(lines('mac_address', '0004f2000001'), { mode: 'replace' })), [{ line: 2, parameters: {}, mac: '0004f2000001' }]);
  });

  it('refuses a value XML cannot carry at its cell, and stops at maxErrors', () => {
    assert.match(errorsOf(readImportCsv(lines('mac_address,reg.1.label', '0004f2000001,a\u0001b')))[0]!, /^2:2: value of "reg\.1\.label" contains U\+0001/);
    const many = readImportCsv(lines('mac_address', ...Array.from({ length: 80 }, (_, i) => `bad${i}`)), { maxErrors: 50 });
    assert.equal(many.errors.length, 50);
    assert.equal(many.truncated, true);
  });

  it('reports progress every N rows', () => {
    const seen: number[] = [];
    const r = readImportCsv(lines('mac_address', ...Array.from({ length: 25 }, (_, i) => `0004f2${String(i + 1).padStart(6, '0')}`)), { onProgress: (n) => seen.push(n), progressEvery: 10 });
    assert.equal(r.rowCount, 25);
    assert.deepEqual(seen, [10, 20]);
  });
});

describe('readImportCsv: sites', () => {
  it("imports the Lens FAQ's site row: subnets JSON and device_models", () => {
    const r = readImportCsv(lines('site_name,description,location_name,subnets,device_models', `Main Office,Head office,"Berlin, DE",${quoted(LENS_SUBNETS)},Trio 8300|Trio 8500`));
    assert.deepEqual(errorsOf(r), []);
    assert.equal(r.kind, 'sites');
    assert.deepEqual(r.rows, [
      {
        line: 2,
        parameters: {},
        name: 'Main Office',
        slug: 'main-office',
        description: 'Head office',
        location: 'Berlin, DE',
        subnets: [{ public: '203.0.113.0/24', private: ['10.1.0.0/16'] }],
        models: ['Trio_8300', 'Trio_8500'],
      },
    ]);
  });

  it('places bad subnets JSON and unknown models at their cell', () => {
    const r = readImportCsv(lines('site_name,subnets,device_models', '', 'HQ,{not json,Trio 8300', 'Branch,"{""public-subnet-list"":[{""mask-length"":24,""ip-address"":""203.0.113.7""}]}",Trio 8300|VVX 9000'));
    const found = errorsOf(r);
    assert.equal(found.length, 3);
    assert.match(found[0]!, /^3:2: subnets: site subnets are not valid JSON/);
    assert.match(found[1]!, /^4:2: subnets: .*203\.0\.113\.7/);
    assert.match(found[2]!, /^4:3: device_models: unknown device model "VVX 9000"/);
    assert.deepEqual(r.rows, []);
  });

  it('derives slugs from names and refuses two rows that are the same site', () => {
    assert.equal(slugFromName('Zürich Office #2'), 'zurich-office-2');
    assert.equal(slugFromName('---'), '');
    const r = readImportCsv(lines('site_name', 'Main Office', 'HQ', 'main office', '***'));
    assert.deepEqual(errorsOf(r), [
      '4:1: site "main office" (slug main-office) is also on line 2: each may appear once per file',
      `5:1: site_name "***" has no letter or digit to make the site's slug from: add one`,
    ]);
    assert.deepEqual((r.rows as SiteRow[]).map((s) => s.slug), ['main-office', 'hq']);
  });

  it('replace: empty description, location, subnets and models clear them', () => {
    const r = readImportCsv(lines('site_name,description,location_name,subnets,device_models', 'HQ,,,,'), { mode: 'replace' });
    assert.deepEqual(r.rows, [{ line: 2, parameters: {}, name: 'HQ', slug: 'hq', description: '', location: '', subnets: [], models: [] }]);
    assert.deepEqual(readImportCsv(lines('site_name,description,location_name,subnets,device_models', 'HQ,,,,')).rows, [{ line: 2, parameters: {}, name: 'HQ', slug: 'hq' }]);
  });
});

describe('readImportCsv: groups and model policies', () => {
  it('reads groups by slug or name, and model policies by Lens or polyprov model', () => {
    const g = readImportCsv(lines('group,name,reg.1.address', 'sales,Sales team,1', 'Support Desk,,2'));
    assert.deepEqual(g.rows, [
      { line: 2, parameters: { 'reg.1.address': '1' }, group: 'sales', slug: 'sales', name: 'Sales team' },
      { line: 3, parameters: { 'reg.1.address': '2' }, group: 'Support Desk', slug: 'support-desk' },
    ]);
    const m = readImportCsv(lines('model,reg.1.address', 'Trio 8300,1', 'VVX_450,2', 'trio_8300,3'));
    assert.deepEqual(errorsOf(m), ['4:1: model Trio_8300 is also on line 2: each may appear once per file']);
    assert.deepEqual(m.rows.map((r) => ('model' in r ? r.model : '')), ['Trio_8300', 'VVX_450']);
  });
});

describe('csv-export: what it writes, readImportCsv reads back the same', () => {
  it('sites: Lens columns, subnets as Lens JSON, parameter columns sorted, polyprov settings and empty values left out', () => {
    const { csv, warnings } = sitesToCsv([
      { name: 'Mid', description: '', location: '', subnets: [], parameters: {} },
      { name: 'Zeta', description: ' padded ', location: 'a, "b"', subnets: [], parameters: { 'reg.1.address': '1', 'polyprov.firmware.version': '6.4.6' } },
      { name: 'Alpha', description: 'two\nlines', location: '', subnets: [{ public: '203.0.113.0/24', private: ['10.1.0.0/16'] }], models: ['Trio_8300', 'Trio_8500'], parameters: { 'feature.x': '', 'call.callsPerLineKey': '2' } },
    ]);
    assert.equal(csv.split('\n')[0], 'site_name,description,location_name,subnets,device_models,call.callsPerLineKey,feature.x,reg.1.address');
    assert.deepEqual(warnings, ['sites Alpha: feature.x is set to an empty value, which the file writes as an empty cell and an import leaves alone']);
    const back = readImportCsv(csv, { mode: 'replace', force: true });
    assert.deepEqual(errorsOf(back), []);
    assert.deepEqual((back.rows as SiteRow[]).map(({ cellLines: _, ...row }) => row), [
      { line: 2, parameters: { 'call.callsPerLineKey': '2' }, name: 'Alpha', slug: 'alpha', description: 'two\nlines', location: '', subnets: [{ public: '203.0.113.0/24', private: ['10.1.0.0/16'] }], models: ['Trio_8300', 'Trio_8500'] },
      { line: 4, parameters: {}, name: 'Mid', slug: 'mid', description: '', location: '', subnets: [], models: [] },
      { line: 5, parameters: { 'reg.1.address': '1' }, name: 'Zeta', slug: 'zeta', description: ' padded ', location: 'a, "b"', subnets: [], models: [] },
    ]);
  });

  it('devices, groups and model policies round-trip too', () => {
    const d = devicesToCsv([
      { mac: '0004f2000002', model: null, site: null, group: null, label: '', parameters: {} },
      { mac: '0004f2000001', model: 'VVX_450', site: 'Main Office', group: 'sales', label: 'Desk 1', parameters: { 'reg.1.address': '1001', 'reg.1.auth.password': 's3cret' } },
    ]);
    assert.equal(d.csv.split('\n')[0], 'mac_address,device_model,site_name,group,label,reg.1.address,reg.1.auth.password');
    assert.deepEqual(devices(readImportCsv(d.csv)), [
      { line: 2, parameters: { 'reg.1.address': '1001', 'reg.1.auth.password': 's3cret' }, mac: '0004f2000001', model: 'VVX_450', site: 'Main Office', group: 'sales', label: 'Desk 1' },
      { line: 3, parameters: {}, mac: '0004f2000002' },
    ]);
    const g = groupsToCsv([{ slug: 'sales', name: 'Sales', parameters: { 'reg.1.address': '1' } }]);
    assert.deepEqual(readImportCsv(g.csv).rows, [{ line: 2, parameters: { 'reg.1.address': '1' }, group: 'sales', slug: 'sales', name: 'Sales' }]);
    const m = modelsToCsv([{ model: 'Trio_8300', parameters: { 'reg.1.address': '1' } }]);
    assert.equal(m.csv, 'model,reg.1.address\nTrio_8300,1\n');
    assert.deepEqual(readImportCsv(m.csv).rows, [{ line: 2, parameters: { 'reg.1.address': '1' }, model: 'Trio_8300' }]);
  });
});
