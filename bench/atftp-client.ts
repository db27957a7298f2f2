import { runCommand } from './processes.js';

// atftp 0.8 (Debian package atftp) as the TFTP client of the bench, for both servers:
//   atftp --get -r REMOTE -l LOCAL --option "blksize B" [--option "windowsize W"] 127.0.0.1 PORT
// It is the only client here that speaks windowsize (RFC 7440), so one client serves every row;
// lock-step it is as fast as curl's tftp:// and a little cheaper (64 MiB from in.tftpd: blksize
// 512, 0.83 s CPU vs 0.95 s; 1468, 0.30 s vs 0.32 s), leaving more of a 2-core machine to the server.

export const ATFTP = '/usr/bin/atftp';

export interface TftpOptions {
  blksize: number;
  /** RFC 7440; a server that does not implement it leaves it out of its OACK (lock-step then). */
  windowsize?: number;
}

export function atftpGet(port: number, remote: string, local: string, o: TftpOptions, trace = false): { command: string; args: string[] } {
  return {
    command: ATFTP,
    args: [
      ...(trace ? ['--trace'] : []),
      '--get',
      '-r',
      remote,
      '-l',
      local,
      '--option',
      `blksize ${o.blksize}`,
      ...(o.windowsize ? ['--option', `windowsize ${o.windowsize}`] : []),
      '127.0.0.1',
      String(port),
    ],
  };
}

/**
 * The options the server acknowledged for these, from atftp's trace of a small download: e.g.
 * { blksize: '1468', windowsize: '16' }, {} for a plain DATA answer (no OACK).
 */
export async function negotiatedOptions(port: number, remote: string, o: TftpOptions, timeoutMs: number): Promise<Record<string, string>> {
  const { command, args } = atftpGet(port, remote, '/dev/null', o, true);
  const r = await runCommand(command, args, timeoutMs);
  if (r.code !== 0) throw new Error(`atftp --trace ${remote}: ${r.timedOut ? `killed after ${timeoutMs / 1000} s` : `exited with ${r.code ?? r.signal}`}: ${(r.stderr || r.stdout).trim().slice(-300)}`);
  const oack = /received OACK <([^>]*)>/.exec(r.stdout + r.stderr)?.[1];
  const out: Record<string, string> = {};
  for (const part of (oack ?? '').split(',')) {
    const m = /^\s*(\w+):\s*(\S+)\s*$/.exec(part);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}
