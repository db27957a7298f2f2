import { isIPv4, isIPv6 } from 'node:net';
import { DomainError } from './domain-error.js';

/**
 * Client subnets for access without credentials (TFTP). Addresses become 128-bit numbers, IPv4 as
 * IPv4-mapped IPv6 (::ffff:a.b.c.d), so `10.0.0.0/8` matches a client the socket reports as
 * `::ffff:10.1.2.3` and one subnet list covers both families.
 */
export interface Subnet {
  /** As the administrator should see it: `10.0.0.0/8`, `2001:db8::/32`. */
  text: string;
  network: bigint;
  /** Prefix length in the 128-bit space (an IPv4 /8 is 104). */
  bits: number;
}

const V4_MAPPED = 0xffffn << 32n;

function v4ToBigint(ip: string): bigint {
  return ip.split('.').reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n);
}

function v6ToBigint(ip: string): bigint {
  let text = ip;
  let tail: bigint[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = v4ToBigint(dotted[1]!);
    tail = [v4 >> 16n, v4 & 0xffffn];
    text = text.slice(0, -dotted[1]!.length) + '0:0';
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const zeros = rest === undefined ? 0 : 8 - left.length - right.length;
  const groups = [...left, ...Array<string>(zeros).fill('0'), ...right].map((g) => BigInt(parseInt(g, 16)));
  if (tail.length) groups.splice(6, 2, ...tail);
  return groups.reduce((n, g) => (n << 16n) | g, 0n);
}

/**
 * A client address as the core and the logs show it: IPv4 clients of a dual-stack listener arrive
 * as `::ffff:a.b.c.d` and become `a.b.c.d`; anything else is kept (undefined becomes '').
 */
export function plainAddress(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
}

/** The address as a 128-bit number, or null when it is not an IP address. */
export function addressNumber(ip: string): bigint | null {
  const bare = ip.replace(/%.*$/, '');
  if (isIPv4(bare)) return V4_MAPPED | v4ToBigint(bare);
  if (isIPv6(bare)) return v6ToBigint(bare);
  return null;
}

const LOOPBACK = ['127.0.0.0/8', '::1/128'];

/** True for 127.x.x.x, ::1 and "localhost": a listener there is reachable from this host only. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  return longestMatch(LOOPBACK.map(parseSubnet), host) >= 0;
}

/** `10.0.0.0/8`, `192.168.1.7` (a /32), `2001:db8::/32`; host bits set below the prefix are refused. */
export function parseSubnet(text: string): Subnet {
  const trimmed = text.trim();
  const [addr, len, extra] = trimmed.split('/');
  const v4 = isIPv4(addr ?? '');
  if (extra !== undefined || (!v4 && !isIPv6(addr ?? ''))) throw new DomainError(`"${text}" is not a subnet: expected an address with a prefix length, like 10.20.0.0/16 or 2001:db8::/48`);
  const max = v4 ? 32 : 128;
  const prefix = len === undefined ? max : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
  if (!(prefix >= 0 && prefix <= max)) throw new DomainError(`"${text}": the prefix length must be a whole number from 0 to ${max}`);
  const bits = v4 ? prefix + 96 : prefix;
  const network = addressNumber(addr!)!;
  const hostMask = (1n << BigInt(128 - bits)) - 1n;
  if ((network & hostMask) !== 0n) throw new DomainError(`"${text}" has host bits set: did you mean ${canonical(network & ~hostMask, v4, prefix)}?`);
  return { text: canonical(network, v4, prefix), network, bits };
}

function canonical(network: bigint, v4: boolean, prefix: number): string {
  if (v4) {
    const n = Number(network & 0xffffffffn);
    return `${[24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.')}/${prefix}`;
  }
  const groups = Array.from({ length: 8 }, (_, i) => ((network >> BigInt(112 - i * 16)) & 0xffffn).toString(16));
  // The longest run of zero groups becomes '::' (RFC 5952).
  let best = [-1, 0];
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best[1]! && j - i > 1) best = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const text = best[0]! < 0 ? groups.join(':') : `${groups.slice(0, best[0]).join(':')}::${groups.slice(best[0]! + best[1]!).join(':')}`;
  return `${text}/${prefix}`;
}

export function subnetContains(s: Subnet, address: bigint): boolean {
  const shift = BigInt(128 - s.bits);
  return address >> shift === s.network >> shift;
}

/** The longest prefix among `subnets` that holds `ip`, or -1 when none does (or `ip` is not an address). */
export function longestMatch(subnets: readonly Subnet[], ip: string): number {
  const a = addressNumber(ip);
  if (a === null) return -1;
  let best = -1;
  for (const s of subnets) if (s.bits > best && subnetContains(s, a)) best = s.bits;
  return best;
}

/** One stored subnet, or none when it no longer parses (it was validated when set). */
export function parsedOrNone(text: string): Subnet[] {
  try {
    return [parseSubnet(text)];
  } catch {
    return [];
  }
}

/** Parses a list (flags, config, import), refusing the whole list on the first bad entry. */
export function parseSubnetList(list: readonly string[]): Subnet[] {
  return list.filter((t) => t.trim() !== '').map(parseSubnet);
}
