import type { Readable } from 'node:stream';
import type { ByteRange } from './blob-store.js';

/**
 * Bytes of files that grow in place (phone logs). Unlike blobs they are not content-addressed:
 * the store records each log's committed length, and only bytes below it count, so a crash
 * between a write and its commit leaves stray bytes that the next write overwrites.
 */
export interface LogFileStore {
  /** Writes `data` at `offset`, cuts the file there (dropping uncommitted bytes), and fsyncs. */
  writeAt(name: string, offset: number, data: Buffer): Promise<void>;
  readBytes(name: string, offset: number, length: number): Promise<Buffer>;
  read(name: string, range: ByteRange): Readable;
}
