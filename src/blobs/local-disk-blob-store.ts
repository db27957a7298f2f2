import { readLocalFile } from './local-file-range.js';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isBlobKey, type BlobInfo, type BlobStore, type ByteRange } from './blob-store.js';

/** Blobs as files named by their SHA-256 under `<root>/ab/abcdef…`, written to a temporary file, fsynced, then renamed. */
export class LocalDiskBlobStore implements BlobStore {
  constructor(private readonly root: string) {}

  private pathOf(key: string): string {
    if (!isBlobKey(key)) throw new Error(`invalid blob key "${key}"`);
    return join(this.root, key.slice(0, 2), key);
  }

  async put(source: Readable | Buffer): Promise<BlobInfo> {
    const tmpDir = join(this.root, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, `${process.pid}-${randomBytes(8).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    const input = Buffer.isBuffer(source) ? Readable.from([source]) : source;
    try {
      await pipeline(
        input,
        async function* (chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            hash.update(chunk);
            size += chunk.length;
            yield chunk;
          }
        },
        createWriteStream(tmp, { flags: 'wx' }),
      );
      const fh = await open(tmp, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      const key = hash.digest('hex');
      const dest = this.pathOf(key);
      await mkdir(join(this.root, key.slice(0, 2)), { recursive: true });
      await rename(tmp, dest);
      return { key, size };
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }

  async stat(key: string): Promise<BlobInfo | undefined> {
    try {
      const s = await stat(this.pathOf(key));
      return { key, size: s.size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  read(key: string, range?: ByteRange): Readable {
    return readLocalFile(this.pathOf(key), range);
  }

  async delete(key: string): Promise<void> {
    await unlink(this.pathOf(key)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
}

/**
 * Removes temporary files that uploads killed mid-write left behind (a crash, kill -9). Only old
 * ones: a CLI `file add` may be writing one right now.
 */
export async function sweepTemporaryFiles(root: string, olderThanMs = 3_600_000, now = Date.now()): Promise<number> {
  const dir = join(root, 'tmp');
  let removed = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const p = join(dir, name);
    const st = await stat(p).catch(() => undefined);
    if (st?.isFile() && now - st.mtimeMs > olderThanMs) {
      await unlink(p).catch(() => undefined);
      removed++;
    }
  }
  return removed;
}
