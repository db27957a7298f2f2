import { rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { openCore, type OpenCore } from '../../src/app.js';
import { tempDir } from './server-process.js';

export interface InProcessCore extends OpenCore {
  dataDir: string;
  logger: Logger;
  /** Every log record the core and the edges given `logger` wrote. */
  logs: Record<string, unknown>[];
  /** Stops the inventory, closes the store and removes the data folder (close edges first). */
  close(): Promise<void>;
}

/**
 * The real store, blob store and core, built by the same openCore as `polyprov serve`, in this
 * process: for edge tests that need settings the command line does not offer (tiny timers, a
 * session or transfer cap, an IPv6 listener) or that count this process's file descriptors.
 */
export async function startInProcessCore(): Promise<InProcessCore> {
  const dataDir = tempDir();
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  const opened = await openCore({ dataDir, inventoryFlushMs: 50, blobCacheMb: 64 }, logger);
  return {
    ...opened,
    dataDir,
    logger,
    logs,
    async close() {
      await opened.inventory.stop();
      await opened.ctx.store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
