import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { exitedChildrenCpu, machineBusyCpu, runCommand, watchTreeCpu, type CommandResult } from './processes.js';

// Downloads by N client processes at once (atftp for TFTP, curl for FTP), each timed from spawn to
// exit, and the check that what they wrote is what the server holds.

export interface Expected {
  size: number;
  sha256: string;
}

export interface ConcurrentResult {
  /** From the first spawn to the last exit. */
  wallMs: number;
  /** Each client's own time, spawn to exit. */
  clientMs: number[];
  /** CPU of the client processes (Linux /proc), seconds. */
  clientCpuSeconds: number | undefined;
  /** CPU of the server's process tree (Linux /proc), seconds. */
  serverCpuSeconds: number | undefined;
  /** CPU of this process (spawning and waiting for the clients, sampling the server), seconds. */
  benchCpuSeconds: number;
  /** CPU used by everything else on the machine meanwhile (other people's work), seconds. */
  otherCpuSeconds: number | undefined;
  /** One line per failed or wrong download. */
  failures: string[];
  /** Downloads whose content was compared by sha256 (the others by size). */
  hashed: number;
  /** What each client process did (exit, output). */
  results: CommandResult[];
}

/**
 * Runs `clients` processes of `command(output)` at once. The first `toFile` write to a file in
 * `outDir` (a tmpfs where there is one), which must have the expected size, and the first `hash`
 * of those must have its sha256 too; the files are removed afterwards. The others write to
 * /dev/null and are judged by `judge` on the client's own report (a byte count).
 */
export async function downloadConcurrently(opts: {
  clients: number;
  outDir: string;
  tag: string;
  timeoutMs: number;
  expected: Expected;
  toFile: number;
  hash: number;
  command: (output: string) => { command: string; args: string[] };
  /** What is wrong according to the client's own output, if anything (its exit status is checked already). */
  judge?: (r: CommandResult) => string | undefined;
  /** The server's main process: its tree's CPU is measured (see watchTreeCpu for sampleEveryMs). */
  server?: { pid: number; sampleEveryMs?: number };
}): Promise<ConcurrentResult> {
  const files = Array.from({ length: opts.clients }, (_, i) => (i < opts.toFile ? join(opts.outDir, `${opts.tag}-${i}.out`) : '/dev/null'));
  const watch = opts.server ? watchTreeCpu(opts.server.pid, opts.server.sampleEveryMs) : undefined;
  const machine0 = machineBusyCpu();
  const cpu0 = exitedChildrenCpu();
  const own0 = process.cpuUsage();
  const started = performance.now();
  const results = await Promise.all(
    files.map((f) => {
      const { command, args } = opts.command(f);
      return runCommand(command, args, opts.timeoutMs);
    }),
  );
  const wallMs = performance.now() - started;
  const cpu1 = exitedChildrenCpu();
  const serverCpu = await watch?.stop();
  const own = process.cpuUsage(own0);
  const benchCpu = (own.user + own.system) / 1e6;
  const machine1 = machineBusyCpu();
  const clientCpu = cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined;
  const failures: string[] = [];
  let hashed = 0;
  for (let i = 0; i < results.length; i++) {
    const r = results[i]!;
    const why = r.timedOut
      ? `killed after ${opts.timeoutMs / 1000} s`
      : r.code !== 0
        ? `exited with ${r.code ?? r.signal}: ${lastLine(r.stderr || r.stdout)}`
        : opts.judge?.(r);
    if (why) {
      failures.push(`client ${i + 1}: ${why}`);
      continue;
    }
    if (i >= opts.toFile) continue;
    const wrong = await verify(files[i]!, opts.expected, i < opts.hash);
    if (i < opts.hash) hashed++;
    if (wrong) failures.push(`client ${i + 1}: ${wrong}`);
  }
  await Promise.all(files.slice(0, opts.toFile).map((f) => rm(f, { force: true })));
  return {
    wallMs,
    clientMs: results.map((r) => r.elapsedMs),
    clientCpuSeconds: clientCpu,
    serverCpuSeconds: serverCpu,
    benchCpuSeconds: benchCpu,
    otherCpuSeconds:
      machine0 !== undefined && machine1 !== undefined && serverCpu !== undefined && clientCpu !== undefined
        ? Math.max(0, machine1 - machine0 - serverCpu - clientCpu - benchCpu)
        : undefined,
    failures,
    hashed,
    results,
  };
}

/** What is wrong with a downloaded file, or undefined when it is right. */
export async function verify(file: string, expected: Expected, hash: boolean): Promise<string | undefined> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    return 'wrote no file';
  }
  if (size !== expected.size) return `got ${size} bytes, expected ${expected.size}`;
  if (!hash) return undefined;
  const sha = await sha256File(file);
  return sha === expected.sha256 ? undefined : `content differs (sha256 ${sha.slice(0, 16)}…, expected ${expected.sha256.slice(0, 16)}…)`;
}

export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file, { highWaterMark: 1 << 20 })
      .on('data', (d) => h.update(d))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}

export function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').slice(0, 300);
}
