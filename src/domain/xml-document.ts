import { XMLBuilder } from 'fast-xml-parser';
import { DomainError } from './domain-error.js';
import { quoteInput } from './quote-input.js';
import { codeUnitLabel, findNonXmlChar, replaceNonXmlChars } from './xml-chars.js';

/** An element as the renderers describe it; attribute order is kept. */
export interface XmlElement {
  name: string;
  attributes: readonly (readonly [name: string, value: string])[];
  children?: readonly XmlElement[];
  /** Character content, for elements without children (<VERSION>5.9.8</VERSION>). */
  text?: string;
}

export interface XmlDeclaration {
  version: '1.0';
  encoding?: string;
  standalone?: 'yes' | 'no';
}

// XMLBuilder escapes & < > " ' but writes TAB, LF and CR raw, and a conformant parser turns raw
// whitespace in an attribute into a space (attribute-value normalisation). So the builder's own
// entity pass is switched off and every attribute value goes through this single escape instead.
const ATTRIBUTE_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

export function escapeAttributeValue(value: string): string {
  return value.replace(/[&<>"'\t\n\r]/g, (char) => ATTRIBUTE_ESCAPES[char] ?? char);
}

// Character content keeps TAB and LF as they are, but a parser turns a raw CR into LF (end-of-line
// handling); ">" is escaped as well so that "]]>" cannot occur.
const TEXT_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '\r': '&#13;',
};

export function escapeTextContent(value: string): string {
  return value.replace(/[&<>\r]/g, (char) => TEXT_ESCAPES[char] ?? char);
}

// ASCII subset of XML's Name production: every name polyprov writes fits it, and guarding here
// keeps a bad name from producing a file phones cannot parse.
const XML_NAME = /^[A-Za-z_][A-Za-z0-9._:-]*$/;

function requireXmlName(name: string, what: string): string {
  if (!XML_NAME.test(name)) {
    throw new DomainError(
      `cannot write ${what} ${quoteInput(name)} to XML: names must start with a letter or "_" and contain only letters, digits, ".", "_", ":" and "-"`,
    );
  }
  return name;
}

/** Comment text that cannot end the comment early or break the document. */
export function sanitizeComment(text: string): string {
  const printable = replaceNonXmlChars(text, ' ');
  // "--" may not occur in a comment; the padding keeps a trailing "-" from touching "-->".
  return ` ${printable.replace(/-(?=-)/g, '- ')} `;
}

type OrderedNode = Record<string, unknown>;

function textNode(element: XmlElement): OrderedNode {
  const text = element.text ?? '';
  // Mixed content is never needed by the files polyprov writes, and the builder's indentation
  // would add whitespace to the text.
  if (element.children !== undefined && element.children.length > 0) {
    throw new DomainError(`element <${element.name}> has both text and child elements: give one or the other`);
  }
  const bad = findNonXmlChar(text);
  if (bad) {
    throw new DomainError(
      `text of <${element.name}> contains ${codeUnitLabel(bad.char)} at position ${bad.index}, which XML files cannot carry`,
    );
  }
  // The builder's own entity pass is off (see ATTRIBUTE_ESCAPES), so the text goes in escaped.
  return { '#text': escapeTextContent(text) };
}

function toOrdered(element: XmlElement): OrderedNode {
  // No prototype, so an attribute called __proto__ would be an ordinary key.
  const attributes: Record<string, string> = Object.create(null);
  for (const [name, value] of element.attributes) {
    requireXmlName(name, 'attribute');
    if (Object.hasOwn(attributes, name)) {
      throw new DomainError(
        `attribute ${quoteInput(name)} appears twice in <${element.name}>: each parameter may be given only once`,
      );
    }
    const bad = findNonXmlChar(value);
    if (bad) {
      throw new DomainError(
        `value of ${quoteInput(name)} contains ${codeUnitLabel(bad.char)} at position ${bad.index}, which XML files cannot carry`,
      );
    }
    attributes[name] = value;
  }
  const node: OrderedNode = {
    [requireXmlName(element.name, 'element')]:
      element.text === undefined ? (element.children ?? []).map(toOrdered) : [textNode(element)],
  };
  if (element.attributes.length > 0) node[':@'] = attributes;
  return node;
}

const builder = new XMLBuilder({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  commentPropName: '#comment',
  format: true,
  indentBy: '  ',
  suppressEmptyNode: true,
  suppressBooleanAttributes: false,
  processEntities: false,
  attributeValueProcessor: (_name: string, value: unknown) => escapeAttributeValue(String(value)),
});

/** A complete, newline-terminated document: declaration, optional comment, one root element. */
export function renderXmlDocument(declaration: XmlDeclaration, root: XmlElement, comment?: string): string {
  const declarationAttributes: Record<string, string> = { version: declaration.version };
  if (declaration.encoding !== undefined) declarationAttributes.encoding = declaration.encoding;
  if (declaration.standalone !== undefined) declarationAttributes.standalone = declaration.standalone;

  const nodes: OrderedNode[] = [{ '?xml': [{ '#text': '' }], ':@': declarationAttributes }];
  if (comment !== undefined && comment !== '') {
    nodes.push({ '#comment': [{ '#text': sanitizeComment(comment) }] });
  }
  nodes.push(toOrdered(root));
  return `${builder.build(nodes).trimEnd()}\n`;
}
