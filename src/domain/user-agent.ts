import type { Mac } from './mac.js';
import { SITE_MAC } from './mac.js';

export type UaPhase = 'bootrom' | 'updater' | 'application';

export interface PhoneUserAgent {
  client: 'filetransport' | 'microbrowser' | 'sip';
  /** e.g. 'PolycomVVX', 'PolyCCX', 'G_SERIES' */
  product: string;
  /** UA spelling, e.g. 'VVX_500' */
  model: string;
  /** e.g. '5.9.7.4477' */
  version: string;
  /** raw (SN:...) text; not always a MAC (Trio fixtures carry short numbers) */
  serial?: string;
  mac?: Mac;
  phase?: UaPhase;
}

// Real UAs are under 150 characters; looking further only costs time on hostile input.
const MAX_EXAMINED = 512;

// Each client's prefix before the <Product>-<Model>-UA/<version> token. SIP phones send either
// "Polycom/<ver> <token>" or the bare token.
const PREFIXES: readonly { client: PhoneUserAgent['client']; pattern: RegExp }[] = [
  { client: 'filetransport', pattern: /^FileTransport\s+/i },
  { client: 'microbrowser', pattern: /^Microbrowser\/[0-9][0-9.]*\s+/i },
  { client: 'sip', pattern: /^Poly(?:com)?\/[0-9][0-9A-Za-z._]*\s+/i },
  { client: 'sip', pattern: /^(?=[A-Za-z][A-Za-z0-9_]*-[A-Za-z][A-Za-z0-9_]*-UA\/)/ },
];

const PRODUCT_TOKEN = /^([A-Za-z][A-Za-z0-9_]*)-([A-Za-z][A-Za-z0-9_]*)-UA\/([0-9][0-9A-Za-z._]*)/;
const SERIAL = /^\s+\(SN:([^()\s]{1,64})\)/i;
const TYPE = /(?:^|\s)Type\/([A-Za-z]+)/i;
// SIP UAs of phones with serial tagging append the MAC to the version: 4.1.4.7430_0004f2abcdef.
const VERSION_WITH_MAC = /^(.+)_([0-9a-f]{12})$/i;
const HEX12 = /^[0-9a-f]{12}$/i;
// Anything that is neither printable nor ordinary whitespace means the header is not text.
const BINARY = /[\u0000-\u0008\u000e-\u001f\u007f]/;

function macOf(text: string): Mac | undefined {
  if (!HEX12.test(text)) return undefined;
  const mac = text.toLowerCase();
  return mac === SITE_MAC ? undefined : mac;
}

function phaseOf(type: string | undefined, client: PhoneUserAgent['client']): UaPhase | undefined {
  if (type === undefined) return client === 'filetransport' ? 'bootrom' : undefined;
  switch (type.toLowerCase()) {
    case 'updater':
      return 'updater';
    case 'application':
      return 'application';
    default:
      return undefined;
  }
}

/**
 * Reads a Poly/Polycom User-Agent. Lenient by design: the result is for identification and logs,
 * so anything unrecognised gives null instead of an error.
 */
export function parseUserAgent(ua: string | undefined | null): PhoneUserAgent | null {
  if (typeof ua !== 'string') return null;
  const text = ua.slice(0, MAX_EXAMINED).trim();
  if (text === '' || BINARY.test(text)) return null;

  for (const { client, pattern } of PREFIXES) {
    const prefix = pattern.exec(text);
    if (!prefix) continue;
    const rest = text.slice(prefix[0].length);
    const token = PRODUCT_TOKEN.exec(rest);
    if (!token) return null;
    const [whole, product, model, rawVersion] = token;
    // Other vendors use the same UA shape; only Poly products (incl. G_SERIES-PolyStudio...) count.
    if (!/poly/i.test(product) && !/poly/i.test(model)) return null;

    const result: PhoneUserAgent = { client, product, model, version: rawVersion };
    const suffixed = VERSION_WITH_MAC.exec(rawVersion);
    const suffixMac = suffixed ? macOf(suffixed[2]) : undefined;
    if (suffixed && suffixMac) {
      result.version = suffixed[1];
      result.mac = suffixMac;
    }

    const tail = rest.slice(whole.length);
    const serial = SERIAL.exec(tail);
    if (serial) {
      result.serial = serial[1];
      const serialMac = macOf(serial[1]);
      if (serialMac) result.mac = serialMac;
    }
    const phase = phaseOf(TYPE.exec(tail)?.[1], client);
    if (phase) result.phase = phase;
    return result;
  }
  return null;
}
