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
  /** Calls `each` with a stream of every wanted file, one after another. */
  readEach(wanted: ReadonlySet<string>, each: (path: string, bytes: Readable) => Promise<void>): Promise<void>;
}

/** sip.ver holds a version string: a larger one is not a sip.ver. */
const MAX_SIP_VER = 4096;

export async function openReleaseSource(paths: readonly string[]): Promise<ReleaseSource> {
  if (paths.length === 0) throw new AdminError('nothing to import: give a release zip, a folder, or image files');
  const first = paths[0]!;
  const st = await stat(first).catch(() => undefined);
  if (!st) throw new AdminError(`cannot read "${first}": no such file or folder`);
  if (paths.length === 1 && st.isDirectory()) return folderSource(first);
  if (paths.length === 1 && /\.zip$/i.test(first)) return zipSource(first);
  return looseSource(paths);
}

async function folderSource(dir: string): Promise<ReleaseSource> {
  const names = (await readdir(dir, { recursive: true })) as string[];
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
    ...(ver ? { sipVer: await readFile(where(ver.path), 'utf8') } : {}),
    async readEach(wanted, each) {
      for (const f of files) if (wanted.has(f.path)) await each(f.path, createReadStream(where(f.path)));
    },
  };
}

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, autoClose: true }, (err, zip) => (err || !zip ? reject(zipError(file, err)) : resolve(zip))),
  );
}

function zipError(file: string, err: Error | null | undefined): AdminError {
  return new AdminError(`cannot read "${file}" as a zip: ${err?.message ?? 'unknown error'}`);
}

/** Walks the entries in order; `visit` may read the entry's stream before the next one is read. */
async function walkZip(file: string, visit: (entry: yauzl.Entry, zip: yauzl.ZipFile) => Promise<void>): Promise<void> {
  const zip = await openZip(file);
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

async function zipSource(file: string): Promise<ReleaseSource> {
  const files: SourceFile[] = [];
  let sipVer: string | undefined;
  await walkZip(file, async (entry, zip) => {
    if (entry.fileName.endsWith('/')) return;
    files.push({ path: entry.fileName, size: entry.uncompressedSize });
    if (sipVer === undefined && basename(entry.fileName).toLowerCase() === 'sip.ver' && entry.uncompressedSize <= MAX_SIP_VER) {
      const chunks: Buffer[] = [];
      for await (const c of await entryStream(zip, entry)) chunks.push(c as Buffer);
      sipVer = Buffer.concat(chunks).toString('utf8');
    }
  });
  return {
    name: basename(file),
    files,
    ...(sipVer !== undefined ? { sipVer } : {}),
    async readEach(wanted, each) {
      await walkZip(file, async (entry, zip) => {
        if (wanted.has(entry.fileName)) await each(entry.fileName, await entryStream(zip, entry));
      });
    },
  };
}
