import { BUILT_IN_DEFAULTS } from '../domain/built-in-defaults.js';
import { parsedOrNone, type Subnet } from '../domain/ip-subnet.js';
import type { PolicyLayer } from '../domain/resolve-policy.js';
import { FIRMWARE_ALLOW_DOWNGRADE, FIRMWARE_TARGET } from '../domain/firmware-policy.js';
import { firmwareVersionKey } from '../domain/firmware-version.js';
import type { Device, FirmwareRelease, ModelPolicy, Rollout, ScopeKind, Site, StoredFile, Tenant, TenantPolicyData } from '../store/store.js';

export interface Rendered {
  body: Buffer;
  etag: string;
}

/**
 * One tenant's whole policy in memory, as of one tenant revision. Renders are cached on it, so a
 * change anywhere in the tenant simply replaces the snapshot and every cached render goes with it.
 */
export class TenantSnapshot {
  readonly tenant: Tenant;
  readonly revision: number;
  readonly devicesByMac = new Map<string, Device>();
  /** Site of each device only seen on the wire that its address placed in one. */
  private readonly placedSites = new Map<string, number>();
  readonly modelsByName = new Map<string, ModelPolicy>();
  readonly filesByPath = new Map<string, StoredFile>();
  readonly renders = new Map<string, Rendered>();
  /** Things logged once per snapshot (a refused downgrade per device, say). */
  readonly notes = new Set<string>();
  /** By version: the tenant's own release, else the global library's. */
  readonly releases = new Map<string, FirmwareRelease>();
  readonly sitesById = new Map<number, Site>();
  /** Parsed once per snapshot: the TFTP allow-list of each site that has one. */
  readonly siteTftpSubnets = new Map<number, Subnet[]>();
  private readonly siteSlugs = new Map<number, string>();
  private readonly groupSlugs = new Map<number, string>();
  private readonly params = new Map<string, Record<string, string>>();
  /** The rollout that sets a device's firmware, for devices in a released wave. */
  private readonly rolloutLayers = new Map<string, PolicyLayer>();

  constructor(data: TenantPolicyData) {
    this.tenant = data.tenant;
    this.revision = data.tenant.revision;
    for (const d of data.devices) if (d.registered) this.devicesByMac.set(d.mac, d);
    for (const p of data.placed) this.placedSites.set(p.mac, p.siteId);
    for (const m of data.models) this.modelsByName.set(m.model, m);
    for (const f of data.files) this.filesByPath.set(f.path, f);
    for (const s of data.sites) {
      this.siteSlugs.set(s.id, s.slug);
      this.sitesById.set(s.id, s);
      // Validated when set (admin/structure.ts); an entry that no longer parses is skipped.
      const subnets = s.tftpSubnets.flatMap((t) => parsedOrNone(t));
      if (subnets.length) this.siteTftpSubnets.set(s.id, subnets);
    }
    for (const g of data.groups) this.groupSlugs.set(g.id, g.slug);
    // The tenant's own releases come first, so its copy of a version hides the global one, also
    // when the two spell it differently (6.4.6 and 6.4.6.0).
    const keys = new Set<string>();
    for (const r of data.firmware) {
      const key = firmwareVersionKey(r.version);
      if (keys.has(key)) continue;
      keys.add(key);
      this.releases.set(r.version, r);
    }
    for (const p of data.parameters) this.paramsOf(p.scope, p.scopeId, true)[p.name] = p.value;
    this.indexRollouts(data.rollouts);
  }

  /**
   * A running or paused rollout sends its released devices to its new version; a completed one
   * keeps them there (until the policy says the same and it is removed); a rolled-back one sends
   * them back to the old version, which is a downgrade they are allowed. Unfinished rollouts win
   * over finished ones, then the newest.
   */
  private indexRollouts(rollouts: readonly Rollout[]): void {
    const rank = (r: Rollout) => (r.status === 'running' || r.status === 'paused' ? 1 : 0);
    const ordered = [...rollouts].sort((a, b) => rank(a) - rank(b) || (a.updatedAt < b.updatedAt ? -1 : 1));
    for (const r of ordered) {
      const params: Record<string, string> =
        r.status === 'rolled-back' ? { [FIRMWARE_TARGET]: r.fromVersion, [FIRMWARE_ALLOW_DOWNGRADE]: '1' } : { [FIRMWARE_TARGET]: r.toVersion };
      const layer: PolicyLayer = { kind: 'rollout', ref: r.name, params };
      for (const m of r.members) if (m.wave <= r.currentWave) this.rolloutLayers.set(m.mac, layer);
    }
  }

  private paramsOf(scope: ScopeKind, id: number, create = false): Record<string, string> {
    const key = `${scope}:${id}`;
    let rec = this.params.get(key);
    if (!rec) {
      rec = Object.create(null) as Record<string, string>;
      if (create) this.params.set(key, rec);
    }
    return rec;
  }

  /** One parameter as the most specific layer that sets it, without resolving the rest. */
  settingFor(name: string, device: Device | undefined, model: string | undefined, mac?: string): string | undefined {
    const layers = this.layersFor(device, model, mac);
    for (let i = layers.length - 1; i >= 0; i--) {
      const v = layers[i]!.params[name];
      if (v !== undefined) return v;
    }
    return undefined;
  }

  /** A parameter of one layer only (the tenant's, a model's…), for what the shared master file says. */
  layerSetting(scope: ScopeKind, id: number, name: string): string | undefined {
    return this.paramsOf(scope, id)[name];
  }

  /**
   * The policy layers for a device, least specific first. `device` is undefined for a phone the
   * tenant serves without registration; `model` is the UA spelling (`VVX_500`) when known; `mac`
   * finds the site an unregistered device's address placed it in.
   */
  layersFor(device: Device | undefined, model: string | undefined, mac?: string): PolicyLayer[] {
    const t = this.tenant;
    const layers: PolicyLayer[] = [
      { kind: 'defaults', ref: 'built-in', params: BUILT_IN_DEFAULTS },
      { kind: 'tenant', ref: t.slug, params: this.paramsOf('tenant', t.id) },
    ];
    const mp = model ? this.modelsByName.get(model) : undefined;
    if (mp) layers.push({ kind: 'model', ref: mp.model, params: this.paramsOf('model', mp.id) });
    const siteId = device ? device.siteId : mac !== undefined ? this.placedSites.get(mac) : undefined;
    if (siteId != null) {
      layers.push({ kind: 'site', ref: this.siteSlugs.get(siteId) ?? String(siteId), params: this.paramsOf('site', siteId) });
    }
    if (device?.groupId != null) {
      layers.push({ kind: 'group', ref: this.groupSlugs.get(device.groupId) ?? String(device.groupId), params: this.paramsOf('group', device.groupId) });
    }
    const rollout = device ? this.rolloutLayers.get(device.mac) : undefined;
    if (rollout) layers.push(rollout);
    if (device) layers.push({ kind: 'device', ref: device.mac, params: this.paramsOf('device', device.id) });
    return layers;
  }
}
