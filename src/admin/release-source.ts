import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { AdminError } from './admin-error.js';

// Where a release's files come from: a zip as Poly publishes it, a folder, or loose files. Each
// source lists its files first (names and sizes, and the text of sip.ver) so the release can be
// classified and refused before a byte is stored, then opens the images one at a time as streams:
// a 150 MB combined image never sits in memory.

export interface SourceFile {
  path: string;
  size: number;
}

export interface ReleaseSource {
  /** The zip's or folder's name, which may carry the version (UC_Software_5_9_8_5760_…). */
  name: string;
  files: SourceFile[];
  /** Text of the release's sip.ver, when it has one (the first found, at any depth). */
  sipVer?: string;
  /**
   * Whether `files` sizes are only what the source claims (a zip's headers, which can lie) rather
   * than what the file system measured: the importer then checks the real bytes before storing any.
   */
  sizesDeclared: boolean;
  /**
   * Calls `each` with a stream of every wanted file, one after another. The streams are not
   * checked against the listed sizes: the caller counts their bytes (for every kind of source).
   */
  readEach(wanted: ReadonlySet<string>, each: (path: string, bytes: Readable) => Promise<void>): Promise<void>;
}

/**
 * A release refused for its size: more bytes unpacked or more files than the limits allow. The
 * REST API answers it with 413; the message says both sizes and what to do.
 */
export class ReleaseTooLarge extends AdminError {
  override name = 'ReleaseTooLarge';
}

/** What a source may hold at most, checked while it is listed. */
export interface SourceLimits {
  /** Most files (zip entries, folder files, loose files). */
  maxEntries: number;
}

/** sip.ver holds a version string: a larger one is not a sip.ver. */
const MAX_SIP_VER = 4096;

export async function openReleaseSource(paths: readonly string[], limits: SourceLimits): Promise<ReleaseSource> {
  if (paths.length === 0) throw new AdminError('nothing to import: give a release zip, a folder, or image files');
  const first = paths[0]!;
  const st = await stat(first).catch(() => undefined);
  if (!st) throw new AdminError(`cannot read "${first}": no such file or folder`);
  if (paths.length === 1 && st.isDirectory()) return folderSource(first, limits);
  if (paths.length === 1 && /\.zip$/i.test(first)) return zipSource(first, limits);
  refuseCount(paths[0]!, paths.length, limits, 'files given');
  return looseSource(paths);
}

/** The refusal of a source with more files than the limit allows. */
function refuseCount(name: string, count: number, limits: SourceLimits, what: string): void {
  if (count <= limits.maxEntries) return;
  throw new ReleaseTooLarge(
    `"${basename(name)}" holds ${count} ${what}, more than the ${limits.maxEntries} a release may have: a UC Software release has a few dozen, so this is not one (or raise the limit: polyprov firmware import --max-entries)`,
  );
}

async function folderSource(dir: string, limits: SourceLimits): Promise<ReleaseSource> {
  const names = (await readdir(dir, { recursive: true })) as string[];
  refuseCount(dir, names.length, limits, 'files and folders');
  const files: SourceFile[] = [];
  for (const name of names.sort()) {
    const s = await stat(join(dir, name));
    if (s.isFile()) files.push({ path: name, size: s.size });
  }
  return fileSystemSource(basename(dir), files, (p) => join(dir, p));
}

async function looseSource(paths: readonly string[]): Promise<ReleaseSource> {
  const files: SourceFile[] = [];
  for (const p of paths) {
    const s = await stat(p).catch(() => undefined);
    if (!s?.isFile()) throw new AdminError(`cannot read "${p}": not a file (give one zip, one folder, or image files)`);
    files.push({ path: p, size: s.size });
  }
  return fileSystemSource(basename(relative('.', paths[0]!)), files, (p) => p);
}

async function fileSystemSource(name: string, files: SourceFile[], where: (path: string) => string): Promise<ReleaseSource> {
  const ver = files.find((f) => basename(f.path).toLowerCase() === 'sip.ver' && f.size <= MAX_SIP_VER);
  return {
    name,
    files,
    sizesDeclared: false,
    ...(ver ? { sipVer: await readFile(where(ver.path), 'utf8') } : {}),
    async readEach(wanted, each) {
      for (const f of files) if (wanted.has(f.path)) await each(f.path, createReadStream(where(f.path)));
    },
  };
}

/**
 * `checkSizes: false` leaves the count of an entry's bytes to the reader: the importer counts every
 * source's streams itself, so that a zip whose headers lie is refused with the same message as a
 * file that grew, and within the release's limit as a whole.
 */
function openZip(file: string, checkSizes: boolean): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, autoClose: true, validateEntrySizes: checkSizes }, (err, zip) => (err || !zip ? reject(zipError(file, err)) : resolve(zip))),
  );
}

function zipError(file: string, err: Error | null | undefined): AdminError {
  return new AdminError(`cannot read "${file}" as a zip: ${err?.message ?? 'unknown error'}`);
}

/** Walks the entries in order; `visit` may read the entry's stream before the next one is read. */
async function walkZip(file: string, checkSizes: boolean, visit: (entry: yauzl.Entry, zip: yauzl.ZipFile) => Promise<void>, limits?: SourceLimits): Promise<void> {
  const zip = await openZip(file, checkSizes);
  // The end record's count is the number of entries yauzl will walk: refuse before reading any.
  if (limits) {
    try {
      refuseCount(file, zip.entryCount, limits, 'entries');
    } catch (err) {
      zip.close();
      throw err;
    }
  }
  await new Promise<void>((resolve, reject) => {
    const fail = (err: unknown) => {
      zip.close();
      reject(err instanceof AdminError ? err : zipError(file, err as Error));
    };
    zip.on('error', fail);
    zip.on('end', () => resolve());
    zip.on('entry', (entry: yauzl.Entry) => {
      visit(entry, zip).then(() => zip.readEntry(), fail);
    });
    zip.readEntry();
  });
}

function entryStream(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => zip.openReadStream(entry, (err, s) => (err || !s ? reject(err) : resolve(s))));
}

async function zipSource(file: string, limits: SourceLimits): Promise<ReleaseSource> {
  const files: SourceFile[] = [];
  const seen = new Set<string>();
  let sipVer: string | undefined;
  // yauzl checks sizes here: only sip.ver is read, and it must not unpack past what it declares.
  await walkZip(file, true, async (entry, zip) => {
    if (entry.fileName.endsWith('/')) return;
    // Two entries of one name would both be read for one image, past what the listing counted.
    if (seen.has(entry.fileName)) throw new AdminError(`"${basename(file)}" lists "${entry.fileName}" twice: the zip is damaged or was made to mislead, rebuild it`);
    seen.add(entry.fileName);
    files.push({ path: entry.fileName, size: entry.uncompressedSize });
    if (sipVer === undefined && basename(entry.fileName).toLowerCase() === 'sip.ver' && entry.uncompressedSize <= MAX_SIP_VER) {
      const chunks: Buffer[] = [];
      for await (const c of await entryStream(zip, entry)) chunks.push(c as Buffer);
      sipVer = Buffer.concat(chunks).toString('utf8');
    }
  }, limits);
  return {
    name: basename(file),
    files,
    sizesDeclared: true,
    ...(sipVer !== undefined ? { sipVer } : {}),
    async readEach(wanted, each) {
      await walkZip(file, false, async (entry, zip) => {
        if (wanted.has(entry.fileName)) await each(entry.fileName, await entryStream(zip, entry));
      });
    },
  };
}
