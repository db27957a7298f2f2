import type { AdminContext } from '../../src/admin/admin-context.js';
import type { ProvisioningCore } from '../../src/provisioning/core.js';
import { startTftpEdge, type RunningTftpEdge, type TftpEdgeOptions } from '../../src/servers/tftp/tftp-edge.js';
import { startInProcessCore } from './in-process-core.js';

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
  const base = await startInProcessCore();
  const edges: RunningTftpEdge[] = [];
  return {
    ctx: base.ctx,
    core: base.core,
    dataDir: base.dataDir,
    logs: base.logs,
    async startEdge(opts) {
      const edge = await startTftpEdge(base.core, { logger: base.logger, host: '127.0.0.1', port: 0, maxTransfers: 16, ...opts });
      edges.push(edge);
      return edge;
    },
    async close() {
      await Promise.all(edges.map((e) => e.close()));
      await base.close();
    },
  };
}
