import { rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { AdminContext } from '../../src/admin/admin-context.js';
import { addTenant } from '../../src/admin/tenants.js';
import { loadServerSecret, openAdminContext } from '../../src/app.js';
import { ProvisioningCore } from '../../src/provisioning/core.js';
import { DigestNonces } from '../../src/provisioning/credentials.js';
import { InventoryRecorder } from '../../src/provisioning/inventory-recorder.js';
import { startFtpEdge, type FtpEdgeOptions, type RunningFtpEdge } from '../../src/servers/ftp/ftp-edge.js';
import { loadTlsMaterial } from '../../src/servers/http/tls-material.js';
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
  const dataDir = tempDir();
  const ctx = await openAdminContext({ dataDir });
  await addTenant(ctx, 'acme', { password: IN_PROCESS_PASSWORD });
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  const inventory = new InventoryRecorder(ctx.store, logger, { flushMs: 50, maxPending: 1000 });
  const core = new ProvisioningCore({
    store: ctx.store,
    blobs: ctx.blobs,
    logFiles: ctx.logFiles,
    logger,
    inventory,
    nonces: new DigestNonces(await loadServerSecret(dataDir)),
  });
  inventory.start();
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
      await inventory.stop();
      await ctx.store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
