import { readLocalFile } from './local-file-range.js';
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ByteRange } from './blob-store.js';
import type { LogFileEntry, LogFileStore } from './log-file-store.js';

const NAME = /^[0-9]+\/[A-Za-z0-9._/-]+$/;

/** Log files under `<root>/<name>`; `name` comes from the core (tenant id and a checked tree path), never from a client as such. */
export class LocalDiskLogFiles implements LogFileStore {
  constructor(private readonly root: string) {}

  private pathOf(name: string): string {
    if (!NAME.test(name) || name.split('/').some((s) => s === '..' || s === '.')) {
      throw new Error(`invalid log file name "${name}"`);
    }
    return join(this.root, name);
  }

  /** A new or renamed directory entry survives a power loss only once its folder is fsynced. */
  private async syncDir(path: string): Promise<void> {
    const dir = await open(dirname(path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  async writeAt(name: string, offset: number, data: Buffer): Promise<void> {
    const path = this.pathOf(name);
    await mkdir(dirname(path), { recursive: true });
    const fh = await open(path, 'a+').then(async (h) => {
      await h.close();
      return open(path, 'r+');
    });
    try {
      let written = 0;
      while (written < data.length) {
        const { bytesWritten } = await fh.write(data, written, data.length - written, offset + written);
        written += bytesWritten;
      }
      await fh.truncate(offset + data.length);
      await fh.sync();
    } finally {
      await fh.close();
    }
    // Writing at 0 starts a log (a new one, or a new current file after a rotation): make its
    // directory entry as durable as its bytes.
    if (offset === 0) await this.syncDir(path);
  }

  async readBytes(name: string, offset: number, length: number): Promise<Buffer> {
    const fh = await open(this.pathOf(name), 'r');
    try {
      const buf = Buffer.alloc(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return buf.subarray(0, got);
    } finally {
      await fh.close();
    }
  }

  read(name: string, range: ByteRange): Readable {
    return readLocalFile(this.pathOf(name), range);
  }

  async truncate(name: string, length: number): Promise<void> {
    const fh = await open(this.pathOf(name), 'r+');
    try {
      await fh.truncate(length);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  async rename(from: string, to: string): Promise<void> {
    const target = this.pathOf(to);
    await mkdir(dirname(target), { recursive: true });
    await rename(this.pathOf(from), target);
    await this.syncDir(target);
  }

  async delete(name: string): Promise<boolean> {
    try {
      await unlink(this.pathOf(name));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  async list(prefix: string): Promise<LogFileEntry[]> {
    const slash = prefix.lastIndexOf('/');
    if (slash < 1) throw new Error(`invalid log file prefix "${prefix}"`);
    const folder = prefix.slice(0, slash);
    const start = prefix.slice(slash + 1);
    const dir = this.pathOf(folder);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: LogFileEntry[] = [];
    for (const n of names) {
      if (!n.startsWith(start)) continue;
      try {
        const st = await stat(join(dir, n));
        if (st.isFile()) out.push({ name: `${folder}/${n}`, size: st.size });
      } catch (err) {
        // Deleted or renamed while listing (a prune, a rotation): not there any more.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return out;
  }
}
