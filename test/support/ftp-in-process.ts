import { rmSync } from 'node:fs';
import type { AdminContext } from '../../src/admin/admin-context.js';
import { addTenant } from '../../src/admin/tenants.js';
import { startFtpEdge, type FtpEdgeOptions, type RunningFtpEdge } from '../../src/servers/ftp/ftp-edge.js';
import { loadTlsMaterial } from '../../src/servers/http/tls-material.js';
import { startInProcessCore } from './in-process-core.js';
import { tempDir } from './server-process.js';

export const IN_PROCESS_PASSWORD = 'acme-in-process-1';

/** One self-signed certificate for every edge of a test file: generating an RSA key takes a while. */
let sharedTls: Promise<{ key: string; cert: string }> | undefined;
function testTls() {
  sharedTls ??= (async () => {
    const dir = tempDir('polyprov-ftp-tls-');
    const { key, cert } = await loadTlsMaterial({ dataDir: dir, hostnames: ['localhost', '127.0.0.1'] });
    rmSync(dir, { recursive: true, force: true });
    return { key, cert };
  })();
  return sharedTls;
}

export interface InProcessFtp {
  edge: RunningFtpEdge;
  ctx: AdminContext;
  /** Every log record the edge and the core wrote. */
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

/**
 * The FTP edge on a real core, store and certificate, built the way src/app.ts runServer does, but
 * in this process: for what needs edge options a `polyprov serve` does not expose (tiny timeouts,
 * a session cap, an IPv6 listener).
 */
export async function startInProcessFtp(opts: Partial<Omit<FtpEdgeOptions, 'logger'>> = {}): Promise<InProcessFtp> {
  const base = await startInProcessCore();
  const { ctx, core, logger, logs } = base;
  await addTenant(ctx, 'acme', { password: IN_PROCESS_PASSWORD });
  const tls = await testTls();
  const edge = await startFtpEdge(core, {
    logger,
    host: '127.0.0.1',
    port: 0,
    tls: { key: tls.key, cert: tls.cert },
    implicitTls: false,
    passivePorts: { min: 0, max: 0 },
    idleTimeoutMs: 10_000,
    ...opts,
  });
  return {
    edge,
    ctx,
    logs,
    async close() {
      await edge.close();
      await base.close();
    },
  };
}
