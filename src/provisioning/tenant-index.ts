import { longestMatch, parsedOrNone, type Subnet } from '../domain/ip-subnet.js';
import type { Tenant } from '../store/store.js';

/** The ways a request can name its tenant, indexed for one lookup each. Rebuilt when the store's revision moves. */
export class TenantIndex {
  readonly byId = new Map<number, Tenant>();
  readonly byPrefix = new Map<string, Tenant>();
  readonly byHost = new Map<string, Tenant>();
  readonly byUsername = new Map<string, Tenant>();
  readonly bySlug = new Map<string, Tenant>();
  /** Tenants that accept the factory PlcmSpIp login. */
  readonly factoryLogin: Tenant[] = [];
  readonly tftpSubnets = new Map<number, Subnet[]>();

  constructor(tenants: readonly Tenant[]) {
    for (const t of tenants) {
      this.byId.set(t.id, t);
      this.bySlug.set(t.slug, t);
      if (t.factoryLogin) this.factoryLogin.push(t);
      // Validated when set (admin/tenants.ts); an entry that no longer parses is skipped, not fatal.
      const subnets = t.tftpSubnets.flatMap(parsedOrNone);
      if (subnets.length) this.tftpSubnets.set(t.id, subnets);
      if (t.pathPrefix) this.byPrefix.set(t.pathPrefix, t);
      for (const h of t.hostnames) this.byHost.set(h.toLowerCase(), t);
      this.byUsername.set(t.provUsername, t);
    }
  }
}

/**
 * The tenants whose TFTP subnets hold `ip` most specifically: one tenant normally, several when
 * two tenants list the same subnet (the caller refuses that as ambiguous), none when no list holds it.
 */
export function tenantsBySubnet(index: TenantIndex, ip: string): Tenant[] {
  let best = -1;
  let found: Tenant[] = [];
  for (const [id, subnets] of index.tftpSubnets) {
    const bits = longestMatch(subnets, ip);
    if (bits < 0 || bits < best) continue;
    if (bits > best) found = [];
    best = bits;
    found.push(index.byId.get(id)!);
  }
  return found;
}

/** `Host: Prov.Example.com:8443` → `prov.example.com`; IPv6 literals keep their brackets' content. */
export function hostWithoutPort(host: string | undefined): string | undefined {
  if (!host) return undefined;
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']'));
  const colon = h.lastIndexOf(':');
  return colon >= 0 ? h.slice(0, colon) : h;
}
