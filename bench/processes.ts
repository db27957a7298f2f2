import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

// Child processes of the bench (polyprov, the baseline) and the temporary folders: every one is
// registered here, so that a normal end, an error or Ctrl-C all leave nothing behind.

export const ROOT = new URL('..', import.meta.url).pathname;

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

export function registerTempDir(dir: string): void {
  tempDirs.add(dir);
}

/** Kills what is still running (the whole process group of each child) and removes temp folders. Synchronous, for exit paths. */
export function cleanUpNow(): void {
  for (const c of children) killGroup(c, 'SIGKILL');
  children.clear();
  for (const d of tempDirs) {
    try {
      // A server just sent SIGKILL may still create a file or two: retry on ENOTEMPTY.
      rmSync(d, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    } catch (err) {
      process.stderr.write(`could not remove ${d}: ${(err as Error).message}\n`);
    }
  }
  tempDirs.clear();
}

/**
 * Runs a bench's `main` and exits with its status. Children and temporary folders are cleaned up
 * on every way out: a normal end, an error, Ctrl-C (SIGINT), SIGTERM and SIGHUP.
 */
export function runBench(main: () => Promise<number>): void {
  let interrupted = false;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      if (interrupted) return;
      interrupted = true;
      process.stderr.write(`\n${sig}: stopping the servers and removing temporary files\n`);
      cleanUpNow();
      process.exit(130);
    });
  }
  process.on('exit', cleanUpNow);
  main().then(
    (code) => {
      cleanUpNow();
      process.exit(code);
    },
    (err: unknown) => {
      process.stderr.write(`bench: ${(err as Error)?.stack ?? String(err)}\n`);
      cleanUpNow();
      process.exit(1);
    },
  );
}

function killGroup(c: ChildProcess, signal: NodeJS.Signals): void {
  if (c.pid === undefined) return;
  try {
    // Children run in their own process group (detached), so this reaches cluster workers too.
    process.kill(-c.pid, signal);
  } catch {
    /* already gone */
  }
}

export interface Server {
  port: number;
  pid: number;
  /** Log lines at level warn or above that the server wrote (pino JSON on stdout). */
  warnings: string[];
  stop(): Promise<void>;
}

export interface StartOptions {
  name: string;
  args: string[];
  /** The whole environment of the child (default: ours). */
  env?: NodeJS.ProcessEnv;
  /** Returns the HTTP port when the line says the server is ready to accept phones. */
  readyWhen: (line: string) => number | undefined;
  timeoutMs?: number;
  /** The program to run instead of node (a classic server used as a baseline, e.g. in.tftpd). */
  command?: string;
  /**
   * For servers that print nothing when ready: the port they were told to use, and a check that
   * answers true once they serve it. It is tried every 50 ms until it does (or the time runs out);
   * readyWhen is then ignored.
   */
  probe?: { port: number; ready: () => Promise<boolean> };
}

/** Starts `node <args>` (or `command <args>`) in its own process group, loopback only by its arguments, and waits until it is ready. */
export async function startServer(opts: StartOptions): Promise<Server> {
  const child = spawn(opts.command ?? process.execPath, opts.args, {
    cwd: ROOT,
    env: opts.env ?? process.env,
    // stdin stays open as a lifeline: the baseline exits when it closes (polyprov ignores it).
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-8000);
  });
  const warnings: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let earlyExit: ((code: number | null, signal: NodeJS.Signals | null) => void) | undefined;
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${opts.name} did not start within ${opts.timeoutMs ?? 30_000} ms; stderr:\n${stderr}`)), opts.timeoutMs ?? 30_000);
    earlyExit = (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${opts.name} exited (${code ?? signal}) before it was ready; stderr:\n${stderr}`));
    };
    child.once('exit', earlyExit);
    if (opts.probe) {
      const { port, ready } = opts.probe;
      let settled = false;
      child.once('exit', () => (settled = true));
      const attempt = (): void => {
        if (settled) return;
        ready().then(
          (ok) => {
            if (settled) return;
            if (ok) {
              settled = true;
              clearTimeout(timer);
              resolve(port);
            } else setTimeout(attempt, 50).unref();
          },
          () => setTimeout(attempt, 50).unref(),
        );
      };
      setTimeout(attempt, 20).unref();
    }
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('{')) {
        try {
          const rec = JSON.parse(line) as { level?: number };
          if (typeof rec.level === 'number' && rec.level >= 40 && warnings.length < 100) warnings.push(line.slice(0, 500));
        } catch {
          /* not JSON */
        }
      }
      const p = opts.probe ? undefined : opts.readyWhen(line);
      if (p !== undefined) {
        clearTimeout(timer);
        resolve(p);
      }
    });
  }).catch((err: unknown) => {
    killGroup(child, 'SIGKILL');
    children.delete(child);
    throw err;
  });
  child.off('exit', earlyExit!);

  return {
    port,
    pid: child.pid!,
    warnings,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        // SIGTERM to the main process only: polyprov's primary then shuts its workers down in order.
        child.kill('SIGTERM');
        const done = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000).unref())]);
        if (!done) process.stderr.write(`  ${opts.name} did not stop within 10 s: killing it\n`);
      }
      // Whatever is left of its group (workers, tsx's esbuild service) goes too.
      killGroup(child, 'SIGKILL');
      children.delete(child);
    },
  };
}

/**
 * `{"msg":"listening","protocol":P,"port":N}`, or polyprov's banner line `P  p://host:N/` (the
 * banner is printed once every worker listens; the JSON line comes from each worker).
 */
export function listeningPort(line: string, protocol: 'http' | 'https' | 'tftp' | 'ftp' | 'ftps', acceptJson: boolean): number | undefined {
  if (acceptJson && line.startsWith('{')) {
    try {
      const rec = JSON.parse(line) as { msg?: unknown; protocol?: unknown; port?: unknown };
      if (rec.msg === 'listening' && rec.protocol === protocol && typeof rec.port === 'number') return rec.port;
    } catch {
      return undefined;
    }
  }
  // The URL may be followed by a remark, e.g. "(no login: …)".
  const m = new RegExp(`^\\s*${protocol.toUpperCase()}\\s+${protocol}://\\S+:(\\d+)/?(\\s|$)`).exec(line);
  return m ? Number(m[1]) : undefined;
}

/** `{"msg":"listening","protocol":"http","port":N}`, or polyprov's banner line `HTTP  http://host:N/`. */
export function httpListeningPort(line: string, acceptJson: boolean): number | undefined {
  if (acceptJson && line.startsWith('{')) {
    try {
      const rec = JSON.parse(line) as { msg?: unknown; protocol?: unknown; port?: unknown };
      if (rec.msg === 'listening' && rec.protocol === 'http' && typeof rec.port === 'number') return rec.port;
    } catch {
      return undefined;
    }
  }
  const m = /^\s*HTTP\s+http:\/\/\S+:(\d+)\/\s*$/.exec(line);
  return m ? Number(m[1]) : undefined;
}

// ---------------------------------------------------------------------------------------------
// CPU time of a process tree (Linux /proc; elsewhere the figures are left out).

let clockTicks: number | undefined;

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

interface ProcStat {
  pid: number;
  ppid: number;
  /** user + system CPU, clock ticks */
  ticks: number;
  /** user + system CPU of its children that have exited and been waited for, clock ticks */
  reapedTicks: number;
}

function readStat(pid: number | 'self'): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pid: pid === 'self' ? process.pid : pid, ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), reapedTicks: Number(f[13]) + Number(f[14]) };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds used so far by the child processes of this process that have exited (clients run
 * one process per transfer, e.g. atftp or curl), or undefined without /proc.
 */
export function exitedChildrenCpu(): number | undefined {
  const s = readStat('self');
  return s ? s.reapedTicks / ticksPerSecond() : undefined;
}

/**
 * CPU seconds used so far by `root` and all its descendants (per pid), or undefined without /proc.
 * With `includeExited`, each process also counts its children that have exited: classic servers
 * fork a process per transfer or session (in.tftpd, vsftpd), and those are gone by the end.
 */
export function treeCpu(root: number, includeExited = false): Map<number, number> | undefined {
  let pids: number[];
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
  } catch {
    return undefined;
  }
  const stats = new Map<number, ProcStat>();
  for (const pid of pids) {
    const s = readStat(pid);
    if (s) stats.set(pid, s);
  }
  if (!stats.has(root)) return undefined;
  const tps = ticksPerSecond();
  const out = new Map<number, number>();
  const walk = (pid: number, depth: number) => {
    const s = stats.get(pid);
    if (!s || depth > 8) return;
    out.set(pid, (s.ticks + (includeExited ? s.reapedTicks : 0)) / tps);
    for (const c of stats.values()) if (c.ppid === pid) walk(c.pid, depth + 1);
  };
  walk(root, 0);
  return out;
}

/** CPU seconds all CPUs of the machine have been busy so far (Linux /proc/stat), or undefined. */
export function machineBusyCpu(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    return (user! + nice! + system! + irq! + softirq! + (steal ?? 0)) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

/** CPU seconds the tree spent between two treeCpu() readings (processes present at the end only). */
export function cpuBetween(before: Map<number, number> | undefined, after: Map<number, number> | undefined): number | undefined {
  if (!before || !after) return undefined;
  let sum = 0;
  for (const [pid, t] of after) sum += t - (before.get(pid) ?? 0);
  return sum;
}

// ---------------------------------------------------------------------------------------------
// Client programs (atftp, curl): one process per transfer, bounded in time, killed on every exit
// path of the bench like the servers.

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last 64 KB of its standard output. */
  stdout: string;
  /** The last 8 KB of its standard error. */
  stderr: string;
  /** From spawn to exit. */
  elapsedMs: number;
  /** performance.now() at spawn and at exit. */
  startedAt: number;
  endedAt: number;
  /** Killed because it ran longer than its time limit. */
  timedOut: boolean;
}

/** Runs `command args` in its own process group; past `timeoutMs` the group is killed (and the result says so). */
export function runCommand(command: string, args: string[], timeoutMs: number): Promise<CommandResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    children.add(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let exited: { code: number | null; signal: NodeJS.Signals | null; at: number } | undefined;
    child.stdout!.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-65536)));
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8192)));
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child, 'SIGKILL');
    }, timeoutMs);
    let done = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null, at: number) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, signal, stdout, stderr, elapsedMs: at - started, startedAt: started, endedAt: at, timedOut });
    };
    child.once('error', (err) => {
      stderr += `\n${err.message}`;
      finish(null, null, performance.now());
    });
    // The time is taken at exit; the result waits for the output pipes to be read to their end.
    child.once('exit', (code, signal) => (exited = { code, signal, at: performance.now() }));
    child.once('close', () => exited && finish(exited.code, exited.signal, exited.at));
  });
}

/**
 * CPU seconds a server's process tree uses from now until `stop()`. Classic servers fork a process
 * per transfer or session: `stop()` first waits (up to a second) until those are gone, so that
 * a server that waits for its children has added their CPU to its own (vsftpd). One that does not
 * (in.tftpd ignores SIGCHLD) is caught by sampling the tree every `sampleEveryMs`: each such
 * process then loses the CPU of its last interval at most. Without sampling, only processes alive
 * at the end and the children their parents waited for count.
 */
export function watchTreeCpu(root: number, sampleEveryMs?: number): { stop(): Promise<number | undefined> } {
  const first = treeCpu(root, true);
  const latest = new Map(first ?? []);
  const sample = () => {
    const now = treeCpu(root, true);
    for (const [pid, t] of now ?? []) if (t > (latest.get(pid) ?? 0)) latest.set(pid, t);
    return now;
  };
  const timer = sampleEveryMs ? setInterval(sample, sampleEveryMs) : undefined;
  return {
    async stop() {
      for (let waited = 0; waited < 1000; waited += 20) {
        const now = sample();
        if (!now || [...now.keys()].every((pid) => first?.has(pid))) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      if (timer) clearInterval(timer);
      sample();
      if (!first) return undefined;
      let used = 0;
      for (const [pid, t] of latest) used += t - (first.get(pid) ?? 0);
      return used;
    },
  };
}

/**
 * sync(1): the files a bench just wrote go to disk before it measures, rather than the kernel's
 * write-back landing in the middle of a measurement. Bounded; a failure only costs accuracy.
 */
export async function flushToDisk(): Promise<void> {
  const r = await runCommand('sync', [], 60_000);
  if (r.code !== 0) process.stderr.write(`  sync failed (${r.timedOut ? 'timed out' : `exit ${r.code ?? r.signal}`}): measuring anyway\n`);
}
