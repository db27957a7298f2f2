import { Readable, Writable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { Client } from 'basic-ftp';
import { runCommand } from './processes.js';

// The FTP clients of the bench, the same for both servers:
//   - curl for RETR: C, sendfile-speed servers are not held back by it; `-w` reports each
//     transfer's byte count and time, so downloads can go to /dev/null and still be checked;
//   - basic-ftp (in this process) for APPE: one logged-in session, one APPE per chunk, each over
//     a new passive data connection, as a phone appending to its log does.

export const CURL = '/usr/bin/curl';

export interface FtpLogin {
  port: number;
  user: string;
  password: string;
}

const url = (l: FtpLogin, path: string) => `ftp://${encodeURIComponent(l.user)}:${encodeURIComponent(l.password)}@127.0.0.1:${l.port}/${path}`;

/**
 * curl downloading `path` once per output, in one session, printing per transfer
 * "<bytes> <total seconds> <seconds before the transfer began> <final reply code>".
 */
export function curlRetr(l: FtpLogin, path: string, outputs: string[], timeoutSeconds: number): { command: string; args: string[] } {
  return {
    command: CURL,
    args: [
      '-sS',
      '--max-time',
      String(timeoutSeconds),
      '-w',
      '%{size_download} %{time_total} %{time_pretransfer} %{response_code}\\n',
      ...outputs.flatMap((o) => [url(l, path), '-o', o]),
    ],
  };
}

export interface CurlTransfer {
  bytes: number;
  /** From the start of this transfer (connection or reuse) to its end. */
  seconds: number;
  /**
   * Until the data started to flow: login (first transfer), EPSV, the data connection, RETR.
   * curl 7.88 now and then waits a second of its own before it opens the passive data
   * connection (seen with --trace-time against vsftpd and polyprov alike); that lands here.
   */
  pretransferSeconds: number;
  code: number;
}

/** The transfers curl reported with curlRetr's -w format. */
export function curlTransfers(stdout: string): CurlTransfer[] {
  return stdout
    .trim()
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const [bytes, seconds, pretransfer, code] = l.trim().split(/\s+/).map(Number);
      return { bytes: bytes ?? NaN, seconds: seconds ?? NaN, pretransferSeconds: pretransfer ?? NaN, code: code ?? NaN };
    });
}

/** What is wrong with curl's report of `count` downloads of `size` bytes, if anything. */
export function judgeCurl(stdout: string, count: number, size: number): string | undefined {
  const t = curlTransfers(stdout);
  if (t.length !== count) return `curl reported ${t.length} transfer(s), expected ${count}`;
  const bad = t.find((x) => x.bytes !== size || x.code !== 226);
  return bad ? `curl received ${bad.bytes} bytes (final reply ${bad.code}), expected ${size} (226)` : undefined;
}

/** A single RETR into a file (for checking the bytes), bounded in time. */
export async function curlRetrToFile(l: FtpLogin, path: string, output: string, timeoutSeconds: number): Promise<string | undefined> {
  const { command, args } = curlRetr(l, path, [output], timeoutSeconds);
  const r = await runCommand(command, args, (timeoutSeconds + 5) * 1000);
  if (r.code !== 0) return `curl exited with ${r.code ?? r.signal}: ${r.stderr.trim().slice(-300)}`;
  return undefined;
}

export interface AppendRun {
  /** Chunks acknowledged (226) before the end, an error or the deadline. */
  appended: number;
  elapsedMs: number;
  latenciesMs: number[];
  error?: string;
  cutShort: boolean;
}

/** One session, one APPE per chunk, in order, until done, an error or the deadline. */
export async function appendChunks(l: FtpLogin, remotePath: string, chunks: Buffer[], deadline: number, opTimeoutMs: number): Promise<AppendRun> {
  const client = new Client(opTimeoutMs);
  const latenciesMs: number[] = [];
  let appended = 0;
  let cutShort = false;
  const started = performance.now();
  try {
    await client.access({ host: '127.0.0.1', port: l.port, user: l.user, password: l.password });
    const began = performance.now();
    for (const chunk of chunks) {
      if (performance.now() >= deadline) {
        cutShort = true;
        break;
      }
      const t0 = performance.now();
      await client.appendFrom(Readable.from([chunk]), remotePath);
      latenciesMs.push(performance.now() - t0);
      appended++;
    }
    return { appended, elapsedMs: performance.now() - began, latenciesMs, cutShort };
  } catch (err) {
    return { appended, elapsedMs: performance.now() - started, latenciesMs, cutShort, error: `APPE ${appended + 1}: ${(err as Error).message}` };
  } finally {
    client.close();
  }
}

/** The whole file over RETR, in its own session. */
export async function retrieve(l: FtpLogin, remotePath: string, opTimeoutMs: number, maxBytes: number): Promise<Buffer> {
  const client = new Client(opTimeoutMs);
  const parts: Buffer[] = [];
  let total = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      total += chunk.length;
      if (total > maxBytes) return cb(new Error(`more than ${maxBytes} bytes`));
      parts.push(chunk);
      cb();
    },
  });
  try {
    await client.access({ host: '127.0.0.1', port: l.port, user: l.user, password: l.password });
    await client.downloadTo(sink, remotePath);
    return Buffer.concat(parts);
  } finally {
    client.close();
  }
}
