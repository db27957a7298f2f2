import type { BlobStore } from '../blobs/blob-store.js';
import type { LogFileStore } from '../blobs/log-file-store.js';
import type { Store } from '../store/store.js';

/** What every admin service works on; the CLI builds one now, the REST API will build the same. */
export interface AdminContext {
  store: Store;
  blobs: BlobStore;
  logFiles: LogFileStore;
}
