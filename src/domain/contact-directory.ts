import { XMLBuilder } from 'fast-xml-parser';
import type { TextElement } from './contact-directory-xml.js';
import { readElementTree } from './contact-directory-xml.js';
import { DomainError } from './domain-error.js';
import { quoteInput } from './quote-input.js';
import { codeUnitLabel, findNonXmlChar } from './xml-chars.js';

/** One entry of a phone's local contact directory (`<item>` of 000000000000-directory.xml). */
export interface Contact {
  firstName: string;
  lastName: string;
  /** ct: the number or SIP URI dialled; required and unique within a directory. */
  contact: string;
  speedDial?: number;
  label?: string;
  protocol?: ContactProtocol;
  ringType?: number;
  divertContact?: string;
  autoDivert?: boolean;
  autoReject?: boolean;
  buddyWatch?: boolean;
  buddyBlock?: boolean;
}

export type ContactProtocol = 'SIP' | 'H323' | 'Unspecified';
export type ContactKey = keyof Contact;
type FieldValue = string | number | boolean;
type FieldKind = 'text' | 'speedDial' | 'ringType' | 'protocol' | 'flag';

export interface ContactField {
  key: ContactKey;
  /** Element name inside <item>. */
  tag: string;
  /** Column title in CSV exports and the word used in messages. */
  title: string;
  kind: FieldKind;
}

/** The fields in the order phones write them inside <item>. */
export const CONTACT_FIELDS: readonly ContactField[] = [
  { key: 'lastName', tag: 'ln', title: 'Last name', kind: 'text' },
  { key: 'firstName', tag: 'fn', title: 'First name', kind: 'text' },
  { key: 'contact', tag: 'ct', title: 'Number', kind: 'text' },
  { key: 'speedDial', tag: 'sd', title: 'Speed dial', kind: 'speedDial' },
  { key: 'label', tag: 'lb', title: 'Label', kind: 'text' },
  { key: 'protocol', tag: 'pt', title: 'Protocol', kind: 'protocol' },
  { key: 'ringType', tag: 'rt', title: 'Ring type', kind: 'ringType' },
  { key: 'divertContact', tag: 'dc', title: 'Divert', kind: 'text' },
  { key: 'autoDivert', tag: 'ad', title: 'Auto divert', kind: 'flag' },
  { key: 'autoReject', tag: 'ar', title: 'Auto reject', kind: 'flag' },
  { key: 'buddyWatch', tag: 'bw', title: 'Buddy watch', kind: 'flag' },
  { key: 'buddyBlock', tag: 'bb', title: 'Buddy block', kind: 'flag' },
];

const PROTOCOLS: readonly ContactProtocol[] = ['SIP', 'H323', 'Unspecified'];
const RANGES = { speedDial: [1, 9999], ringType: [1, 21] } as const;

/** Words a boolean field accepts, and the two it writes (true first). */
export interface FlagWords {
  read: ReadonlyMap<string, boolean>;
  write: readonly [string, string];
}
const XML_FLAGS: FlagWords = { read: new Map([['1', true], ['0', false]]), write: ['1', '0'] };

export type FieldReading = { ok: true; value: FieldValue | undefined } | { ok: false; error: string };

/**
 * One field's text as a file holds it, in canonical form: trimmed (phones show nothing useful in
 * surrounding blanks), an empty value is absent. Shared by XML and CSV so both accept the same values.
 */
export function readField(field: ContactField, raw: string, flags: FlagWords): FieldReading {
  const text = raw.trim();
  if (text === '') return { ok: true, value: undefined };
  const what = field.title.toLowerCase();
  switch (field.kind) {
    case 'text': {
      const bad = findNonXmlChar(text);
      return bad
        ? { ok: false, error: `${what} contains ${codeUnitLabel(bad.char)}, which XML files cannot carry` }
        : { ok: true, value: text };
    }
    case 'speedDial':
    case 'ringType': {
      const [min, max] = RANGES[field.kind];
      const n = /^[0-9]{1,9}$/.test(text) ? Number(text) : Number.NaN;
      return n >= min && n <= max
        ? { ok: true, value: n }
        : { ok: false, error: `${what} must be a whole number from ${min} to ${max} (got ${quoteInput(text)})` };
    }
    case 'protocol': {
      const protocol = PROTOCOLS.find((p) => p.toLowerCase() === text.toLowerCase());
      return protocol
        ? { ok: true, value: protocol }
        : { ok: false, error: `protocol must be ${PROTOCOLS.join(', ')} (got ${quoteInput(text)})` };
    }
    case 'flag': {
      const value = flags.read.get(text.toLowerCase());
      return value !== undefined
        ? { ok: true, value }
        : { ok: false, error: `${what} must be ${[...flags.read.keys()].join('/')} (got ${quoteInput(text)})` };
    }
  }
}

/** A field's value as text for a file; null when the value has the wrong type (data from JSON, say). */
export function writeField(field: ContactField, value: unknown, flags: FlagWords): string | null {
  if (value === undefined || value === null) return '';
  switch (field.kind) {
    case 'text':
    case 'protocol':
      return typeof value === 'string' ? value : null;
    case 'speedDial':
    case 'ringType':
      return typeof value === 'number' ? String(value) : null;
    case 'flag':
      return typeof value === 'boolean' ? flags.write[value ? 0 : 1] : null;
  }
}

/** Builds a contact from canonical field values; names default to empty, absent fields stay absent. */
export function assembleContact(values: ReadonlyMap<ContactKey, FieldValue>): Contact {
  const contact: Record<string, FieldValue> = { firstName: '', lastName: '', contact: '' };
  for (const { key } of CONTACT_FIELDS) {
    const value = values.get(key);
    if (value !== undefined) contact[key] = value;
  }
  return contact as unknown as Contact;
}

/**
 * Number and speed dial must be unique across a directory: a phone keeps only one of each. The
 * conflict methods name the earlier row that holds a value; add records a row once accepted.
 */
export class UniqueContacts {
  private readonly numbers = new Map<string, string>();
  private readonly speedDials = new Map<number, string>();

  numberConflict(contact: Contact): string | undefined {
    const earlier = this.numbers.get(contact.contact);
    return earlier && `number ${quoteInput(contact.contact)} is already used by ${earlier}`;
  }

  speedDialConflict(contact: Contact): string | undefined {
    const earlier = contact.speedDial === undefined ? undefined : this.speedDials.get(contact.speedDial);
    return earlier && `speed dial ${contact.speedDial} is already used by ${earlier}`;
  }

  add(contact: Contact, row: string): void {
    this.numbers.set(contact.contact, row);
    if (contact.speedDial !== undefined) this.speedDials.set(contact.speedDial, row);
  }
}

/** "item 3 (number "1001")" style label for messages about one entry. */
export function rowLabel(kind: string, index: number, contact: Partial<Contact>): string {
  if (contact.contact) return `${kind} ${index} (number ${quoteInput(contact.contact)})`;
  const name = [contact.firstName, contact.lastName].filter(Boolean).join(' ');
  return name ? `${kind} ${index} (${quoteInput(name)})` : `${kind} ${index}`;
}

// ---- parsing ---------------------------------------------------------------------------------

function tagLabel(name: string): string {
  return name.length > 40 ? `<${name.slice(0, 40)}…>` : `<${name}>`;
}

export interface ParsedDirectory {
  contacts: Contact[];
  /** What was skipped or changed and why, one sentence each; empty for a clean file. */
  problems: string[];
}

/**
 * Reads a phone's contact directory leniently: CDATA, empty elements and missing optional fields are
 * normal; unknown elements are ignored; a bad field drops only that field, an item without a number
 * or with a number already seen is skipped, each with a problem. Throws DomainError when the text is
 * not XML or not a directory. The result always passes renderDirectory.
 */
export function parseDirectory(xml: string): ParsedDirectory {
  const { root, notes } = readElementTree(xml, 'directory');
  if (root.name !== 'directory') {
    throw new DomainError(`not a contact directory: the root element is ${tagLabel(root.name)}, expected <directory> with <item_list><item> entries`);
  }
  const problems = [...notes];
  const ignored = new Map<string, number>();
  const ignore = (what: string): void => void ignored.set(what, (ignored.get(what) ?? 0) + 1);
  const items: TextElement[] = [];
  for (const child of root.children) {
    if (child.name !== 'item_list') ignore(`${tagLabel(child.name)} in <directory>`);
    else for (const entry of child.children) {
      if (entry.name === 'item') items.push(entry);
      else ignore(`${tagLabel(entry.name)} in <item_list>`);
    }
  }

  const contacts: Contact[] = [];
  const unique = new UniqueContacts();
  items.forEach((item, i) => {
    const notes: string[] = [];
    const texts = new Map<string, string>();
    for (const element of item.children) {
      const field = CONTACT_FIELDS.find((f) => f.tag === element.name);
      if (!field) {
        ignore(`${tagLabel(element.name)} in <item>`);
      } else if (texts.has(field.tag)) {
        notes.push(`second <${field.tag}> ignored (the first one is used)`);
      } else {
        texts.set(field.tag, element.text);
        for (const nested of element.children) ignore(`${tagLabel(nested.name)} inside <${field.tag}>`);
        for (const ref of element.keptReferences) {
          notes.push(`<${field.tag}> keeps ${quoteInput(ref)} as written: only &amp; &lt; &gt; &quot; &apos; and character references are decoded (DOCTYPE entities are not expanded)`);
        }
      }
    }
    const values = new Map<ContactKey, FieldValue>();
    for (const field of CONTACT_FIELDS) {
      const raw = texts.get(field.tag);
      if (raw === undefined) continue;
      const reading = readField(field, raw, XML_FLAGS);
      if (!reading.ok) notes.push(`<${field.tag}> ignored: ${reading.error}`);
      else if (reading.value !== undefined) values.set(field.key, reading.value);
    }
    const contact = assembleContact(values);
    const label = rowLabel('item', i + 1, contact);
    const duplicate = unique.numberConflict(contact);
    if (contact.contact === '') notes.push('skipped: it has no number (<ct>), which phones require');
    else if (duplicate) notes.push(`skipped: ${duplicate}`);
    else {
      const clash = unique.speedDialConflict(contact);
      if (clash) {
        notes.push(`<sd> ignored: ${clash}`);
        delete contact.speedDial;
      }
      unique.add(contact, label);
      contacts.push(contact);
    }
    for (const note of notes) problems.push(`${label}: ${note}`);
  });
  for (const [what, count] of ignored) {
    problems.push(`ignored ${what}${count > 1 ? ` (${count} times)` : ''}: not a directory field`);
  }
  return { contacts, problems };
}

// ---- rendering -------------------------------------------------------------------------------

// Text content needs & and < escaped, > too so "]]>" cannot appear, and CR as a reference because
// a parser turns a raw CR into LF. The builder's own entity pass would leave CR raw, so it is off.
const TEXT_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#13;' };
const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  format: true,
  indentBy: '  ',
  suppressEmptyNode: true,
  processEntities: false,
  tagValueProcessor: (_name: string, value: unknown) => String(value).replace(/[&<>\r]/g, (c) => TEXT_ESCAPES[c] ?? c),
});

/** Checks every contact and returns them in canonical form, or throws one DomainError naming each bad row. */
export function canonicalContacts(contacts: readonly Contact[]): Contact[] {
  if (!Array.isArray(contacts)) throw new DomainError('a directory is a list of contacts');
  const errors: string[] = [];
  const unique = new UniqueContacts();
  const out = contacts.map((given, i) => {
    const values = new Map<ContactKey, FieldValue>();
    const notes: string[] = [];
    for (const field of CONTACT_FIELDS) {
      const text = writeField(field, (given as unknown as Record<string, unknown> | null)?.[field.key], XML_FLAGS);
      const reading = text === null ? { ok: false as const, error: `${field.title.toLowerCase()} has the wrong type` } : readField(field, text, XML_FLAGS);
      if (!reading.ok) notes.push(reading.error);
      else if (reading.value !== undefined) values.set(field.key, reading.value);
    }
    const contact = assembleContact(values);
    const label = rowLabel('contact', i + 1, contact);
    if (contact.contact === '') notes.push('the number is empty; phones require one');
    for (const clash of [unique.numberConflict(contact), unique.speedDialConflict(contact)]) if (clash) notes.push(clash);
    unique.add(contact, label);
    errors.push(...notes.map((note) => `${label}: ${note}`));
    return contact;
  });
  if (errors.length > 0) {
    const shown = errors.slice(0, 10).join('; ');
    throw new DomainError(`cannot write the directory: ${shown}${errors.length > 10 ? `; and ${errors.length - 10} more` : ''}`);
  }
  return out;
}

const ALWAYS_WRITTEN: ReadonlySet<ContactKey> = new Set(['lastName', 'firstName', 'contact']);

/**
 * The directory file phones read. Values are written trimmed and absent fields are left out (names
 * and number are always present), so parseDirectory gives back exactly the canonical contacts.
 */
export function renderDirectory(contacts: readonly Contact[]): string {
  const items = canonicalContacts(contacts).map((contact) => {
    const item: Record<string, string> = {};
    for (const field of CONTACT_FIELDS) {
      const text = writeField(field, contact[field.key], XML_FLAGS) ?? '';
      if (text !== '' || ALWAYS_WRITTEN.has(field.key)) item[field.tag] = text;
    }
    return item;
  });
  const document = {
    '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8', '@_standalone': 'yes' },
    directory: { item_list: items.length === 0 ? '' : { item: items } },
  };
  return `${builder.build(document).trimEnd()}\n`;
}
