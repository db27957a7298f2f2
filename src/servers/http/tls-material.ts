import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import selfsigned from 'selfsigned';

export interface TlsMaterial {
  key: string;
  cert: string;
  /** 'configured' files, or 'generated' (self-signed, kept in the data folder and reused). */
  source: 'configured' | 'generated';
  certPath: string;
}

/**
 * The embedded default must offer HTTPS with nothing to set up, so a self-signed certificate is
 * generated on first start and kept, so that phones which pinned it keep trusting it across restarts.
 * RSA rather than EC: SoundPoint-era firmware does not negotiate ECDSA.
 */
export async function loadTlsMaterial(opts: { certFile?: string; keyFile?: string; dataDir: string; hostnames: string[] }): Promise<TlsMaterial> {
  if (opts.certFile || opts.keyFile) {
    if (!opts.certFile || !opts.keyFile) throw new Error('give both --tls-cert and --tls-key, or neither to use a generated self-signed certificate');
    return { key: await readFile(opts.keyFile, 'utf8'), cert: await readFile(opts.certFile, 'utf8'), source: 'configured', certPath: opts.certFile };
  }
  const dir = join(opts.dataDir, 'tls');
  const certPath = join(dir, 'self-signed.crt');
  const keyPath = join(dir, 'self-signed.key');
  try {
    return { key: await readFile(keyPath, 'utf8'), cert: await readFile(certPath, 'utf8'), source: 'generated', certPath };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const now = new Date();
  const pems = await selfsigned.generate([{ name: 'commonName', value: opts.hostnames[0] ?? 'polyprov' }, { name: 'organizationName', value: 'polyprov' }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 86_400_000),
    notAfterDate: new Date(now.getTime() + 10 * 365 * 86_400_000),
    extensions: [
      {
        name: 'subjectAltName',
        altNames: opts.hostnames.map((h) => (/^[\d.]+$|:/.test(h) ? { type: 7, ip: h } : { type: 2, value: h })),
      },
    ],
  });
  await writeFile(keyPath, pems.private, { mode: 0o600, flag: 'wx' }).catch(async (err: NodeJS.ErrnoException) => {
    // Another worker or process won the race: use its pair.
    if (err.code !== 'EEXIST') throw err;
  });
  await writeFile(certPath, pems.cert, { mode: 0o644, flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  return { key: await readFile(keyPath, 'utf8'), cert: await readFile(certPath, 'utf8'), source: 'generated', certPath };
}
