import type { Readable } from 'node:stream';
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

/**
 * A whole-file upload (override, directory, call list): the bytes become a durable blob first
 * (temporary file, fsync, rename), then a new version row, so a crash leaves either the old
 * version or the complete new one. Content that does not parse is kept all the same, with the
 * parser's complaint: the user's changes are never lost for being malformed.
 */
export async function storeWholeFile(
  deps: { store: Store; blobs: BlobStore },
  target: { tenantId: number; mac: string; path: string },
  data: Buffer,
): Promise<PhoneUpload> {
  const blob = await deps.blobs.put(data);
  let problem: string | null = null;
  if (data.length === 0) problem = 'empty file';
  else {
    try {
      parseXmlAttributes(data.toString('utf8'));
    } catch (err) {
      problem = `not well-formed XML: ${(err as Error).message}`.slice(0, 500);
    }
  }
  return deps.store.recordPhoneUpload({ ...target, blobKey: blob.key, size: blob.size, problem });
}

/** The whole body in memory, refusing more than `limit` bytes: every kind of upload is small, and the limit keeps it so. */
export function readLimited(body: Readable, limit: number): Promise<Buffer> {
  // Events rather than for-await: leaving a for-await loop destroys the request, and with it the
  // connection, before the 413 can be sent. Here the body is only paused; the edge closes the
  // connection after answering.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      done();
      body.pause();
      reject(new UploadTooLarge(`upload larger than ${limit} bytes`));
    };
    const onEnd = () => {
      done();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    const onClose = () => {
      done();
      reject(new Error('upload interrupted before its end'));
    };
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
    body.once('close', onClose);
  });
}
