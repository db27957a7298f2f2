import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { PassThrough, Readable, Writable } from 'node:stream';
import { Client } from 'basic-ftp';

/** The three ways a phone reaches the FTP edge. */
export type FtpMode = 'plain' | 'explicit' | 'implicit';
export const FTP_MODES: FtpMode[] = ['plain', 'explicit', 'implicit'];

export interface FtpPorts {
  ftpPort: number;
  ftpsPort: number;
}

/** curl's URL and flags for a mode: explicit FTPS is ftp:// with --ssl-reqd, implicit is ftps:// on its own port. */
export function curlTarget(mode: FtpMode, ports: FtpPorts, path: string): { url: string; args: string[] } {
  const p = path.replace(/^\/+/, '');
  if (mode === 'implicit') return { url: `ftps://127.0.0.1:${ports.ftpsPort}/${p}`, args: [] };
  return { url: `ftp://127.0.0.1:${ports.ftpPort}/${p}`, args: mode === 'explicit' ? ['--ssl-reqd'] : [] };
}

export interface CurlFtpResult {
  /** curl's exit code: 0 success, 67 login denied, 78 file not found, 9/19/25 refusals. */
  exit: number;
  stdout: Buffer;
  stderr: string;
}

/** The real curl as an FTP client, without blocking the event loop (so several can run at once). */
export function curlFtp(mode: FtpMode, ports: FtpPorts, path: string, args: string[] = []): Promise<CurlFtpResult> {
  const t = curlTarget(mode, ports, path);
  return new Promise((resolve, reject) => {
    execFile(
      'curl',
      ['-sS', '-k', '--max-time', '20', ...t.args, ...args, t.url],
      { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024, timeout: 30_000 },
      (err, stdout, stderr) => {
        if (err && typeof (err as NodeJS.ErrnoException).code === 'string') return reject(err);
        resolve({ exit: err ? Number((err as { code?: number }).code ?? -1) : 0, stdout, stderr: stderr.toString() });
      },
    );
  });
}

/** A logged-in basic-ftp client in one of the modes; the caller closes it. */
export async function basicFtp(mode: FtpMode, ports: FtpPorts, user: string, password: string): Promise<Client> {
  const client = new Client(10_000);
  await client.access({
    host: '127.0.0.1',
    port: mode === 'implicit' ? ports.ftpsPort : ports.ftpPort,
    user,
    password,
    secure: mode === 'plain' ? false : mode === 'explicit' ? true : 'implicit',
    secureOptions: { rejectUnauthorized: false },
  });
  return client;
}

/** A whole download into memory through basic-ftp. */
export async function download(client: Client, path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  await client.downloadTo(sink, path);
  return Buffer.concat(chunks);
}

export function source(data: Buffer | string): Readable {
  const s = new PassThrough();
  s.end(data);
  return s;
}

export function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}
