import { requireMac } from '../domain/mac.js';
import { normalizeModel } from '../domain/models.js';
import { effectiveWithOverrides, type OverrideKind } from '../domain/override-file.js';
import { DEVICE_CONFIG_SUFFIX } from '../domain/phone-path.js';
import { withPollingTime } from '../domain/polling-schedule.js';
import { resolvePolicy, type LayerKind, type ResolvedParameter, type ShadowedValue } from '../domain/resolve-policy.js';
import { TenantSnapshot } from '../provisioning/tenant-snapshot.js';
import type { Device, Tenant } from '../store/store.js';
import type { AdminContext } from './admin-context.js';
import { AdminError } from './admin-error.js';
import { deviceOverrides, overrideParams, type OverrideFileState } from './overrides.js';
import { requireTenant } from './tenants.js';

export interface Explanation {
  tenant: string;
  mac: string;
  registered: boolean;
  model: string | null;
  site: string | null;
  group: string | null;
  /** What the phone reads, in order; the first definition of a parameter wins. */
  configFiles: string[];
  /** By name: every parameter the server sets, and every one the phone's override files set. */
  parameters: ExplainedParameter[];
  /** The newest override files the phone uploaded (null: none), which it applies over the server's files. */
  overrides: Record<OverrideKind, OverrideFileSummary | null>;
  notes: string[];
}

export interface ExplainedParameter {
  name: string;
  /** The server's value, from the winning layer; null when only an override file sets the parameter. */
  value: string | null;
  layer: LayerKind | null;
  ref: string | null;
  /** The less specific server values this one hides, most specific first. */
  shadows: ShadowedValue[];
  /** Present when the phone's own files set the parameter: -phone.cfg over -web.cfg over the server's. */
  override?: ParameterOverride;
  /** What the phone ends up with. */
  effective: string;
}

export interface ParameterOverride {
  source: OverrideKind;
  value: string;
  path: string;
  version: number;
  /** The -web.cfg value a -phone.cfg value hides, if any. */
  shadows: { source: OverrideKind; value: string }[];
}

export type OverrideFileSummary = Omit<OverrideFileState, 'parameters'> & { parameterCount: number };

/**
 * Why a device has the values it has: the same layer assembly and resolution the core uses to
 * render its configuration, so the explanation cannot drift from what the phone receives.
 */
export async function explainDevice(ctx: AdminContext, t: Tenant, macInput: string, modelOverride?: string): Promise<Explanation> {
  const mac = requireMac(macInput);
  const snap = new TenantSnapshot(await ctx.store.loadTenantPolicy(t.id));
  const registered = snap.devicesByMac.get(mac);
  const seen: Device | undefined = registered ?? (await ctx.store.getDevice(t.id, mac));
  const notes: string[] = [];
  if (!seen) notes.push(`device ${mac} is neither registered nor seen yet: showing what tenant "${t.slug}" would serve it`);
  else if (!registered) notes.push(`device ${mac} was seen on the wire but is not registered: it gets tenant-level values only`);
  if (!registered && t.unknownDevices === 'refuse') {
    notes.push(`tenant "${t.slug}" refuses unknown devices: this phone currently gets no configuration (register it with "polyprov device add")`);
  }
  const model = (modelOverride ? normalizeModel(modelOverride) : seen?.model) ?? undefined;
  if (!model) notes.push('model unknown (the phone has not been seen yet): model-policy values are not included');
  // layersFor adds a model layer only for a model with a policy, as the renderer does.
  const layers = snap.layersFor(registered, model, mac);
  const site = layers.find((l) => l.kind === 'site')?.ref ?? null;
  const group = layers.find((l) => l.kind === 'group')?.ref ?? null;
  const files = await deviceOverrides(ctx, t, mac);
  for (const f of [files.phone, files.web]) {
    if (f?.problem != null) {
      notes.push(`${f.path} (version ${f.version}) is malformed: ${f.problem}. It is kept and served back to the phone as stored; what it overrides is unknown, so it is left out here`);
    } else if (f?.empty) {
      notes.push(`${f.path} (version ${f.version}) is the empty override file: the phone drops its local ${f.kind === 'phone' ? 'keypad' : 'web UI'} changes when it next reads it`);
    }
  }
  return {
    tenant: t.slug,
    mac,
    registered: !!registered,
    model: model ?? null,
    site,
    group,
    configFiles: [`${mac}${DEVICE_CONFIG_SUFFIX}`, ...t.extraConfigFiles],
    parameters: withOverrides(withPollingTime(resolvePolicy(layers), mac), files.phone, files.web),
    overrides: { phone: summary(files.phone), web: summary(files.web) },
    notes,
  };
}

function summary(f: OverrideFileState | null): OverrideFileSummary | null {
  if (!f) return null;
  const { parameters, ...rest } = f;
  return { ...rest, parameterCount: parameters.length };
}

/** The server's resolution with the phone's precedence applied on top (effectiveWithOverrides). */
function withOverrides(server: readonly ResolvedParameter[], phone: OverrideFileState | null, web: OverrideFileState | null): ExplainedParameter[] {
  const phoneParams = overrideParams(phone);
  const webParams = overrideParams(web);
  const effective = effectiveWithOverrides(new Map(server.map((p) => [p.name, p.value])), webParams, phoneParams);
  const byName = new Map(server.map((p) => [p.name, p]));
  const out: ExplainedParameter[] = [];
  for (const [name, eff] of effective) {
    const s = byName.get(name);
    const p: ExplainedParameter = s ? { ...s, effective: eff.value } : { name, value: null, layer: null, ref: null, shadows: [], effective: eff.value };
    if (eff.source !== 'server') {
      const file = (eff.source === 'phone' ? phone : web)!;
      const hidden = eff.source === 'phone' ? webParams?.get(name) : undefined;
      p.override = { source: eff.source, value: eff.value, path: file.path, version: file.version, shadows: hidden !== undefined ? [{ source: 'web', value: hidden }] : [] };
    }
    out.push(p);
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** `explain <mac>` without --tenant: the tenant that knows this MAC, or the only tenant there is. */
export async function tenantOfDevice(ctx: AdminContext, macInput: string): Promise<Tenant> {
  const mac = requireMac(macInput);
  const tenants = await ctx.store.listTenants();
  if (tenants.length <= 1) return requireTenant(ctx, undefined);
  const holders: Tenant[] = [];
  for (const t of tenants) if (await ctx.store.getDevice(t.id, mac)) holders.push(t);
  if (holders.length === 1) return holders[0]!;
  if (holders.length === 0) throw new AdminError(`no tenant knows device ${mac}: choose the tenant with --tenant to see what it would be served`);
  throw new AdminError(`device ${mac} is known in several tenants (${holders.map((t) => t.slug).join(', ')}): choose one with --tenant`);
}
