import type { Command } from 'commander';
import type { AdminContext } from '../admin/admin-context.js';
import { AdminError } from '../admin/admin-error.js';
import { DEFAULT_MAX_ENTRIES, DEFAULT_MAX_UNPACKED_BYTES, firmwareFleet, importRelease, listReleases, removeRelease, requireRelease, setFirmwareTarget, unsetFirmwareTarget, type Library } from '../admin/firmware.js';
import { requireTenant } from '../admin/tenants.js';
import type { FirmwareRelease } from '../store/store.js';
import { scopeOptions, selector, tenantOption, withContext, withTenant, type Opts } from './admin-commands.js';
import { printJson, printTable } from './print-table.js';

// polyprov firmware …: the firmware library (a tenant's, or --global) and target versions.

const MB = 1024 * 1024;
const size = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;

/** A whole number of at least 1 from a flag, or a message naming the flag. */
function positiveInteger(flag: string, text: unknown): number {
  const n = Number(text);
  if (typeof text !== 'string' || !/^[0-9]+$/.test(text) || !Number.isSafeInteger(n) || n < 1) throw new AdminError(`${flag} takes a whole number of at least 1 (got "${String(text)}")`);
  return n;
}

const libraryOptions = (c: Command) => tenantOption(c).option('--global', 'the global library, shared by every tenant');

/** --global, or the tenant (-t, POLYPROV_TENANT, or the only one). */
async function withLibrary(cmd: Command, fn: (ctx: AdminContext, lib: Library, opts: Opts) => Promise<void>): Promise<void> {
  await withContext(cmd, async (ctx, opts) => {
    if (opts.global === true && opts.tenant !== undefined) throw new AdminError('give --global or --tenant, not both');
    const lib = opts.global === true ? null : await requireTenant(ctx, (opts.tenant as string | undefined) ?? process.env.POLYPROV_TENANT);
    await fn(ctx, lib, opts);
  });
}

function printRelease(r: FirmwareRelease): void {
  process.stdout.write(`firmware ${r.version} (${r.layout}), ${r.tenantId === null ? 'global library' : 'tenant library'}, from ${r.source}, imported ${r.createdAt}\n`);
  printTable(
    ['file', 'kind', 'part', 'models', 'size', 'sha256'],
    r.images.map((i) => [i.fileName, i.kind, i.partNumber ?? '(combined)', i.models.join(' ') || '-', size(i.size), i.blobKey]),
  );
}

export function registerFirmwareCommands(program: Command): void {
  const fw = program.command('firmware').description('UC Software releases and the version each phone should run');

  libraryOptions(
    fw
      .command('import <paths...>')
      .description('import a release: the zip Poly publishes (UC_Software_…_split.zip or …_combined.zip), a folder, or image files (<part>.sip.ld, sip.ld, sip.ver)')
      .option('--version <version>', 'the version, when neither sip.ver nor the zip or folder name says it')
      .option('--files', 'keep every file under its own path (Poly Rove base and handset firmware, or anything else devices fetch by name); needs --version')
      .option('--max-unpacked-mib <MiB>', `refuse a release whose images unpack to more than this (default ${DEFAULT_MAX_UNPACKED_BYTES / MB})`)
      .option('--max-entries <count>', `refuse a zip or folder holding more files than this (default ${DEFAULT_MAX_ENTRIES})`),
  ).action(async (paths: string[], _o, cmd: Command) =>
    withLibrary(cmd, async (ctx, lib, o) => {
      const limits = {
        ...(o.maxUnpackedMib !== undefined ? { maxUnpackedBytes: positiveInteger('--max-unpacked-mib', o.maxUnpackedMib) * MB } : {}),
        ...(o.maxEntries !== undefined ? { maxEntries: positiveInteger('--max-entries', o.maxEntries) } : {}),
      };
      const r = await importRelease(ctx, lib, paths, { ...limits, ...(o.version ? { version: o.version as string } : {}), ...(o.files ? { files: true } : {}) }, {
        classified: (c) => {
          process.stderr.write(`firmware ${c.version} (${c.layout}): ${c.images.length} image(s), ${size(c.images.reduce((n, i) => n + i.size, 0))}\n`);
          if (c.unknownParts.length) process.stderr.write(`warning: part numbers not in the model table (served by name only): ${c.unknownParts.join(', ')}\n`);
        },
        stored: (name, bytes) => process.stderr.write(`  stored ${name} (${size(bytes)})\n`),
      });
      process.stdout.write(`imported firmware ${r.version} into ${lib ? `tenant "${lib.slug}"` : 'the global library'}: ${r.images.length} image(s); phones fetch it from firmware/${r.version}/\n`);
    }),
  );

  libraryOptions(fw.command('list').description("the library's releases").option('--json', 'print JSON')).action(async (_o, cmd: Command) =>
    withLibrary(cmd, async (ctx, lib, o) => {
      const rs = await listReleases(ctx, lib);
      if (o.json) return printJson(rs);
      printTable(
        ['version', 'layout', 'images', 'models', 'size', 'source'],
        rs.map((r) => [r.version, r.layout, r.images.length, [...new Set(r.images.flatMap((i) => i.models))].length || '-', size(r.images.reduce((n, i) => n + i.size, 0)), r.source]),
      );
    }),
  );

  libraryOptions(fw.command('show <version>').description('one release: its images, part numbers, models and checksums').option('--json', 'print JSON')).action(
    async (version: string, _o, cmd: Command) =>
      withLibrary(cmd, async (ctx, lib, o) => {
        const r = await requireRelease(ctx, lib, version);
        if (o.json) printJson(r);
        else printRelease(r);
      }),
  );

  libraryOptions(fw.command('remove <version>').description('remove a release that no policy targets (the images stay in the blob store)')).action(
    async (version: string, _o, cmd: Command) =>
      withLibrary(cmd, async (ctx, lib) => {
        await removeRelease(ctx, lib, version);
        process.stdout.write(`removed firmware ${version}\n`);
      }),
  );

  tenantOption(fw.command('status').description('how many phones run which version, against which target (from what they report)').option('--json', 'print JSON')).action(
    async (_o, cmd: Command) =>
      withTenant(cmd, async (ctx, t, o) => {
        const rows = await firmwareFleet(ctx, t);
        if (o.json) return printJson(rows);
        printTable(['running', 'target', 'devices', ''], rows.map((r) => [r.running, r.target, r.devices, r.target === 'none' || r.running === r.target ? '' : 'not on target']));
      }),
  );

  const target = fw.command('target').description('the version phones should run, per tenant, model, site, group or device (see: polyprov explain)');
  tenantOption(
    scopeOptions(
      target
        .command('set <version>')
        .description('set the target version at one layer (the tenant layer unless --model, --site, --group or --device); a more specific layer wins')
        .option('--allow-downgrade', 'let phones that run a newer version go back to this one'),
    ),
  ).action(async (version: string, _o, cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => {
      const { release: r, warnings } = await setFirmwareTarget(ctx, t, selector(o), version, { allowDowngrade: o.allowDowngrade === true });
      for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
      process.stdout.write(`target firmware ${r.version} (${r.tenantId === null ? 'global library' : 'tenant library'})${o.allowDowngrade ? ', downgrade allowed' : ''}\n`);
    }),
  );
  tenantOption(scopeOptions(target.command('unset').description('remove the target version from one layer'))).action(async (_o, cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => {
      const removed = await unsetFirmwareTarget(ctx, t, selector(o));
      process.stdout.write(removed ? 'target removed\n' : 'that layer had no target\n');
    }),
  );
}
