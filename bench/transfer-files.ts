import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { progress } from './bench-progress.js';
import { registerTempDir } from './processes.js';
import type { Expected } from './transfer-clients.js';
import { FAST_TEMP, MiB } from './transfer-report.js';

export interface TransferFiles {
  /** Temporary folder of the run (removed on every way out). */
  work: string;
  /** Where downloads are written: a tmpfs when there is one, so the disk does not set the pace. */
  outDir: string;
  /** The files both servers serve: `big.bin` (measured) and `warm.bin` (4 MiB, warm-up). */
  tree: string;
  expected: Expected;
}

/** The folders and files of a transfer bench, the same bytes for the baseline and for polyprov. */
export function makeTransferFiles(bench: string, sizeMiB: number): TransferFiles {
  const work = mkdtempSync(join(tmpdir(), `polyprov-bench-${bench}-`));
  registerTempDir(work);
  const outDir = mkdtempSync(join(existsSync(FAST_TEMP) ? FAST_TEMP : tmpdir(), `polyprov-bench-${bench}-out-`));
  registerTempDir(outDir);
  const tree = join(work, 'tree');
  mkdirSync(tree);
  progress(`making a ${sizeMiB} MiB file of random bytes in ${work}…`);
  const big = randomBytes(sizeMiB * MiB);
  writeFileSync(join(tree, 'big.bin'), big);
  writeFileSync(join(tree, 'warm.bin'), randomBytes(4 * MiB));
  return { work, outDir, tree, expected: { size: big.length, sha256: createHash('sha256').update(big).digest('hex') } };
}
