import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
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
}

/** Starts `node <args>` in its own process group, loopback only by its arguments, and waits until it is ready. */
export async function startServer(opts: StartOptions): Promise<Server> {
  const child = spawn(process.execPath, opts.args, {
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
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('{')) {
        try {
          const rec = JSON.parse(line) as { level?: number };
          if (typeof rec.level === 'number' && rec.level >= 40 && warnings.length < 100) warnings.push(line.slice(0, 500));
        } catch {
          /* not JSON */
        }
      }
      const p = opts.readyWhen(line);
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
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pid, ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return undefined;
  }
}

/** CPU seconds used so far by `root` and all its descendants (per pid), or undefined without /proc. */
export function treeCpu(root: number): Map<number, number> | undefined {
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
    out.set(pid, s.ticks / tps);
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
