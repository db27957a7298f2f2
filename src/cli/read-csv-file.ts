import { readFileSync } from 'node:fs';
import { AdminError } from '../admin/admin-error.js';
import { decodeCsv } from '../admin/directories.js';

/** A CSV file named on the command line (`-`: standard input), decoded with a clear error for a missing or unreadable file. */
export function readCsvFile(file: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file === '-' ? 0 : file);
  } catch (err) {
    throw new AdminError(`cannot read "${file}": ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  return decodeCsv(bytes, file === '-' ? 'standard input' : `"${file}"`);
}
