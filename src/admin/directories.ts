import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Contact } from '../domain/contact-directory.js';
import { parseDirectory, renderDirectory } from '../domain/contact-directory.js';
import type { CsvLineError } from '../domain/contact-directory-csv.js';
import { contactsFromCsv, contactsToCsv } from '../domain/contact-directory-csv.js';
import { DomainError } from '../domain/domain-error.js';
import { requireMac, SITE_MAC, type Mac } from '../domain/mac.js';
import { PHONE_DIRECTORIES } from '../domain/phone-path.js';
import { quoteInput } from '../domain/quote-input.js';
import type { Tenant } from '../store/store.js';
import type { AdminContext } from './admin-context.js';
import { AdminError } from './admin-error.js';
import { putTreeFile } from './files.js';

// Contact directories, as administrators manage them.
//
// The site directory, contacts/000000000000-directory.xml, is a file of the tenant's tree: every
// phone without a directory of its own reads it. Importing a CSV renders it and stores it there.
//
// A device's directory, contacts/<mac>-directory.xml, is where the phone PUTs its own list when its
// user edits contacts, and the phone reads the same path back at boot (falling back to the site
// directory when it gets a 404). The core serves the newest uploaded version of that path, before
// any tree file of the same name. So an administrator's edit of a device's directory is recorded as
// a new upload version of that path, under the device's MAC: the newest version wins, whoever wrote
// it. The phone gets the admin's version the next time it reads its directory (boot or check-sync);
// if the user edits contacts on the phone after that, the phone's upload becomes the newest version
// in turn. Nothing is overwritten: every version stays in the store (see listPhoneUploads).

export const SITE_DIRECTORY_PATH = `${PHONE_DIRECTORIES.contacts}/${SITE_MAC}-directory.xml`;

export function deviceDirectoryPath(mac: Mac): string {
  return `${PHONE_DIRECTORIES.contacts}/${mac}-directory.xml`;
}

/** Where the directory shown came from; `none` when nothing is stored at that path. */
export type DirectorySource =
  | { kind: 'site-file'; path: string; size: number; storedAt: string }
  | { kind: 'device-upload'; path: string; size: number; storedAt: string; version: number; versions: number; problem: string | null }
  | { kind: 'device-file'; path: string; size: number; storedAt: string }
  | { kind: 'none'; path: string };

export interface DirectoryView {
  tenant: string;
  /** null for the site directory. */
  mac: Mac | null;
  source: DirectorySource;
  contacts: Contact[];
  /** What parseDirectory skipped or changed, or why the file could not be read at all. */
  problems: string[];
  /** False when the stored file is not a directory at all (its bytes are kept, but nothing can be read). */
  readable: boolean;
  /** Blob of the stored content, to tell whether a new one differs. */
  blobKey: string | null;
}

/** A CSV row or a merge conflict that keeps a row out; line is null when no line can be named. */
export interface ImportProblem {
  line: number | null;
  message: string;
}

/** The CSV cannot be imported as asked; nothing was stored. */
export class DirectoryImportError extends AdminError {
  override name = 'DirectoryImportError';
  constructor(
    readonly problems: ImportProblem[],
    /** rows: bad rows (skipBadRows would store the others); file: a bad header or a file not read to its end; all-rows: skipping left no row. */
    readonly reason: 'rows' | 'file' | 'all-rows',
  ) {
    super(`${describeCount(problems.length, 'error')} in the CSV; nothing was changed:\n${formatProblems(problems)}`);
  }
}

export interface ImportOptions {
  /** replace: the directory becomes the file's contacts. merge: the file's contacts replace those with the same number, the others are added. */
  mode: 'replace' | 'merge';
  /** Store the good rows when some are bad (the bad ones are reported in `skipped`); by default any bad row refuses the whole file. */
  skipBadRows?: boolean;
  /**
   * Read, check and plan everything a real import would (the same refusals, the same result), but
   * store nothing: no blob, no file, no upload version.
   */
  dryRun?: boolean;
}

export interface ImportResult {
  tenant: string;
  mac: Mac | null;
  path: string;
  /** Rows of the file that went into the directory. */
  imported: number;
  /** Of those, how many replaced a contact with the same number. */
  replaced: number;
  added: number;
  /** Contacts of the previous directory that are gone (replace mode only). */
  removed: number;
  /** Contacts in the directory now. */
  total: number;
  /** Rows left out under skipBadRows. */
  skipped: ImportProblem[];
  /** False when the result is byte for byte the directory already stored (nothing new was written). */
  changed: boolean;
  /** For a device: the upload version phones are served now. */
  version?: number;
  /** Things worth saying that did not stop the import (problems of the previous directory, an unknown MAC). */
  warnings: string[];
  /** True when nothing was stored (ImportOptions.dryRun): the rest says what the import would have done. */
  dryRun: boolean;
}

// ---- reading ---------------------------------------------------------------------------------

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function viewOf(ctx: AdminContext, t: Tenant, mac: Mac | null, source: DirectorySource, blobKey: string | null): Promise<DirectoryView> {
  const view: DirectoryView = { tenant: t.slug, mac, source, contacts: [], problems: [], readable: true, blobKey };
  if (blobKey === null) return view;
  const text = (await readAll(ctx.blobs.read(blobKey))).toString('utf8');
  try {
    const parsed = parseDirectory(text);
    view.contacts = parsed.contacts;
    view.problems = parsed.problems;
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    view.readable = false;
    view.problems = [`${source.path} cannot be read as a directory: ${err.message}`];
  }
  return view;
}

/**
 * The site directory, or with a MAC the directory that device is served: its newest upload (the
 * phone's or an administrator's, see above), else a tree file at the same path; `none` when the
 * device has neither and so reads the site directory.
 */
export async function showDirectory(ctx: AdminContext, t: Tenant, mac?: string): Promise<DirectoryView> {
  if (mac === undefined) {
    const file = await ctx.store.getFile(t.id, SITE_DIRECTORY_PATH);
    if (!file) return viewOf(ctx, t, null, { kind: 'none', path: SITE_DIRECTORY_PATH }, null);
    return viewOf(ctx, t, null, { kind: 'site-file', path: file.path, size: file.size, storedAt: file.createdAt }, file.blobKey);
  }
  const device = requireMac(mac);
  const path = deviceDirectoryPath(device);
  // The same order as the core's read: newest upload, then a tree file of that name.
  const upload = await ctx.store.latestPhoneUpload(t.id, path);
  if (upload) {
    const versions = (await ctx.store.listPhoneUploads(t.id, device)).filter((u) => u.path === path).length;
    const source: DirectorySource = {
      kind: 'device-upload',
      path,
      size: upload.size,
      storedAt: upload.createdAt,
      version: upload.version,
      versions,
      problem: upload.problem,
    };
    return viewOf(ctx, t, device, source, upload.blobKey);
  }
  const file = await ctx.store.getFile(t.id, path);
  if (file) return viewOf(ctx, t, device, { kind: 'device-file', path, size: file.size, storedAt: file.createdAt }, file.blobKey);
  return viewOf(ctx, t, device, { kind: 'none', path }, null);
}

function requireReadable(view: DirectoryView, doing: string): void {
  if (!view.readable) throw new AdminError(`cannot ${doing}: ${view.problems.join('; ')}`);
}

/** A directory as CSV (header only when empty); refused when the stored file is not a directory at all. */
export function directoryCsv(view: DirectoryView): string {
  requireReadable(view, `export ${view.mac === null ? 'the site directory' : `the directory of ${view.mac}`}`);
  return contactsToCsv(view.contacts);
}

/** The site directory as CSV; a header-only CSV when there is none. */
export async function exportSiteDirectory(ctx: AdminContext, t: Tenant): Promise<string> {
  return directoryCsv(await showDirectory(ctx, t));
}

/** The directory a device is served, as CSV (header only when it has none of its own). */
export async function exportDeviceDirectory(ctx: AdminContext, t: Tenant, mac: string): Promise<string> {
  return directoryCsv(await showDirectory(ctx, t, mac));
}

// ---- importing -------------------------------------------------------------------------------

/** The line the CSV header is on: the first line with anything on it. */
function headerLine(csv: string): number {
  const lines = csv.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  const i = lines.findIndex((l) => /\S/.test(l));
  return i < 0 ? 1 : i + 1;
}

/**
 * Errors that skipping rows cannot get round: on or before the header (an unknown or missing
 * column would silently drop data from every row), or a quoting mistake after which csv-parse
 * stopped reading (skipping would silently lose every row after it).
 */
function isFatal(error: CsvLineError, header: number): boolean {
  return error.line <= header || /the rest of the file was not read|could be read/.test(error.message);
}

function label(c: Contact): string {
  const name = [c.firstName, c.lastName].filter(Boolean).join(' ');
  return `contact ${quoteInput(c.contact)}${name ? ` (${name})` : ''}`;
}

interface Plan {
  contacts: Contact[];
  imported: number;
  replaced: number;
  added: number;
  removed: number;
  skipped: ImportProblem[];
}

/**
 * The directory after importing `incoming` into `current`. In merge mode a contact with a number
 * already in the directory replaces it in place and new ones are appended; a speed dial the file
 * gives that a contact it leaves alone already holds is a conflict for that row.
 */
function plan(current: readonly Contact[], incoming: readonly Contact[], mode: ImportOptions['mode']): { plan: Plan; conflicts: ImportProblem[] } {
  const currentNumbers = new Set(current.map((c) => c.contact));
  if (mode === 'replace') {
    const numbers = new Set(incoming.map((c) => c.contact));
    const replaced = incoming.filter((c) => currentNumbers.has(c.contact)).length;
    return {
      plan: {
        contacts: [...incoming],
        imported: incoming.length,
        replaced,
        added: incoming.length - replaced,
        removed: current.filter((c) => !numbers.has(c.contact)).length,
        skipped: [],
      },
      conflicts: [],
    };
  }
  // Rows are dropped until no conflict is left: dropping a replacement brings back the contact it
  // replaced, whose speed dial may then clash with another row.
  const accepted = new Set(incoming);
  const conflicts: ImportProblem[] = [];
  for (;;) {
    const replacedNumbers = new Set([...accepted].map((c) => c.contact));
    const held = new Map<number, Contact>();
    for (const c of current) if (!replacedNumbers.has(c.contact) && c.speedDial !== undefined) held.set(c.speedDial, c);
    const clashing = [...accepted].filter((c) => c.speedDial !== undefined && held.has(c.speedDial));
    if (clashing.length === 0) break;
    for (const c of clashing) {
      accepted.delete(c);
      conflicts.push({ line: null, message: `the row for ${label(c)}: speed dial ${c.speedDial} is already used by ${label(held.get(c.speedDial!)!)} in the directory` });
    }
  }
  const byNumber = new Map([...accepted].map((c) => [c.contact, c]));
  const contacts = current.map((c) => byNumber.get(c.contact) ?? c);
  const added = [...accepted].filter((c) => !currentNumbers.has(c.contact));
  contacts.push(...added);
  return {
    plan: { contacts, imported: accepted.size, replaced: accepted.size - added.length, added: added.length, removed: 0, skipped: conflicts },
    conflicts,
  };
}

/** Reads the CSV and works out the new directory, or throws DirectoryImportError; stores nothing. */
function planImport(current: DirectoryView, csvText: string, opts: ImportOptions): Plan {
  if (opts.mode === 'merge') requireReadable(current, 'merge into the current directory (import without merging to replace it)');
  const { contacts, errors } = contactsFromCsv(csvText);
  const header = headerLine(csvText);
  const rowErrors: ImportProblem[] = errors.map((e) => ({ line: e.line, message: e.message }));
  const fatal = errors.some((e) => isFatal(e, header));
  if (fatal || (errors.length > 0 && !opts.skipBadRows)) throw new DirectoryImportError(rowErrors, fatal ? 'file' : 'rows');
  const { plan: result, conflicts } = plan(current.contacts, contacts, opts.mode);
  if (conflicts.length > 0 && !opts.skipBadRows) throw new DirectoryImportError(conflicts, 'rows');
  result.skipped = [...rowErrors, ...result.skipped];
  if (result.skipped.length > 0 && result.imported === 0) throw new DirectoryImportError(result.skipped, 'all-rows');
  return result;
}

function previousWarnings(view: DirectoryView, mode: ImportOptions['mode']): string[] {
  if (mode !== 'merge' || view.problems.length === 0) return [];
  return view.problems.map((p) => `the current directory: ${p} (left out of the merged one)`);
}

/**
 * Imports a CSV into the site directory, contacts/000000000000-directory.xml. All or nothing: any
 * bad row refuses the whole file (every error with its line) unless skipBadRows.
 */
export async function importSiteDirectory(ctx: AdminContext, t: Tenant, csvText: string, opts: ImportOptions): Promise<ImportResult> {
  const current = await showDirectory(ctx, t);
  const p = planImport(current, csvText, opts);
  const xml = Buffer.from(renderDirectory(p.contacts), 'utf8');
  const changed = current.blobKey !== blobKeyOf(xml);
  if (changed && !opts.dryRun) await putTreeFile(ctx, t, SITE_DIRECTORY_PATH, xml);
  return {
    tenant: t.slug,
    mac: null,
    path: SITE_DIRECTORY_PATH,
    ...counts(p),
    changed,
    warnings: previousWarnings(current, opts.mode),
    dryRun: opts.dryRun === true,
  };
}

/**
 * The key the blob store gives these bytes: blob keys are the content's SHA-256 (BlobStore), so
 * whether a directory changes, and so whether anything is stored, is known before storing.
 */
function blobKeyOf(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function counts(p: Plan) {
  return { imported: p.imported, replaced: p.replaced, added: p.added, removed: p.removed, total: p.contacts.length, skipped: p.skipped };
}

/**
 * Sets the directory one device is served, from a CSV (mode replace: the device's list becomes the
 * file's; merge: into the device's current list). Recorded as a new upload version of
 * contacts/<mac>-directory.xml under the device's MAC, so it is what the phone reads next, until the
 * phone uploads a newer one itself; see the note at the top of this file.
 */
export async function setDeviceDirectory(ctx: AdminContext, t: Tenant, mac: string, csvText: string, opts: ImportOptions = { mode: 'replace' }): Promise<ImportResult> {
  const device = requireMac(mac);
  const path = deviceDirectoryPath(device);
  const current = await showDirectory(ctx, t, device);
  const p = planImport(current, csvText, opts);
  const warnings = previousWarnings(current, opts.mode);
  if (!(await ctx.store.getDevice(t.id, device))) {
    warnings.push(`${device} is neither registered in tenant "${t.slug}" nor seen by the server yet; check the MAC`);
  }
  const xml = Buffer.from(renderDirectory(p.contacts), 'utf8');
  const result = { tenant: t.slug, mac: device, path, ...counts(p), warnings, dryRun: opts.dryRun === true };
  const newest = current.source.kind === 'device-upload' ? current.source.version : 0;
  if (newest > 0 && current.blobKey === blobKeyOf(xml)) return { ...result, changed: false, version: newest };
  // Versions count up from the newest one (recordPhoneUpload), which is what a dry run reports.
  if (opts.dryRun) return { ...result, changed: true, version: newest + 1 };
  const blob = await ctx.blobs.put(xml);
  const upload = await ctx.store.recordPhoneUpload({ tenantId: t.id, mac: device, path, blobKey: blob.key, size: blob.size, problem: null });
  return { ...result, changed: true, version: upload.version };
}

// ---- helpers for front ends ------------------------------------------------------------------

function describeCount(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** One problem a line, at most `max` of them. */
export function formatProblems(problems: readonly ImportProblem[], max = 50): string {
  const shown = problems.slice(0, max).map((p) => `  ${p.line === null ? '' : `line ${p.line}: `}${p.message}`);
  if (problems.length > max) shown.push(`  … and ${problems.length - max} more`);
  return shown.join('\n');
}

/** "imported 120 contacts (3 replaced, 117 new)", and what else happened; for a dry run, what would. */
export function importSummary(r: ImportResult): string {
  const [imported, removed, skipped, has] = r.dryRun ? ['would import', 'would remove', 'would skip', 'would have'] : ['imported', 'removed', 'skipped', 'has'];
  const parts = [`${imported} ${describeCount(r.imported, 'contact')} (${r.replaced} replaced, ${r.added} new)`];
  if (r.removed > 0) parts.push(`${removed} ${r.removed} not in the file`);
  if (r.skipped.length > 0) parts.push(`${skipped} ${describeCount(new Set(r.skipped.map((s) => s.line ?? s.message)).size, 'bad row')}`);
  const where = r.mac === null ? 'the site directory' : `the directory of ${r.mac}${r.version !== undefined ? ` (version ${r.version})` : ''}`;
  parts.push(`${where} ${has} ${describeCount(r.total, 'contact')}${r.changed ? '' : ', unchanged'}`);
  const summary = parts.join('; ');
  return r.dryRun ? `dry run, nothing stored: ${summary}` : summary;
}

/**
 * CSV bytes as text: UTF-8 (with or without a byte-order mark) or UTF-16 with its mark, as
 * spreadsheets save them. Anything else is refused rather than guessed, so names are never garbled.
 */
export function decodeCsv(bytes: Buffer, name: string): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    const swapped = Buffer.from(bytes.subarray(0, bytes.length - (bytes.length % 2)));
    return new TextDecoder('utf-16le').decode(swapped.swap16());
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new AdminError(`${name} is not UTF-8 text: save it as "CSV UTF-8" (Excel, LibreOffice) or convert it, e.g. iconv -f WINDOWS-1252 -t UTF-8`);
  }
}
