import type { CsvError } from 'csv-parse/sync';
import { parse } from 'csv-parse/sync';
import { DomainError } from './domain-error.js';
import { isServerOnlyParameter } from './firmware-policy.js';
import { modelFromLens } from './lens-models.js';
import { requireMac } from './mac.js';
import { lookupParameter } from './parameter-catalog.js';
import { checkParameter } from './parameter-check.js';
import { validateParameterName, validateParameterValue } from './parameter.js';
import { quoteInput } from './quote-input.js';
import { parseLensSubnets, type SiteSubnet } from './site-subnets.js';

// Poly-Lens-style CSV files (sites, devices, groups, model policies) read into rows an import can
// apply: every cell checked, every error placed at its line and column, nothing looked up in a
// store. What the rows mean for a tenant's current state (which site "HQ" is, which MAC belongs to
// another tenant) is decided by admin/bulk-import.ts.

export type ImportKind = 'sites' | 'devices' | 'groups' | 'models';
export const IMPORT_KINDS: readonly ImportKind[] = ['sites', 'devices', 'groups', 'models'];

/** merge: non-empty cells are set, empty ones leave the value alone; replace: a record becomes exactly its row. */
export type ImportMode = 'merge' | 'replace';

/** A problem with the file, where it is: 1-based line (physical, counting line breaks inside quoted values) and column. */
export interface CsvImportError {
  line: number;
  column: number;
  message: string;
}

interface RowBase {
  /** Line the row starts on. */
  line: number;
  /** Lines where the row's cells start, by column index, only for rows with line breaks inside quoted values. */
  cellLines?: number[];
  /** Non-empty parameter cells, by parameter name. */
  parameters: Record<string, string>;
}

// A field that is undefined is left alone; a string (also '') or a list (also []) is what it becomes.
export interface SiteRow extends RowBase {
  name: string;
  /** Derived from the name: what a new site is created as. */
  slug: string;
  description?: string;
  location?: string;
  subnets?: SiteSubnet[];
  /** polyprov models (User-Agent spelling) from device_models, in the file's order. */
  models?: string[];
}

export interface DeviceRow extends RowBase {
  /** 12 lower-case hex digits. */
  mac: string;
  model?: string;
  /** A site's name or slug as written ('' clears the device's site). */
  site?: string;
  /** A group's slug or name as written ('' clears). */
  group?: string;
  label?: string;
}

export interface GroupRow extends RowBase {
  /** The group as written in the file: its slug, or a name to derive one from. */
  group: string;
  /** What a new group is created as. */
  slug: string;
  name?: string;
}

export interface ModelRow extends RowBase {
  /** polyprov spelling, e.g. Trio_8300. */
  model: string;
}

interface ImportCommon {
  mode: ImportMode;
  /** The separator the header line uses. */
  delimiter: ',' | ';' | '\t';
  /** Line of the header row. */
  headerLine: number;
  /** Column (1-based) of each known column present, by its canonical name (mac_address, site_name…). */
  columns: Record<string, number>;
  /** Parameter columns, in file order. */
  parameterNames: string[];
  /** Data rows read (rows of empty cells are not counted). */
  rowCount: number;
  /** Empty when the file can be imported. */
  errors: CsvImportError[];
  /** More errors were found than `maxErrors`; the rest were not reported. */
  truncated: boolean;
}

export type CsvImport =
  | (ImportCommon & { kind: 'sites'; rows: SiteRow[] })
  | (ImportCommon & { kind: 'devices'; rows: DeviceRow[] })
  | (ImportCommon & { kind: 'groups'; rows: GroupRow[] })
  | (ImportCommon & { kind: 'models'; rows: ModelRow[] });

export type ImportRow = SiteRow | DeviceRow | GroupRow | ModelRow;

export interface ReadImportOptions {
  /** What the file holds; detected from the header when not given. */
  kind?: ImportKind;
  mode?: ImportMode;
  /** Accept parameter names Poly's templates do not know, and models polyprov does not list. */
  force?: boolean;
  /** Errors collected before giving up (default 50). */
  maxErrors?: number;
  /** Called every `progressEvery` data rows (default 10,000) with the rows read so far. */
  onProgress?: (rows: number) => void;
  progressEvery?: number;
}

/** The columns each kind knows besides parameters; the first one is required and identifies the record. */
export const KIND_COLUMNS: Readonly<Record<ImportKind, readonly string[]>> = {
  sites: ['site_name', 'description', 'location_name', 'subnets', 'device_models'],
  devices: ['mac_address', 'device_model', 'site_name', 'group', 'label', 'serial_number'],
  groups: ['group', 'name'],
  models: ['model'],
};
// group_name is Lens's spelling of group; serial_number is required by Lens but polyprov learns the
// serial from the phone, so it is read and ignored.
const ALIASES: Readonly<Record<string, string>> = { group_name: 'group' };
const ALL_KNOWN = new Set([...Object.values(KIND_COLUMNS).flat(), ...Object.keys(ALIASES)]);

const DEFAULT_MAX_ERRORS = 50;
const MAX_NAME_LENGTH = 200;
// csv-parse's guard against a runaway quote; a row may carry several 64 KiB parameter values.
const MAX_RECORD_CHARS = 4 * 1024 * 1024;
const CONTROL = /[\u0000-\u001f\u007f]/;
const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** "1:3: message", the form the CLI lists errors in. */
export function formatImportError(e: CsvImportError): string {
  return `${e.line}:${e.column}: ${e.message}`;
}

/** Spreadsheet column letter: 1 → A, 27 → AA. */
export function columnLetter(column: number): string {
  let n = column;
  let out = '';
  while (n > 0) {
    const r = (n - 1) % 26;
    out = String.fromCharCode(65 + r) + out;
    n = Math.floor((n - 1) / 26);
  }
  return out;
}

/** A slug made from a display name: lower-case ASCII letters, digits and "-" (Zürich Office → zurich-office); '' when nothing is left. */
export function slugFromName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 63)
    .replace(/-+$/, '');
}

/** A group's slug: the value itself when it is one, else one derived from it as from a name. */
export function groupSlug(value: string): string {
  return SLUG.test(value) ? value : slugFromName(value);
}

/** Where a row's cell starts (for errors found after reading, such as an unknown site). */
export function cellPosition(imported: CsvImport, row: ImportRow, column: string): { line: number; column: number } {
  const at = imported.columns[column] ?? 1;
  return { line: row.cellLines?.[at - 1] ?? row.line, column: at };
}

/** Spreadsheets in comma-decimal locales write ";", some tools TAB: the header line decides. */
function detectDelimiter(text: string): ',' | ';' | '\t' {
  const header = /^[^\r\n]*\S[^\r\n]*/m.exec(text)?.[0] ?? '';
  let best: ',' | ';' | '\t' = ',';
  let bestCount = 0;
  for (const candidate of [',', ';', '\t'] as const) {
    const count = header.split(candidate).length - 1;
    if (count > bestCount) [best, bestCount] = [candidate, count];
  }
  return best;
}

const LINE_BREAK = /\r\n|\r|\n/g;
const countBreaks = (s: string): number => s.match(LINE_BREAK)?.length ?? 0;
const hasBreak = (s: string): boolean => s.includes('\n') || s.includes('\r');

/** How each header cell is read. */
type Column = { kind: 'field'; field: string } | { kind: 'parameter'; name: string } | { kind: 'ignored' } | { kind: 'trailing' };

// Thrown to stop checking rows once maxErrors are collected.
const STOP = Symbol('stop');

/** The errors found so far, at most `max`. */
class ErrorList {
  readonly errors: CsvImportError[] = [];
  truncated = false;
  private readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  add(line: number, column: number, message: string): void {
    if (this.errors.length >= this.max) {
      this.truncated = true;
      throw STOP;
    }
    this.errors.push({ line, column, message });
  }
}

function columnName(column: number, title: string): string {
  return `column ${columnLetter(column)} (${quoteInput(title)})`;
}

function describeCsvError(error: CsvError): string {
  switch (error.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted value that starts in this row is never closed (a closing " is missing); nothing after it could be read';
    case 'CSV_INVALID_CLOSING_QUOTE':
      return 'a quoted value is followed by more characters before the next separator: quote the whole value and write a quote inside it as ""; the rest of the file was not read';
    case 'INVALID_OPENING_QUOTE':
      return 'a " inside a value that does not start with one: quote the whole value and write the quote as ""; the rest of the file was not read';
    case 'CSV_MAX_RECORD_SIZE':
      return `a row longer than ${MAX_RECORD_CHARS} characters (most likely a quote that is never closed); the rest of the file was not read`;
    default:
      return `${error.message}; the rest of the file was not read`;
  }
}

function detectKind(titles: string[]): ImportKind | undefined {
  const has = (c: string) => titles.some((t) => t === c || ALIASES[t] === c);
  if (has('mac_address')) return 'devices';
  if (has('site_name')) return 'sites';
  if (has('group')) return 'groups';
  if (has('model')) return 'models';
  return undefined;
}

function describeKindColumns(kind: ImportKind): string {
  return `${KIND_COLUMNS[kind].join(', ')} and parameter names such as reg.1.address`;
}

/**
 * The header row: what each column is. Returns the kind, the columns, or null when the file cannot
 * be read any further (no way to tell what it holds, or no key column).
 */
function readHeader(
  titles: string[],
  line: number,
  opts: ReadImportOptions,
  reader: ErrorList,
): { kind: ImportKind; columns: Column[]; fields: Record<string, number>; parameters: string[] } | null {
  const trimmed = titles.map((t) => t.trim());
  const lower = trimmed.map((t) => t.toLowerCase());
  const kind = opts.kind ?? detectKind(lower);
  if (kind === undefined) {
    reader.add(line, 1, `cannot tell what the file holds: its header has none of mac_address (devices), site_name (sites), group (groups) or model (model policies); add the column or give --kind`);
    return null;
  }
  const known = new Set(KIND_COLUMNS[kind]);
  const key = KIND_COLUMNS[kind][0]!;
  const lastTitled = trimmed.reduce((last, t, i) => (t !== '' ? i : last), -1);
  const fields: Record<string, number> = {};
  const parameters: string[] = [];
  const parameterAt = new Map<string, number>();
  const columns = trimmed.map((title, i): Column => {
    const column = i + 1;
    if (title === '') {
      // Lens drops separators at the end of a row: trailing columns without a title are ignored.
      if (i > lastTitled) return { kind: 'trailing' };
      reader.add(line, column, `column ${columnLetter(column)} has no header: name it (a column name or a parameter name) or delete the column`);
      return { kind: 'ignored' };
    }
    const field = ALIASES[lower[i]!] ?? lower[i]!;
    if (known.has(field)) {
      if (fields[field] !== undefined) {
        reader.add(line, column, `${columnName(column, title)} repeats column ${columnLetter(fields[field]!)}: keep one of them`);
        return { kind: 'ignored' };
      }
      fields[field] = column;
      return field === 'serial_number' ? { kind: 'ignored' } : { kind: 'field', field };
    }
    if (ALL_KNOWN.has(field)) {
      reader.add(line, column, `unknown ${columnName(column, title)}: a ${kind} file has the columns ${describeKindColumns(kind)}`);
      return { kind: 'ignored' };
    }
    if (isServerOnlyParameter(title)) {
      reader.add(line, column, `${columnName(column, title)} is polyprov's own setting, not a phone parameter: set it with its own command (polyprov firmware target, polling, reach settings…), not by import`);
      return { kind: 'ignored' };
    }
    try {
      validateParameterName(title);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      reader.add(line, column, `unknown ${columnName(column, title)}: a ${kind} file has the columns ${describeKindColumns(kind)} (as a parameter name: ${err.message})`);
      return { kind: 'ignored' };
    }
    const found = lookupParameter(title);
    if (!found.known && !opts.force) {
      const hint = found.suggestions.length > 0 ? `; did you mean ${found.suggestions.join(' or ')}?` : '';
      reader.add(line, column, `unknown ${columnName(column, title)}: neither a column of a ${kind} file (${KIND_COLUMNS[kind].join(', ')}) nor a parameter of Poly's UC Software templates${hint} (--force imports it as a parameter anyway)`);
      return { kind: 'ignored' };
    }
    const before = parameterAt.get(title);
    if (before !== undefined) {
      reader.add(line, column, `${columnName(column, title)} repeats column ${columnLetter(before)}: keep one of them`);
      return { kind: 'ignored' };
    }
    parameterAt.set(title, column);
    parameters.push(title);
    return { kind: 'parameter', name: title };
  });
  if (fields[key] === undefined) {
    reader.add(line, 1, `a ${kind} file needs a ${key} column; its columns are ${describeKindColumns(kind)}`);
    return null;
  }
  return { kind, columns, fields, parameters };
}

/** A display name: not empty, no control characters, at most 200 characters. */
function checkName(what: string, value: string): string | null {
  if (value === '') return `${what} is empty: every row needs one`;
  if (value.length > MAX_NAME_LENGTH) return `${what} is ${value.length} characters long: at most ${MAX_NAME_LENGTH} are allowed`;
  if (CONTROL.test(value)) return `${what} ${quoteInput(value)} contains a control character (a line break?): remove it`;
  return null;
}


type Header = NonNullable<ReturnType<typeof readHeader>>;

/**
 * Checks one data row at a time and builds its record. A class rather than closures: a 100,000-row
 * file must not allocate a handful of functions per row.
 */
class RowReader {
  private readonly seen = new Map<string, number>();
  /** 0-based index of each field column, -1 when the file does not have it. */
  private readonly at: Record<string, number>;
  private readonly parameterAt: number[];
  private readonly parameterNames: string[];
  private line = 0;
  private cellLines: number[] | undefined;
  private cells: string[] = [];

  constructor(
    private readonly header: Header,
    private readonly mode: ImportMode,
    private readonly force: boolean,
    private readonly delimiter: string,
    private readonly reader: ErrorList,
    readonly rows: ImportRow[],
  ) {
    this.at = {};
    for (const field of KIND_COLUMNS[header.kind]) this.at[field] = (header.fields[field] ?? 0) - 1;
    this.parameterAt = [];
    this.parameterNames = [];
    header.columns.forEach((c, i) => {
      if (c.kind !== 'parameter') return;
      this.parameterAt.push(i);
      this.parameterNames.push(c.name);
    });
  }

  private error(i: number, message: string): void {
    this.reader.add(this.cellLines?.[i] ?? this.line, i + 1, message);
  }

  /** The cell of a field column; undefined when the file has no such column. */
  private cell(field: string): string | undefined {
    const i = this.at[field]!;
    return i < 0 ? undefined : this.cells[i];
  }

  /** A field as the mode wants it: undefined leaves the record's value alone. */
  private optional(field: string): string | undefined {
    const value = this.cell(field);
    return value === '' && this.mode === 'merge' ? undefined : value;
  }

  /** False (and an error naming the first line) when the key was on an earlier row. */
  private once(key: string, what: string, field: string): boolean {
    const first = this.seen.get(key);
    const i = this.at[field]!;
    if (first === undefined) {
      this.seen.set(key, this.cellLines?.[i] ?? this.line);
      return true;
    }
    this.error(i, `${what} is also on line ${first}: each may appear once per file`);
    return false;
  }

  private base(parameters: Record<string, string>): RowBase {
    return this.cellLines ? { line: this.line, cellLines: this.cellLines, parameters } : { line: this.line, parameters };
  }

  private model(field: string, text: string): string | undefined {
    try {
      return modelFromLens(text, { force: this.force });
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      this.error(this.at[field]!, `${field}: ${err.message}`);
      return undefined;
    }
  }

  read(cells: string[], line: number, cellLines: number[] | undefined): void {
    this.cells = cells;
    this.line = line;
    this.cellLines = cellLines;
    const columns = this.header.columns;
    if (cells.length < columns.length) {
      for (let i = cells.length; i < columns.length; i++) {
        if (columns[i]!.kind !== 'trailing') {
          return this.error(cells.length, `${cells.length} value${cells.length === 1 ? '' : 's'} where the header has ${columns.length} columns: write an empty cell as nothing between two separators, and quote values that contain line breaks`);
        }
      }
    }
    for (let i = columns.length; i < cells.length; i++) this.extraCell(i);
    for (let i = 0; i < columns.length && i < cells.length; i++) if (columns[i]!.kind === 'trailing') this.extraCell(i);
    const before = this.reader.errors.length;
    const parameters: Record<string, string> = {};
    for (let p = 0; p < this.parameterAt.length; p++) {
      const i = this.parameterAt[p]!;
      const value = cells[i];
      if (value === undefined || value === '') continue;
      const name = this.parameterNames[p]!;
      try {
        parameters[name] = validateParameterValue(name, value);
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        this.error(i, err.message);
        continue;
      }
      // The same type check as `param set`; names were checked once, at the header.
      const problem = this.force ? null : checkParameter(name, value);
      if (problem?.kind === 'bad-value') this.error(i, `${problem.message} (--force imports it anyway)`);
    }
    let row: ImportRow | undefined;
    switch (this.header.kind) {
      case 'sites':
        row = this.site(parameters);
        break;
      case 'devices':
        row = this.device(parameters);
        break;
      case 'groups':
        row = this.group(parameters);
        break;
      case 'models':
        row = this.modelPolicy(parameters);
        break;
    }
    if (row !== undefined && this.reader.errors.length === before) this.rows.push(row);
  }

  private extraCell(i: number): void {
    const cell = this.cells[i]!;
    if (cell === '') return;
    const shown = this.delimiter === '\t' ? 'TAB' : `"${this.delimiter}"`;
    this.error(i, `value ${quoteInput(cell)} in column ${columnLetter(i + 1)}, which has no header: a value containing ${shown} must be in double quotes`);
  }

  private site(parameters: Record<string, string>): SiteRow | undefined {
    const name = this.cell('site_name')!;
    const problem = checkName('site_name', name);
    if (problem) return void this.error(this.at.site_name!, problem);
    const slug = slugFromName(name);
    if (slug === '') return void this.error(this.at.site_name!, `site_name ${quoteInput(name)} has no letter or digit to make the site's slug from: add one`);
    if (!this.once(`site:${slug}`, `site ${quoteInput(name)}${slug !== name ? ` (slug ${slug})` : ''}`, 'site_name')) return undefined;
    const row = this.base(parameters) as SiteRow;
    row.name = name;
    row.slug = slug;
    const description = this.optional('description');
    if (description !== undefined) row.description = description;
    const location = this.optional('location_name');
    if (location !== undefined) row.location = location;
    const subnets = this.optional('subnets');
    if (subnets !== undefined) {
      try {
        row.subnets = subnets === '' ? [] : parseLensSubnets(subnets);
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        this.error(this.at.subnets!, `subnets: ${err.message}`);
      }
    }
    const models = this.optional('device_models');
    if (models !== undefined) {
      const list: string[] = [];
      for (const text of models.split('|')) {
        if (text.trim() === '') continue;
        const model = this.model('device_models', text);
        if (model !== undefined && !list.includes(model)) list.push(model);
      }
      row.models = list;
    }
    return row;
  }

  private device(parameters: Record<string, string>): DeviceRow | undefined {
    let mac: string;
    try {
      mac = requireMac(this.cell('mac_address')!);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      return void this.error(this.at.mac_address!, `mac_address: ${err.message}`);
    }
    if (!this.once(mac, `MAC ${mac}`, 'mac_address')) return undefined;
    const row = this.base(parameters) as DeviceRow;
    row.mac = mac;
    const model = this.cell('device_model');
    if (model) {
      const found = this.model('device_model', model);
      if (found !== undefined) row.model = found;
    }
    const site = this.optional('site_name');
    if (site !== undefined) row.site = site;
    const group = this.optional('group');
    if (group !== undefined) row.group = group;
    const label = this.optional('label');
    if (label !== undefined) {
      if (CONTROL.test(label.replace(/\t/g, ' '))) this.error(this.at.label!, `label ${quoteInput(label)} contains a control character (a line break?): remove it`);
      row.label = label;
    }
    return row;
  }

  private group(parameters: Record<string, string>): GroupRow | undefined {
    const group = this.cell('group')!;
    const problem = checkName('group', group);
    if (problem) return void this.error(this.at.group!, problem);
    const slug = groupSlug(group);
    if (slug === '') return void this.error(this.at.group!, `group ${quoteInput(group)} has no letter or digit to make the group's slug from: add one`);
    if (!this.once(`group:${slug}`, `group ${quoteInput(group)}`, 'group')) return undefined;
    const row = this.base(parameters) as GroupRow;
    row.group = group;
    row.slug = slug;
    const name = this.cell('name');
    if (name !== undefined && name !== '') {
      const bad = checkName('name', name);
      if (bad) this.error(this.at.name!, bad);
      row.name = name;
    } else if (name !== undefined && this.mode === 'replace') row.name = group;
    return row;
  }

  private modelPolicy(parameters: Record<string, string>): ModelRow | undefined {
    const model = this.model('model', this.cell('model')!);
    if (model === undefined || !this.once(`model:${model}`, `model ${model}`, 'model')) return undefined;
    const row = this.base(parameters) as ModelRow;
    row.model = model;
    return row;
  }
}

const PARSE_OPTIONS = {
  bom: true,
  // White space around unquoted values is layout; inside quotes it is kept (the export quotes it).
  trim: true,
  relax_column_count: true,
  // Empty lines stay records (of one empty cell), so that counting records and the line breaks
  // inside them gives physical line numbers: csv-parse's own count takes a CRLF inside quotes for two.
  skip_empty_lines: false,
  max_record_size: MAX_RECORD_CHARS,
} as const;

/**
 * The file's records, and the error that stopped csv-parse if any. The whole file in one call
 * first (csv-parse's per-record callback costs a copy of its state per record); only a file it
 * refuses is read again record by record, to keep the rows before the error.
 */
function parseRecords(text: string, delimiter: string): { records: string[][]; error?: CsvError } {
  try {
    return { records: parse(text, { ...PARSE_OPTIONS, delimiter }) as string[][] };
  } catch (err) {
    if (!isCsvError(err)) throw err;
  }
  const records: string[][] = [];
  try {
    parse(text, {
      ...PARSE_OPTIONS,
      delimiter,
      on_record: (cells: string[]) => {
        records.push(cells);
        return null;
      },
    });
  } catch (err) {
    if (!isCsvError(err)) throw err;
    return { records, error: err };
  }
  return { records };
}

function isCsvError(err: unknown): err is CsvError {
  const code = (err as CsvError | undefined)?.code;
  return typeof code === 'string' && (code.startsWith('CSV_') || code === 'INVALID_OPENING_QUOTE');
}

/**
 * Reads a Poly-Lens-style CSV file of sites, devices, groups or model policies. The separator (",",
 * ";" or TAB) comes from the header line; a UTF-8 BOM, CRLF line ends and quoted values with line
 * breaks are read as spreadsheets write them. Every error is collected (up to maxErrors) with its
 * line and column; rows are returned for the valid part, but a file with any error must not be
 * applied.
 */
export function readImportCsv(text: string, opts: ReadImportOptions = {}): CsvImport {
  const mode = opts.mode ?? 'merge';
  const maxErrors = opts.maxErrors ?? DEFAULT_MAX_ERRORS;
  const reader = new ErrorList(maxErrors);
  const delimiter = detectDelimiter(text.replace(/^\uFEFF/, ''));
  const progressEvery = opts.progressEvery ?? 10_000;
  const { records, error } = parseRecords(text, delimiter);
  let header: Header | null | undefined;
  let headerLine = 1;
  let rows: RowReader | undefined;
  let rowCount = 0;
  // The line the next record starts on.
  let line = 1;
  try {
    for (const cells of records) {
      const start = line;
      let cellLines: number[] | undefined;
      let breaks = 0;
      for (let i = 0; i < cells.length; i++) if (hasBreak(cells[i]!)) breaks += countBreaks(cells[i]!);
      if (breaks > 0) {
        // A cell starts after the line breaks inside the cells before it.
        cellLines = new Array<number>(cells.length);
        let at = start;
        for (let i = 0; i < cells.length; i++) {
          cellLines[i] = at;
          at += countBreaks(cells[i]!);
        }
      }
      line = start + 1 + breaks;
      let empty = true;
      for (let i = 0; i < cells.length; i++) if (cells[i] !== '') empty = false;
      if (empty) continue; // blank lines, and spreadsheets' rows of empty cells
      if (header === undefined) {
        headerLine = start;
        header = readHeader(cells, start, opts, reader);
        if (header === null) break;
        rows = new RowReader(header, mode, opts.force === true, delimiter, reader, []);
        continue;
      }
      rowCount++;
      if (opts.onProgress && rowCount % progressEvery === 0) opts.onProgress(rowCount);
      rows!.read(cells, start, cellLines);
    }
  } catch (err) {
    if (err !== STOP) throw err;
  }
  if (error !== undefined && !reader.truncated && header !== null) {
    // The record csv-parse refused starts on the line after the last one it returned.
    const column = typeof error.index === 'number' ? error.index + 1 : 1;
    if (reader.errors.length < maxErrors) reader.errors.push({ line, column, message: describeCsvError(error) });
    else reader.truncated = true;
  }
  if (header === undefined && reader.errors.length === 0) {
    reader.errors.push({ line: 1, column: 1, message: `the file is empty: expected a header row such as ${KIND_COLUMNS[opts.kind ?? 'devices'].join(',')}` });
  }
  reader.errors.sort((a, b) => a.line - b.line || a.column - b.column);
  const common: ImportCommon = {
    mode,
    delimiter,
    headerLine,
    columns: header ? header.fields : {},
    parameterNames: header ? header.parameters : [],
    rowCount,
    errors: reader.errors,
    truncated: reader.truncated,
  };
  return { ...common, kind: header ? header.kind : (opts.kind ?? 'devices'), rows: rows?.rows ?? [] } as CsvImport;
}
