import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { AdminError } from '../admin/admin-error.js';
import { exportCsv, importCsv, MASKED, type ImportOutcome, type RecordChange } from '../admin/bulk-import.js';
import { IMPORT_KINDS, type ImportKind } from '../domain/csv-import.js';
import { readCsvFile } from './read-csv-file.js';
import { tenantOption, withTenant } from './admin-commands.js';

// polyprov import / export: Poly-Lens-style CSV files of sites, devices, groups and model policies.

function requireKind(text: string, what: string): ImportKind {
  if ((IMPORT_KINDS as readonly string[]).includes(text)) return text as ImportKind;
  throw new AdminError(`${what} must be one of ${IMPORT_KINDS.join(', ')} (got ${JSON.stringify(text)})`);
}


const SINGULAR: Record<ImportKind, string> = { sites: 'site', devices: 'device', groups: 'group', models: 'model policy' };
const plural = (n: number, kind: ImportKind) => `${n} ${n === 1 ? SINGULAR[kind] : kind === 'models' ? 'model policies' : kind}`;
// Quoted as they are, escaped only when they hold control characters (a line break in a value).
const quotedValue = (v: string) => (/[\u0000-\u001f\u007f]/.test(v) ? JSON.stringify(v) : `"${v}"`);
const shownValue = (v: string | null, missing: string) => (v === null ? missing : v === MASKED ? MASKED : quotedValue(v));

/** One record of a dry run: + created, ~ changed; then its field and parameter changes, old → new. */
function describeChange(c: RecordChange): string[] {
  const lines = [`${c.action === 'create' ? '+' : '~'} ${c.kind} ${c.key} (line ${c.line})${c.action === 'create' ? ': new' : ''}`];
  for (const f of c.fields) lines.push(`    ${f.field}: ${f.from === '' ? '(none)' : quotedValue(f.from)} → ${f.to === '' ? '(none)' : quotedValue(f.to)}`);
  for (const p of c.parameters) lines.push(`    ${p.name}: ${shownValue(p.from, '(unset)')} → ${shownValue(p.to, '(removed)')}`);
  for (const n of c.notes) lines.push(`    note: ${n}`);
  return lines;
}

function summary(o: ImportOutcome): string {
  const created = o.changes.filter((c) => c.action === 'create').length;
  const updated = o.changes.length - created;
  const verb = o.dryRun ? ['to create', 'to change'] : ['created', 'changed'];
  return `${o.rows} row${o.rows === 1 ? '' : 's'}: ${plural(created, o.kind)} ${verb[0]}, ${updated} ${verb[1]}, ${o.unchanged} unchanged`;
}

export function registerImportCommands(program: Command): void {
  tenantOption(
    program
      .command('import <file>')
      .description('import sites, devices, groups or model policies from a Poly-Lens-style CSV file ("-" reads standard input); all or nothing')
      .option('--kind <kind>', `what the file holds: ${IMPORT_KINDS.join(', ')} (default: told by the header)`)
      .option('--replace', "each imported record's parameters become exactly its row's non-empty cells, and empty cells clear label, site, group, description…")
      .option('--dry-run', 'print what would change (secrets masked) and change nothing')
      .option('--force', "accept parameter names that are not in Poly's UC Software templates, and models polyprov does not list"),
  ).action(async (file: string, _o, cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => {
      const kind = o.kind === undefined ? undefined : requireKind(o.kind as string, '--kind');
      const text = readCsvFile(file);
      const started = performance.now();
      const outcome = await importCsv(ctx, t, text, file === '-' ? 'standard input' : file, {
        kind,
        mode: o.replace === true ? 'replace' : 'merge',
        force: o.force === true,
        dryRun: o.dryRun === true,
        onProgress: (rows) => {
          const seconds = (performance.now() - started) / 1000;
          process.stderr.write(`read ${rows} rows (${Math.round(rows / seconds)} rows/s)\n`);
        },
      });
      const out: string[] = [];
      const what = `${file === '-' ? 'standard input' : file} (${outcome.kind}, ${outcome.mode})`;
      if (outcome.dryRun) {
        out.push(`dry run, nothing changed: ${what} into tenant "${t.slug}": ${summary(outcome)}`);
        for (const c of outcome.changes) out.push(...describeChange(c));
      } else {
        const c = outcome.counts;
        const params = c ? `; ${c.parametersSet} parameter value${c.parametersSet === 1 ? '' : 's'} set, ${c.parametersRemoved} removed` : '';
        const ms = outcome.timings;
        out.push(`imported ${what} into tenant "${t.slug}": ${summary(outcome)}${params} (read ${(ms.readMs / 1000).toFixed(2)} s, plan ${(ms.planMs / 1000).toFixed(2)} s, apply ${(ms.applyMs / 1000).toFixed(2)} s)`);
      }
      for (const n of outcome.notes) out.push(`note: ${n}`);
      process.stdout.write(`${out.join('\n')}\n`);
    }),
  );

  tenantOption(
    program
      .command('export <kind>')
      .description(`write a tenant's ${IMPORT_KINDS.join(', ')} as a Poly-Lens-style CSV file that polyprov import reads back to the same state (passwords included: keep the file safe)`)
      .option('-o, --output <file>', 'write to this file (default: standard output)'),
  ).action(async (kindText: string, _o, cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => {
      const kind = requireKind(kindText, 'the kind');
      const { csv, warnings } = await exportCsv(ctx, t, kind);
      for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
      if (o.output === undefined) {
        process.stdout.write(csv);
        return;
      }
      try {
        writeFileSync(o.output as string, csv);
      } catch (err) {
        throw new AdminError(`cannot write "${o.output as string}": ${(err as Error).message}`);
      }
      process.stderr.write(`wrote ${kind} of tenant "${t.slug}" to ${o.output as string}\n`);
    }),
  );
}
