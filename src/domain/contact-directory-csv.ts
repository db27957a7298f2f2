import type { CsvError } from 'csv-parse/sync';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type { Contact, ContactField, ContactKey, FlagWords } from './contact-directory.js';
import { CONTACT_FIELDS, UniqueContacts, assembleContact, readField, rowLabel, writeField } from './contact-directory.js';
import { DomainError } from './domain-error.js';
import { quoteInput } from './quote-input.js';

export interface CsvLineError {
  /** 1-based line of the file where the row starts (the header is usually line 1). */
  line: number;
  message: string;
}

export interface CsvContacts {
  contacts: Contact[];
  /** Rows with an error are left out of contacts entirely; an empty list means the file imported cleanly. */
  errors: CsvLineError[];
}

const CSV_FLAGS: FlagWords = {
  read: new Map([['yes', true], ['no', false], ['true', true], ['false', false], ['1', true], ['0', false]]),
  write: ['yes', 'no'],
};

/** Spreadsheet order: given name first, unlike the XML. */
const CSV_ORDER: readonly ContactKey[] = [
  'firstName', 'lastName', 'contact', 'speedDial', 'label', 'protocol',
  'ringType', 'divertContact', 'autoDivert', 'autoReject', 'buddyWatch', 'buddyBlock',
];
const CSV_FIELDS: readonly ContactField[] = CSV_ORDER.map((key) => {
  const field = CONTACT_FIELDS.find((f) => f.key === key);
  if (!field) throw new Error(`no directory field ${key}`);
  return field;
});

// Header spelling is free: case, spaces, "_", "-" and "." do not matter ("Speed dial", speed_dial, SD).
const headerKey = (header: string): string => header.toLowerCase().replace(/[\s_.-]+/g, '');
const HEADER_ALIASES = new Map<string, ContactField>();
for (const field of CSV_FIELDS) {
  for (const alias of [field.title, field.tag, field.key]) HEADER_ALIASES.set(headerKey(alias), field);
}
for (const [alias, key] of [['first', 'firstName'], ['last', 'lastName'], ['contact', 'contact'], ['divertcontact', 'divertContact']] as const) {
  const field = CSV_FIELDS.find((f) => f.key === key);
  if (field) HEADER_ALIASES.set(alias, field);
}

/** Spreadsheets in comma-decimal locales write ";", some tools TAB: the header line decides. */
function detectDelimiter(text: string): string {
  const header = /^[^\r\n]*\S[^\r\n]*/m.exec(text)?.[0] ?? '';
  let best = ',';
  let bestCount = 0;
  for (const candidate of [',', ';', '\t']) {
    const count = header.split(candidate).length - 1;
    if (count > bestCount) [best, bestCount] = [candidate, count];
  }
  return best;
}

interface CsvRow {
  line: number;
  endLine: number;
  cells: string[];
}

// Thrown from on_skip to end the parse: after a quoting mistake csv-parse resynchronises at the
// wrong place and every later "error" would be an echo of the first one.
const STOP = Symbol('stop');

function describeCsvError(error: CsvError, delimiter: string, columns: number, startLine: number): CsvLineError {
  const endLine = typeof error.lines === 'number' ? error.lines : startLine;
  if (error.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH' && Array.isArray(error.record)) {
    const count = error.record.length;
    const shown = delimiter === '\t' ? 'TAB' : `"${delimiter}"`;
    const hint = count > columns ? `a value containing ${shown} must be in double quotes` : 'leave a cell empty by writing nothing between the separators';
    return { line: endLine, message: `${count} value${count === 1 ? '' : 's'} where the header has ${columns} columns; ${hint}` };
  }
  if (error.code === 'CSV_QUOTE_NOT_CLOSED') {
    return { line: startLine, message: `a quoted value that starts on this line or soon after is never closed; nothing from here to the end (line ${endLine}) could be read` };
  }
  return { line: endLine, message: `${error.message}; the rest of the file was not read` };
}

/** Records with the line each starts on; csv-parse's errors become line errors. */
function readRows(text: string, errors: CsvLineError[]): CsvRow[] {
  const rows: CsvRow[] = [];
  const delimiter = detectDelimiter(text.replace(/^\uFEFF/, ''));
  const lineAfterLastRow = (): number => (rows.at(-1)?.endLine ?? 0) + 1;
  try {
    parse(text, {
      bom: true,
      delimiter,
      trim: true,
      skip_empty_lines: true,
      raw: true,
      skip_records_with_error: true,
      on_skip: (error: CsvError | undefined) => {
        if (!error) return undefined;
        errors.push(describeCsvError(error, delimiter, rows[0]?.cells.length ?? 0, lineAfterLastRow()));
        // Only a wrong number of values leaves the parser in step with the rows.
        if (error.code !== 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH') throw STOP;
        return undefined;
      },
      // With raw on, csv-parse hands on_record { record, raw } rather than the bare record.
      on_record: (entry: unknown, context) => {
        const { record, raw } = entry as { record: string[]; raw: string };
        // context.lines is where the record ends; a quoted value may span lines, so count back.
        const breaks = raw.trim().match(/\r\n|\r|\n/g)?.length ?? 0;
        rows.push({ line: context.lines - breaks, endLine: context.lines, cells: record });
        return null;
      },
    });
  } catch (error) {
    if (error !== STOP) errors.push({ line: lineAfterLastRow(), message: error instanceof Error ? error.message : String(error) });
  }
  return rows;
}

function mapHeader(header: CsvRow, errors: CsvLineError[]): (ContactField | null)[] | null {
  const seen = new Set<ContactKey>();
  const columns = header.cells.map((title) => {
    if (title === '') return null;
    const field = HEADER_ALIASES.get(headerKey(title));
    if (!field) {
      errors.push({ line: header.line, message: `unknown column ${quoteInput(title)}; the columns are ${CSV_FIELDS.map((f) => f.title).join(', ')}` });
    } else if (seen.has(field.key)) {
      errors.push({ line: header.line, message: `column ${quoteInput(title)} repeats ${field.title}` });
    } else {
      seen.add(field.key);
      return field;
    }
    return null;
  });
  if (!seen.has('contact')) {
    errors.push({ line: header.line, message: 'the header has no Number column (also spelt "contact" or "ct"); every contact needs one' });
    return null;
  }
  return columns;
}

/**
 * Contacts from a CSV file whose first row names the columns. Each row with any error is left out
 * and every error is reported with its line, so an import can be refused as a whole or fixed at once.
 */
export function contactsFromCsv(text: string): CsvContacts {
  const errors: CsvLineError[] = [];
  const contacts: Contact[] = [];
  const rows = readRows(typeof text === 'string' ? text : '', errors);
  const [header, ...records] = rows;
  if (header === undefined) {
    if (errors.length === 0) errors.push({ line: 1, message: `the file is empty; expected a header row such as ${CSV_FIELDS.map((f) => f.title).join(',')}` });
    return { contacts, errors };
  }
  if (errors.some((e) => e.line <= header.line)) return { contacts, errors }; // the header itself was unreadable
  const columns = mapHeader(header, errors);
  if (!columns) return { contacts, errors };

  const unique = new UniqueContacts();
  for (const { line, cells } of records) {
    if (cells.every((cell) => cell === '')) continue; // spreadsheets leave rows of empty cells
    const notes: string[] = [];
    const values = new Map<ContactKey, string | number | boolean>();
    cells.forEach((cell, i) => {
      const field = columns[i];
      if (!field) {
        if (cell !== '' && header.cells[i] === '') notes.push(`value ${quoteInput(cell)} in column ${i + 1}, which has no header`);
        return;
      }
      const reading = readField(field, cell, CSV_FLAGS);
      if (!reading.ok) notes.push(reading.error);
      else if (reading.value !== undefined) values.set(field.key, reading.value);
    });
    const contact = assembleContact(values);
    if (contact.contact === '') notes.push('the number is empty; every contact needs one');
    for (const clash of [unique.numberConflict(contact), unique.speedDialConflict(contact)]) if (clash) notes.push(clash);
    if (notes.length > 0) {
      errors.push(...notes.map((message) => ({ line, message })));
      continue;
    }
    unique.add(contact, `line ${line}`);
    contacts.push(contact);
  }
  errors.sort((a, b) => a.line - b.line); // csv-parse's errors come first; stable for one line
  return { contacts, errors };
}

/** The contacts as CSV with the friendly header that contactsFromCsv reads; flags as yes/no. */
export function contactsToCsv(contacts: readonly Contact[]): string {
  const rows = contacts.map((contact, i) =>
    CSV_FIELDS.map((field) => {
      const text = writeField(field, contact[field.key], CSV_FLAGS);
      if (text === null) throw new DomainError(`${rowLabel('contact', i + 1, contact)}: ${field.title.toLowerCase()} has the wrong type`);
      return text;
    }),
  );
  return stringify([CSV_FIELDS.map((f) => f.title), ...rows]);
}
