import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { AdminContext } from '../admin/admin-context.js';
import { AdminError } from '../admin/admin-error.js';
import type { DirectoryView, ImportOptions, ImportResult } from '../admin/directories.js';
import {
  directoryCsv,
  DirectoryImportError,
  formatProblems,
  importSiteDirectory,
  importSummary,
  setDeviceDirectory,
  showDirectory,
} from '../admin/directories.js';
import type { ContactKey } from '../domain/contact-directory.js';
import { CONTACT_FIELDS } from '../domain/contact-directory.js';
import type { Tenant } from '../store/store.js';
import { readCsvFile } from './read-csv-file.js';
import { tenantOption, withTenant, type Opts } from './admin-commands.js';
import { printJson, printTable } from './print-table.js';

const warn = (text: string): boolean => process.stderr.write(`warning: ${text}\n`);


const importOptions = (o: Opts): ImportOptions => ({ mode: o.merge === true ? 'merge' : 'replace', skipBadRows: o.skipBadRows === true, dryRun: o.dryRun === true });

/** Runs an import, turning a refusal into one message that names the file and says what to do. */
async function runImport(file: string, o: Opts, run: (csv: string, opts: ImportOptions) => Promise<ImportResult>): Promise<void> {
  const opts = importOptions(o);
  let result: ImportResult;
  try {
    result = await run(readCsvFile(file), opts);
  } catch (err) {
    if (!(err instanceof DirectoryImportError)) throw err;
    const hint =
      err.reason === 'rows'
        ? 'fix them, or add --skip-bad-rows to import the other rows'
        : err.reason === 'all-rows'
          ? 'no row is free of errors'
          : opts.skipBadRows
            ? '--skip-bad-rows skips bad rows only, not a bad header or a file that cannot be read to its end'
            : '';
    throw new AdminError(`${file === '-' ? 'standard input' : file}: ${err.message}${hint ? `\n${hint}` : ''}`);
  }
  for (const w of result.warnings) warn(w);
  if (result.skipped.length > 0) process.stderr.write(`skipped:\n${formatProblems(result.skipped)}\n`);
  process.stdout.write(`${importSummary(result)}\n`);
}

// Columns in spreadsheet order, as the CSV export writes them.
const SHOWN: readonly ContactKey[] = ['firstName', 'lastName', 'contact', 'speedDial', 'label', 'protocol', 'ringType', 'divertContact', 'autoDivert', 'autoReject', 'buddyWatch', 'buddyBlock'];

function describeSource(view: DirectoryView): string {
  const s = view.source;
  const whose = view.mac === null ? 'site directory' : `directory of ${view.mac}`;
  switch (s.kind) {
    case 'none':
      return view.mac === null
        ? `no site directory yet (${s.path}); import one with: polyprov directory import <file.csv>`
        : `${view.mac} has no directory of its own (${s.path}): it reads the site directory`;
    case 'site-file':
      return `${whose} ${s.path}: ${view.contacts.length} contacts, stored ${s.storedAt}`;
    case 'device-file':
      return `${whose} ${s.path} (a file of the tree): ${view.contacts.length} contacts, stored ${s.storedAt}`;
    case 'device-upload':
      return `${whose} ${s.path}: ${view.contacts.length} contacts, version ${s.version} of ${s.versions}, stored ${s.storedAt}`;
  }
}

function printView(view: DirectoryView): void {
  process.stdout.write(`${describeSource(view)}\n`);
  if (view.source.kind === 'device-upload' && view.source.problem) warn(`stored with a problem: ${view.source.problem}`);
  if (view.contacts.length > 0) {
    // Only the columns some contact uses; names and number always.
    const fields = SHOWN.map((key) => CONTACT_FIELDS.find((f) => f.key === key)!).filter(
      (f) => ['firstName', 'lastName', 'contact'].includes(f.key) || view.contacts.some((c) => c[f.key] !== undefined),
    );
    const cell = (v: unknown) => (typeof v === 'boolean' ? (v ? 'yes' : 'no') : (v as string | number | undefined));
    process.stdout.write('\n');
    printTable(
      fields.map((f) => f.title.toLowerCase()),
      view.contacts.map((c) => fields.map((f) => cell(c[f.key]))),
    );
  }
  for (const p of view.problems) warn(p);
}

async function exportTo(ctx: AdminContext, t: Tenant, o: Opts): Promise<void> {
  const mac = o.device as string | undefined;
  const view = await showDirectory(ctx, t, mac);
  const csv = directoryCsv(view);
  if (view.source.kind === 'none') process.stderr.write(`note: ${describeSource(view)}\n`);
  for (const p of view.problems) warn(p);
  const output = o.output as string | undefined;
  if (output === undefined || output === '-') {
    process.stdout.write(csv);
    return;
  }
  writeFileSync(output, csv);
  process.stdout.write(`wrote ${view.contacts.length} contacts to ${output}\n`);
}

export function registerDirectoryCommands(program: Command): void {
  const directory = program
    .command('directory')
    .description('contact directories: the site-wide contacts/000000000000-directory.xml (CSV import and export) and per-device ones');

  tenantOption(
    directory
      .command('import <file.csv>')
      .description('replace the site directory with the contacts of a CSV file (header row: First name, Last name, Number, Speed dial, Label, …; "-" reads standard input)')
      .option('--merge', 'a row replaces the whole contact with its number, or is added; contacts not in the file stay')
      .option('--skip-bad-rows', 'import the good rows when some are bad (default: any bad row refuses the whole file)')
      .option('--dry-run', 'check the file and say what the import would do, store nothing'),
  ).action(async (file: string, _o, cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => runImport(file, o, (csv, opts) => importSiteDirectory(ctx, t, csv, opts))),
  );

  tenantOption(
    directory
      .command('export')
      .description('the site directory, or a device\'s, as CSV')
      .option('--device <mac>', "the directory this device is served (its own upload, or the administrator's)")
      .option('-o, --output <file>', 'write to a file instead of standard output'),
  ).action(async (_o, cmd: Command) => withTenant(cmd, async (ctx, t, o) => exportTo(ctx, t, o)));

  tenantOption(
    directory
      .command('show')
      .description('list the contacts of the site directory, or of a device\'s, and any problem in the file')
      .option('--device <mac>', 'the directory this device is served')
      .option('--json', 'print JSON'),
  ).action(async (_o, cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => {
      const { blobKey: _b, ...view } = await showDirectory(ctx, t, o.device as string | undefined);
      if (o.json) return printJson(view);
      printView({ ...view, blobKey: null });
    }),
  );

  tenantOption(
    directory
      .command('set <file.csv>')
      .description("set a device's own directory from a CSV file; the phone gets it the next time it reads its directory (a later edit on the phone wins in turn)")
      .requiredOption('--device <mac>', 'the device')
      .option('--merge', "merge into the device's current directory instead of replacing it")
      .option('--skip-bad-rows', 'import the good rows when some are bad')
      .option('--dry-run', 'check the file and say what setting it would do, store nothing'),
  ).action(async (file: string, _o, cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => runImport(file, o, (csv, opts) => setDeviceDirectory(ctx, t, o.device as string, csv, opts))),
  );
}
