import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import { applyPlannedImport, importCsv, planImport } from '../src/admin/bulk-import.js';
import { decodeCsv } from '../src/admin/directories.js';
import { addTenant } from '../src/admin/tenants.js';
import { openAdminContext } from '../src/app.js';
import { SQLITE_FILE_NAME } from '../src/store/open-store.js';
import { readImportCsv } from '../src/domain/csv-import.js';
import { int, readSettings } from './bench-args.js';
import { BENCH_START, progress } from './bench-progress.js';
import { registerTempDir, runBench } from './processes.js';
import { fmt, median, table } from './transfer-report.js';

// npm run bench:import [-- --rows 100000 --repeat 3 --target 20000]
//
// How fast does a large Poly-Lens-style devices file go into polyprov? The issue's target: a
// 100,000-device CSV at 20,000 rows/s or more, end to end. Beside it, measured in the same run on
// the same file: csv-parse alone (the floor of reading it), and a bare better-sqlite3 insert of
// the same rows into the same schema (the floor of storing them). See USAGE.

const TENANT = 'bench';
const SITES = 20;
const GROUPS = 10;

const USAGE = `usage: npm run bench:import -- [options]

Bulk-import benchmark: a devices CSV of --rows rows (default 100000), columns
mac_address, site_name, group, label and two parameter columns
(reg.1.address, reg.1.displayName), generated once per run; ${SITES} sites and
${GROUPS} groups, imported first with their own files. Each round imports it
into a fresh tenant in a fresh SQLite data folder (WAL, synchronous=FULL, as
polyprov serve runs it) with the real service (src/admin/bulk-import.ts) in
this process: the file read and decoded, then
  parse   domain/csv-import.ts: csv-parse plus every cell checked (MACs,
          names, parameter names and values), rows out
  plan    the rows matched against the tenant (sites and groups by name,
          existing devices and parameters), the store's plan built
  apply   store.applyImport: one transaction, all rows and parameters
  total   from reading the file to the commit (what polyprov import costs,
          less the process start)
Every round is checked afterwards: every device registered in its site and
group with its label and both parameters.
Baselines, measured in the same run on the same file:
  csv-parse alone   csv-parse/sync of the file into arrays, nothing checked
  sqlite bare       better-sqlite3 on a data folder with polyprov's schema
                    (made by polyprov), the same devices and parameters
                    (already parsed) inserted with prepared multi-row
                    INSERTs in one transaction, no checks (the floor of
                    the apply step)

options:
  --rows N        devices in the file (default 100000)
  --repeat R      rounds; figures are the median round (default 3)
  --target N      rows/s the total must reach for PASS (default 20000)
  --json          print the figures as JSON instead of a table
  --help          this text

Progress goes to stderr, results to stdout. Exit status: 0 when every round
imported every row correctly and the total reached --target (PASS); 2 when the
target was missed (FAIL); 1 on any error.`;

interface Settings {
  rows: number;
  repeat: number;
  target: number;
  json: boolean;
}

function parseSettings(argv: string[]): Settings | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      rows: { type: 'string', default: '100000' },
      repeat: { type: 'string', default: '3' },
      target: { type: 'string', default: '20000' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  return {
    rows: int('rows', values.rows, 1, 5_000_000),
    repeat: int('repeat', values.repeat, 1, 10),
    target: int('target', values.target, 1, 10_000_000),
    json: values.json,
  };
}

const macOf = (i: number) => `0004f2${(i + 1).toString(16).padStart(6, '0')}`;
const siteName = (i: number) => `Site ${i + 1}`;
const groupSlug = (i: number) => `group-${i + 1}`;

/** The devices file, deterministic: row i is in site i % 20 and group i % 10. */
function devicesCsv(rows: number): string {
  const out = ['mac_address,site_name,group,label,reg.1.address,reg.1.displayName'];
  for (let i = 0; i < rows; i++) out.push(`${macOf(i)},${siteName(i % SITES)},${groupSlug(i % GROUPS)},Desk ${i + 1},${100000 + i},"User ${i + 1}, floor ${i % 7}"`);
  return `${out.join('\n')}\n`;
}

const sitesCsv = () => ['site_name,description', ...Array.from({ length: SITES }, (_, i) => `${siteName(i)},bench site`)].join('\n') + '\n';
const groupsCsv = () => ['group,name', ...Array.from({ length: GROUPS }, (_, i) => `${groupSlug(i)},Group ${i + 1}`)].join('\n') + '\n';

/** A fresh data folder with the bench tenant, its sites and groups (imported with the service). */
async function freshTenant(work: string, round: string) {
  const dataDir = mkdtempSync(join(work, `data-${round}-`));
  const ctx = await openAdminContext({ dataDir });
  const { tenant } = await addTenant(ctx, TENANT, { password: 'bench-prov-pw-1' });
  await importCsv(ctx, tenant, sitesCsv(), 'sites.csv');
  await importCsv(ctx, tenant, groupsCsv(), 'groups.csv');
  return { dataDir, ctx, tenant };
}

interface PolyprovRound {
  parseMs: number;
  planMs: number;
  applyMs: number;
  totalMs: number;
}

async function polyprovRound(work: string, file: string, rows: number, round: number): Promise<PolyprovRound> {
  const { ctx, tenant } = await freshTenant(work, `polyprov-${round}`);
  try {
    const t0 = performance.now();
    const text = decodeCsv(readFileSync(file), file);
    const t1 = performance.now();
    const imported = readImportCsv(text, { onProgress: (n) => progress(`  parsed ${n} rows (${fmt(n / ((performance.now() - t1) / 1000))} rows/s)`) });
    if (imported.errors.length) throw new Error(`the generated file has errors: ${imported.errors.slice(0, 3).map((e) => `${e.line}:${e.column}: ${e.message}`).join('; ')}`);
    const t2 = performance.now();
    const planned = await planImport(ctx, tenant, imported, file);
    const t3 = performance.now();
    progress(`  planned ${planned.plan.devices.length} devices; applying…`);
    const counts = await applyPlannedImport(ctx, tenant, imported, planned, file);
    const t4 = performance.now();
    if (counts?.created.devices !== rows || counts.parametersSet !== 2 * rows) throw new Error(`the store reports ${JSON.stringify(counts)} for ${rows} rows`);
    await verify(ctx, tenant.id, rows);
    return { parseMs: t2 - t1, planMs: t3 - t2, applyMs: t4 - t3, totalMs: t4 - t0 };
  } finally {
    await ctx.store.close();
  }
}

/** Every device registered, in its site and group, with its label and both parameters. */
async function verify(ctx: Awaited<ReturnType<typeof openAdminContext>>, tenantId: number, rows: number): Promise<void> {
  const [devices, sites, groups, parameters] = await Promise.all([ctx.store.listDevices(tenantId), ctx.store.listSites(tenantId), ctx.store.listGroups(tenantId), ctx.store.listParameters(tenantId)]);
  const siteIds = new Map(sites.map((s) => [s.name, s.id]));
  const groupIds = new Map(groups.map((g) => [g.slug, g.id]));
  const params = new Map<number, Map<string, string>>();
  for (const p of parameters) if (p.scope === 'device') params.set(p.scopeId, (params.get(p.scopeId) ?? new Map()).set(p.name, p.value));
  if (devices.length !== rows) throw new Error(`${devices.length} devices stored for ${rows} rows`);
  const byMac = new Map(devices.map((d) => [d.mac, d]));
  for (let i = 0; i < rows; i++) {
    const d = byMac.get(macOf(i));
    const p = d ? params.get(d.id) : undefined;
    const ok =
      d?.registered === true &&
      d.siteId === siteIds.get(siteName(i % SITES)) &&
      d.groupId === groupIds.get(groupSlug(i % GROUPS)) &&
      d.label === `Desk ${i + 1}` &&
      p?.get('reg.1.address') === String(100000 + i) &&
      p?.get('reg.1.displayName') === `User ${i + 1}, floor ${i % 7}` &&
      p.size === 2;
    if (!ok) throw new Error(`device ${macOf(i)} (row ${i + 2}) was not stored as the file says: ${JSON.stringify(d)} ${JSON.stringify(p && Object.fromEntries(p))}`);
  }
}

/** csv-parse alone over the file: the floor of reading it. */
function csvParseRound(file: string, rows: number): number {
  const t0 = performance.now();
  const records = parse(readFileSync(file, 'utf8'), { bom: true, skip_empty_lines: true }) as string[][];
  const ms = performance.now() - t0;
  if (records.length !== rows + 1) throw new Error(`csv-parse read ${records.length} records for ${rows} rows and a header`);
  return ms;
}

const SQLITE_VARIABLES = 32766;

/** The same rows into polyprov's schema with bare better-sqlite3: the floor of storing them. */
async function sqliteRound(work: string, file: string, rows: number, round: number): Promise<number> {
  // polyprov makes the data folder (schema, tenant, sites, groups) and lets go of it.
  const { dataDir, ctx, tenant } = await freshTenant(work, `sqlite-${round}`);
  const [sites, groups] = await Promise.all([ctx.store.listSites(tenant.id), ctx.store.listGroups(tenant.id)]);
  await ctx.store.close();
  const siteIds = new Map(sites.map((s) => [s.name, s.id]));
  const groupIds = new Map(groups.map((g) => [g.slug, g.id]));
  const db = new Database(join(dataDir, SQLITE_FILE_NAME));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // Read before the clock starts: this row is the floor of the store's part alone.
    const records = parse(readFileSync(file, 'utf8'), { bom: true, skip_empty_lines: true, from_line: 2 }) as string[][];
    const t0 = performance.now();
    const deviceChunk = Math.floor(SQLITE_VARIABLES / 6);
    const paramChunk = Math.floor(SQLITE_VARIABLES / 5);
    const insertDevices = (n: number) =>
      db.prepare(`INSERT INTO devices (tenant_id, mac, registered, label, site_id, group_id) VALUES ${Array(n).fill('(?, ?, ?, ?, ?, ?)').join(', ')} RETURNING id`);
    const insertParams = (n: number) => db.prepare(`INSERT INTO parameters (tenant_id, scope, scope_id, name, value) VALUES ${Array(n).fill('(?, ?, ?, ?, ?)').join(', ')}`);
    db.transaction(() => {
      const ids: number[] = [];
      for (let at = 0; at < records.length; at += deviceChunk) {
        const chunk = records.slice(at, at + deviceChunk);
        const values = chunk.flatMap((r) => [tenant.id, r[0], 1, r[3], siteIds.get(r[1]!), groupIds.get(r[2]!)]);
        for (const row of insertDevices(chunk.length).all(...values) as { id: number }[]) ids.push(row.id);
      }
      const params = records.flatMap((r, i) => [
        [tenant.id, 'device', ids[i], 'reg.1.address', r[4]],
        [tenant.id, 'device', ids[i], 'reg.1.displayName', r[5]],
      ]);
      for (let at = 0; at < params.length; at += paramChunk) {
        const chunk = params.slice(at, at + paramChunk);
        insertParams(chunk.length).run(...chunk.flat());
      }
    })();
    const ms = performance.now() - t0;
    const stored = (db.prepare('SELECT count(*) AS n FROM devices WHERE tenant_id = ?').get(tenant.id) as { n: number }).n;
    if (stored !== rows) throw new Error(`the bare insert stored ${stored} devices for ${rows} rows`);
    return ms;
  } finally {
    db.close();
  }
}

async function main(): Promise<number> {
  const settings = readSettings(parseSettings, USAGE);
  if (typeof settings === 'number') return settings;
  const work = mkdtempSync(join(tmpdir(), 'polyprov-bench-import-'));
  registerTempDir(work);
  const file = join(work, 'devices.csv');
  progress(`writing a ${settings.rows}-device CSV to ${file}…`);
  writeFileSync(file, devicesCsv(settings.rows));
  const bytes = readFileSync(file).length;

  const polyprov: PolyprovRound[] = [];
  const csvOnly: number[] = [];
  const sqliteOnly: number[] = [];
  // Interleaved, so that a slow phase of the machine does not land on one target only.
  for (let round = 1; round <= settings.repeat; round++) {
    progress(`round ${round}/${settings.repeat}: csv-parse alone…`);
    csvOnly.push(csvParseRound(file, settings.rows));
    progress(`round ${round}/${settings.repeat}: sqlite bare insert (fresh data folder)…`);
    sqliteOnly.push(await sqliteRound(work, file, settings.rows, round));
    progress(`round ${round}/${settings.repeat}: polyprov import (fresh data folder)…`);
    const r = await polyprovRound(work, file, settings.rows, round);
    progress(`  total ${fmt(r.totalMs)} ms: ${fmt(settings.rows / (r.totalMs / 1000))} rows/s; checked every device`);
    polyprov.push(r);
  }

  const rate = (ms: number) => settings.rows / (ms / 1000);
  const med = (xs: number[]) => median(xs);
  const figures = {
    csvParseAlone: med(csvOnly),
    sqliteBare: med(sqliteOnly),
    parse: med(polyprov.map((r) => r.parseMs)),
    plan: med(polyprov.map((r) => r.planMs)),
    apply: med(polyprov.map((r) => r.applyMs)),
    total: med(polyprov.map((r) => r.totalMs)),
  };
  const totalRate = rate(figures.total);
  const pass = totalRate >= settings.target;
  const summary = {
    settings: { rows: settings.rows, fileBytes: bytes, repeat: settings.repeat, targetRowsPerSecond: settings.target, cpus: availableParallelism(), node: process.version },
    milliseconds: Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, Number(v.toFixed(1))])),
    rowsPerSecond: Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, Math.round(rate(v))])),
    roundsTotalRowsPerSecond: polyprov.map((r) => Math.round(rate(r.totalMs))),
    pass,
    durationSeconds: Number(((performance.now() - BENCH_START) / 1000).toFixed(1)),
  };
  if (settings.json) {
    process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    return pass ? 0 : 2;
  }
  const row = (name: string, ms: number, note: string) => [name, note, fmt(ms), fmt(rate(ms))];
  const out = [
    'polyprov bulk-import benchmark',
    `  a devices CSV of ${settings.rows} rows (${fmt(bytes / 1024 / 1024, 1)} MiB): mac_address, site_name, group, label, 2 parameter columns; ${SITES} sites, ${GROUPS} groups`,
    `  each round into a fresh SQLite data folder (WAL, synchronous=FULL); median of ${settings.repeat} round${settings.repeat === 1 ? '' : 's'}, interleaved; ${availableParallelism()} CPUs; Node ${process.version}`,
    '',
    ...table(
      ['step', 'what', 'ms', 'rows/s'],
      [
        row('csv-parse alone', figures.csvParseAlone, 'baseline: reading the file, nothing checked'),
        row('sqlite bare insert', figures.sqliteBare, 'baseline: the same rows into the same schema, no checks'),
        row('polyprov parse', figures.parse, 'csv-parse + every cell checked'),
        row('polyprov plan', figures.plan, 'rows matched against the tenant'),
        row('polyprov apply', figures.apply, 'store.applyImport, one transaction'),
        row('polyprov total', figures.total, 'file read to commit'),
      ],
      2,
    ),
    '',
    `  polyprov parse is ${fmt((figures.parse / figures.csvParseAlone) * 100)}% of csv-parse alone's time; apply ${fmt((figures.apply / figures.sqliteBare) * 100)}% of the bare insert's`,
    ...(settings.repeat > 1 ? [`  total per round: ${summary.roundsTotalRowsPerSecond.join(', ')} rows/s`] : []),
    '',
    `${pass ? 'PASS' : 'FAIL'}: polyprov imported ${settings.rows} devices at ${fmt(totalRate)} rows/s end to end (target ≥ ${settings.target} rows/s)`,
    `whole bench: ${fmt(summary.durationSeconds, 1)} s`,
    '',
  ];
  process.stdout.write(out.join('\n'));
  return pass ? 0 : 2;
}

runBench(main);
