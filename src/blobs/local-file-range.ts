import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { ByteRange } from './blob-store.js';

/** Bytes [start, end] of a file on the local disk (end inclusive). */
export interface LocalFileRange {
  path: string;
  start: number;
  end: number;
}

const RANGE = Symbol('polyprov.localFileRange');

/**
 * Reads share this size: 4× fewer reads than the stream default, without holding megabytes per
 * download when thousands of phones fetch firmware at once.
 */
const READ_BYTES = 256 * 1024;

/**
 * A stream of a local file's bytes that also says which file and range it reads, so an edge that
 * moves large files its own way (FTP's data connection, see servers/ftp/send-over-data.ts) can
 * read them directly instead of through the stream. Any other store's streams carry no such mark
 * and are simply piped.
 */
export function readLocalFile(path: string, range?: ByteRange): Readable {
  const stream = createReadStream(path, { ...(range ? { start: range.start, end: range.end } : {}), highWaterMark: READ_BYTES });
  // Only a bounded range is marked: the reader must know where to stop without a stat.
  if (range) (stream as unknown as Record<symbol, LocalFileRange>)[RANGE] = { path, start: range.start, end: range.end };
  return stream;
}

export function localFileRangeOf(stream: Readable): LocalFileRange | undefined {
  return (stream as unknown as Record<symbol, LocalFileRange | undefined>)[RANGE];
}
