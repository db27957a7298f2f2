import { isIPv6 } from 'node:net';
import { DomainError } from './domain-error.js';
import { quoteInput } from './quote-input.js';
import { requestUriFor } from './sip-message.js';

// Where the server sends a check-sync NOTIFY or a Push request for one phone. The settings are
// polyprov's own parameters, so they take the usual layers: a tenant sends through its SBC, one
// site through another, and `explain` says which. Unset, a NOTIFY goes straight to the address
// the phone last fetched a file from, on 5060, as the phone's SIP stack listens there.

/** `host[:port]` of a PBX or SBC that relays NOTIFYs to phones; unset: the phone's own address. */
export const NOTIFY_TARGET = 'polyprov.notify.target';
/** udp (default), tcp or tls. */
export const NOTIFY_TRANSPORT = 'polyprov.notify.transport';
/** Request-URI template: {user} (reg.1.address's user part), {host}, {port}, {ip}, {mac}. */
export const NOTIFY_REQUEST_URI = 'polyprov.notify.requestUri';
/** Digest credentials for a challenge from the phone or the proxy. */
export const NOTIFY_USERNAME = 'polyprov.notify.username';
export const NOTIFY_PASSWORD = 'polyprov.notify.password';
/** Push URL template ({ip}, {mac}); default https://{ip}/push. */
export const PUSH_URL = 'polyprov.push.url';

export const NOTIFY_SETTINGS = [NOTIFY_TARGET, NOTIFY_TRANSPORT, NOTIFY_REQUEST_URI, NOTIFY_USERNAME, NOTIFY_PASSWORD];

export type SipTransportName = 'udp' | 'tcp' | 'tls';

export interface PlannedNotify {
  host: string;
  port: number;
  transport: SipTransportName;
  requestUri: string;
  credentials?: { username: string; password: string };
  /** For people and the result log: "udp:10.0.0.5:5060 sip:1001@10.0.0.5:5060". */
  label: string;
}

export interface PlannedPush {
  url: string;
  username: string;
  password: string;
  label: string;
}

/** One phone's view of its settings: the most specific layer's value, or undefined. */
export type SettingOf = (name: string) => string | undefined;

const DEFAULT_PORT: Record<SipTransportName, number> = { udp: 5060, tcp: 5060, tls: 5061 };

export function parseSipTransport(text: string | undefined): SipTransportName {
  const t = (text ?? 'udp').trim().toLowerCase();
  if (t === 'udp' || t === 'tcp' || t === 'tls') return t;
  throw new DomainError(`invalid SIP transport ${quoteInput(text)}: expected udp, tcp or tls`);
}

const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;

/** `pbx.example.com`, `pbx.example.com:5080`, `[2001:db8::1]:5060`, `10.0.0.1`. */
export function parseHostPort(text: string, defaultPort: number): { host: string; port: number } {
  const m = /^\s*(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|[0-9a-fA-F:.]+))(?::(\d{1,5}))?\s*$/.exec(text);
  const bracketed = m?.[1];
  const bare = m?.[2];
  const host = bracketed ?? bare ?? '';
  const port = m?.[3] !== undefined ? Number(m[3]) : defaultPort;
  // Colons make a bare host an IPv6 address (which takes no port without brackets) or a typo.
  if (!m || (bracketed !== undefined && !isIPv6(bracketed)) || (bare !== undefined && (bare.includes(':') ? !isIPv6(bare) : !HOSTNAME.test(bare))) || port < 1 || port > 65535) {
    throw new DomainError(`invalid target ${quoteInput(text)}: expected host[:port], e.g. sbc.example.com:5060 or [2001:db8::1]:5060`);
  }
  return { host, port };
}

function hostForUri(host: string): string {
  return isIPv6(host) ? `[${host}]` : host;
}

/** The user part of reg.1.address ("1001" of "1001@pbx.example.com"), if any. */
function lineUser(setting: SettingOf): string | undefined {
  const address = setting('reg.1.address')?.trim();
  if (!address) return undefined;
  return address.replace(/^sips?:/i, '').split('@')[0] || undefined;
}

/** Where and how to send one phone its check-sync, or why it cannot be sent. */
export function planNotify(mac: string, lastIp: string | null, setting: SettingOf): PlannedNotify | { problem: string } {
  const transport = parseSipTransport(setting(NOTIFY_TRANSPORT));
  const relay = setting(NOTIFY_TARGET)?.trim();
  let hostPort: { host: string; port: number };
  if (relay) hostPort = parseHostPort(relay, DEFAULT_PORT[transport]);
  else if (lastIp) hostPort = { host: lastIp.replace(/^::ffff:(?=\d+\.)/, ''), port: DEFAULT_PORT[transport] };
  else return { problem: 'address unknown: the phone has never fetched a file (set a NOTIFY target with "polyprov notify config --target" to reach it through the PBX)' };
  const user = lineUser(setting);
  const values: Record<string, string> = {
    host: hostForUri(hostPort.host),
    port: String(hostPort.port),
    ip: lastIp ? hostForUri(lastIp.replace(/^::ffff:(?=\d+\.)/, '')) : '',
    mac,
    user: user ?? mac,
  };
  const template = setting(NOTIFY_REQUEST_URI)?.trim() || (user ? 'sip:{user}@{host}:{port}' : 'sip:{host}:{port}');
  const requestUri = requestUriFor(template, values) + (transport === 'udp' || template.includes('transport=') ? '' : `;transport=${transport}`);
  const username = setting(NOTIFY_USERNAME);
  const password = setting(NOTIFY_PASSWORD);
  return {
    ...hostPort,
    transport,
    requestUri,
    ...(username && password !== undefined ? { credentials: { username, password } } : {}),
    label: `${transport}:${values.host}:${hostPort.port} ${requestUri}`,
  };
}

/** Where to POST one phone's Push request, with the push credentials its own configuration holds. */
export function planPush(mac: string, lastIp: string | null, setting: SettingOf): PlannedPush | { problem: string } {
  const username = setting('apps.push.username');
  const password = setting('apps.push.password');
  if (!username || !password) {
    return { problem: 'push credentials not set: apps.push.username and apps.push.password (set them with "polyprov push enable")' };
  }
  const template = setting(PUSH_URL)?.trim() || 'https://{ip}/push';
  if (template.includes('{ip}') && !lastIp) return { problem: 'address unknown: the phone has never fetched a file' };
  const ip = lastIp ? hostForUri(lastIp.replace(/^::ffff:(?=\d+\.)/, '')) : '';
  const url = template.replaceAll('{ip}', ip).replaceAll('{mac}', mac);
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
  } catch {
    return { problem: `push URL ${quoteInput(url)} is not an http(s) URL: fix ${PUSH_URL}` };
  }
  return { url, username, password, label: url };
}
