/**
 * Override files a phone uploads (`<mac>-phone.cfg`: changes made on the phone; `<mac>-web.cfg`:
 * changes made in its web UI) and reads back at boot (fact sheet §4.4):
 *
 *   <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
 *   <!-- Application SIP Helford6 5.9.6.2996 30-Jan-21 15:34 -->
 *   <!-- Created 30-01-2021 15:34 -->
 *   <PHONE_CONFIG><OVERRIDES reg.1.label="Reception" …/></PHONE_CONFIG>
 *
 * An upload is stored whatever it contains; parsing only tells the administrator what it says, so
 * a malformed file is a result, never an exception.
 */
import { DomainError } from './domain-error.js';
import type { XmlAttribute } from './polycom-xml.js';
import { parseXmlAttributes } from './polycom-xml.js';
import { renderXmlDocument } from './xml-document.js';

export interface FirmwareStamp {
  /** Release codename: Helford6, Danube2, LeafElbe, Mink … */
  codename?: string;
  version?: string;
}

export type OverrideFileParse =
  | { ok: true; params: Map<string, string>; firmware?: FirmwareStamp }
  | { ok: false; error: string };

export type OverrideKind = 'phone' | 'web';

export type OverrideSource = 'phone' | 'web' | 'server';

const ROOT: Readonly<Record<OverrideKind, string>> = { phone: 'PHONE_CONFIG', web: 'WEB_CONFIG' };

function isNamespaceAttribute(name: string): boolean {
  return name === 'xmlns' || name.startsWith('xmlns:') || name.startsWith('xsi:');
}

// The comments in front of the root element, which parseXmlAttributes does not report. Only run on
// a document the XML parser accepted, so the prolog is known to be declaration, comments and
// whitespace and this cannot misread markup.
const PROLOG_COMMENTS = /^\uFEFF?\s*(?:<\?xml[^?]*\?>\s*)?((?:<!--[\s\S]*?-->\s*)*)/;
const COMMENT = /<!--([\s\S]*?)-->/g;
// "Application SIP Helford6 5.9.6.2996 30-Jan-21 15:34": a codename (letters, maybe a digit run)
// right before a dotted version.
const STAMP = /\bApplication\b.*?(?:\b([A-Z][A-Za-z]+\d*)\s+)?(\d+\.\d+\.\d+(?:\.\d+)?)\b/;

function firmwareOf(xml: string): FirmwareStamp | undefined {
  const prolog = PROLOG_COMMENTS.exec(xml)?.[1] ?? '';
  for (const [, comment = ''] of prolog.matchAll(COMMENT)) {
    const match = STAMP.exec(comment);
    if (!match) continue;
    const [, codename, version] = match;
    const stamp: FirmwareStamp = {};
    if (codename !== undefined && codename !== 'SIP') stamp.codename = codename;
    if (version !== undefined) stamp.version = version;
    return stamp;
  }
  return undefined;
}

/**
 * The parameters in an override file, collected from every element as phones do (web exports put
 * them in groups such as <DEVICE_SETTINGS>); the first occurrence of a name wins. Namespace
 * attributes are not parameters. device.* markers are kept as they are: what the phone makes of
 * them is applyDeviceSetRule's business.
 */
export function parseOverrideFile(xml: string): OverrideFileParse {
  if (typeof xml !== 'string') return { ok: false, error: 'malformed XML: expected the document as text' };
  let attributes: XmlAttribute[];
  try {
    attributes = parseXmlAttributes(xml);
  } catch (error) {
    if (error instanceof DomainError) return { ok: false, error: error.message };
    return { ok: false, error: `malformed XML: ${error instanceof Error ? error.message : String(error)}` };
  }
  const params = new Map<string, string>();
  for (const { name, value } of attributes) {
    if (!isNamespaceAttribute(name) && !params.has(name)) params.set(name, value);
  }
  const firmware = firmwareOf(xml);
  return firmware ? { ok: true, params, firmware } : { ok: true, params };
}

/**
 * An override file with no overrides: served in place of the stored one, it makes the phone drop
 * the local changes it keeps (sipXecs does this, [S]). Whether a 404 would do the same is [U].
 */
export function renderEmptyOverrideFile(kind: OverrideKind): string {
  return renderXmlDocument(
    { version: '1.0', encoding: 'UTF-8', standalone: 'yes' },
    { name: ROOT[kind], attributes: [], children: [{ name: 'OVERRIDES', attributes: [] }] },
  );
}

/**
 * What the phone ends up with: its own changes (`-phone.cfg`) over its web UI's (`-web.cfg`) over
 * the server's files. This order is the fact sheet's §4.3 recollection of Poly's guides, marked
 * [U] there (in particular phone over web); change it here if a real phone disagrees.
 */
export function effectiveWithOverrides(
  server: ReadonlyMap<string, string>,
  web: ReadonlyMap<string, string> | undefined,
  phone: ReadonlyMap<string, string> | undefined,
): Map<string, { value: string; source: OverrideSource }> {
  const effective = new Map<string, { value: string; source: OverrideSource }>();
  for (const [name, value] of server) effective.set(name, { value, source: 'server' });
  for (const [name, value] of web ?? []) effective.set(name, { value, source: 'web' });
  for (const [name, value] of phone ?? []) effective.set(name, { value, source: 'phone' });
  return effective;
}
