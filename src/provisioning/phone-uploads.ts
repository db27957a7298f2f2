import { pipeline, Transform, type Readable } from 'node:stream';
import type { BlobStore } from '../blobs/blob-store.js';
import type { UploadCategory } from '../domain/phone-path.js';
import { parseXmlAttributes } from '../domain/polycom-xml.js';
import type { PhoneUpload, Store } from '../store/store.js';

/** Largest body accepted per kind of upload; a phone's real files are far smaller. */
export interface UploadLimits {
  /** One log PUT (a chunk, or a whole log when the phone does not append). */
  log: number;
  override: number;
  directory: number;
  callList: number;
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = {
  log: 16 * 1024 * 1024,
  override: 1024 * 1024,
  directory: 8 * 1024 * 1024,
  callList: 2 * 1024 * 1024,
};

export function limitFor(category: UploadCategory, limits: UploadLimits): number | undefined {
  switch (category) {
    case 'log':
      return limits.log;
    case 'override':
      return limits.override;
    case 'directory':
      return limits.directory;
    case 'call-list':
      return limits.callList;
    default:
      return undefined;
  }
}

export class UploadTooLarge extends Error {
  override name = 'UploadTooLarge';
}

function capped(limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > limit) done(new UploadTooLarge(`upload larger than ${limit} bytes`));
      else done(null, chunk);
    },
  });
}

/**
 * A whole-file upload (override, directory, call list): the bytes become a durable blob first
 * (temporary file, fsync, rename), then a new version row, so a crash leaves either the old
 * version or the complete new one. Content that does not parse is kept all the same, with the
 * parser's complaint: the user's changes are never lost for being malformed.
 */
export async function storeWholeFile(
  deps: { store: Store; blobs: BlobStore },
  target: { tenantId: number; mac: string; path: string },
  body: Readable,
  limit: number,
): Promise<PhoneUpload> {
  // pipeline, not pipe: a client that hangs up must fail the write, not leave it waiting forever.
  const limited = pipeline(body, capped(limit), () => undefined);
  const blob = await deps.blobs.put(limited);
  let problem: string | null = null;
  if (blob.size === 0) problem = 'empty file';
  else {
    const bytes = await readAll(deps.blobs.read(blob.key));
    try {
      parseXmlAttributes(bytes.toString('utf8'));
    } catch (err) {
      problem = `not well-formed XML: ${(err as Error).message}`.slice(0, 500);
    }
  }
  return deps.store.recordPhoneUpload({ ...target, blobKey: blob.key, size: blob.size, problem });
}

/** The whole body in memory, refusing more than `limit` bytes (log chunks are small; the limit keeps them so). */
export async function readLimited(body: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of body) {
    size += (c as Buffer).length;
    if (size > limit) {
      body.destroy();
      throw new UploadTooLarge(`upload larger than ${limit} bytes`);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
