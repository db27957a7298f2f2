import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = new URL('../..', import.meta.url).pathname;
const MAIN = join(ROOT, 'src/cli/main.ts');

export function tempDir(prefix = 'polyprov-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface ServerProcess {
  httpUrl: string;
  httpsUrl: string;
  /** The admin REST API (port 0 when it did not report its port before the protocols were ready). */
  adminUrl: string;
  /** Ports of the other edges (0 when switched off). */
  tftpPort: number;
  ftpPort: number;
  ftpsPort: number;
  dataDir: string;
  child: ChildProcess;
  /** Every JSON log line the server wrote so far. */
  logs: Record<string, unknown>[];
  /** Every other stdout line (the banner). */
  banner: string[];
  stop(): Promise<void>;
}

/** Runs `polyprov serve` as a real child process on loopback, on ports the OS picks. */
export async function startServer(opts: { dataDir?: string; args?: string[]; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ServerProcess> {
  const dataDir = opts.dataDir ?? tempDir();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, 'serve', '--data', dataDir, '--host', '127.0.0.1', '--http-port', '0', '--https-port', '0', '--tftp-port', '0', '--ftp-port', '0', '--ftps-port', '0', '--admin-port', '0', '--workers', '1', '--inventory-flush-ms', '50', ...(opts.args ?? [])],
    { cwd: ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logs: Record<string, unknown>[] = [];
  const banner: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const ports: Record<string, number> = {};
  const wanted = ['http', 'https', 'tftp', 'ftp', 'ftps'].filter((p) => !opts.args?.includes(`--no-${p}`));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not left running: a server nobody holds would keep the test process alive for ever.
      child.kill('SIGKILL');
      reject(new Error(`server did not start in time; stderr:\n${stderr}`));
    }, opts.timeoutMs ?? 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}; stderr:\n${stderr}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) {
        banner.push(line);
        return;
      }
      try {
        const rec = JSON.parse(line) as Record<string, unknown>;
        logs.push(rec);
        // Listeners bound to one tenant come after the main one of their protocol.
        if (rec.msg === 'listening' && !rec.tenant) ports[rec.protocol as string] = rec.port as number;
        if (wanted.every((p) => ports[p])) {
          clearTimeout(timer);
          resolve();
        }
      } catch {
        /* not a log line */
      }
    });
  });
  child.removeAllListeners('exit');
  return {
    httpUrl: `http://127.0.0.1:${ports.http}`,
    httpsUrl: `https://127.0.0.1:${ports.https}`,
    adminUrl: `${opts.args?.includes('--admin-tls') ? 'https' : 'http'}://127.0.0.1:${ports['admin-api'] ?? 0}`,
    tftpPort: ports.tftp ?? 0,
    ftpPort: ports.ftp ?? 0,
    ftpsPort: ports.ftps ?? 0,
    dataDir,
    child,
    logs,
    banner,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `polyprov` command line against a data folder. */
export function cli(dataDir: string, args: string[]): CliResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, '--data', dataDir, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
