import { createReadStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ByteRange } from './blob-store.js';
import type { LogFileStore } from './log-file-store.js';

/** Log files under `<root>/<name>`; `name` comes from the core (tenant id and a checked tree path), never from a client as such. */
export class LocalDiskLogFiles implements LogFileStore {
  constructor(private readonly root: string) {}

  private pathOf(name: string): string {
    if (!/^[0-9]+\/[A-Za-z0-9._/-]+$/.test(name) || name.split('/').some((s) => s === '..' || s === '.')) {
      throw new Error(`invalid log file name "${name}"`);
    }
    return join(this.root, name);
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
    return createReadStream(this.pathOf(name), { start: range.start, end: range.end });
  }
}
