import { isIPv4, isIPv6 } from 'node:net';
import { DomainError } from './domain-error.js';
import { quoteInput } from './quote-input.js';

// The boot-server address a DHCP server (or polyprov's DHCPINFORM responder) hands to Poly
// phones. Option 66 may hold a full URL with scheme, credentials and path (fact sheet §8.1); the
// phone takes the scheme as the protocol and the userinfo as its login.

export type BootProtocol = 'http' | 'https' | 'ftp' | 'ftps' | 'tftp';

export interface BootServerInput {
  protocol: BootProtocol;
  /** DNS name, IPv4 address, or IPv6 address (with or without brackets). */
  host: string;
  /** Left out of the URL when it is the protocol's default port. */
  port?: number;
  /** Tenant path prefix, e.g. `acme`; nested segments such as `eu/acme` are allowed. */
  pathPrefix?: string | null;
  username?: string;
  password?: string;
}

export interface BootOptions {
  /** The boot-server URL itself. */
  url: string;
  /** Option 66 (TFTP server name), the standard boot-server option every Poly phone reads. */
  option66: string;
  /** Option 160, read by Poly's newer software. */
  option160: string;
  /** Option 161: no Poly document found; the same value as 160 (see `bootOptions`). */
  option161: string;
  /** Sentences for the administrator: why the URL looks as it does and what to watch. */
  notes: string[];
}

/** A DHCP option carries at most 255 bytes of data (RFC 2132 §2: one length octet). */
export const MAX_DHCP_OPTION_BYTES = 255;

/**
 * Ports the phone assumes when the URL names none. FTPS is implicit TLS on 990 as curl (the
 * phones' transfer library) reads an `ftps://` URL; an explicit-TLS listener on 21 must be named.
 */
export const DEFAULT_BOOT_PORTS: Readonly<Record<BootProtocol, number>> = { http: 80, https: 443, ftp: 21, ftps: 990, tftp: 69 };

const PROTOCOLS = new Set<string>(Object.keys(DEFAULT_BOOT_PORTS));
// RFC 3986 userinfo may hold unreserved characters and sub-delims literally; everything else is
// escaped. ':' is allowed in userinfo by the RFC but splits user from password, so it is escaped.
const USERINFO_LITERAL = /^[A-Za-z0-9\-._~!$&'()*+,;=]$/;
const PATH_SEGMENT = /^[A-Za-z0-9\-._~]+$/;
const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Percent-encodes one userinfo part byte by byte (UTF-8), upper-case hex as RFC 3986 §2.1 recommends. */
function encodeUserinfo(part: string): string {
  let out = '';
  for (const ch of part) {
    if (USERINFO_LITERAL.test(ch)) out += ch;
    else for (const byte of Buffer.from(ch, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function urlHost(input: string): string {
  const host = typeof input === 'string' ? input.trim() : '';
  if (host === '') throw new DomainError('the boot server host is empty: give a DNS name or IP address such as prov.example.com');
  if (/\s/.test(host)) throw new DomainError(`the boot server host ${quoteInput(input)} contains a space: give only a DNS name or IP address such as prov.example.com`);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(host)) {
    throw new DomainError(`the boot server host ${quoteInput(input)} contains a scheme: give only the host (prov.example.com) and choose the protocol separately`);
  }
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIPv6(bare)) {
    if (bare.includes('%')) throw new DomainError(`the boot server host ${quoteInput(input)} has a zone index: phones need a routable address, not a link-local one`);
    return `[${bare.toLowerCase()}]`;
  }
  if (bare !== host) throw new DomainError(`the boot server host ${quoteInput(input)} is in brackets but is not an IPv6 address`);
  if (isIPv4(host)) return host;
  if (/[/@?#]/.test(host)) throw new DomainError(`the boot server host ${quoteInput(input)} contains "/", "@", "?" or "#": give only the host; the path prefix and credentials are separate settings`);
  if (/^[^:]+:\d+$/.test(host)) throw new DomainError(`the boot server host ${quoteInput(input)} includes a port: give the port as its own setting`);
  const name = host.toLowerCase().replace(/\.$/, '');
  const labels = name.split('.');
  if (name.length > 253 || !labels.every((l) => DNS_LABEL.test(l))) {
    throw new DomainError(`the boot server host ${quoteInput(input)} is not a DNS name or IP address: expected something like prov.example.com, 192.0.2.10 or 2001:db8::10`);
  }
  if (/^\d+$/.test(labels[labels.length - 1]!)) throw new DomainError(`the boot server host ${quoteInput(input)} looks like an IPv4 address but is not a valid one`);
  return name;
}

function urlPort(protocol: BootProtocol, port: number | undefined): string {
  if (port === undefined) return '';
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new DomainError(`the boot server port ${quoteInput(port)} is not a port number: use a whole number from 1 to 65535`);
  return port === DEFAULT_BOOT_PORTS[protocol] ? '' : `:${port}`;
}

function urlPath(prefix: string | null | undefined): string {
  const trimmed = (prefix ?? '').replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '/';
  const segments = trimmed.split('/');
  for (const s of segments) {
    if (!PATH_SEGMENT.test(s) || s === '.' || s === '..') {
      throw new DomainError(`the path prefix ${quoteInput(prefix)} cannot go into a boot server URL: use letters, digits, ".", "_", "~" and "-" in each segment, e.g. acme`);
    }
  }
  return `/${segments.join('/')}/`;
}

function credentials(input: BootServerInput): { user: string; password: string } | null {
  const user = input.username ?? '';
  const password = input.password ?? '';
  if (user === '' && password === '') return null;
  if (input.protocol === 'tftp') {
    throw new DomainError('TFTP carries no user name or password: leave the credentials out, or choose http, https, ftp or ftps');
  }
  if (user === '' || password === '') {
    throw new DomainError('give both a user name and a password for the boot server URL, or neither (phones then use their own device.prov.user / device.prov.password)');
  }
  return { user, password };
}

/** `scheme://[user:password@]host[:port]/[prefix/]`, with the credentials percent-encoded. */
export function bootServerUrl(input: BootServerInput): string {
  if (!PROTOCOLS.has(input.protocol)) throw new DomainError(`unknown boot server protocol ${quoteInput(input.protocol)}: use http, https, ftp, ftps or tftp`);
  const cred = credentials(input);
  const userinfo = cred ? `${encodeUserinfo(cred.user)}:${encodeUserinfo(cred.password)}@` : '';
  const url = `${input.protocol}://${userinfo}${urlHost(input.host)}${urlPort(input.protocol, input.port)}${urlPath(input.pathPrefix)}`;
  const bytes = Buffer.byteLength(url, 'utf8');
  if (bytes > MAX_DHCP_OPTION_BYTES) {
    throw new DomainError(
      `the boot server URL is ${bytes} bytes but a DHCP option holds at most ${MAX_DHCP_OPTION_BYTES}: shorten the host name, the path prefix, ` +
        `the user name or the password by ${bytes - MAX_DHCP_OPTION_BYTES} bytes (each escaped character counts as 3)`,
    );
  }
  return url;
}

function escapedCharacters(cred: { user: string; password: string }): string[] {
  const seen = new Set<string>();
  for (const ch of cred.user + cred.password) if (!USERINFO_LITERAL.test(ch)) seen.add(ch);
  return [...seen];
}

/** Shown wherever the options are explained (CLI, generated DHCP configuration). */
export const OPTION_NUMBERS_NOTE =
  'Option 66 is the standard boot-server option every Poly phone reads. Option 160 carries the same URL because Poly\'s newer software reads it ' +
  '(Polycom phones use 160, which is why the IETF moved its captive-portal option from 160 to 114 in RFC 8910); which of the two a phone prefers is not documented. ' +
  'Option 161 gets the same URL as 160: no Poly document says what 161 is for (one deployment guide for Poly Edge E phones puts the provisioning URL there), ' +
  'and IANA assigns 161 to the MUD URL that devices send (RFC 8520), so give it only to the Poly phone class.';

/**
 * The strings for options 66, 160 and 161 (all the same URL) with notes for the administrator.
 * Throws DomainError for an unusable host, port, prefix or credential combination, and for a URL
 * longer than one DHCP option.
 */
export function bootOptions(input: BootServerInput): BootOptions {
  const url = bootServerUrl(input);
  const notes = [OPTION_NUMBERS_NOTE];
  const cred = credentials(input);
  if (input.protocol === 'tftp') {
    notes.push(
      'TFTP carries no credentials: polyprov picks the tenant from the TFTP listener the phone reaches or from the phone\'s subnet, ' +
        'and refuses files that set passwords over TFTP unless the tenant allows it.',
    );
  } else if (cred === null) {
    notes.push(
      'The URL holds no credentials, so phones log in with their own device.prov.user / device.prov.password, which are PlcmSpIp / PlcmSpIp from the factory: ' +
        'the tenant must accept the factory login, or the phones must already carry their own credentials.',
    );
  } else {
    const escaped = escapedCharacters(cred);
    if (escaped.length > 0) {
      notes.push(
        `The credentials contain ${escaped.map((c) => JSON.stringify(c)).join(', ')}, which cannot stand literally in a URL, so they are percent-encoded ` +
          '(for example user@example.com becomes user%40example.com): an unescaped "@" would end the credentials early and the phone would take the rest as the host name. ' +
          'UC Software 4.x and newer decode these escapes; the SIP 2.x/3.x administrator guides say escapes are not supported, so for phones still on that software choose a user name and password without such characters.',
      );
    }
    notes.push('DHCP answers are not encrypted: anyone on the phones\' network can read the user name and password in this URL.');
    if (input.protocol === 'ftp') notes.push('FTP also sends the password unencrypted to the server; prefer ftps or https.');
  }
  return { url, option66: url, option160: url, option161: url, notes };
}
