import { bootOptions, type BootOptions, type BootProtocol } from '../../domain/dhcp-boot-options.js';
import { DomainError } from '../../domain/domain-error.js';
import type { InformRule } from './inform-responder.js';

const PROTOCOLS = new Set(['http', 'https', 'ftp', 'ftps', 'tftp']);

/**
 * A configured URL as option strings: taken apart and rebuilt by bootOptions, so its credentials
 * are escaped and its length checked exactly as `polyprov dhcp options` does.
 */
export function bootOptionsFromUrl(text: string): BootOptions {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new DomainError(`invalid boot server URL "${text}": expected scheme://[user:password@]host[:port]/[prefix/], e.g. https://prov.example.com:8443/`);
  }
  const protocol = url.protocol.slice(0, -1);
  if (!PROTOCOLS.has(protocol)) throw new DomainError(`invalid boot server URL "${text}": the scheme must be http, https, ftp, ftps or tftp`);
  const prefix = decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, '');
  return bootOptions({
    protocol: protocol as BootProtocol,
    host: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    pathPrefix: prefix || null,
    ...(url.username ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } : {}),
  });
}

export function informRules(rules: readonly { subnet: string; url: string }[]): InformRule[] {
  return rules.map((r) => ({ subnet: r.subnet, options: bootOptionsFromUrl(r.url) }));
}
