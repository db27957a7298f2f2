import type { EntityDecoderOptions } from 'fast-xml-parser';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { DomainError } from './domain-error.js';
import { isDeviceParameter } from './parameter.js';
import { codeUnitLabel, findNonXmlChar } from './xml-chars.js';

export interface XmlAttribute {
  element: string;
  name: string;
  value: string;
}

const PREDEFINED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const REFERENCE = /&(?:#x([0-9A-Fa-f]+)|#([0-9]+)|([A-Za-z_][A-Za-z0-9._-]*))?(;?)/g;

function isXmlCodePoint(cp: number): boolean {
  return (
    cp === 0x9 || cp === 0xa || cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

function decodeReference(whole: string, hex?: string, dec?: string, named?: string, semicolon?: string): string {
  if (!semicolon || (hex === undefined && dec === undefined && named === undefined)) {
    throw new DomainError(`malformed XML: "&" must start a reference such as &amp; (found ${JSON.stringify(whole)})`);
  }
  if (named !== undefined) {
    const char = Object.hasOwn(PREDEFINED, named) ? PREDEFINED[named] : undefined;
    if (char === undefined) {
      throw new DomainError(`malformed XML: unknown entity &${named}; (only &amp; &lt; &gt; &quot; &apos; are defined; DOCTYPE entities are not expanded)`);
    }
    return char;
  }
  const cp = hex !== undefined ? Number.parseInt(hex, 16) : Number.parseInt(dec ?? '', 10);
  if (!isXmlCodePoint(cp)) {
    throw new DomainError(`malformed XML: character reference ${whole} is not a character XML allows`);
  }
  return String.fromCodePoint(cp);
}

// fast-xml-parser's own decoder leaves &#10; undecoded unless HTML entities are switched on (which
// would also accept &nbsp; and friends) and expands DOCTYPE entities by default. This one does
// exactly what XML 1.0 does for attribute values: literal TAB/LF/CR become spaces (attribute-value
// normalisation), then the five predefined entities and character references are decoded.
// Text content passes through it too; polyprov reads only attributes from these documents.
const attributeDecoder: EntityDecoderOptions = {
  setExternalEntities: () => {},
  addInputEntities: () => {},
  reset: () => {},
  setXmlVersion: () => {},
  decode: (text: string) => {
    if (text.includes('<')) {
      throw new DomainError('malformed XML: "<" inside an attribute value must be written as &lt;');
    }
    return text.replace(/[\t\n\r]/g, ' ').replace(REFERENCE, decodeReference);
  },
};

// Element names get a prefix while parsing: the parser refuses elements called constructor or
// prototype, which are legal XML and legal first segments of Polycom parameter names. "~" cannot
// start an XML name, so a prefixed name is never mistaken for a real one. The transform must be
// idempotent: fast-xml-parser 5.12 applies it twice to self-closing tags.
const ELEMENT_PREFIX = '~';
const prefixElement = (name: string): string => (name.startsWith(ELEMENT_PREFIX) ? name : ELEMENT_PREFIX + name);
const ATTRIBUTE_PREFIX = '@_';

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: ATTRIBUTE_PREFIX,
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  entityDecoder: attributeDecoder,
  ignoreDeclaration: true,
  ignorePiTags: true,
  transformTagName: prefixElement,
});

type OrderedNode = Record<string, unknown>;

function elementKeyOf(node: OrderedNode): string | undefined {
  return Object.keys(node).find((key) => key.startsWith(ELEMENT_PREFIX));
}

function collect(nodes: readonly OrderedNode[], out: XmlAttribute[]): void {
  for (const node of nodes) {
    const key = elementKeyOf(node);
    if (key === undefined) continue;
    const element = key.slice(ELEMENT_PREFIX.length);
    const attributes = node[':@'];
    if (attributes && typeof attributes === 'object') {
      for (const [prefixed, value] of Object.entries(attributes)) {
        out.push({ element, name: prefixed.slice(ATTRIBUTE_PREFIX.length), value: String(value) });
      }
    }
    const children = node[key];
    if (Array.isArray(children)) collect(children as OrderedNode[], out);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function parseDocument(xml: string): OrderedNode[] {
  if (typeof xml !== 'string') throw new DomainError('malformed XML: expected the document as a string');
  const text = xml.startsWith('\uFEFF') ? xml.slice(1) : xml;
  const bad = findNonXmlChar(text);
  if (bad) {
    throw new DomainError(`malformed XML: ${codeUnitLabel(bad.char)} at offset ${bad.index} is not a character XML allows`);
  }
  const verdict = XMLValidator.validate(text);
  if (verdict !== true) {
    const { msg, line, col } = verdict.err;
    throw new DomainError(`malformed XML: ${msg} (line ${line}${col === undefined ? '' : `, column ${col}`})`);
  }
  let tree: unknown;
  try {
    tree = parser.parse(text);
  } catch (error) {
    if (error instanceof DomainError) throw error;
    throw new DomainError(`malformed XML: ${messageOf(error)}`);
  }
  const top = Array.isArray(tree) ? (tree as OrderedNode[]) : [];
  // XMLValidator accepts several roots and text after the root, and the parser silently drops such
  // trailing text; an XML parser on a phone would reject the file.
  const roots = top.filter((node) => elementKeyOf(node) !== undefined).length;
  const strayText =
    !/>\s*$/.test(text) || top.some((node) => typeof node['#text'] === 'string' && node['#text'].trim() !== '');
  if (roots !== 1 || strayText) {
    throw new DomainError(
      `malformed XML: expected exactly one root element and nothing but comments or whitespace around it (found ${roots} root element${roots === 1 ? '' : 's'}${strayText ? ' and text outside them' : ''})`,
    );
  }
  return top;
}

/** Every attribute of every element in document order; throws DomainError when the XML is not well-formed. */
export function parseXmlAttributes(xml: string): XmlAttribute[] {
  const out: XmlAttribute[] = [];
  collect(parseDocument(xml), out);
  return out;
}

/**
 * Master-file attributes by name, wherever they sit: phones read them from any element (working
 * files put APP_FILE_PATH on a <Software> child, for example). The first occurrence wins.
 */
export function parseMasterFile(xml: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const { name, value } of parseXmlAttributes(xml)) {
    if (!attributes.has(name)) attributes.set(name, value);
  }
  return attributes;
}

/** CONFIG_FILES as phones read it: comma-separated, spaces around names ignored. */
export function splitConfigFiles(list: string): string[] {
  return list
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
}

function isNamespaceAttribute(name: string): boolean {
  return name === 'xmlns' || name.startsWith('xmlns:') || name.startsWith('xsi:');
}

/**
 * The parameters a phone ends up with from the CONFIG_FILES contents, given in list order: the first
 * file to define a parameter wins and later definitions are ignored.
 */
export function effectiveParameters(files: readonly string[]): Map<string, string> {
  const params = new Map<string, string>();
  for (const file of files) {
    for (const { name, value } of parseXmlAttributes(file)) {
      if (!isNamespaceAttribute(name) && !params.has(name)) params.set(name, value);
    }
  }
  return params;
}

/**
 * What a phone keeps of device.* parameters: only those enabled by device.set="1" and their own
 * <name>.set="1"; the markers themselves are not settings.
 */
export function applyDeviceSetRule(params: Map<string, string>): Map<string, string> {
  const deviceSet = params.get('device.set') === '1';
  const applied = new Map<string, string>();
  for (const [name, value] of params) {
    if (!isDeviceParameter(name)) {
      applied.set(name, value);
      continue;
    }
    const isMarker = name === 'device.set' || name.endsWith('.set');
    if (!isMarker && deviceSet && params.get(`${name}.set`) === '1') applied.set(name, value);
  }
  return applied;
}
