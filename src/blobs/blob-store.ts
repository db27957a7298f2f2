import type { Readable } from 'node:stream';

export interface BlobInfo {
  /** Content address: SHA-256 of the bytes, hex. */
  key: string;
  size: number;
}

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

/**
 * Byte storage behind one interface: local disk by default, object storage when scaled out.
 * Blobs are content-addressed and immutable, so a reader never sees a half-written file and two
 * tenants adding the same firmware image store it once.
 */
export interface BlobStore {
  /** Stores the stream's bytes; durable when the promise resolves. */
  put(source: Readable | Buffer): Promise<BlobInfo>;
  stat(key: string): Promise<BlobInfo | undefined>;
  /** A stream of the blob's bytes (or of one range of them). The caller must consume or destroy it. */
  read(key: string, range?: ByteRange): Readable;
  delete(key: string): Promise<void>;
}

export function isBlobKey(key: string): boolean {
  return /^[0-9a-f]{64}$/.test(key);
}
