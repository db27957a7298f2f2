import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { CliResult } from './server-process.js';

// The `polyprov` command line as a child process that does not block the test's event loop, so a
// UDP or HTTP "phone" in the test process keeps answering while the command runs, and a test can
// send the command a signal (Ctrl-C) half-way.

const ROOT = new URL('../..', import.meta.url).pathname;
const MAIN = join(ROOT, 'src/cli/main.ts');

/** How a command ended: exit code (-1 when killed by a signal) and the signal, if any. */
export interface CliExit extends CliResult {
  signal: NodeJS.Signals | null;
}

/** A running `polyprov` command; always `kill()` it in a finally. */
export interface RunningCli {
  readonly child: ChildProcess;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Settles when the process exits (it is killed with SIGKILL after `timeoutMs`). */
  readonly exited: Promise<CliExit>;
  /** Sends a signal, e.g. SIGINT as Ctrl-C does; a no-op once the process has exited. */
  signal(sig: NodeJS.Signals): void;
  /** SIGKILL if still running, then the exit; safe to call more than once. */
  kill(): Promise<CliExit>;
}

export interface CliAsyncOptions {
  env?: NodeJS.ProcessEnv;
  /** The process is killed after this long; default 60 s. */
  timeoutMs?: number;
}

/** Starts `polyprov --data <dataDir> …args` and returns at once. */
export function spawnCli(dataDir: string, args: string[], opts: CliAsyncOptions = {}): RunningCli {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--data', dataDir, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const running = () => child.exitCode === null && child.signalCode === null;
  const timer = setTimeout(() => {
    if (running()) child.kill('SIGKILL');
  }, opts.timeoutMs ?? 60_000);
  const exited = new Promise<CliExit>((resolve) => {
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: -1, signal: null, stdout: out, stderr: `${err}\nspawn failed: ${e.message}` });
    });
    // 'close' rather than 'exit': the pipes are drained by then, so no output is lost.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, signal, stdout: out, stderr: err });
    });
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    signal(sig) {
      if (running()) child.kill(sig);
    },
    async kill() {
      if (running()) child.kill('SIGKILL');
      return exited;
    },
  };
}

/** Runs `polyprov --data <dataDir> …args` to the end without blocking the event loop. */
export async function cliAsync(dataDir: string, args: string[], opts: CliAsyncOptions = {}): Promise<CliExit> {
  return spawnCli(dataDir, args, opts).exited;
}
