import { isServerOnlyParameter } from '../domain/firmware-policy.js';
import { parseAssignment, validateParameterName, validateParameterValue } from '../domain/parameter.js';
import { normalizeModel } from '../domain/models.js';
import type { Device, ParameterRow, Scope, Tenant } from '../store/store.js';
import type { AdminContext } from './admin-context.js';
import { AdminError } from './admin-error.js';
import { requireDevice, requireGroup, requireModelPolicy, requireSite, setModelPolicy } from './structure.js';

/** Which layer of a tenant a parameter command is about; at most one may be given, none means the tenant layer. */
export interface ScopeSelector {
  model?: string;
  site?: string;
  group?: string;
  device?: string;
}

export async function resolveScope(ctx: AdminContext, t: Tenant, sel: ScopeSelector, forWrite: boolean): Promise<Scope> {
  const given = (['model', 'site', 'group', 'device'] as const).filter((k) => sel[k] !== undefined);
  if (given.length > 1) throw new AdminError(`give at most one of --model, --site, --group, --device (got ${given.map((g) => '--' + g).join(', ')})`);
  if (sel.site !== undefined) return { kind: 'site', id: (await requireSite(ctx, t, sel.site)).id };
  if (sel.group !== undefined) return { kind: 'group', id: (await requireGroup(ctx, t, sel.group)).id };
  if (sel.device !== undefined) return { kind: 'device', id: (await requireDevice(ctx, t, sel.device)).id };
  if (sel.model !== undefined) {
    // Setting a model parameter creates the model policy; reading or removing needs it to exist.
    const m = forWrite ? await setModelPolicy(ctx, t, sel.model) : await requireModelPolicy(ctx, t, sel.model);
    return { kind: 'model', id: m.id };
  }
  return { kind: 'tenant', id: t.id };
}

/** The tenant's devices (registered or only seen) that a layer applies to: all of them for the tenant layer. */
export async function devicesInScope(ctx: AdminContext, t: Tenant, sel: ScopeSelector, scope: Scope): Promise<Device[]> {
  const model = sel.model !== undefined ? normalizeModel(sel.model) : undefined;
  return (await ctx.store.listDevices(t.id)).filter((d) => {
    switch (scope.kind) {
      case 'tenant':
        return true;
      case 'site':
        return d.siteId === scope.id;
      case 'group':
        return d.groupId === scope.id;
      case 'device':
        return d.id === scope.id;
      case 'model':
        return d.model === model;
    }
  });
}

export interface SetParametersResult {
  /** What was stored, by name. */
  values: Record<string, string>;
  /** With force: one line per unknown name (with what it may have meant) or invalid value that was stored anyway. */
  warnings: string[];
}

/**
 * Stores name=value assignments at one layer. Names the catalog of Poly's template parameters does
 * not know, and values its types refuse, refuse the whole command: nothing is stored and the error
 * lists every problem. With `force` they are stored anyway (newer firmware knows parameters the 5.x
 * templates lack) and come back as warnings.
 */
export async function setParameters(
  ctx: AdminContext,
  t: Tenant,
  sel: ScopeSelector,
  assignments: string[],
  opts: { force?: boolean } = {},
): Promise<SetParametersResult> {
  if (assignments.length === 0) throw new AdminError('nothing to set: give one or more name=value');
  const values: Record<string, string> = Object.create(null);
  for (const a of assignments) {
    const { name, value } = parseAssignment(a);
    if (isServerOnlyParameter(name)) {
      throw new AdminError(`${name} is polyprov's own setting, not a phone parameter: set the firmware target with "polyprov firmware target set"`);
    }
    values[name] = value;
  }
  const warnings = await checkAgainstCatalog(values, opts.force);
  await ctx.store.setParameters(t.id, await resolveScope(ctx, t, sel, true), values);
  return { values, warnings };
}

/**
 * The catalog's complaints about these values: AdminError listing every one (nothing is stored),
 * or with `force` the list itself, to report as warnings.
 */
async function checkAgainstCatalog(values: Record<string, string>, force: boolean | undefined): Promise<string[]> {
  // Loaded on first use: the catalog is only needed here, not by `serve` or the other commands.
  const { checkParameter } = await import('../domain/parameter-check.js');
  const problems: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    const problem = checkParameter(name, value);
    if (problem) problems.push(problem.message);
  }
  if (problems.length > 0 && !force) {
    const list = problems.map((p) => `\n  ${p}`).join('');
    throw new AdminError(`nothing set:${list}\nadd --force to set ${problems.length === 1 ? 'it' : 'them'} anyway`);
  }
  return problems;
}

export interface ReplaceParametersResult {
  /** Whether the layer changed; false when `values` is what it already held (nothing was written). */
  changed: boolean;
  /** Names that are new or change, with their new values. */
  set: Record<string, string>;
  /** Names the layer no longer has. */
  removed: string[];
  /** With force: one line per unknown name or invalid value that was stored anyway. */
  warnings: string[];
}

/** A layer's parameters by name, and its scope; no scope for a model without a policy yet (its layer is empty). */
async function currentLayer(ctx: AdminContext, t: Tenant, sel: ScopeSelector): Promise<{ scope: Scope | undefined; values: Record<string, string> }> {
  if (sel.model !== undefined && !(await ctx.store.getModelPolicy(t.id, normalizeModel(sel.model)))) return { scope: undefined, values: Object.create(null) };
  const scope = await resolveScope(ctx, t, sel, false);
  const values: Record<string, string> = Object.create(null);
  for (const r of await ctx.store.listParameters(t.id, scope)) values[r.name] = r.value;
  return { scope, values };
}

/**
 * Replaces the parameters of one layer: afterwards it holds `values` and nothing else, written in
 * one store transaction, so a phone never reads a half-replaced layer. Names that are new or change
 * are checked as setParameters checks them (refused unless `force`, then warnings); names kept with
 * the value they have need no check again (they may have been forced once). polyprov's own settings
 * (polyprov.*) are not phone parameters: the layer keeps them, and `values` may only repeat them
 * unchanged. Nothing is written when nothing changes.
 */
export async function replaceParameters(
  ctx: AdminContext,
  t: Tenant,
  sel: ScopeSelector,
  values: Record<string, string>,
  opts: { force?: boolean } = {},
): Promise<ReplaceParametersResult> {
  const current = await currentLayer(ctx, t, sel);
  // Entries, not objects, until the end: Object.fromEntries makes own properties even of __proto__.
  const set: [string, string][] = [];
  const layer: [string, string][] = [];
  for (const [name, value] of Object.entries(values)) {
    const unchanged = Object.hasOwn(current.values, name) && current.values[name] === value;
    if (isServerOnlyParameter(name)) {
      if (unchanged) continue;
      throw new AdminError(
        `${name} is polyprov's own setting, not a phone parameter: leave it out of the values (the layer keeps it as it is) and change the firmware target of tenant "${t.slug}" with "polyprov firmware target set" or the API's firmware routes`,
      );
    }
    if (!unchanged) set.push([validateParameterName(name), validateParameterValue(name, value)]);
    layer.push([name, value]);
  }
  const removed = Object.keys(current.values).filter((n) => !Object.hasOwn(values, n) && !isServerOnlyParameter(n));
  if (set.length === 0 && removed.length === 0) return { changed: false, set: {}, removed, warnings: [] };
  const changes = Object.fromEntries(set);
  const warnings = await checkAgainstCatalog(changes, opts.force);
  // Only a model layer with something to set may need its policy created first (as setParameters does).
  const scope = current.scope ?? (await resolveScope(ctx, t, sel, true));
  await ctx.store.replaceLayerParameters(t.id, scope, Object.fromEntries(layer), isServerOnlyParameter);
  return { changed: true, set: changes, removed, warnings };
}

export async function unsetParameters(ctx: AdminContext, t: Tenant, sel: ScopeSelector, names: string[]): Promise<number> {
  if (names.length === 0) throw new AdminError('nothing to remove: give one or more parameter names');
  names.forEach((n) => validateParameterName(n));
  return ctx.store.unsetParameters(t.id, await resolveScope(ctx, t, sel, false), names);
}

export async function listParameters(ctx: AdminContext, t: Tenant, sel: ScopeSelector): Promise<ParameterRow[]> {
  const any = sel.model ?? sel.site ?? sel.group ?? sel.device;
  return ctx.store.listParameters(t.id, any === undefined ? undefined : await resolveScope(ctx, t, sel, false));
}

/** `kind:id` → the name an administrator knows that layer by (site slug, model, MAC…). */
export async function scopeNames(ctx: AdminContext, t: Tenant): Promise<Map<string, string>> {
  const [sites, groups, models, devices] = await Promise.all([
    ctx.store.listSites(t.id),
    ctx.store.listGroups(t.id),
    ctx.store.listModelPolicies(t.id),
    ctx.store.listDevices(t.id),
  ]);
  const names = new Map<string, string>([[`tenant:${t.id}`, t.slug]]);
  for (const s of sites) names.set(`site:${s.id}`, s.slug);
  for (const g of groups) names.set(`group:${g.id}`, g.slug);
  for (const m of models) names.set(`model:${m.id}`, m.model);
  for (const d of devices) names.set(`device:${d.id}`, d.mac);
  return names;
}
