import type { BlobStore } from '../blobs/blob-store.js';
import type { Logger } from './logger.js';

export interface BlobCacheLimits {
  /** Bytes held in all, per process. */
  totalBytes: number;
  /** Larger blobs are always streamed from the store. */
  maxEntryBytes: number;
}

/**
 * The bytes of recently served blobs, in memory. Blobs are content-addressed, so an entry can never
 * be stale: no invalidation, only eviction of the least recently used. A fleet downloads the same
 * firmware image thousands of times; from memory each download costs one copy into the socket
 * instead of a read and a copy (measured with npm run bench:ftp: the read was half the server's
 * CPU per byte).
 *
 * A blob is loaded in the background on its first request, which is streamed meanwhile, so no
 * request waits for a load and concurrent first requests share one.
 */
export class BlobCache {
  private readonly entries = new Map<string, Buffer>();
  private readonly loading = new Map<string, Promise<void>>();
  private held = 0;

  constructor(
    private readonly blobs: BlobStore,
    private readonly limits: BlobCacheLimits,
    private readonly logger: Logger,
  ) {}

  /** The blob's bytes when held (and marks them recently used); otherwise starts loading them. */
  get(key: string, size: number): Buffer | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    if (size > 0 && size <= this.limits.maxEntryBytes && size <= this.limits.totalBytes && !this.loading.has(key)) {
      const load = this.load(key, size)
        .catch((err: unknown) => this.logger.warn({ err, blob: key }, 'could not cache a blob; it is served from the store'))
        .finally(() => this.loading.delete(key));
      this.loading.set(key, load);
    }
    return undefined;
  }

  private async load(key: string, size: number): Promise<void> {
    const bytes = Buffer.allocUnsafeSlow(size);
    let at = 0;
    for await (const chunk of this.blobs.read(key)) {
      const c = chunk as Buffer;
      // A store that holds other bytes than its index says is not cached: the stream path reports it.
      if (at + c.length > size) return;
      c.copy(bytes, at);
      at += c.length;
    }
    if (at !== size) return;
    while (this.held + size > this.limits.totalBytes && this.entries.size > 0) {
      const [oldest, buf] = this.entries.entries().next().value as [string, Buffer];
      this.entries.delete(oldest);
      this.held -= buf.length;
    }
    this.entries.set(key, bytes);
    this.held += size;
  }
}
