import { DomainError } from './domain-error.js';
import { quoteInput } from './quote-input.js';

/** A phone's MAC address as 12 lower-case hexadecimal digits, the spelling phones use in file names. */
export type Mac = string;

/** The all-zero MAC names the files shared by every phone (000000000000.cfg), never a device. */
export const SITE_MAC = '000000000000';

const PLAIN = /^[0-9a-f]{12}$/i;
// One separator style per address: a mix such as 00:04-f2... is more likely a typo than a MAC.
const COLON_OR_DASH = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}$/i;
const DOTTED = /^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/i;
// Longest accepted form is 17 characters; anything much longer is not worth running regexes on.
const MAX_INPUT = 64;

function normalise(input: string): Mac | null {
  if (typeof input !== 'string' || input.length > MAX_INPUT) return null;
  const text = input.trim();
  if (!PLAIN.test(text) && !COLON_OR_DASH.test(text) && !DOTTED.test(text)) return null;
  return text.replace(/[:.-]/g, '').toLowerCase();
}

/** Accepts 0004F2ABCDEF, 00:04:f2:ab:cd:ef, 00-04-F2-AB-CD-EF and 0004.f2ab.cdef; null otherwise or for the site MAC. */
export function parseMac(input: string): Mac | null {
  const mac = normalise(input);
  return mac === null || mac === SITE_MAC ? null : mac;
}

export function requireMac(input: string): Mac {
  const mac = normalise(input);
  if (mac === SITE_MAC) {
    throw new DomainError(
      `${quoteInput(input)} is not a device MAC address: ${SITE_MAC} names the files shared by all phones; give the phone's own MAC, e.g. 0004f2a1b2c3`,
    );
  }
  if (mac === null) {
    throw new DomainError(
      `invalid MAC address ${quoteInput(input)}: expected 12 hexadecimal digits, e.g. 0004f2a1b2c3 (00:04:f2:a1:b2:c3, 00-04-f2-a1-b2-c3 and 0004.f2a1.b2c3 are accepted too)`,
    );
  }
  return mac;
}

const MAC_FILE_NAME = /^([0-9a-f]{12})(?:[.-]|$)/i;

/**
 * The phone a file belongs to, from the names phones use: <mac>.cfg, <mac>-phone.cfg,
 * <mac>-app.log, <mac>-directory.xml. Shared files (000000000000*, sip.ld, <part>.sip.ld) give null.
 */
export function macFromFileName(basename: string): Mac | null {
  if (typeof basename !== 'string') return null;
  const match = MAC_FILE_NAME.exec(basename);
  if (!match) return null;
  const mac = match[1].toLowerCase();
  return mac === SITE_MAC ? null : mac;
}
