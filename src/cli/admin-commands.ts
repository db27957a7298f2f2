import type { Command } from 'commander';
import type { AdminContext } from '../admin/admin-context.js';
import { AdminError } from '../admin/admin-error.js';
import { explainDevice, tenantOfDevice } from '../admin/explain.js';
import { addFile, removeFile } from '../admin/files.js';
import { listParameters, scopeNames, setParameters, unsetParameters, type ScopeSelector } from '../admin/parameters.js';
import { addDevice, addGroup, addSite, requireDevice, requireGroup, requireModelPolicy, requireSite, setModelPolicy, updateDevice, updateSite } from '../admin/structure.js';
import { addTenant, removeTenant, requireTenant, updateTenant, type TenantSettings } from '../admin/tenants.js';
import { openAdminContext } from '../app.js';
import { loadConfig } from '../config.js';
import type { Tenant } from '../store/store.js';
import { printJson, printTable } from './print-table.js';

export type Opts = Record<string, unknown>;

/** Runs one admin action against the configured store and closes it, whatever happens. */
export async function withContext(cmd: Command, fn: (ctx: AdminContext, opts: Opts) => Promise<void>): Promise<void> {
  const opts = cmd.optsWithGlobals() as Opts;
  const cfg = loadConfig({ data: opts.data as string | undefined, databaseUrl: opts.databaseUrl as string | undefined, config: opts.config as string | undefined });
  const ctx = await openAdminContext(cfg);
  try {
    await fn(ctx, opts);
  } finally {
    await ctx.store.close();
  }
}

export async function withTenant(cmd: Command, fn: (ctx: AdminContext, t: Tenant, opts: Opts) => Promise<void>): Promise<void> {
  await withContext(cmd, async (ctx, opts) => fn(ctx, await requireTenant(ctx, (opts.tenant as string | undefined) ?? process.env.POLYPROV_TENANT), opts));
}

/** For commands about one device: --tenant (or POLYPROV_TENANT), else the tenant that knows the MAC. */
export async function withDeviceTenant(cmd: Command, mac: string, fn: (ctx: AdminContext, t: Tenant, opts: Opts) => Promise<void>): Promise<void> {
  await withContext(cmd, async (ctx, opts) => {
    const slug = (opts.tenant as string | undefined) ?? process.env.POLYPROV_TENANT;
    return fn(ctx, slug ? await requireTenant(ctx, slug) : await tenantOfDevice(ctx, mac), opts);
  });
}

export const tenantOption = (c: Command) => c.option('-t, --tenant <slug>', 'tenant (default: the only one; env POLYPROV_TENANT)');
const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);
const collect = (v: string, prev: string[] = []) => [...prev, v];

function tenantSettings(o: Opts): TenantSettings {
  const s: TenantSettings = {};
  if (o.name !== undefined) s.name = o.name as string;
  if (o.username !== undefined) s.username = o.username as string;
  if (o.password !== undefined) s.password = o.password as string;
  if (o.pathPrefix !== undefined) s.pathPrefix = o.pathPrefix as string;
  if (o.hostname !== undefined) s.hostnames = o.hostname as string[];
  if (o.unknownDevices !== undefined) s.unknownDevices = o.unknownDevices as string;
  if (o.appFilePath !== undefined) s.appFilePath = o.appFilePath as string;
  if (o.configFiles !== undefined) s.extraConfigFiles = list(o.configFiles as string);
  if (o.logMaxBytes !== undefined) s.logMaxBytes = o.logMaxBytes as string;
  if (o.logSegments !== undefined) s.logSegments = o.logSegments as string;
  if (o.logMaxAgeDays !== undefined) s.logMaxAgeDays = o.logMaxAgeDays as string;
  if (o.overridePolicy !== undefined) s.overridePolicy = o.overridePolicy as string;
  if (o.overridePatterns !== undefined) s.overridePatterns = list(o.overridePatterns as string);
  if (o.stripDisallowedOverrides !== undefined) s.stripDisallowedOverrides = o.stripDisallowedOverrides as boolean;
  if (o.tftpSubnets !== undefined) s.tftpSubnets = list(o.tftpSubnets as string);
  if (o.tftpSecrets !== undefined) s.tftpSecrets = o.tftpSecrets as boolean;
  if (o.factoryLogin !== undefined) s.factoryLogin = o.factoryLogin as boolean;
  if (o.rehomeDevices !== undefined) s.rehomeDevices = o.rehomeDevices as boolean;
  return s;
}

function tenantOptions(c: Command): Command {
  return c
    .option('--name <text>', 'display name')
    .option('--username <name>', 'provisioning user name phones send (default: the slug)')
    .option('--password <password>', 'provisioning password (default: generated and printed once)')
    .option('--path-prefix <prefix>', 'first path segment that selects this tenant, e.g. acme for /acme/000000000000.cfg ("" to clear)')
    .option('--hostname <name>', 'host name that selects this tenant (repeat for several)', collect)
    .option('--unknown-devices <policy>', 'what unregistered MACs get: serve (tenant defaults) or refuse')
    .option('--app-file-path <path>', 'APP_FILE_PATH of the master file (default sip.ld)')
    .option('--config-files <list>', 'comma-separated files of the tree read after the generated config')
    .option('--log-max-bytes <size>', 'size cap of a phone log before it rotates into a segment, e.g. 10MiB (default 10MiB)')
    .option('--log-segments <n>', 'older segments kept per phone log (default 5; 0 keeps none)')
    .option('--log-max-age-days <days>', 'drop log segments rotated longer ago than this (default 90; 0: no age limit)')
    .option('--override-policy <policy>', 'which parameters phones may override: allow-all (default), allow-list or deny-list (of --override-patterns)')
    .option('--override-patterns <list>', 'comma-separated parameter names, "*" for one segment or a trailing ".*", e.g. reg.*.label,up.* ("" to clear)')
    .option('--strip-disallowed-overrides', 'serve override files without the parameters the policy forbids (stored uploads are kept as they are)')
    .option('--no-strip-disallowed-overrides', 'serve override files as the phone uploaded them (default)')
    .option('--tftp-subnets <list>', 'comma-separated client subnets served this tenant over TFTP, which has no login, e.g. 10.20.0.0/16,2001:db8::/48 ("" to clear)')
    .option('--tftp-secrets', 'let files holding passwords (SIP, admin, provisioning) go out over TFTP, unencrypted')
    .option('--no-tftp-secrets', 'refuse files holding passwords over TFTP, logging each refusal (default)')
    .option('--factory-login', "accept the phones' factory login PlcmSpIp/PlcmSpIp (FTP's default) for this tenant")
    .option('--no-factory-login', 'refuse the factory login (default)')
    .option('--rehome-devices', "move a device to another site when its address moves into that site's subnets")
    .option('--no-rehome-devices', 'a device stays in the site its first address placed it in (default)');
}

function printTenant(t: Tenant): void {
  printTable(
    ['setting', 'value'],
    [
      ['slug', t.slug],
      ['name', t.name],
      ['username', t.provUsername],
      ['path prefix', t.pathPrefix],
      ['host names', t.hostnames.join(', ')],
      ['unknown devices', t.unknownDevices],
      ['APP_FILE_PATH', t.appFilePath],
      ['extra CONFIG_FILES', t.extraConfigFiles.join(', ')],
      ['log size cap', `${t.logMaxBytes} bytes`],
      ['log segments kept', t.logSegments],
      ['log max age', t.logMaxAgeDays === 0 ? 'no limit' : `${t.logMaxAgeDays} days`],
      ['override policy', t.overridePolicy],
      ['override patterns', t.overridePatterns.join(', ')],
      ['strip disallowed overrides', t.stripDisallowedOverrides ? 'yes' : 'no'],
      ['TFTP subnets', t.tftpSubnets.join(', ')],
      ['secrets over TFTP', t.tftpSecrets ? 'allowed' : 'refused'],
      ['factory login (PlcmSpIp)', t.factoryLogin ? 'accepted' : 'refused'],
      ['re-home devices by address', t.rehomeDevices ? 'yes' : 'no (a device stays in the site its first address placed it in)'],
      ['revision', t.revision],
    ],
  );
}

export function scopeOptions(c: Command): Command {
  return c
    .option('--model <model>', 'model policy layer, e.g. VVX_450')
    .option('--site <slug>', 'site layer')
    .option('--group <slug>', 'device group layer')
    .option('--device <mac>', 'device layer');
}

export const selector = (o: Opts): ScopeSelector => ({
  ...(o.model !== undefined ? { model: o.model as string } : {}),
  ...(o.site !== undefined ? { site: o.site as string } : {}),
  ...(o.group !== undefined ? { group: o.group as string } : {}),
  ...(o.device !== undefined ? { device: o.device as string } : {}),
});

export function registerAdminCommands(program: Command): void {
  // tenants
  const tenant = program.command('tenant').description('manage tenants (customers), their credentials and how requests find them');
  tenantOptions(tenant.command('add <slug>').description('create a tenant')).action(async (slug: string, _o, cmd: Command) =>
    withContext(cmd, async (ctx, o) => {
      const { tenant: t, password } = await addTenant(ctx, slug, tenantSettings(o));
      process.stdout.write(`created tenant "${t.slug}": user name ${t.provUsername}${o.password === undefined ? `, password ${password} (shown once: note it now)` : ''}\n`);
    }),
  );
  tenantOptions(tenant.command('set <slug>').description('change a tenant')).action(async (slug: string, _o, cmd: Command) =>
    withContext(cmd, async (ctx, o) => printTenant(await updateTenant(ctx, slug, tenantSettings(o)))),
  );
  tenant.command('show <slug>').description("show a tenant's settings").action(async (slug: string, _o, cmd: Command) =>
    withContext(cmd, async (ctx) => printTenant(await requireTenant(ctx, slug))),
  );
  tenant
    .command('list')
    .option('--json', 'print JSON')
    .description('list tenants')
    .action(async (_o, cmd: Command) =>
      withContext(cmd, async (ctx, o) => {
        const all = await ctx.store.listTenants();
        if (o.json) return printJson(all.map(({ provPasswordHash: _p, provDigestHa1: _h, ...rest }) => rest));
        printTable(['slug', 'name', 'username', 'path prefix', 'host names', 'unknown devices'], all.map((t) => [t.slug, t.name, t.provUsername, t.pathPrefix, t.hostnames.join(','), t.unknownDevices]));
      }),
    );
  tenant.command('remove <slug>').description('delete a tenant and everything in it').action(async (slug: string, _o, cmd: Command) =>
    withContext(cmd, async (ctx) => {
      await removeTenant(ctx, slug);
      process.stdout.write(`removed tenant "${slug}"\n`);
    }),
  );

  // sites and groups share a shape
  for (const kind of ['site', 'group'] as const) {
    const c = program.command(kind).description(kind === 'site' ? 'manage sites (locations) of a tenant' : 'manage device groups of a tenant');
    tenantOption(c.command('add <slug>').description(`create a ${kind}`).option('--name <text>', 'display name')).action(async (slug: string, _o, cmd: Command) =>
      withTenant(cmd, async (ctx, t, o) => {
        const made = kind === 'site' ? await addSite(ctx, t, slug, o.name as string | undefined) : await addGroup(ctx, t, slug, o.name as string | undefined);
        process.stdout.write(`created ${kind} "${made.slug}" in tenant "${t.slug}"\n`);
      }),
    );
    tenantOption(c.command('list').description(`list ${kind}s`)).action(async (_o, cmd: Command) =>
      withTenant(cmd, async (ctx, t) => {
        if (kind === 'group') return printTable(['group', 'name'], (await ctx.store.listGroups(t.id)).map((r) => [r.slug, r.name]));
        printTable(['site', 'name', 'subnets', 'TFTP subnets'], (await ctx.store.listSites(t.id)).map((r) => [r.slug, r.name, r.subnets.map((n) => n.public).join(','), r.tftpSubnets.join(',')]));
      }),
    );
    tenantOption(c.command('remove <slug>').description(`delete a ${kind}; its devices stay, without it`)).action(async (slug: string, _o, cmd: Command) =>
      withTenant(cmd, async (ctx, t) => {
        if (kind === 'site') await ctx.store.deleteSite(t.id, (await requireSite(ctx, t, slug)).id);
        else await ctx.store.deleteGroup(t.id, (await requireGroup(ctx, t, slug)).id);
        process.stdout.write(`removed ${kind} "${slug}"\n`);
      }),
    );
  }

  tenantOption(
    program
      .commands.find((c) => c.name() === 'site')!
      .command('set <slug>')
      .description("change a site's name, description, location, subnets (devices whose address falls in them join the site) or TFTP subnets")
      .option('--name <text>', 'display name')
      .option('--description <text>', 'description (Poly Lens: description)')
      .option('--location <text>', 'location (Poly Lens: location_name)')
      .option('--subnets <json>', 'Poly Lens subnets JSON, e.g. \'{"public-subnet-list":[{"mask-length":24,"ip-address":"203.0.113.0","private-subnet-list":[]}]}\' ("[]" clears)')
      .option('--tftp-subnets <list>', 'comma-separated subnets; devices of the site are refused TFTP from anywhere else ("" lifts the limit)'),
  ).action(async (slug: string, _o, cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => {
      const site = await updateSite(ctx, t, slug, {
        ...(o.name !== undefined ? { name: o.name as string } : {}),
        ...(o.description !== undefined ? { description: o.description as string } : {}),
        ...(o.location !== undefined ? { location: o.location as string } : {}),
        ...(o.subnets !== undefined ? { subnetsJson: o.subnets as string } : {}),
        ...(o.tftpSubnets !== undefined ? { tftpSubnets: list(o.tftpSubnets as string) } : {}),
      });
      const nets = site.subnets.map((n) => (n.private.length ? `${n.public} (${n.private.join(', ')})` : n.public)).join(', ');
      process.stdout.write(`site "${site.slug}": subnets ${nets || '(none)'}; TFTP subnets ${site.tftpSubnets.join(', ') || '(no limit beyond the tenant\'s)'}\n`);
    }),
  );

  // model policies
  const model = program.command('model').description('manage per-model policy (firmware path and the model parameter layer)');
  tenantOption(
    model
      .command('set <model>')
      .description('create or change the policy of a model, e.g. VVX_450')
      .option('--app-file-path <path>', 'APP_FILE_PATH for this model (master file APPLICATION_<model> element)')
      .option('--no-app-file-path', 'use the tenant APP_FILE_PATH for this model'),
  ).action(async (m: string, _o, cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => {
      const app = o.appFilePath === false ? null : (o.appFilePath as string | undefined);
      const p = await setModelPolicy(ctx, t, m, app);
      process.stdout.write(`model ${p.model}: APP_FILE_PATH ${p.appFilePath ?? '(tenant default)'}\n`);
    }),
  );
  tenantOption(model.command('list').description('list model policies')).action(async (_o, cmd: Command) =>
    withTenant(cmd, async (ctx, t) => printTable(['model', 'APP_FILE_PATH'], (await ctx.store.listModelPolicies(t.id)).map((m) => [m.model, m.appFilePath]))),
  );
  tenantOption(model.command('remove <model>').description('delete a model policy and its parameters')).action(async (m: string, _o, cmd: Command) =>
    withTenant(cmd, async (ctx, t) => {
      const p = await requireModelPolicy(ctx, t, m);
      await ctx.store.deleteModelPolicy(t.id, p.id);
      process.stdout.write(`removed model policy ${p.model}\n`);
    }),
  );

  // devices
  const device = program.command('device').description('register and place devices');
  const deviceOptions = (c: Command) =>
    tenantOption(
      c
        .option('--label <text>', 'free text, e.g. the user or the desk')
        .option('--site <slug>', 'site the device is at ("" for none)')
        .option('--group <slug>', 'device group ("" for none)')
        .option('--app-file-path <path>', 'device-specific APP_FILE_PATH (gives the device its own <mac>.cfg; "" to clear)'),
    );
  const deviceSettings = (o: Opts) => ({
    ...(o.label !== undefined ? { label: o.label as string } : {}),
    ...(o.site !== undefined ? { site: (o.site as string) || null } : {}),
    ...(o.group !== undefined ? { group: (o.group as string) || null } : {}),
    ...(o.appFilePath !== undefined ? { appFilePath: (o.appFilePath as string) || null } : {}),
  });
  deviceOptions(device.command('add <mac>').description('register a device (or adopt one seen on the wire)')).action(async (mac: string, _o, cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => {
      const d = await addDevice(ctx, t, mac, deviceSettings(o));
      process.stdout.write(`registered ${d.mac} in tenant "${t.slug}"\n`);
    }),
  );
  deviceOptions(device.command('set <mac>').description('change a device')).action(async (mac: string, _o, cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => {
      const d = await updateDevice(ctx, t, mac, deviceSettings(o));
      process.stdout.write(`updated ${d.mac}\n`);
    }),
  );
  tenantOption(device.command('remove <mac>').description('forget a device and its parameters')).action(async (mac: string, _o, cmd: Command) =>
    withTenant(cmd, async (ctx, t) => {
      const d = await requireDevice(ctx, t, mac);
      await ctx.store.deleteDevice(t.id, d.id);
      process.stdout.write(`removed ${d.mac}\n`);
    }),
  );
  const inventory = async (cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => {
      const devices = await ctx.store.listDevices(t.id);
      if (o.json) return printJson(devices);
      const names = await scopeNames(ctx, t);
      printTable(
        ['mac', 'registered', 'label', 'site', 'group', 'model', 'firmware', 'phase', 'last seen', 'last ip', 'last file'],
        devices.map((d) => [
          d.mac,
          d.registered ? 'yes' : 'no',
          d.label,
          d.siteId != null ? names.get(`site:${d.siteId}`) : null,
          d.groupId != null ? names.get(`group:${d.groupId}`) : null,
          d.model,
          d.firmware,
          d.phase,
          d.lastSeen,
          d.lastIp,
          d.lastFile,
        ]),
      );
    });
  tenantOption(device.command('list').description('list devices, registered and seen').option('--json', 'print JSON')).action(async (_o, cmd: Command) => inventory(cmd));
  tenantOption(program.command('inventory').description('what the server has seen of each device: model, firmware, last contact').option('--json', 'print JSON')).action(
    async (_o, cmd: Command) => inventory(cmd),
  );

  // parameters
  const param = program.command('param').description('set Polycom parameters at a layer: tenant (default), --model, --site, --group or --device');
  tenantOption(
    scopeOptions(
      param
        .command('set <assignments...>')
        .description("set name=value (e.g. reg.1.address=1001); refuses, and sets nothing, when a name is not in Poly's UC Software templates or a value does not fit its type")
        .option('--force', 'set unknown names and invalid values anyway, with a warning (e.g. parameters of newer firmware)')
        .option('--strict', 'refuse unknown names and invalid values (the default; kept for scripts)'),
    ),
  ).action(async (assignments: string[], _o, cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => {
      if (o.strict === true && o.force === true) throw new AdminError('give either --strict or --force, not both');
      const { values, warnings } = await setParameters(ctx, t, selector(o), assignments, { force: o.force === true });
      for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
      process.stdout.write(`set ${Object.keys(values).length} parameter(s)\n`);
    }),
  );
  tenantOption(scopeOptions(param.command('unset <names...>').description('remove parameters from one layer'))).action(async (names: string[], _o, cmd: Command) =>
    withTenant(cmd, async (ctx, t, o) => {
      const n = await unsetParameters(ctx, t, selector(o), names);
      process.stdout.write(`removed ${n} parameter(s)${n < names.length ? ` (${names.length - n} were not set at that layer)` : ''}\n`);
    }),
  );
  tenantOption(scopeOptions(param.command('list').description('list parameters (all layers unless one is chosen)').option('--json', 'print JSON'))).action(
    async (_o, cmd: Command) =>
      withTenant(cmd, async (ctx, t, o) => {
        const rows = await listParameters(ctx, t, selector(o));
        const names = await scopeNames(ctx, t);
        const out = rows.map((r) => ({ layer: r.scope, ref: names.get(`${r.scope}:${r.scopeId}`) ?? String(r.scopeId), name: r.name, value: r.value }));
        if (o.json) return printJson(out);
        printTable(['layer', 'of', 'name', 'value'], out.map((r) => [r.layer, r.ref, r.name, r.value]));
      }),
  );

  // files
  const file = program.command('file').description("files in a tenant's tree, served to phones by name (firmware, licences, directories…)");
  tenantOption(file.command('add <tree-path> <local-file>').description('add or replace a file, e.g. file add sip.ld ./sip.ld').option('--content-type <type>', 'Content-Type to serve')).action(
    async (treePath: string, local: string, _o, cmd: Command) =>
      withTenant(cmd, async (ctx, t, o) => {
        const f = await addFile(ctx, t, treePath, local, o.contentType as string | undefined);
        process.stdout.write(`stored ${f.path} (${f.size} bytes) in tenant "${t.slug}"\n`);
      }),
  );
  tenantOption(file.command('list').description('list files')).action(async (_o, cmd: Command) =>
    withTenant(cmd, async (ctx, t) => printTable(['path', 'size', 'sha256', 'added'], (await ctx.store.listFiles(t.id)).map((f) => [f.path, f.size, f.blobKey.slice(0, 16), f.createdAt]))),
  );
  tenantOption(file.command('remove <tree-path>').description('remove a file from the tree')).action(async (treePath: string, _o, cmd: Command) =>
    withTenant(cmd, async (ctx, t) => {
      await removeFile(ctx, t, treePath);
      process.stdout.write(`removed ${treePath}\n`);
    }),
  );

  // explain
  tenantOption(
    program
      .command('explain <mac>')
      .description("a device's effective parameters and the layer each one comes from")
      .option('--model <model>', 'explain as if the phone were this model')
      .option('--json', 'print JSON'),
  ).action(async (mac: string, _o, cmd: Command) =>
    withDeviceTenant(cmd, mac, async (ctx, t, o) => {
      const e = await explainDevice(ctx, t, mac, o.model as string | undefined);
      if (o.json) return printJson(e);
      const out = process.stdout;
      out.write(`device ${e.mac} in tenant "${e.tenant}"${e.registered ? '' : ' (not registered)'}\n`);
      out.write(`model ${e.model ?? 'unknown'}, site ${e.site ?? '-'}, group ${e.group ?? '-'}\n`);
      out.write(`CONFIG_FILES: ${e.configFiles.join(', ')}\n`);
      for (const n of e.notes) out.write(`note: ${n}\n`);
      const files = [e.overrides.phone, e.overrides.web].filter((f) => f !== null);
      for (const f of files) out.write(`override file: ${f.path} version ${f.version}, ${f.problem !== null ? 'malformed' : `${f.parameterCount} parameter(s)`}\n`);
      out.write('\n');
      type Row = (typeof e.parameters)[number];
      const from = (p: Row) => (p.layer === null ? null : `${p.layer} ${p.ref}`);
      const shadows = (p: Row) => p.shadows.map((s) => `${s.layer} ${s.ref}=${JSON.stringify(s.value)}`).join('; ');
      // The override column only when the phone uploaded override files; where it is set, it wins.
      if (files.length === 0) printTable(['parameter', 'value', 'from', 'shadows'], e.parameters.map((p) => [p.name, p.value, from(p), shadows(p)]));
      else {
        const override = (p: Row) => (p.override ? [`${p.override.source}: ${p.override.value}`, ...p.override.shadows.map((s) => `(over ${s.source}: ${s.value})`)].join(' ') : null);
        printTable(['parameter', 'value', 'from', 'override', 'shadows'], e.parameters.map((p) => [p.name, p.value, from(p), override(p), shadows(p)]));
      }
    }),
  );
}
