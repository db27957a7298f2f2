import { localFileRangeOf, type LocalFileRange } from '../../blobs/local-file-range.js';
import { open } from 'node:fs/promises';
import type { Duplex, Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';

/** How a download ended: which side failed tells a 451 (ours) from a 426 (the connection). */
export type SendOutcome = 'sent' | 'source-failed' | 'data-failed';

/** What goes down a data connection: bytes in memory, or a stream of one range of a resource. */
export type DataBody = Buffer | null | { stream: Readable };

/** Bytes read from disk per step; also what a stream is asked to read at once. */
const PIECE = 1024 * 1024;

/**
 * Writes a whole body into the data connection and ends it, moving firmware-sized files without
 * per-chunk work. A file stream of the local disk is read here instead, into two buffers used in
 * turn: a stream allocates a new buffer per read, and 64 MB of short-lived buffers cost a major
 * garbage collection per transfer on a server's heap, more CPU than moving the bytes.
 */
export async function sendOverData(data: Duplex, body: DataBody): Promise<SendOutcome> {
  if (body === null || Buffer.isBuffer(body)) return endWith(data, body);
  const { stream } = body;
  const file = fileRange(stream);
  if (file) {
    stream.destroy();
    return sendFileRange(data, file.path, file.start, file.end);
  }
  return pipeStream(data, stream);
}

/**
 * The file and byte range a local-disk stream was opened on (the store's own offsets, which for a
 * rotated log are not the phone's; blobs/local-file-range.ts), or null for any other stream.
 */
function fileRange(stream: Readable): LocalFileRange | null {
  const r = localFileRangeOf(stream);
  return r && r.end >= r.start ? r : null;
}

async function endWith(data: Duplex, body: Buffer | null): Promise<SendOutcome> {
  try {
    data.end(body ?? undefined);
    await finished(data, { readable: false });
    return 'sent';
  } catch {
    return 'data-failed';
  }
}

async function sendFileRange(data: Duplex, path: string, start: number, end: number): Promise<SendOutcome> {
  let file;
  try {
    file = await open(path, 'r');
  } catch {
    return 'source-failed';
  }
  try {
    const buffers = [Buffer.allocUnsafeSlow(Math.min(PIECE, end - start + 1)), Buffer.allocUnsafeSlow(Math.min(PIECE, end - start + 1))];
    // The write of one buffer runs while the other is read; a buffer is refilled only after its write completed.
    let writing: Promise<void> = Promise.resolve();
    for (let pos = start, turn = 0; pos <= end; turn++) {
      const buf = buffers[turn & 1]!;
      let n: number;
      try {
        n = (await file.read(buf, 0, Math.min(buf.length, end - pos + 1), pos)).bytesRead;
      } catch {
        n = 0;
      }
      if (n === 0) {
        await writing.catch(() => undefined);
        return 'source-failed';
      }
      pos += n;
      try {
        await writing;
      } catch {
        return 'data-failed';
      }
      if (data.destroyed) return 'data-failed';
      const piece = n === buf.length ? buf : buf.subarray(0, n);
      writing = new Promise((resolve, reject) => data.write(piece, (err) => (err ? reject(err) : resolve())));
      // Awaited on the next turn; marked handled now, since it may fail while the next read runs.
      writing.catch(() => undefined);
    }
    try {
      await writing;
    } catch {
      return 'data-failed';
    }
    return endWith(data, null);
  } finally {
    await file.close().catch(() => undefined);
  }
}

async function pipeStream(data: Duplex, stream: Readable): Promise<SendOutcome> {
  let sourceFailed = false;
  stream.once('error', () => (sourceFailed = true));
  // Asking a stream for more than its highWaterMark raises the mark (stream.Readable#read): fewer, larger reads.
  if (stream.readableHighWaterMark < PIECE && !stream.readableObjectMode) {
    const early = stream.read(PIECE) as Buffer | null;
    if (early !== null) stream.unshift(early);
  }
  try {
    await pipeline(stream, data);
    return 'sent';
  } catch {
    return sourceFailed ? 'source-failed' : 'data-failed';
  }
}
