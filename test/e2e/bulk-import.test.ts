import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cli, tempDir, type CliResult } from '../support/server-process.js';

// Bulk import and export through the real command line, against a real SQLite data folder: Lens
// files import and show up in explain, a dry run changes nothing, every bad file is refused whole
// with its line numbers, and an export imports back to the same state.

const LENS_SUBNETS = '{"public-subnet-list":[{"mask-length":24,"ip-address":"203.0.113.0","private-subnet-list":[{"mask-length":16,"ip-address":"10.1.0.0"}]}]}';
const quoted = (text: string) => `"${text.replace(/"/g, '""')}"`;
const MAC1 = '0004f2000001';
const MAC2 = '0004f2000002';
const MAC3 = '0004f2000003';
const FOREIGN = '0004f2000099';
const KINDS = ['sites', 'groups', 'models', 'devices'] as const;

let dataDir: string;
let files: string;
const cleanup: string[] = [];

function run(dir: string, ...args: string[]): CliResult {
  const r = cli(dir, args);
  assert.equal(r.code, 0, `polyprov ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
  return r;
}

const acme = (...args: string[]) => run(dataDir, ...args, '-t', 'acme');

/** Writes a CSV file for the test and returns its path. */
function csv(name: string, ...rows: string[]): string {
  const path = join(files, name);
  writeFileSync(path, `${rows.join('\n')}\n`);
  return path;
}

/** What an import of one kind could change in a tenant: that kind's export, and the tenant's revision (any write bumps it). */
function state(dir: string, tenant: string, kind: (typeof KINDS)[number]): { export: string; revision: string } {
  return { export: run(dir, 'export', kind, '-t', tenant).stdout, revision: revision(dir, tenant) };
}

function revision(dir: string, tenant: string): string {
  const found = /revision\s+(\d+)/.exec(run(dir, 'tenant', 'show', tenant).stdout)?.[1];
  assert.ok(found, 'tenant show prints the revision');
  return found;
}

interface Explained {
  site: string | null;
  group: string | null;
  parameters: { name: string; value: string; layer: string; ref: string }[];
}

const explain = (mac: string) => JSON.parse(acme('explain', mac, '--json').stdout) as Explained;
const winner = (e: Explained, name: string) => e.parameters.find((p) => p.name === name);

before(() => {
  dataDir = tempDir();
  files = tempDir('polyprov-csv-');
  cleanup.push(dataDir, files);
  run(dataDir, 'tenant', 'add', 'acme', '--password', 'acme-prov-pw-1');
  run(dataDir, 'tenant', 'add', 'other', '--password', 'other-prov-pw-1');
});

after(() => {
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
});

describe('polyprov import and export', () => {
  test("a Lens sites file imports, and explain shows the site layer's parameter", () => {
    const file = csv(
      'sites.csv',
      'site_name,description,location_name,subnets,device_models,tcpIpApp.sntp.address',
      `Main Office,Head office,"Berlin, DE",${quoted(LENS_SUBNETS)},Trio 8300|Trio 8500,ntp.berlin.example`,
      'Branch,Second floor,,,,ntp.branch.example',
    );
    const r = acme('import', file);
    assert.match(r.stdout, /2 rows: 2 sites created, 0 changed, 0 unchanged/);
    assert.match(r.stdout, /note: device_models of 1 site checked but not stored/);
    const listed = acme('site', 'list').stdout;
    assert.match(listed, /main-office\s+Main Office/);
    assert.match(listed, /branch\s+Branch/);
    assert.ok(acme('export', 'sites').stdout.includes(`Main Office,Head office,"Berlin, DE",${quoted(LENS_SUBNETS)},,ntp.berlin.example\n`), 'the export writes the subnets as Lens JSON');

    acme('device', 'add', MAC1, '--site', 'main-office');
    const e = explain(MAC1);
    assert.equal(e.site, 'main-office');
    assert.deepEqual(winner(e, 'tcpIpApp.sntp.address'), { ...winner(e, 'tcpIpApp.sntp.address'), value: 'ntp.berlin.example', layer: 'site', ref: 'main-office' });
  });

  test('groups, model policies and devices import; devices join their site by name or slug', () => {
    acme('import', csv('groups.csv', 'group,name,reg.1.displayName', 'sales,Sales team,Sales'));
    acme('import', csv('models.csv', 'model,up.backlight.idleIntensity', 'Poly Trio 8300,1', 'VVX_450,2'));
    const r = acme(
      'import',
      csv(
        'devices.csv',
        'mac_address,serial_number,device_model,site_name,group,label,reg.1.address,reg.1.auth.password',
        `${MAC1},,VVX 450,Main Office,sales,Reception,1001,pw-one`,
        `${MAC2},,Trio 8300,branch,,Meeting room,1002,`,
      ),
    );
    assert.match(r.stdout, /2 rows: 1 device created, 1 changed, 0 unchanged; 3 parameter values set, 0 removed/);
    const e1 = explain(MAC1);
    assert.equal(e1.site, 'main-office');
    assert.equal(e1.group, 'sales');
    assert.deepEqual(['reg.1.address', 'reg.1.displayName', 'up.backlight.idleIntensity'].map((n) => [winner(e1, n)?.layer, winner(e1, n)?.value]), [
      ['device', '1001'],
      ['group', 'Sales'],
      ['model', '2'],
    ]);
    const e2 = explain(MAC2);
    assert.equal(e2.site, 'branch');
    assert.equal(winner(e2, 'tcpIpApp.sntp.address')?.value, 'ntp.branch.example');
    assert.equal(winner(e2, 'up.backlight.idleIntensity')?.value, '1', 'the imported model is recorded, so the Trio 8300 policy applies');
    const devices = JSON.parse(acme('device', 'list', '--json').stdout) as { mac: string; label: string; model: string | null; registered: boolean }[];
    assert.deepEqual(devices.map((d) => [d.mac, d.label, d.model, d.registered]), [
      [MAC1, 'Reception', 'VVX_450', true],
      [MAC2, 'Meeting room', 'Trio_8300', true],
    ]);
  });

  test('a dry run prints the changes, secrets masked, and changes nothing', () => {
    const before = state(dataDir, 'acme', 'devices');
    const r = acme(
      'import',
      '--dry-run',
      csv('dry.csv', 'mac_address,site_name,label,reg.1.address,reg.1.auth.password', `${MAC1},branch,Reception,1001,pw-two`, `${MAC2},,,,`, `${MAC3},Main Office,New desk,1003,pw-three`),
    );
    assert.match(r.stdout, /^dry run, nothing changed: .*dry\.csv \(devices, merge\) into tenant "acme": 3 rows: 1 device to create, 1 to change, 1 unchanged$/m);
    assert.match(r.stdout, new RegExp(`~ device ${MAC1} \\(line 2\\)\\n    site: "main-office" → "branch"\\n    reg\\.1\\.auth\\.password: \\*{8} → \\*{8}\\n`));
    assert.match(r.stdout, new RegExp(`\\+ device ${MAC3} \\(line 4\\): new\\n    site: \\(none\\) → "main-office"\\n    label: \\(none\\) → "New desk"\\n    reg\\.1\\.address: \\(unset\\) → "1003"\\n    reg\\.1\\.auth\\.password: \\(unset\\) → \\*{8}\\n`));
    assert.doesNotMatch(r.stdout, /pw-one|pw-two|pw-three/, 'no secret is printed');
    assert.deepEqual(state(dataDir, 'acme', 'devices'), before, 'nothing changed');
  });

  test('replace: a row becomes exactly its non-empty cells; merge leaves the rest alone', () => {
    acme('import', csv('merge.csv', 'mac_address,label,reg.1.label', `${MAC2},,Line one`));
    let params = JSON.parse(acme('param', 'list', '--device', MAC2, '--json').stdout) as { name: string; value: string }[];
    assert.deepEqual(params.map((p) => [p.name, p.value]), [['reg.1.address', '1002'], ['reg.1.label', 'Line one']]);
    const file = csv('replace.csv', 'mac_address,label,reg.1.label', `${MAC2},,Line 1`);
    const dry = acme('import', '--replace', '--dry-run', file);
    assert.match(dry.stdout, new RegExp(`~ device ${MAC2} \\(line 2\\)\\n    label: "Meeting room" → \\(none\\)\\n    reg\\.1\\.address: "1002" → \\(removed\\)\\n    reg\\.1\\.label: "Line one" → "Line 1"\\n`));
    const r = acme('import', '--replace', file);
    assert.match(r.stdout, /1 row: 0 devices created, 1 changed, 0 unchanged; 1 parameter value set, 1 removed/);
    params = JSON.parse(acme('param', 'list', '--device', MAC2, '--json').stdout) as { name: string; value: string }[];
    assert.deepEqual(params.map((p) => [p.name, p.value]), [['reg.1.label', 'Line 1']]);
    const devices = JSON.parse(acme('device', 'list', '--json').stdout) as { mac: string; label: string; siteId: number | null }[];
    const d2 = devices.find((d) => d.mac === MAC2)!;
    assert.equal(d2.label, '', 'the empty label cell cleared the label');
    assert.notEqual(d2.siteId, null, 'the site column was not in the file: the site stays');
  });

  describe('a bad file is refused whole, with line numbers, and changes nothing', () => {
    const exportsBefore = new Map<string, string>();
    let revisionBefore = '';
    before(() => {
      run(dataDir, 'device', 'add', FOREIGN, '-t', 'other');
      for (const kind of ['sites', 'devices']) exportsBefore.set(kind, acme('export', kind).stdout);
      revisionBefore = revision(dataDir, 'acme');
    });

    // dryRun: the dry run takes another path to the same errors (it checks other tenants itself).
    const cases: { name: string; kind: 'sites' | 'devices'; rows: string[]; expect: RegExp[]; dryRun?: boolean }[] = [
      {
        name: 'an unclosed quote',
        kind: 'devices',
        rows: ['mac_address,label', `${MAC3},fine`, '', `${MAC1},"never closed`, `${MAC2},x`],
        expect: [/^  4:2: a quoted value that starts in this row is never closed/m],
      },
      {
        name: 'an unknown column',
        kind: 'devices',
        rows: ['mac_address,label,colour,reg.1.adress', `${MAC3},x,red,1`],
        expect: [/^  1:3: unknown column C \("colour"\)/m, /^  1:4: unknown column D \("reg\.1\.adress"\).*did you mean reg\.1\.address\?/m],
      },
      {
        name: 'a MAC twice',
        kind: 'devices',
        rows: ['mac_address,label', `${MAC3},a`, `${MAC1},b`, `00:04:F2:00:00:03,c`],
        expect: [/^  4:1: MAC 0004f2000003 is also on line 2/m],
      },
      {
        name: 'a MAC registered in another tenant',
        kind: 'devices',
        rows: ['mac_address,label', `${MAC3},a`, `${FOREIGN},b`],
        expect: [/^  3:1: MAC 0004f2000099 is registered in tenant "other"/m],
      },
      {
        name: 'a MAC registered in another tenant',
        kind: 'devices',
        rows: ['mac_address,label', `${MAC3},a`, `${FOREIGN},b`],
        expect: [/^  3:1: MAC 0004f2000099 is registered in tenant "other"/m],
        dryRun: true,
      },
      {
        name: 'subnets overlapping another site',
        kind: 'sites',
        rows: ['site_name,subnets', 'Fine,', `New Site,${quoted('{"public-subnet-list":[{"mask-length":16,"ip-address":"203.0.0.0"}]}')}`],
        expect: [/^  3:2: the subnets of sites "(main-office|new-site)" and "(main-office|new-site)" overlap/m],
      },
      {
        name: 'a device in an unknown site, and a bad MAC',
        kind: 'devices',
        rows: ['mac_address,site_name', `${MAC3},Atlantis`, 'not-a-mac,branch'],
        expect: [/^  2:2: no site "Atlantis" in tenant "acme"/m, /^  3:1: mac_address: invalid MAC address "not-a-mac"/m],
      },
    ];
    for (const c of cases) {
      test(`${c.name}${c.dryRun ? ' (dry run)' : ''}`, () => {
        const r = cli(dataDir, ['import', csv('bad.csv', ...c.rows), '-t', 'acme', ...(c.dryRun ? ['--dry-run'] : [])]);
        assert.equal(r.code, 1, `exit status 1 expected:\n${r.stderr}${r.stdout}`);
        assert.match(r.stderr, /^polyprov: .*bad\.csv: \d+ errors?, nothing imported \(line:column: problem\):$/m);
        for (const e of c.expect) assert.match(r.stderr, e);
        assert.doesNotMatch(r.stdout, /imported|dry run/);
        assert.deepEqual(state(dataDir, 'acme', c.kind), { export: exportsBefore.get(c.kind), revision: revisionBefore }, 'the tenant is exactly as it was');
      });
    }
  });

  test('an export imports back to the same state: into a fresh tenant, and into itself', () => {
    // A slug that is not made from the name: the export names the site, the import finds it by name.
    acme('site', 'add', 'zz-hq', '--name', 'Alpha HQ');
    const exported: Record<string, string> = {};
    for (const kind of KINDS) {
      const file = join(files, `export-${kind}.csv`);
      const r = acme('export', kind, '-o', file);
      assert.equal(r.stdout, '');
      exported[kind] = readFileSync(file, 'utf8');
    }
    assert.match(exported.devices!, /^mac_address,device_model,site_name,group,label,reg\.1\.address,reg\.1\.auth\.password,reg\.1\.label$/m);
    assert.match(exported.devices!, new RegExp(`^${MAC1},VVX_450,Main Office,sales,Reception,1001,pw-one,$`, 'm'));

    // Another data folder: its MACs are free there.
    const fresh = tempDir();
    cleanup.push(fresh);
    run(fresh, 'tenant', 'add', 'copy', '--password', 'copy-prov-pw-1');
    for (const kind of KINDS) run(fresh, 'import', join(files, `export-${kind}.csv`), '-t', 'copy');
    for (const kind of KINDS) assert.equal(run(fresh, 'export', kind, '-t', 'copy').stdout, exported[kind], `${kind}: the same bytes after the round trip`);

    const revisionBefore = revision(dataDir, 'acme');
    for (const [kind, mode] of [...KINDS.map((k) => [k, 'merge'] as const), ['devices', 'replace'] as const]) {
      const r = acme('import', join(files, `export-${kind}.csv`), ...(mode === 'replace' ? ['--replace'] : []));
      assert.match(r.stdout, /: 0 \S+( policies)? created, 0 changed, [1-9]\d* unchanged \(/, `${kind} ${mode}: ${r.stdout}`);
    }
    for (const kind of KINDS) assert.equal(acme('export', kind).stdout, exported[kind], `${kind}: importing its own export changes nothing`);
    assert.equal(revision(dataDir, 'acme'), revisionBefore, 'not even the revision');
  });
});
