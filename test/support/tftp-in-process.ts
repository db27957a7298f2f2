import { rmSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import { Writable } from 'node:stream';
import type { AdminContext } from '../../src/admin/admin-context.js';
import { loadServerSecret, openAdminContext } from '../../src/app.js';
import { ProvisioningCore } from '../../src/provisioning/core.js';
import { DigestNonces } from '../../src/provisioning/credentials.js';
import { InventoryRecorder } from '../../src/provisioning/inventory-recorder.js';
import { startTftpEdge, type RunningTftpEdge, type TftpEdgeOptions } from '../../src/servers/tftp/tftp-edge.js';
import { tempDir } from './server-process.js';

/**
 * The real store, blob store and core, built the way src/app.ts runServer builds them, with a TFTP
 * edge in this process: for tests that need edge settings the command line does not offer (short
 * retransmission timers, a tiny transfer limit) or that count this process's file descriptors.
 */
export interface InProcessTftp {
  ctx: AdminContext;
  core: ProvisioningCore;
  dataDir: string;
  /** Every log line the edge and the core wrote. */
  logs: Record<string, unknown>[];
  startEdge(opts: Partial<TftpEdgeOptions>): Promise<RunningTftpEdge>;
  close(): Promise<void>;
}

export async function inProcessTftp(): Promise<InProcessTftp> {
  const dataDir = tempDir();
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger: Logger = pino({ level: 'debug' }, sink);
  const ctx = await openAdminContext({ dataDir });
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
  const edges: RunningTftpEdge[] = [];
  return {
    ctx,
    core,
    dataDir,
    logs,
    async startEdge(opts) {
      const edge = await startTftpEdge(core, { logger, host: '127.0.0.1', port: 0, maxTransfers: 16, ...opts });
      edges.push(edge);
      return edge;
    },
    async close() {
      await Promise.all(edges.map((e) => e.close()));
      await inventory.stop();
      await ctx.store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
