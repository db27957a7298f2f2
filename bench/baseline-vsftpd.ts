import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freeTcpPort } from './free-port.js';
import { startServer, type Server } from './processes.js';

// The FTP baseline: vsftpd (Debian package), run in the foreground on loopback with a generated
// configuration file. Anonymous login (user "anonymous", any password) into a temp folder, with
// download, upload and append allowed, and no system user created:
//
//   listen=YES, listen_ipv6=NO, listen_address=127.0.0.1, listen_port=PORT, background=NO
//       standalone on loopback, in the foreground (the bench owns and kills its process group)
//   run_as_launching_user=YES
//       no privilege separation and no chroot: vsftpd stays the launching user, which can read
//       and write the temp folder (as root, it would otherwise switch to "ftp" and refuse a
//       writable chroot root)
//   anonymous_enable=YES, no_anon_password=YES, local_enable=NO, anon_root=DIR
//   write_enable=YES, anon_upload_enable=YES (STOR and APPE), anon_other_write_enable=YES,
//   anon_world_readable_only=NO (its own uploads are created mode 0600)
//   secure_chroot_dir=EMPTY   an empty temp folder (the default /var/run/vsftpd/empty may not exist)
//   pasv_enable=YES, pasv_address=127.0.0.1, pasv_min_port/pasv_max_port = the given range
//   seccomp_sandbox=NO        its seccomp filter does not know every syscall of newer kernels
//   xferlog_enable=NO, dirmessage_enable=NO, connect_from_port_20=NO, use_sendfile=YES (default)
//   max_clients/max_per_ip=200 so that concurrent clients are not refused
//
// It forks one process per session and sends files with sendfile(2).

export const VSFTPD = '/usr/sbin/vsftpd';
export const VSFTPD_USER = 'anonymous';
export const VSFTPD_PASSWORD = 'bench@example.com';

export async function startVsftpd(root: string, workDir: string, passive: { min: number; max: number }): Promise<Server> {
  const empty = join(workDir, 'vsftpd-empty');
  mkdirSync(empty, { recursive: true });
  let lastError: unknown;
  // The free port is found before vsftpd binds it: another process may take it in between.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freeTcpPort();
    const conf = join(workDir, `vsftpd-${port}.conf`);
    writeFileSync(conf, vsftpdConfig(port, root, empty, passive));
    try {
      return await startServer({
        name: 'vsftpd',
        command: VSFTPD,
        args: [conf],
        readyWhen: () => undefined,
        probe: { port, ready: () => greetsFtp(port) },
        timeoutMs: 10_000,
      });
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

function vsftpdConfig(port: number, root: string, empty: string, passive: { min: number; max: number }): string {
  return (
    [
      'listen=YES',
      'listen_ipv6=NO',
      'listen_address=127.0.0.1',
      `listen_port=${port}`,
      'background=NO',
      'run_as_launching_user=YES',
      'anonymous_enable=YES',
      'no_anon_password=YES',
      'local_enable=NO',
      `anon_root=${root}`,
      'write_enable=YES',
      'anon_upload_enable=YES',
      'anon_other_write_enable=YES',
      'anon_world_readable_only=NO',
      `secure_chroot_dir=${empty}`,
      'pasv_enable=YES',
      'pasv_address=127.0.0.1',
      `pasv_min_port=${passive.min}`,
      `pasv_max_port=${passive.max}`,
      'seccomp_sandbox=NO',
      'xferlog_enable=NO',
      'dirmessage_enable=NO',
      'connect_from_port_20=NO',
      'max_clients=200',
      'max_per_ip=200',
    ].join('\n') + '\n'
  );
}

/** True when an FTP server on the port sends its 220 greeting within 500 ms. */
export function greetsFtp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 500);
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('\n')) done(got.startsWith('220'));
    });
    s.once('error', () => done(false));
    s.once('close', () => done(false));
  });
}
