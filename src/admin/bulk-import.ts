import { performance } from 'node:perf_hooks';
import { devicesToCsv, groupsToCsv, modelsToCsv, sitesToCsv, type CsvExport } from '../domain/csv-export.js';
import {
  cellPosition,
  formatImportError,
  readImportCsv,
  slugFromName,
  type CsvImport,
  type CsvImportError,
  type DeviceRow,
  type GroupRow,
  type ImportKind,
  type ImportMode,
  type ImportRow,
  type ModelRow,
  type SiteRow,
} from '../domain/csv-import.js';
import { isServerOnlyParameter } from '../domain/firmware-policy.js';
import { isSecretParameter } from '../domain/secret-parameters.js';
import { findSubnetOverlap, formatLensSubnets, type SiteSubnet } from '../domain/site-subnets.js';
import { ConflictError } from '../store/errors.js';
import type { Device, DeviceGroup, ImportCounts, ImportPlan, ParameterRow, ParameterUpdate, ScopeKind, Site, Tenant } from '../store/store.js';
import type { AdminContext } from './admin-context.js';
import { AdminError } from './admin-error.js';

// Bulk import and export of sites, devices, groups and model policies as Poly-Lens-style CSV. The
// file is read and checked by domain/csv-import.ts; here its rows are matched against the
// tenant's current state (which site "HQ" names, which devices exist), turned into the store's
// ImportPlan holding only what changes, and applied in one transaction, or, for a dry run,
// described change by change.

const MAX_ERRORS = 50;
/** How secrets look in a dry run's changes. */
export const MASKED = '********';

/** The file cannot be imported; nothing was changed. The message lists every error as line:column: message. */
export class ImportRefused extends AdminError {
  readonly errors: CsvImportError[];
  constructor(source: string, errors: CsvImportError[], truncated: boolean) {
    const list = errors.map((e) => `  ${formatImportError(e)}`).join('\n');
    const more = truncated ? `\n  (stopped after ${errors.length} errors; fix these and import again to see the rest)` : '';
    super(`${source}: ${errors.length} error${errors.length === 1 ? '' : 's'}, nothing imported (line:column: problem):\n${list}${more}`);
    this.errors = errors;
  }
}

export type RecordKind = 'site' | 'device' | 'group' | 'model';

export interface FieldChange {
  field: string;
  from: string;
  to: string;
}

/** A parameter that changes: null is "not set". Secrets come masked. */
export interface ParameterChange {
  name: string;
  from: string | null;
  to: string | null;
}

/** One record the import creates or changes. */
export interface RecordChange {
  kind: RecordKind;
  /** Site slug, device MAC, group slug or model. */
  key: string;
  line: number;
  action: 'create' | 'update';
  fields: FieldChange[];
  parameters: ParameterChange[];
  notes: string[];
}

export interface ImportOptions {
  kind?: ImportKind;
  mode?: ImportMode;
  force?: boolean;
  /** Describe the changes, apply nothing. */
  dryRun?: boolean;
  /** Rows read so far, every 10,000 rows. */
  onProgress?: (rows: number) => void;
}

export interface ImportOutcome {
  kind: ImportKind;
  mode: ImportMode;
  dryRun: boolean;
  rows: number;
  /** Records created or changed, in file order (what a dry run shows). */
  changes: RecordChange[];
  /** Rows that change nothing. */
  unchanged: number;
  /** What the store applied; null for a dry run or when nothing changes. */
  counts: ImportCounts | null;
  /** For people: what the file says that polyprov keeps nowhere, and the like. */
  notes: string[];
  /** Milliseconds spent reading the CSV, matching it against the tenant, and in the store. */
  timings: { readMs: number; planMs: number; applyMs: number };
}

/** An import matched against a tenant: the store's plan (changed records only) and the changes it makes. */
export interface PlannedImport {
  plan: ImportPlan;
  changes: RecordChange[];
  unchanged: number;
  notes: string[];
}

/** Reads, checks, plans and (unless dry run) applies one CSV file; ImportRefused, changing nothing, for any error in it. */
export async function importCsv(ctx: AdminContext, t: Tenant, text: string, source: string, opts: ImportOptions = {}): Promise<ImportOutcome> {
  const mode = opts.mode ?? 'merge';
  const t0 = performance.now();
  const imported = readImportCsv(text, { kind: opts.kind, mode, force: opts.force, maxErrors: MAX_ERRORS, onProgress: opts.onProgress });
  const t1 = performance.now();
  const planned = await planImport(ctx, t, imported, source, { checkOtherTenants: opts.dryRun === true });
  const t2 = performance.now();
  const counts = opts.dryRun ? null : await applyPlannedImport(ctx, t, imported, planned, source);
  const t3 = performance.now();
  return {
    kind: imported.kind,
    mode,
    dryRun: opts.dryRun === true,
    rows: imported.rowCount,
    changes: planned.changes,
    unchanged: planned.unchanged,
    counts,
    notes: planned.notes,
    timings: { readMs: t1 - t0, planMs: t2 - t1, applyMs: t3 - t2 },
  };
}

/** Errors found while planning, placed at their cells, on top of the file's own. */
class Problems {
  readonly errors: CsvImportError[];
  truncated: boolean;
  constructor(private readonly imported: CsvImport) {
    this.errors = [...imported.errors];
    this.truncated = imported.truncated;
  }
  add(row: ImportRow, column: string, message: string): void {
    if (this.errors.length >= MAX_ERRORS) {
      this.truncated = true;
      return;
    }
    this.errors.push({ ...cellPosition(this.imported, row, column), message });
  }
  refuseIfAny(source: string): void {
    if (this.errors.length === 0) return;
    this.errors.sort((a, b) => a.line - b.line || a.column - b.column);
    throw new ImportRefused(source, this.errors, this.truncated);
  }
}

/**
 * Matches the file's rows against the tenant: resolves site and group references, works out each
 * record's changes (merge or replace), and keeps only changing records in the plan. With
 * checkOtherTenants, MACs registered in another tenant are reported now (a dry run); otherwise
 * the store refuses them in its transaction and applyPlannedImport places them.
 */
export async function planImport(ctx: AdminContext, t: Tenant, imported: CsvImport, source: string, opts: { checkOtherTenants?: boolean } = {}): Promise<PlannedImport> {
  const problems = new Problems(imported);
  const out: PlannedImport = { plan: { sites: [], groups: [], models: [], devices: [] }, changes: [], unchanged: 0, notes: [] };
  switch (imported.kind) {
    case 'sites':
      await planSites(ctx, t, imported.rows, imported.mode, problems, out);
      break;
    case 'groups':
      await planGroups(ctx, t, imported.rows, imported.mode, problems, out);
      break;
    case 'models':
      await planModels(ctx, t, imported.rows, imported.mode, out);
      break;
    case 'devices':
      await planDevices(ctx, t, imported.rows, imported.mode, problems, out);
      if (opts.checkOtherTenants) await checkOtherTenants(ctx, t, imported.rows, out, problems);
      break;
  }
  problems.refuseIfAny(source);
  return out;
}

/** Applies a plan; a MAC the store finds registered in another tenant comes back as ImportRefused naming its line. */
export async function applyPlannedImport(ctx: AdminContext, t: Tenant, imported: CsvImport, planned: PlannedImport, source: string): Promise<ImportCounts | null> {
  const { plan } = planned;
  if (plan.sites.length + plan.groups.length + plan.models.length + plan.devices.length === 0) return null;
  try {
    return await ctx.store.applyImport(t.id, plan);
  } catch (err) {
    if (!(err instanceof ConflictError) || imported.kind !== 'devices') throw err;
    // Checked only now, on the way out: the happy path costs no extra query per MAC.
    const problems = new Problems({ ...imported, errors: [], truncated: false });
    await checkOtherTenants(ctx, t, imported.rows, planned, problems);
    problems.refuseIfAny(source);
    throw new AdminError(`${source}: nothing imported: ${err.message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Matching rows against the tenant

/** The tenant's parameters of one layer kind, by record id. */
function parametersByRecord(rows: readonly ParameterRow[], kind: ScopeKind): Map<number, Map<string, string>> {
  const out = new Map<number, Map<string, string>>();
  for (const r of rows) {
    if (r.scope !== kind) continue;
    let m = out.get(r.scopeId);
    if (!m) out.set(r.scopeId, (m = new Map()));
    m.set(r.name, r.value);
  }
  return out;
}

const NO_PARAMETERS: ReadonlyMap<string, string> = new Map();
const shown = (name: string, value: string | null): string | null => (value !== null && value !== '' && isSecretParameter(name) ? MASKED : value);

/**
 * What a row's parameter cells do to a record's current parameters: the changes (secrets masked)
 * and the store update, or undefined when nothing changes. Replace keeps polyprov's own settings
 * (polyprov.*), which a file cannot carry.
 */
function parameterUpdate(current: ReadonlyMap<string, string>, cells: Record<string, string>, mode: ImportMode): { changes: ParameterChange[]; update?: ParameterUpdate } {
  const changes: ParameterChange[] = [];
  if (mode === 'merge') {
    const values: Record<string, string> = {};
    for (const [name, value] of Object.entries(cells)) {
      const old = current.get(name) ?? null;
      if (old === value) continue;
      values[name] = value;
      changes.push({ name, from: shown(name, old), to: shown(name, value) });
    }
    return changes.length ? { changes, update: { mode, values } } : { changes };
  }
  const values: Record<string, string> = { ...cells };
  for (const [name, value] of current) if (isServerOnlyParameter(name)) values[name] = value;
  for (const [name, value] of Object.entries(values)) {
    const old = current.get(name) ?? null;
    if (old !== value) changes.push({ name, from: shown(name, old), to: shown(name, value) });
  }
  for (const [name, old] of current) if (!(name in values)) changes.push({ name, from: shown(name, old), to: null });
  changes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return changes.length ? { changes, update: { mode, values } } : { changes };
}

function record(out: PlannedImport, change: RecordChange): boolean {
  if (change.action === 'update' && change.fields.length === 0 && change.parameters.length === 0) {
    out.unchanged++;
    return false;
  }
  out.changes.push(change);
  return true;
}

/** Resolves a site as a devices file names it: a unique exact name, else a slug, else the slug the name gives. */
class SiteNames {
  private readonly byName = new Map<string, Site[]>();
  private readonly bySlug = new Map<string, Site>();
  constructor(sites: readonly Site[]) {
    for (const s of sites) {
      this.bySlug.set(s.slug, s);
      const same = this.byName.get(s.name);
      if (same) same.push(s);
      else this.byName.set(s.name, [s]);
    }
  }
  /** The site, 'ambiguous' when several share the name and none has it as slug, or undefined. */
  find(ref: string): Site | 'ambiguous' | undefined {
    const named = this.byName.get(ref);
    if (named?.length === 1) return named[0];
    const site = this.bySlug.get(ref) ?? this.bySlug.get(slugFromName(ref));
    if (site) return site;
    return named && named.length > 1 ? 'ambiguous' : undefined;
  }
  /** How an export names a site so that find() returns it again. */
  exportName(site: Site): string {
    return this.byName.get(site.name)?.length === 1 ? site.name : site.slug;
  }
}

/** Resolves a group as a file names it: its slug, else a unique exact name, else the slug the text gives. */
class GroupNames {
  private readonly byName = new Map<string, DeviceGroup[]>();
  private readonly bySlug = new Map<string, DeviceGroup>();
  constructor(groups: readonly DeviceGroup[]) {
    for (const g of groups) {
      this.bySlug.set(g.slug, g);
      const same = this.byName.get(g.name);
      if (same) same.push(g);
      else this.byName.set(g.name, [g]);
    }
  }
  find(ref: string): DeviceGroup | 'ambiguous' | undefined {
    const bySlug = this.bySlug.get(ref);
    if (bySlug) return bySlug;
    const named = this.byName.get(ref);
    if (named?.length === 1) return named[0];
    if (named && named.length > 1) return 'ambiguous';
    return this.bySlug.get(slugFromName(ref));
  }
}

const subnetText = (subnets: readonly SiteSubnet[]): string => (subnets.length ? formatLensSubnets(subnets) : '');

async function planSites(ctx: AdminContext, t: Tenant, rows: SiteRow[], mode: ImportMode, problems: Problems, out: PlannedImport): Promise<void> {
  const [sites, parameters] = await Promise.all([ctx.store.listSites(t.id), ctx.store.listParameters(t.id)]);
  const names = new SiteNames(sites);
  const params = parametersByRecord(parameters, 'site');
  const target = new Map<string, SiteRow>();
  // What the tenant's sites will be, for the overlap check: every site, with the file's subnets.
  const after = new Map<string, { slug: string; subnets: SiteSubnet[]; row?: SiteRow }>(sites.map((s) => [s.slug, { slug: s.slug, subnets: s.subnets }]));
  let models = 0;
  for (const row of rows) {
    const found = names.find(row.name);
    if (found === 'ambiguous') {
      problems.add(row, 'site_name', `several sites of tenant "${t.slug}" are named ${JSON.stringify(row.name)}: rename one (polyprov site set <slug> --name …)`);
      continue;
    }
    const slug = found?.slug ?? row.slug;
    const twice = target.get(slug);
    if (twice) {
      problems.add(row, 'site_name', `site ${JSON.stringify(row.name)} is site "${slug}", which line ${twice.line} imports too: each site may appear once per file`);
      continue;
    }
    target.set(slug, row);
    if (row.models?.length) models++;
    const change: RecordChange = { kind: 'site', key: slug, line: row.line, action: found ? 'update' : 'create', fields: [], parameters: [], notes: [] };
    const entry: ImportPlan['sites'][number] = { slug, name: row.name };
    const field = (name: string, from: string, to: string | undefined) => {
      if (to !== undefined && to !== from) change.fields.push({ field: name, from, to });
    };
    field('name', found?.name ?? '', row.name);
    field('description', found?.description ?? '', row.description);
    field('location', found?.location ?? '', row.location);
    field('subnets', subnetText(found?.subnets ?? []), row.subnets && subnetText(row.subnets));
    if (row.description !== undefined) entry.description = row.description;
    if (row.location !== undefined) entry.location = row.location;
    if (row.subnets !== undefined) {
      entry.subnets = row.subnets;
      after.set(slug, { slug, subnets: row.subnets, row });
    } else if (!found) after.set(slug, { slug, subnets: [], row });
    const p = parameterUpdate((found && params.get(found.id)) || NO_PARAMETERS, row.parameters, mode);
    change.parameters = p.changes;
    if (p.update) entry.parameters = p.update;
    if (record(out, change)) out.plan.sites.push(entry);
  }
  if (models > 0) {
    out.notes.push(
      `device_models of ${models} site${models === 1 ? '' : 's'} checked but not stored: polyprov keeps no model list per site, and a site's parameters apply to every model (per-model values belong in model policies: polyprov import with a model file)`,
    );
  }
  checkOverlaps([...after.values()], problems);
}

/** Overlapping subnets, placed at the subnets cell of the file's row (the whole check runs once; pairs only to find the row). */
function checkOverlaps(sites: { slug: string; subnets: SiteSubnet[]; row?: SiteRow }[], problems: Problems): void {
  if (findSubnetOverlap(sites) === null) return;
  const fromFile = sites.filter((s) => s.row && s.subnets.length > 0);
  for (const s of fromFile) {
    const own = findSubnetOverlap([s]);
    if (own) {
      problems.add(s.row!, 'subnets', own);
      continue;
    }
    for (const other of sites) {
      if (other === s || (other.row && other.row.line < s.row!.line && fromFile.includes(other))) continue;
      const clash = findSubnetOverlap([other, s]);
      if (clash) {
        problems.add(s.row!, 'subnets', `${clash}${other.row ? ` (site "${other.slug}" is on line ${other.row.line})` : ''}`);
        break;
      }
    }
  }
}

async function planGroups(ctx: AdminContext, t: Tenant, rows: GroupRow[], mode: ImportMode, problems: Problems, out: PlannedImport): Promise<void> {
  const [groups, parameters] = await Promise.all([ctx.store.listGroups(t.id), ctx.store.listParameters(t.id)]);
  const names = new GroupNames(groups);
  const params = parametersByRecord(parameters, 'group');
  const target = new Map<string, GroupRow>();
  for (const row of rows) {
    const found = names.find(row.group);
    if (found === 'ambiguous') {
      problems.add(row, 'group', `several groups of tenant "${t.slug}" are named ${JSON.stringify(row.group)}: give the group's slug instead (see: polyprov group list)`);
      continue;
    }
    const slug = found?.slug ?? row.slug;
    const twice = target.get(slug);
    if (twice) {
      problems.add(row, 'group', `group ${JSON.stringify(row.group)} is group "${slug}", which line ${twice.line} imports too: each group may appear once per file`);
      continue;
    }
    target.set(slug, row);
    const name = row.name ?? found?.name ?? row.group;
    const change: RecordChange = { kind: 'group', key: slug, line: row.line, action: found ? 'update' : 'create', fields: [], parameters: [], notes: [] };
    if (name !== (found?.name ?? '')) change.fields.push({ field: 'name', from: found?.name ?? '', to: name });
    const p = parameterUpdate((found && params.get(found.id)) || NO_PARAMETERS, row.parameters, mode);
    change.parameters = p.changes;
    if (record(out, change)) out.plan.groups.push({ slug, name, ...(p.update ? { parameters: p.update } : {}) });
  }
}

async function planModels(ctx: AdminContext, t: Tenant, rows: ModelRow[], mode: ImportMode, out: PlannedImport): Promise<void> {
  const [models, parameters] = await Promise.all([ctx.store.listModelPolicies(t.id), ctx.store.listParameters(t.id)]);
  const byModel = new Map(models.map((m) => [m.model, m]));
  const params = parametersByRecord(parameters, 'model');
  for (const row of rows) {
    const existing = byModel.get(row.model);
    const change: RecordChange = { kind: 'model', key: row.model, line: row.line, action: existing ? 'update' : 'create', fields: [], parameters: [], notes: [] };
    const p = parameterUpdate((existing && params.get(existing.id)) || NO_PARAMETERS, row.parameters, mode);
    change.parameters = p.changes;
    if (record(out, change)) out.plan.models.push({ model: row.model, ...(p.update ? { parameters: p.update } : {}) });
  }
}

async function planDevices(ctx: AdminContext, t: Tenant, rows: DeviceRow[], mode: ImportMode, problems: Problems, out: PlannedImport): Promise<void> {
  const [sites, groups, devices, parameters] = await Promise.all([
    ctx.store.listSites(t.id),
    ctx.store.listGroups(t.id),
    ctx.store.listDevices(t.id),
    ctx.store.listParameters(t.id),
  ]);
  const siteNames = new SiteNames(sites);
  const groupNames = new GroupNames(groups);
  const siteById = new Map(sites.map((s) => [s.id, s]));
  const groupById = new Map(groups.map((g) => [g.id, g]));
  const byMac = new Map<string, Device>(devices.map((d) => [d.mac, d]));
  const params = parametersByRecord(parameters, 'device');
  for (const row of rows) {
    const existing = byMac.get(row.mac);
    const registered = existing?.registered === true;
    const change: RecordChange = { kind: 'device', key: row.mac, line: row.line, action: registered ? 'update' : 'create', fields: [], parameters: [], notes: [] };
    if (existing && !registered) change.notes.push('seen on the wire, now registered');
    const entry: ImportPlan['devices'][number] = { mac: row.mac };
    let bad = false;
    if (row.site !== undefined) {
      const site = row.site === '' ? null : siteNames.find(row.site);
      if (site === 'ambiguous' || site === undefined) {
        bad = true;
        problems.add(
          row,
          'site_name',
          site === 'ambiguous'
            ? `several sites of tenant "${t.slug}" are named ${JSON.stringify(row.site)}: give the site's slug instead (see: polyprov site list)`
            : `no site ${JSON.stringify(row.site)} in tenant "${t.slug}": import the sites first (polyprov import sites.csv) or see: polyprov site list`,
        );
      } else {
        const before = existing?.siteId != null ? siteById.get(existing.siteId)?.slug ?? null : null;
        const after = site?.slug ?? null;
        if (before !== after) {
          change.fields.push({ field: 'site', from: before ?? '', to: after ?? '' });
          entry.site = after;
        }
      }
    }
    if (row.group !== undefined) {
      const group = row.group === '' ? null : groupNames.find(row.group);
      if (group === 'ambiguous' || group === undefined) {
        bad = true;
        problems.add(
          row,
          'group',
          group === 'ambiguous'
            ? `several groups of tenant "${t.slug}" are named ${JSON.stringify(row.group)}: give the group's slug instead (see: polyprov group list)`
            : `no group ${JSON.stringify(row.group)} in tenant "${t.slug}": import the groups first (polyprov import groups.csv) or see: polyprov group list`,
        );
      } else {
        const before = existing?.groupId != null ? groupById.get(existing.groupId)?.slug ?? null : null;
        const after = group?.slug ?? null;
        if (before !== after) {
          change.fields.push({ field: 'group', from: before ?? '', to: after ?? '' });
          entry.group = after;
        }
      }
    }
    if (bad) continue;
    if (row.label !== undefined && row.label !== (existing?.label ?? '')) {
      change.fields.push({ field: 'label', from: existing?.label ?? '', to: row.label });
      entry.label = row.label;
    }
    if (row.model !== undefined) {
      const reported = existing?.model ?? null;
      if (reported === null) {
        change.fields.push({ field: 'model', from: '', to: row.model });
        entry.model = row.model;
      } else if (reported !== row.model) {
        change.notes.push(`device_model ${row.model} left aside: the phone reports ${reported}`);
      }
    }
    const p = parameterUpdate((existing && params.get(existing.id)) || NO_PARAMETERS, row.parameters, mode);
    change.parameters = p.changes;
    if (p.update) entry.parameters = p.update;
    if (record(out, change)) out.plan.devices.push(entry);
  }
}

/** MACs of the plan registered in another tenant, each an error at its mac_address cell. */
async function checkOtherTenants(ctx: AdminContext, t: Tenant, rows: DeviceRow[], planned: PlannedImport, problems: Problems): Promise<void> {
  const macs = planned.plan.devices.map((d) => d.mac);
  if (macs.length === 0) return;
  const owners = await ctx.store.findDeviceTenants(macs);
  if (owners.size === 0) return;
  for (const row of rows) {
    const owner = owners.get(row.mac);
    if (owner !== undefined && owner !== t.slug) {
      problems.add(row, 'mac_address', `MAC ${row.mac} is registered in tenant "${owner}": remove it there first (polyprov device remove ${row.mac} -t ${owner}) or leave the row out`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Export

/** Every parameter of one layer kind, grouped by record id, as plain objects. */
function parameterObjects(rows: readonly ParameterRow[], kind: ScopeKind): Map<number, Record<string, string>> {
  const out = new Map<number, Record<string, string>>();
  for (const r of rows) {
    if (r.scope !== kind) continue;
    let o = out.get(r.scopeId);
    if (!o) out.set(r.scopeId, (o = {}));
    o[r.name] = r.value;
  }
  return out;
}

/** The tenant's sites, devices (registered ones), groups or model policies as a CSV that imports back to the same state. */
export async function exportCsv(ctx: AdminContext, t: Tenant, kind: ImportKind): Promise<CsvExport> {
  const parameters = await ctx.store.listParameters(t.id);
  switch (kind) {
    case 'sites': {
      const params = parameterObjects(parameters, 'site');
      const sites = await ctx.store.listSites(t.id);
      return sitesToCsv(sites.map((s) => ({ name: s.name, description: s.description, location: s.location, subnets: s.subnets, parameters: params.get(s.id) ?? {} })));
    }
    case 'groups': {
      const params = parameterObjects(parameters, 'group');
      const groups = await ctx.store.listGroups(t.id);
      return groupsToCsv(groups.map((g) => ({ slug: g.slug, name: g.name, parameters: params.get(g.id) ?? {} })));
    }
    case 'models': {
      const params = parameterObjects(parameters, 'model');
      const models = await ctx.store.listModelPolicies(t.id);
      return modelsToCsv(models.map((m) => ({ model: m.model, parameters: params.get(m.id) ?? {} })));
    }
    case 'devices': {
      const params = parameterObjects(parameters, 'device');
      const [sites, groups, devices] = await Promise.all([ctx.store.listSites(t.id), ctx.store.listGroups(t.id), ctx.store.listDevices(t.id)]);
      const names = new SiteNames(sites);
      const siteById = new Map(sites.map((s) => [s.id, names.exportName(s)]));
      const groupById = new Map(groups.map((g) => [g.id, g.slug]));
      return devicesToCsv(
        devices
          .filter((d) => d.registered)
          .map((d) => ({
            mac: d.mac,
            model: d.model,
            site: d.siteId != null ? (siteById.get(d.siteId) ?? null) : null,
            group: d.groupId != null ? (groupById.get(d.groupId) ?? null) : null,
            label: d.label,
            parameters: params.get(d.id) ?? {},
          })),
      );
    }
  }
}
