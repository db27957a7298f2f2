import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { DomainError } from './domain-error.js';
import { codeUnitLabel, findNonXmlChar } from './xml-chars.js';

/**
 * An element of an element-oriented document such as a phone directory. Attributes are not kept:
 * these documents carry none that matter.
 */
export interface TextElement {
  name: string;
  /** The element's own text and CDATA in document order, references decoded; child text not included. */
  text: string;
  /** References kept as written because XML does not define them here (DOCTYPE entities, forbidden characters). */
  keptReferences: string[];
  children: TextElement[];
}

export interface ElementTree {
  root: TextElement;
  /** Leniencies applied to the document as a whole, one sentence each. */
  notes: string[];
}

// Element names get a prefix while parsing so a name such as __proto__ or constructor is an
// ordinary key ("~" cannot start an XML name); idempotent because fast-xml-parser 5.12 applies the
// transform twice to self-closing tags. Entities are left to decodeText (processEntities off), so
// no DOCTYPE entity is ever expanded and CDATA stays literal.
const PREFIX = '~';
const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: false,
  htmlEntities: false,
  cdataPropName: '#cdata',
  ignoreDeclaration: true,
  ignorePiTags: true,
  transformTagName: (name: string) => (name.startsWith(PREFIX) ? name : PREFIX + name),
});

type Node = Record<string, unknown>;
const PREDEFINED = new Map([['amp', '&'], ['lt', '<'], ['gt', '>'], ['quot', '"'], ['apos', "'"]]);
const REFERENCE = /&(?:#x([0-9A-Fa-f]+)|#([0-9]+)|([A-Za-z_][A-Za-z0-9._-]*));/g;
// A "&" that does not start a reference, outside CDATA and comments (those are skipped whole).
const BARE_AMPERSAND_OR_SKIP = /<!\[CDATA\[|<!--|&(?!#x[0-9A-Fa-f]+;|#[0-9]+;|[A-Za-z_][A-Za-z0-9._-]*;)/g;

function decodeReference(hex?: string, dec?: string, named?: string): string | undefined {
  if (named !== undefined) return PREDEFINED.get(named);
  const cp = Number.parseInt(hex ?? dec ?? '', hex === undefined ? 10 : 16);
  if (!(cp <= 0x10ffff)) return undefined; // also NaN and the Infinity of a very long reference
  const char = String.fromCodePoint(cp);
  return findNonXmlChar(char) ? undefined : char;
}

/** Decodes the five entities and character references; anything else is kept as written. */
function decodeText(text: string, kept: string[]): string {
  if (!text.includes('&')) return text;
  return text.replace(REFERENCE, (whole: string, hex?: string, dec?: string, named?: string) => {
    const char = decodeReference(hex, dec, named);
    if (char !== undefined) return char;
    kept.push(whole);
    return whole;
  });
}

/**
 * Hand-edited directories carry a raw "&" (the real sample has <lb>A&A</lb>). Refusing the whole
 * file over it helps no one, so each is read as "&amp;" and the caller says where. Linear: CDATA
 * and comments are skipped with indexOf, never by backtracking.
 */
function escapeBareAmpersands(text: string): { text: string; at: number[] } {
  const at: number[] = [];
  let out = '';
  let copied = 0;
  const scan = new RegExp(BARE_AMPERSAND_OR_SKIP.source, 'g');
  for (let match = scan.exec(text); match !== null; match = scan.exec(text)) {
    if (match[0] === '&') {
      out += `${text.slice(copied, match.index)}&amp;`;
      copied = match.index + 1;
      at.push(match.index);
      continue;
    }
    const end = text.indexOf(match[0] === '<!--' ? '-->' : ']]>', scan.lastIndex);
    if (end < 0) break; // unterminated: the validator reports it
    scan.lastIndex = end + 3;
  }
  return { text: at.length === 0 ? text : out + text.slice(copied), at };
}

function lineAndColumn(text: string, index: number): string {
  const before = text.slice(0, index);
  return `line ${before.split('\n').length}, column ${index - before.lastIndexOf('\n')}`;
}

function elementKey(node: Node): string | undefined {
  return Object.keys(node).find((key) => key.startsWith(PREFIX));
}

function toElement(node: Node, key: string): TextElement {
  const element: TextElement = { name: key.slice(PREFIX.length), text: '', keptReferences: [], children: [] };
  const content = node[key];
  for (const child of Array.isArray(content) ? (content as Node[]) : []) {
    const childKey = elementKey(child);
    if (childKey !== undefined) element.children.push(toElement(child, childKey));
    else if (typeof child['#text'] === 'string') element.text += decodeText(child['#text'], element.keptReferences);
    else if (Array.isArray(child['#cdata'])) {
      for (const part of child['#cdata'] as Node[]) if (typeof part['#text'] === 'string') element.text += part['#text'];
    }
  }
  return element;
}

/**
 * A well-formed document's root element as a tree of text elements. Throws DomainError, its message
 * starting "not a valid XML <what>", for anything a phone's XML parser would refuse, except a bare
 * "&", which is taken literally and noted.
 */
export function readElementTree(xml: string, what: string): ElementTree {
  const invalid = `not a valid XML ${what}`;
  if (typeof xml !== 'string') throw new DomainError(`${invalid}: expected the document as text`);
  // XML 1.0 §2.11: every CR LF and lone CR reads as LF, in CDATA too; &#13; still yields a CR.
  const text = (xml.startsWith('\uFEFF') ? xml.slice(1) : xml).replace(/\r\n?/g, '\n');
  const bad = findNonXmlChar(text);
  if (bad) {
    throw new DomainError(`${invalid}: ${codeUnitLabel(bad.char)} at ${lineAndColumn(text, bad.index)} is not a character XML allows`);
  }
  const repaired = escapeBareAmpersands(text);
  const verdict = XMLValidator.validate(repaired.text);
  if (verdict !== true) {
    const { msg, line, col } = verdict.err;
    throw new DomainError(`${invalid}: ${msg} (line ${line}${col === undefined ? '' : `, column ${col}`})`);
  }
  let tree: unknown;
  try {
    tree = parser.parse(repaired.text);
  } catch (error) {
    throw new DomainError(`${invalid}: ${error instanceof Error ? error.message : String(error)}`);
  }
  // The validator accepts several roots and text after the root; a phone's parser would not.
  const top = Array.isArray(tree) ? (tree as Node[]) : [];
  const roots = top.filter((node) => elementKey(node) !== undefined);
  const strayText = !/>\s*$/.test(text) || top.some((node) => typeof node['#text'] === 'string' && node['#text'].trim() !== '');
  const [root] = roots;
  const rootKey = root && elementKey(root);
  if (roots.length !== 1 || !root || !rootKey || strayText) {
    throw new DomainError(`${invalid}: expected exactly one root element and nothing outside it (found ${roots.length} root elements${strayText ? ' and text outside them' : ''})`);
  }
  const notes: string[] = [];
  const count = repaired.at.length;
  if (count > 0) {
    notes.push(
      `${count === 1 ? 'a bare "&" was' : `${count} bare "&" characters were`} read as literal "&" (first at ${lineAndColumn(text, repaired.at[0] ?? 0)}); XML needs "&amp;", which is what polyprov writes`,
    );
  }
  return { root: toElement(root, rootKey), notes };
}
