import { createSocket } from 'node:dgram';
import { freeUdpPort } from './free-port.js';
import { startServer, type Server } from './processes.js';

// The TFTP baseline: tftp-hpa's in.tftpd (Debian package tftpd-hpa), the server most Poly
// deployments used before anything else, run in the foreground on loopback:
//
//   in.tftpd --foreground --address 127.0.0.1:PORT --secure --blocksize 65464 [--user root] DIR
//
// --secure chroots into DIR, so requests name files relative to it (like polyprov's tree);
// --blocksize allows any blksize a client asks for. It forks one process per transfer. It does not
// implement windowsize (RFC 7440): it leaves the option out of its OACK and sends lock-step.
// Run as root it drops to the user "nobody", which cannot read a private temp folder: --user root.

export const TFTPD = '/usr/sbin/in.tftpd';

export async function startTftpHpa(dir: string): Promise<Server> {
  let lastError: unknown;
  // The free port is found before in.tftpd binds it: another process may take it in between.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freeUdpPort();
    try {
      return await startServer({
        name: 'in.tftpd',
        command: TFTPD,
        args: [
          '--foreground',
          '--address',
          `127.0.0.1:${port}`,
          '--secure',
          '--blocksize',
          '65464',
          ...(process.getuid?.() === 0 ? ['--user', 'root'] : []),
          dir,
        ],
        readyWhen: () => undefined,
        probe: { port, ready: () => answersTftp(port) },
        timeoutMs: 10_000,
      });
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

/** True when a TFTP server on the port answers a read request (for a file that does not exist) within 200 ms. */
export function answersTftp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const done = (ok: boolean) => {
      clearTimeout(timer);
      s.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 200);
    s.once('error', () => done(false));
    // Any answer (an ERROR "file not found", normally) shows it serves requests.
    s.once('message', () => done(true));
    const rrq = Buffer.concat([Buffer.from([0, 1]), Buffer.from('polyprov-bench-probe.missing\0octet\0', 'latin1')]);
    s.send(rrq, port, '127.0.0.1');
  });
}
