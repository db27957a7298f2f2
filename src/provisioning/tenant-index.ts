import type { Tenant } from '../store/store.js';

/** The ways a request can name its tenant, indexed for one lookup each. Rebuilt when the store's revision moves. */
export class TenantIndex {
  readonly byId = new Map<number, Tenant>();
  readonly byPrefix = new Map<string, Tenant>();
  readonly byHost = new Map<string, Tenant>();
  readonly byUsername = new Map<string, Tenant>();

  constructor(tenants: readonly Tenant[]) {
    for (const t of tenants) {
      this.byId.set(t.id, t);
      if (t.pathPrefix) this.byPrefix.set(t.pathPrefix, t);
      for (const h of t.hostnames) this.byHost.set(h.toLowerCase(), t);
      this.byUsername.set(t.provUsername, t);
    }
  }
}

/** `Host: Prov.Example.com:8443` → `prov.example.com`; IPv6 literals keep their brackets' content. */
export function hostWithoutPort(host: string | undefined): string | undefined {
  if (!host) return undefined;
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']'));
  const colon = h.lastIndexOf(':');
  return colon >= 0 ? h.slice(0, colon) : h;
}
