import { requireMac } from '../domain/mac.js';
import { DEVICE_CONFIG_SUFFIX } from '../domain/phone-path.js';
import { resolvePolicy, type ResolvedParameter } from '../domain/resolve-policy.js';
import { TenantSnapshot } from '../provisioning/tenant-snapshot.js';
import type { Device, Tenant } from '../store/store.js';
import type { AdminContext } from './admin-context.js';
import { AdminError } from './admin-error.js';
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
  parameters: ResolvedParameter[];
  notes: string[];
}

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
  const model = modelOverride ?? seen?.model ?? undefined;
  const policyModel = model && snap.modelsByName.has(model) ? model : undefined;
  if (!model) notes.push('model unknown (the phone has not been seen yet): model-policy values are not included');
  const layers = snap.layersFor(registered, policyModel);
  const site = layers.find((l) => l.kind === 'site')?.ref ?? null;
  const group = layers.find((l) => l.kind === 'group')?.ref ?? null;
  return {
    tenant: t.slug,
    mac,
    registered: !!registered,
    model: model ?? null,
    site,
    group,
    configFiles: [`${mac}${DEVICE_CONFIG_SUFFIX}`, ...t.extraConfigFiles],
    parameters: resolvePolicy(layers),
    notes,
  };
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
