import { bootOptions, type BootOptions, type BootProtocol } from '../domain/dhcp-boot-options.js';
import { dhcpServerConfig, type DhcpMatch, type DhcpServerKind } from '../domain/dhcp-server-config.js';
import { DomainError } from '../domain/domain-error.js';
import { FACTORY_LOGIN } from '../provisioning/core.js';
import type { Tenant } from '../store/store.js';
import { AdminError } from './admin-error.js';

export interface BootServerRequest {
  protocol: BootProtocol;
  /** How phones reach this server: a DNS name or an address. */
  host: string;
  port?: number;
  /**
   * Credentials in the URL: `tenant` (the tenant's user name with `password`, which polyprov
   * cannot read back: it keeps only hashes), `factory` (PlcmSpIp, when the tenant accepts it), or
   * none (phones use what they carry).
   */
  credentials: 'tenant' | 'factory' | 'none';
  password?: string;
}

/** Option 66/160/161 strings for one tenant: its path prefix and, if asked, its login. */
export function tenantBootOptions(t: Tenant, req: BootServerRequest): BootOptions {
  let login: { username: string; password: string } | undefined;
  if (req.credentials === 'tenant') {
    if (!req.password) throw new AdminError(`give --password: polyprov keeps only a hash of tenant "${t.slug}"'s password, so it cannot put it in the URL by itself`);
    login = { username: t.provUsername, password: req.password };
  } else if (req.credentials === 'factory') {
    if (!t.factoryLogin) throw new AdminError(`tenant "${t.slug}" does not accept the factory login PlcmSpIp (enable it with: polyprov tenant set ${t.slug} --factory-login)`);
    login = { username: FACTORY_LOGIN, password: FACTORY_LOGIN };
  }
  try {
    return bootOptions({
      protocol: req.protocol,
      host: req.host,
      ...(req.port !== undefined ? { port: req.port } : {}),
      pathPrefix: t.pathPrefix,
      ...(login ? { username: login.username, password: login.password } : {}),
    });
  } catch (err) {
    if (err instanceof DomainError) throw new AdminError(err.message);
    throw err;
  }
}

export function tenantDhcpConfig(t: Tenant, req: BootServerRequest & { server: DhcpServerKind; match: DhcpMatch; subnet?: string }): string {
  const options = tenantBootOptions(t, req);
  try {
    return dhcpServerConfig({ server: req.server, match: req.match, options, tenant: t.slug, ...(req.subnet ? { subnet: req.subnet } : {}) });
  } catch (err) {
    if (err instanceof DomainError) throw new AdminError(err.message);
    throw err;
  }
}
