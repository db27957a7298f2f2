import type { Command } from 'commander';
import { AdminError } from '../admin/admin-error.js';
import { clearOverrides, deviceOverrides, listOverrideVersions, overrideConflicts, requireOverrideKind, requireOverrideKinds, restoreOverride } from '../admin/overrides.js';
import { tenantOption, withDeviceTenant, withTenant } from './admin-commands.js';
import { printJson, printTable } from './print-table.js';

/** `polyprov override …`: the files phones upload with their users' own changes (<mac>-phone.cfg, <mac>-web.cfg). */
export function registerOverrideCommands(program: Command): void {
  const override = program
    .command('override')
    .description("the phone's own changes (<mac>-phone.cfg from its keypad, <mac>-web.cfg from its web UI): read, clear, restore, report conflicts");

  tenantOption(override.command('list <mac>').description("every stored version of a device's override files; the newest is served").option('--json', 'print JSON')).action(
    async (mac: string, _o, cmd: Command) =>
      withDeviceTenant(cmd, mac, async (ctx, t, o) => {
        const versions = await listOverrideVersions(ctx, t, mac);
        if (o.json) return printJson(versions);
        printTable(
          ['path', 'version', 'size', 'date', 'problem', 'note'],
          versions.map((v) => [v.path, v.version, v.size, v.createdAt, v.problem, [v.served ? 'served' : '', v.empty ? 'empty (cleared)' : ''].filter(Boolean).join(', ')]),
        );
      }),
  );

  tenantOption(
    override
      .command('show <mac>')
      .description('the parameters the newest override files set')
      .option('--kind <kind>', 'phone, web or both', 'both')
      .option('--json', 'print JSON'),
  ).action(async (mac: string, _o, cmd: Command) =>
    withDeviceTenant(cmd, mac, async (ctx, t, o) => {
      const kinds = requireOverrideKinds(o.kind as string);
      const all = await deviceOverrides(ctx, t, mac);
      if (o.json) return printJson({ tenant: all.tenant, mac: all.mac, ...Object.fromEntries(kinds.map((k) => [k, all[k]])) });
      const out = process.stdout;
      kinds.forEach((kind, i) => {
        const f = all[kind];
        if (i > 0) out.write('\n');
        if (!f) return void out.write(`${all.mac}-${kind}.cfg: none uploaded\n`);
        const firmware = f.firmware ? `, written by ${[f.firmware.codename, f.firmware.version].filter(Boolean).join(' ')}` : '';
        out.write(`${f.path} version ${f.version} (${f.size} bytes, ${f.createdAt}${firmware})\n`);
        if (f.problem !== null) return void out.write(`malformed: ${f.problem}\n`);
        if (f.parameters.length === 0) return void out.write(f.empty ? 'empty override file (cleared): no parameters\n' : 'no parameters\n');
        printTable(['parameter', 'value'], f.parameters.map((p) => [p.name, p.value]));
      });
    }),
  );

  tenantOption(
    override
      .command('clear <mac>')
      .description('"Reset Local Config" from the server: the phone is served an empty override file and drops its local changes (earlier versions are kept)')
      .option('--kind <kind>', 'phone, web or both', 'both'),
  ).action(async (mac: string, _o, cmd: Command) =>
    withDeviceTenant(cmd, mac, async (ctx, t, o) => {
      const kind = o.kind as string;
      for (const r of await clearOverrides(ctx, t, mac, kind === 'both' ? 'both' : requireOverrideKind(kind))) {
        const line =
          r.outcome === 'cleared'
            ? `cleared ${r.path}: version ${r.version} is the empty override file (earlier versions kept; see polyprov override list)`
            : r.outcome === 'already-empty'
              ? `${r.path} is already empty (version ${r.version})`
              : `${r.path}: none uploaded, nothing to clear`;
        process.stdout.write(line + '\n');
      }
    }),
  );

  tenantOption(
    override
      .command('restore <mac>')
      .description('serve an earlier version of an override file again (recorded as a new version)')
      .requiredOption('--kind <kind>', 'phone or web')
      .requiredOption('--version <n>', 'the version to restore (see: polyprov override list <mac>)'),
  ).action(async (mac: string, _o, cmd: Command) =>
    withDeviceTenant(cmd, mac, async (ctx, t, o) => {
      const text = o.version as string;
      if (!/^\d+$/.test(text)) throw new AdminError(`--version expects a version number such as 1, not ${JSON.stringify(text)}`);
      const v = Number(text);
      const rec = await restoreOverride(ctx, t, mac, o.kind as string, v);
      process.stdout.write(`restored ${rec.path} version ${v} as version ${rec.version}: the phone gets it when it next reads it\n`);
    }),
  );

  tenantOption(
    override
      .command('conflicts')
      .description("overridden parameters whose value differs from what central policy gives the device")
      .option('--json', 'print JSON'),
  ).action(async (_o, cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => {
      const r = await overrideConflicts(ctx, t);
      if (o.json) return printJson(r);
      const out = process.stdout;
      out.write(`${r.conflicts.length} conflicting override(s) on ${new Set(r.conflicts.map((c) => c.mac)).size} of ${r.devicesWithOverrides} device(s) with override files in tenant "${r.tenant}"\n`);
      for (const m of r.malformed) out.write(`note: ${m.path} (version ${m.version}) is malformed, what it overrides is unknown: ${m.problem}\n`);
      if (r.conflicts.length > 0) {
        out.write('\n');
        printTable(
          ['mac', 'parameter', 'server value', 'from', 'override', 'in'],
          r.conflicts.map((c) => [c.mac, c.parameter, c.server.value, `${c.server.layer} ${c.server.ref}`, c.override.value, `${c.override.source} (${c.override.path} v${c.override.version})`]),
        );
      }
      if (r.policy.overridePolicy === 'allow-all') return;
      const action = r.policy.stripDisallowedOverrides ? 'stripped from what phones are served' : 'served as uploaded';
      out.write(`\n${r.disallowed.length} override(s) the tenant's ${r.policy.overridePolicy} (${r.policy.overridePatterns.join(', ') || 'no patterns'}) does not allow, ${action}\n`);
      if (r.disallowed.length === 0) return;
      out.write('\n');
      printTable(
        ['mac', 'parameter', 'value', 'in'],
        r.disallowed.map((d) => [d.mac, d.parameter, d.value, `${d.source} (${d.path} v${d.version})`]),
      );
    }),
  );
}
