// Directory listings as FTP clients parse them: LIST in the `ls -l` shape every client understands,
// NLST as bare names, MLSD/MLST as RFC 3659 facts. Times are UTC, as RFC 3659 requires and as
// clients assume for LIST when they assume anything.

import type { DirectoryEntry } from '../../provisioning/core.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const HALF_YEAR_MS = 182 * 86_400_000;

/** A name inside a listing line: line breaks would start a forged line. */
function safeName(name: string): string {
  return name.replace(/[\r\n]/g, '?');
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `ls -l` date: time of day for the last six months, the year for older (or future) times. */
function lsDate(d: Date, now: Date): string {
  const day = `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')}`;
  const age = now.getTime() - d.getTime();
  return age >= 0 && age < HALF_YEAR_MS ? `${day} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}` : `${day}  ${d.getUTCFullYear()}`;
}

export function listLine(e: DirectoryEntry, now: Date): string {
  const mode = e.kind === 'dir' ? 'drwxr-xr-x' : '-rw-r--r--';
  return `${mode} 1 ftp ftp ${String(e.size).padStart(12, ' ')} ${lsDate(e.modified, now)} ${safeName(e.name)}`;
}

/** RFC 3659 time-val: YYYYMMDDHHMMSS, UTC (also MDTM's reply). */
export function timeVal(d: Date): string {
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
}

/** The facts of one entry, `type=file;size=N;modify=T;` (without the name). */
export function mlsxFacts(e: Pick<DirectoryEntry, 'kind' | 'size' | 'modified'>): string {
  return `type=${e.kind};size=${e.size};modify=${timeVal(e.modified)};`;
}

export function mlsdLine(e: DirectoryEntry): string {
  return `${mlsxFacts(e)} ${safeName(e.name)}`;
}

/** A whole listing as the data connection carries it: CRLF after every line. */
export function formatListing(entries: readonly DirectoryEntry[], style: 'list' | 'nlst' | 'mlsd', now = new Date()): Buffer {
  const lines = entries.map((e) => (style === 'list' ? listLine(e, now) : style === 'mlsd' ? mlsdLine(e) : safeName(e.name)));
  return Buffer.from(lines.map((l) => l + '\r\n').join(''), 'utf8');
}
