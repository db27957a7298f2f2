import { X509Certificate } from 'node:crypto';
import { DomainError } from './domain-error.js';
import { quoteInput } from './quote-input.js';
import type { ResolvedParameter } from './resolve-policy.js';

// Two-stage bootstrap (Poly's provisioning white paper recommends HTTPS; phones out of the box
// reach a server over whatever DHCP or the factory default says, often plain HTTP, and older
// firmware trusts no public CA). Stage one, over plain HTTP, hands the phone only what moves it to
// HTTPS: the server type, the server's https:// address and the CA to trust. Stage two, over HTTPS,
// is the full configuration. Nothing secret crosses plain HTTP while the switch is on.

/** "1" at the tenant layer: phones asking over plain HTTP get the bootstrap only. */
export const BOOTSTRAP_SWITCH = 'polyprov.bootstrap.https';

/** What a phone gets over plain HTTP while bootstrapping, and nothing else. */
export const BOOTSTRAP_PARAMETERS: readonly string[] = ['device.prov.serverType', 'device.prov.serverName', 'device.sec.TLS.customCaCert1'];

export interface BootstrapPlan {
  /** Where phones go next, e.g. https://prov.example.com:8443/acme/ (a tenant path prefix included). */
  url: string;
  /** PEM of the CA that issued the server's certificate (the certificate itself when self-signed). */
  caPem: string;
}

/** The parameters that make a phone switch to HTTPS and trust the CA; validated. */
export function bootstrapParameters(plan: BootstrapPlan): Record<string, string> {
  let url: URL;
  try {
    url = new URL(plan.url);
  } catch {
    throw new DomainError(`invalid bootstrap URL ${quoteInput(plan.url)}: expected https://host[:port]/[path], the address phones reach this server's HTTPS at`);
  }
  if (url.protocol !== 'https:' || !url.hostname || url.username || url.password || url.search || url.hash) {
    throw new DomainError(`invalid bootstrap URL ${quoteInput(plan.url)}: expected https://host[:port]/[path] without credentials, query or fragment (phones keep the credentials they have)`);
  }
  const pems = plan.caPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (pems.length === 0) throw new DomainError('the CA file holds no PEM certificate ("-----BEGIN CERTIFICATE-----")');
  let certs: X509Certificate[];
  try {
    certs = pems.map((p) => new X509Certificate(p));
  } catch (err) {
    throw new DomainError(`the CA certificate does not parse: ${(err as Error).message}`);
  }
  // The anchor phones must trust: the last CA certificate of a chain file (whichever order it was
  // saved in), else a self-signed certificate (polyprov's generated one). A lone server
  // certificate issued by someone else is refused: trusting it would break at its first renewal.
  const anchor = certs.filter((c) => c.ca).pop() ?? certs.filter((c) => c.issuer === c.subject).pop();
  if (!anchor) {
    throw new DomainError('the file holds no CA certificate (nor a self-signed one): give the certificate of the CA that issued the HTTPS certificate');
  }
  const pem = anchor.toString().trim();
  return {
    [BOOTSTRAP_SWITCH]: '1',
    'device.prov.serverType': 'HTTPS',
    'device.prov.serverName': url.href,
    'device.sec.TLS.customCaCert1': `${pem}\n`,
  };
}

/** Only the bootstrap's parameters of a resolution: what plain HTTP may carry. */
export function bootstrapSubset(resolved: readonly ResolvedParameter[]): ResolvedParameter[] {
  return resolved.filter((p) => BOOTSTRAP_PARAMETERS.includes(p.name));
}
