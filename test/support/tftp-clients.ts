import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';

/** The real TFTP clients phones are compared with: curl, atftp and tftp-hpa, run as child processes. */

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (killed after `timeoutMs`), without a shell. */
export function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `curl tftp://127.0.0.1:PORT/FILE -o OUT` with extra curl arguments (--tftp-blksize, --tftp-no-options, -T). */
export function curlTftp(port: number, file: string, out: string, args: string[] = [], host = '127.0.0.1'): Promise<Run> {
  return run('curl', ['-sS', '--max-time', '60', ...args, '-o', out, `tftp://${host.includes(':') ? `[${host}]` : host}:${port}/${file}`]);
}

export function curlTftpPut(port: number, localFile: string, remote: string, args: string[] = []): Promise<Run> {
  return run('curl', ['-sS', '--max-time', '60', ...args, '-T', localFile, `tftp://127.0.0.1:${port}/${remote}`]);
}

/** atftp 0.8: `--option "name value"` for each option. */
export function atftp(port: number, direction: 'get' | 'put', remote: string, local: string, options: Record<string, number> = {}): Promise<Run> {
  const opts = Object.entries(options).flatMap(([k, v]) => ['--option', `${k} ${v}`]);
  return run('atftp', [direction === 'get' ? '--get' : '--put', '-r', remote, '-l', local, ...opts, '127.0.0.1', String(port)]);
}

/** tftp-hpa's client (RFC 1350 only: it negotiates no options). */
export function hpaGet(port: number, remote: string, local: string, verbose = false): Promise<Run> {
  return run('tftp', ['127.0.0.1', String(port), '-m', 'binary', ...(verbose ? ['-v'] : []), '-c', 'get', remote, local]);
}

export function sha256File(path: string): string | null {
  return existsSync(path) ? createHash('sha256').update(readFileSync(path)).digest('hex') : null;
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
