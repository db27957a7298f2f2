// Sites as Poly Lens knows them: each lists public subnets (what a server on the internet sees as
// the phone's source address) and, behind each, optional private subnets (the phone's own address
// behind the NAT). Several sites may share one public subnet and differ by their private subnets.

import { DomainError } from './domain-error.js';
import { addressNumber, parseSubnet, subnetContains } from './ip-subnet.js';
import type { Subnet } from './ip-subnet.js';

/** One public subnet of a site and the private subnets behind it. */
export interface SiteSubnet {
  /** CIDR, normalised (`203.0.113.0/24`, `2001:db8::/48`). */
  public: string;
  /** CIDRs, normalised; empty: every private address behind the public subnet. */
  private: string[];
}

const PUBLIC_LIST = 'public-subnet-list';
const PRIVATE_LIST = 'private-subnet-list';
const MASK = 'mask-length';
const ADDRESS = 'ip-address';

/**
 * Parses the `subnets` column of a Lens site export:
 * `{"public-subnet-list":[{"mask-length":24,"ip-address":"203.0.113.0","private-subnet-list":[…]}]}`,
 * or a bare array of the entries. A blank text is no subnets. Subnets come back normalised; host
 * bits below the mask are refused (DomainError naming the entry and suggesting the network).
 */
export function parseLensSubnets(json: string): SiteSubnet[] {
  if (json.trim() === '') return [];
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (err) {
    throw new DomainError(`site subnets are not valid JSON (${(err as Error).message}): expected {"${PUBLIC_LIST}":[{"${MASK}":24,"${ADDRESS}":"203.0.113.0"}]}`);
  }
  let list: unknown = doc;
  if (isObject(doc)) {
    if (!(PUBLIC_LIST in doc)) throw new DomainError(`site subnets: expected an object with "${PUBLIC_LIST}" (or a bare list of its entries)`);
    list = doc[PUBLIC_LIST];
  }
  if (list === null) return [];
  if (!Array.isArray(list)) throw new DomainError(`site subnets: "${PUBLIC_LIST}" must be a list of {"${MASK}", "${ADDRESS}"} entries`);
  return list.map((entry: unknown, i): SiteSubnet => {
    const where = `public subnet ${i + 1}`;
    const pub = lensSubnet(entry, where);
    const privates: unknown = isObject(entry) ? (entry[PRIVATE_LIST] ?? []) : [];
    if (!Array.isArray(privates)) throw new DomainError(`site subnets, ${where} (${pub}): "${PRIVATE_LIST}" must be a list of {"${MASK}", "${ADDRESS}"} entries`);
    return { public: pub, private: privates.map((p: unknown, j) => lensSubnet(p, `${where} (${pub}), private subnet ${j + 1}`)) };
  });
}

/** The Lens JSON of the given subnets, compact, keys in Lens's order: parseLensSubnets reads it back equal. */
export function formatLensSubnets(subnets: readonly SiteSubnet[]): string {
  const entry = (cidr: string) => {
    const slash = cidr.lastIndexOf('/');
    return { [MASK]: Number(cidr.slice(slash + 1)), [ADDRESS]: cidr.slice(0, slash) };
  };
  return JSON.stringify({ [PUBLIC_LIST]: subnets.map((s) => ({ ...entry(s.public), [PRIVATE_LIST]: s.private.map(entry) })) });
}

/**
 * Checks and normalises subnets given as objects (an admin command, the store): every CIDR must
 * parse with no host bits set. DomainError naming the bad entry.
 */
export function normaliseSiteSubnets(subnets: readonly SiteSubnet[]): SiteSubnet[] {
  if (!Array.isArray(subnets)) throw new DomainError('site subnets must be a list of { public, private } entries');
  return subnets.map((s, i) => {
    if (!isObject(s) || typeof s.public !== 'string') throw new DomainError(`site subnet ${i + 1}: expected { public: "203.0.113.0/24", private: [] }`);
    const priv: unknown = s.private ?? [];
    if (!Array.isArray(priv) || !priv.every((p) => typeof p === 'string')) throw new DomainError(`site subnet ${i + 1} (${s.public}): private must be a list of CIDR strings`);
    return { public: parseSubnet(s.public).text, private: priv.map((p) => parseSubnet(p).text) };
  });
}

interface Entry<K> {
  key: K;
  pub: Subnet;
  /** Last address of the public subnet. */
  end: bigint;
  priv: Subnet[];
}

function entriesOf<K>(key: K, subnets: readonly SiteSubnet[]): Entry<K>[] {
  return subnets.map((s) => {
    const pub = parseSubnet(s.public);
    return { key, pub, end: pub.network | hostMask(pub), priv: s.private.map(parseSubnet) };
  });
}

/**
 * Two sites' subnets overlap when two public subnets overlap and either of the two lists no private
 * subnets or two of their private subnets overlap: a device there could belong to both. One site
 * may not list overlapping subnets either. Returns a description naming both sites and both
 * subnets, or null when nothing overlaps.
 */
export function findSubnetOverlap(sites: readonly { slug: string; subnets: readonly SiteSubnet[] }[]): string | null {
  const entries = sites.flatMap((s) => entriesOf(s.slug, s.subnets));
  for (const e of entries) {
    const clash = overlappingPair(e.priv, e.priv);
    if (clash) return `site "${e.key}" lists private subnets ${clash[0].text} and ${clash[1].text} behind ${e.pub.text}, which overlap: merge or remove one`;
  }
  // CIDR blocks are either disjoint or nested. Sorted by start, widest first, the blocks still open
  // (a stack) are exactly those containing the next one, so only overlapping pairs are compared.
  const sorted = entries.map((e, i) => ({ e, i })).sort((a, b) => cmp(a.e.pub.network, b.e.pub.network) || a.e.pub.bits - b.e.pub.bits || a.i - b.i);
  const open: Entry<string>[] = [];
  for (const { e } of sorted) {
    while (open.length && open[open.length - 1]!.end < e.pub.network) open.pop();
    for (const o of open) {
      const problem = entryOverlap(o, e);
      if (problem) return problem;
    }
    open.push(e);
  }
  return null;
}

function entryOverlap(a: Entry<string>, b: Entry<string>): string | null {
  const describe = (e: Entry<string>, priv?: Subnet) => `${e.pub.text}${priv ? ` (private ${priv.text})` : e.priv.length ? '' : ' (any private address)'}`;
  let detail: [string, string] | null = null;
  if (!a.priv.length || !b.priv.length) detail = [describe(a), describe(b)];
  else {
    const pair = overlappingPair(a.priv, b.priv);
    if (pair) detail = [describe(a, pair[0]), describe(b, pair[1])];
  }
  if (!detail) return null;
  if (a.key === b.key) return `site "${a.key}" lists ${detail[0]} and ${detail[1]}, which overlap: merge or remove one`;
  return `the subnets of sites "${a.key}" and "${b.key}" overlap: ${detail[0]} of "${a.key}" and ${detail[1]} of "${b.key}"; a device there would belong to both (sites sharing a public subnet must list disjoint private subnets)`;
}

/** The first pair (x from xs, y from ys, not the same element) that overlaps, or null. */
function overlappingPair(xs: readonly Subnet[], ys: readonly Subnet[]): [Subnet, Subnet] | null {
  for (const x of xs) {
    for (const y of ys) {
      if (x !== y && (subnetContains(x, y.network) || subnetContains(y, x.network))) return [x, y];
    }
  }
  return null;
}

/**
 * Finds a device's site by address, with the tenant's sites indexed once: the lookup costs one map
 * probe per distinct public prefix length, so an inventory batch can place each device cheaply.
 */
export class SiteLocator {
  /** Public prefix lengths, longest first, each with its blocks by network. */
  private readonly levels: { bits: number; byNetwork: Map<bigint, Entry<number>[]> }[] = [];

  constructor(sites: readonly { id: number; subnets: readonly SiteSubnet[] }[]) {
    const byBits = new Map<number, Map<bigint, Entry<number>[]>>();
    for (const s of sites) {
      for (const e of entriesOf(s.id, s.subnets)) {
        let level = byBits.get(e.pub.bits);
        if (!level) byBits.set(e.pub.bits, (level = new Map()));
        const list = level.get(e.pub.network);
        if (list) list.push(e);
        else level.set(e.pub.network, [e]);
      }
    }
    for (const [bits, byNetwork] of [...byBits].sort((a, b) => b[0] - a[0])) this.levels.push({ bits, byNetwork });
  }

  /** True when no site lists a subnet: nothing can ever be placed. */
  get empty(): boolean {
    return this.levels.length === 0;
  }

  /** See siteForAddress. */
  siteFor(sourceIp: string, privateIp?: string): number | null {
    const source = addressNumber(sourceIp);
    if (source === null) return null;
    const inner = privateIp === undefined || privateIp === '' ? null : addressNumber(privateIp);
    // Every block holding the source, most specific public subnet first.
    const levels: Entry<number>[][] = [];
    for (const { bits, byNetwork } of this.levels) {
      const hit = byNetwork.get(source & ~hostMaskOf(bits));
      if (hit) levels.push(hit);
    }
    if (!levels.length) return null;
    for (const level of levels) {
      if (inner !== null) {
        let best: { site: number; bits: number } | null = null;
        for (const e of level) {
          for (const p of e.priv) if (p.bits > (best?.bits ?? -1) && subnetContains(p, inner)) best = { site: e.key, bits: p.bits };
        }
        if (best) return best.site;
      }
      const open = level.find((e) => !e.priv.length);
      if (open) return open.key;
    }
    // Unknown private address and one site on the most specific public subnet: it can only be that one.
    const top = levels[0]!;
    return inner === null && new Set(top.map((e) => e.key)).size === 1 ? top[0]!.key : null;
  }
}

/**
 * The site a device belongs to. The public subnets holding `sourceIp` are tried from the most
 * specific: the site whose private subnet holds `privateIp` (when known; the most specific private
 * subnet wins), else a site of that public subnet listing no private subnets, else the next less
 * specific public subnet. When the private address is unknown and one site alone lists the most
 * specific public subnet, it is that site. null when no site, or more than one, fits.
 */
export function siteForAddress(sites: readonly { id: number; subnets: readonly SiteSubnet[] }[], sourceIp: string, privateIp?: string): number | null {
  return new SiteLocator(sites).siteFor(sourceIp, privateIp);
}

function lensSubnet(entry: unknown, where: string): string {
  if (!isObject(entry)) throw new DomainError(`site subnets, ${where}: expected {"${MASK}": 24, "${ADDRESS}": "203.0.113.0"}`);
  const address = entry[ADDRESS];
  const mask = entry[MASK];
  if (typeof address !== 'string' || address.trim() === '') throw new DomainError(`site subnets, ${where}: "${ADDRESS}" must be an address such as "203.0.113.0"`);
  const maskText = typeof mask === 'number' ? String(mask) : typeof mask === 'string' ? mask.trim() : '';
  if (!/^\d{1,3}$/.test(maskText)) throw new DomainError(`site subnets, ${where} (${address}): "${MASK}" must be a whole number such as 24`);
  try {
    return parseSubnet(`${address.trim()}/${maskText}`).text;
  } catch (err) {
    throw new DomainError(`site subnets, ${where}: ${(err as Error).message}`);
  }
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function hostMaskOf(bits: number): bigint {
  return (1n << BigInt(128 - bits)) - 1n;
}

function hostMask(s: Subnet): bigint {
  return hostMaskOf(s.bits);
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
