import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { ROOT } from './processes.js';

// npm run bench [-- --repeat 1 --workers 1]
//
// Every benchmark, one after another: config fetch (HTTP), TFTP, FTP, firmware download (HTTP).
// Each runs as its own process with its own cleanup; a failing one does not stop the next.

const BENCHES = ['bench/config-fetch.ts', 'bench/tftp-transfer.ts', 'bench/ftp-transfer.ts', 'bench/firmware-download.ts', 'bench/bulk-import.ts'];
// The import bench runs in one process: it takes --repeat but no --workers.
const SINGLE_PROCESS = new Set(['bench/bulk-import.ts']);

const USAGE = `usage: npm run bench -- [--repeat R] [--workers LIST]

Runs every benchmark one after another, each with its defaults and these
options if given: config fetch (bench/config-fetch.ts), TFTP
(bench/tftp-transfer.ts), FTP (bench/ftp-transfer.ts), firmware download
over HTTP (bench/firmware-download.ts), CSV import of 100,000 devices
(bench/bulk-import.ts). See --help of each. A failing bench
does not stop the next. Exit status: the worst of theirs (1 an error, 2 a
missed target of the config-fetch bench, the firmware bench's RSS target or
the import bench's rows/s,
0 otherwise); 130 when interrupted.`;

/** 1 (an error) outranks 2 (a missed target: config-fetch's, firmware RSS flatness), which outranks 0. */
const worse = (a: number, b: number) => (a === 1 || b === 1 ? 1 : Math.max(a, b));

function run(file: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], { cwd: ROOT, stdio: 'inherit' });
    child.once('error', () => resolve(1));
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

async function main(): Promise<number> {
  let values: { repeat?: string; workers?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ args: process.argv.slice(2), options: { repeat: { type: 'string' }, workers: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n${USAGE}\n`);
    return 1;
  }
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const args = [...(values.repeat ? ['--repeat', values.repeat] : []), ...(values.workers ? ['--workers', values.workers] : [])];
  // Ctrl-C reaches the running bench too (same process group), which cleans up after itself;
  // this one then waits for it and starts no other.
  let interrupted = false;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => (interrupted = true));
  let status = 0;
  for (const file of BENCHES) {
    if (interrupted) return 130;
    const own = SINGLE_PROCESS.has(file) ? (values.repeat ? ['--repeat', values.repeat] : []) : args;
    process.stderr.write(`\n=== ${file} ${own.join(' ')}\n`);
    status = worse(status, await run(file, own));
  }
  return status;
}

main().then((code) => process.exit(code));
