import type { Readable } from 'node:stream';
import type { ByteRange } from './blob-store.js';

/** A file of the log file store, as `list` gives it. */
export interface LogFileEntry {
  name: string;
  size: number;
}

/**
 * Bytes of files that grow in place (phone logs). Unlike blobs they are not content-addressed:
 * the store records each log's committed length, and only bytes below it count, so a crash
 * between a write and its commit leaves stray bytes that the next write overwrites.
 *
 * Names are `<tenant id>/<path>`; rotated segments of a log are files beside it (see
 * provisioning/phone-logs.ts for their names).
 */
export interface LogFileStore {
  /** Writes `data` at `offset`, cuts the file there (dropping uncommitted bytes), and fsyncs. */
  writeAt(name: string, offset: number, data: Buffer): Promise<void>;
  readBytes(name: string, offset: number, length: number): Promise<Buffer>;
  read(name: string, range: ByteRange): Readable;
  /** Cuts a file to `length` bytes and fsyncs it. */
  truncate(name: string, length: number): Promise<void>;
  /** Renames a file, replacing `to` if it exists; durable when it returns. */
  rename(from: string, to: string): Promise<void>;
  /** Deletes a file; false when there was none. */
  delete(name: string): Promise<boolean>;
  /**
   * Files in one folder whose names start with `prefix` (`3/logs/` lists the folder,
   * `3/logs/0004f2a1b2c3-app.log.` a log's segments), in no particular order; none when the
   * folder does not exist.
   */
  list(prefix: string): Promise<LogFileEntry[]>;
}
