import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger as PinoLogger } from 'pino';
import type { AdminContext } from './admin/admin-context.js';
import { LocalDiskBlobStore } from './blobs/local-disk-blob-store.js';
import { LocalDiskLogFiles } from './blobs/local-disk-log-files.js';
import type { ServerConfig } from './config.js';
import { ProvisioningCore } from './provisioning/core.js';
import { DigestNonces } from './provisioning/credentials.js';
import { InventoryRecorder } from './provisioning/inventory-recorder.js';
import { startFtpEdge } from './servers/ftp/ftp-edge.js';
import { buildHttpEdge } from './servers/http/http-edge.js';
import { loadTftpPump } from './servers/tftp/native-pump.js';
import { startTftpEdge } from './servers/tftp/tftp-edge.js';
import { loadTlsMaterial } from './servers/http/tls-material.js';
import { openStore } from './store/open-store.js';

// Wiring: configuration in, store + blobs + core + protocol edges out. Each edge has its own entry
// here and its own switch in the configuration, so one host can run only some of them.

export async function openAdminContext(cfg: Pick<ServerConfig, 'dataDir' | 'databaseUrl'>): Promise<AdminContext> {
  await mkdir(cfg.dataDir, { recursive: true });
  const store = await openStore({ dataDir: cfg.dataDir, ...(cfg.databaseUrl ? { databaseUrl: cfg.databaseUrl } : {}) });
  return { store, blobs: new LocalDiskBlobStore(join(cfg.dataDir, 'blobs')), logFiles: new LocalDiskLogFiles(join(cfg.dataDir, 'logs')) };
}

/** The secret that signs Digest nonces; shared by every worker through the data folder. */
export async function loadServerSecret(dataDir: string): Promise<Buffer> {
  const file = join(dataDir, 'server-secret');
  try {
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'hex');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await writeFile(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  return Buffer.from((await readFile(file, 'utf8')).trim(), 'hex');
}

export interface Listener {
  protocol: 'http' | 'https' | 'tftp' | 'ftp' | 'ftps';
  port: number;
  /** Set on a listener bound to one tenant. */
  tenant?: string;
  host?: string;
}

export interface RunningServer {
  listeners: Listener[];
  close(): Promise<void>;
}

export interface OpenCore {
  ctx: AdminContext;
  core: ProvisioningCore;
  /** Flushes what it holds when stopped: stop it before closing the store. */
  inventory: InventoryRecorder;
}

/** Store, blobs, inventory and the provisioning core, as every edge of one process shares them. */
export async function openCore(
  cfg: Pick<ServerConfig, 'dataDir' | 'databaseUrl' | 'inventoryFlushMs' | 'blobCacheMb'>,
  logger: PinoLogger,
): Promise<OpenCore> {
  const ctx = await openAdminContext(cfg);
  const inventory = new InventoryRecorder(ctx.store, logger, { flushMs: cfg.inventoryFlushMs, maxPending: 1000 });
  const core = new ProvisioningCore({
    store: ctx.store,
    blobs: ctx.blobs,
    logFiles: ctx.logFiles,
    logger,
    inventory,
    nonces: new DigestNonces(await loadServerSecret(cfg.dataDir)),
    // Half the budget at most per blob, so one image never evicts everything else.
    blobCache: { totalBytes: cfg.blobCacheMb * 1024 * 1024, maxEntryBytes: (cfg.blobCacheMb * 1024 * 1024) / 2 },
  });
  inventory.start();
  return { ctx, core, inventory };
}

export async function runServer(cfg: ServerConfig, logger: PinoLogger): Promise<RunningServer> {
  const { ctx, core, inventory } = await openCore(cfg, logger);

  const edges: { protocol: 'http' | 'https'; app: ReturnType<typeof buildHttpEdge>; port: number }[] = [];
  if (cfg.http.enabled) {
    edges.push({ protocol: 'http', app: buildHttpEdge(core, { logger, idleTimeoutMs: cfg.idleTimeoutMs, ...shedding(cfg) }), port: cfg.http.port });
  }
  // FTP offers AUTH TLS with the same certificate as HTTPS.
  const tls = cfg.https.enabled || cfg.ftp.enabled || cfg.ftps.enabled ? await loadTlsMaterial(tlsOptions(cfg)) : undefined;
  if (cfg.https.enabled && tls) {
    edges.push({
      protocol: 'https',
      app: buildHttpEdge(core, { logger, idleTimeoutMs: cfg.idleTimeoutMs, ...shedding(cfg), tls: { key: tls.key, cert: tls.cert, requestClientCert: cfg.https.requestClientCert } }),
      port: cfg.https.port,
    });
  }
  const listeners: Listener[] = [];
  const others: { close(): Promise<void> }[] = [];
  const closeAll = async () => {
    await Promise.all([...edges.map((e) => e.app.close()), ...others.map((o) => o.close())]);
  };
  const listening = (l: Listener) => {
    listeners.push(l);
    logger.info({ ...l, host: l.host ?? cfg.host }, 'listening');
  };
  try {
    for (const e of edges) {
      await e.app.listen({ host: cfg.host, port: e.port });
      const addr = e.app.server.address();
      listening({ protocol: e.protocol, port: typeof addr === 'object' && addr ? addr.port : e.port });
    }
    if (cfg.tftp.enabled) {
      const base = { logger, maxTransfers: cfg.tftp.maxTransfers, native: cfg.tftp.native };
      if (cfg.tftp.native && !loadTftpPump()) {
        logger.warn({ protocol: 'tftp' }, 'native TFTP pump not built (no C compiler at npm ci?): TFTP reads run in TypeScript, about half as fast lock-step; `npm rebuild polyprov` or `npm ci` with g++ and make builds it');
      }
      const main = await startTftpEdge(core, { ...base, host: cfg.host, port: cfg.tftp.port });
      others.push(main);
      listening({ protocol: 'tftp', port: main.port });
      for (const l of cfg.tftp.tenantListeners) {
        const bound = await startTftpEdge(core, { ...base, host: l.host ?? cfg.host, port: l.port, tenant: l.tenant });
        others.push(bound);
        listening({ protocol: 'tftp', port: bound.port, tenant: l.tenant, ...(l.host ? { host: l.host } : {}) });
      }
    }
    const ftpBase = {
      logger,
      host: cfg.host,
      passivePorts: cfg.ftp.passivePorts,
      idleTimeoutMs: cfg.idleTimeoutMs,
      ...(cfg.ftp.passiveAddress ? { passiveAddress: cfg.ftp.passiveAddress } : {}),
      ...(tls ? { tls: { key: tls.key, cert: tls.cert } } : {}),
    };
    if (cfg.ftp.enabled) {
      const ftp = await startFtpEdge(core, { ...ftpBase, port: cfg.ftp.port, implicitTls: false });
      others.push(ftp);
      listening({ protocol: 'ftp', port: ftp.port });
    }
    if (cfg.ftps.enabled) {
      const ftps = await startFtpEdge(core, { ...ftpBase, port: cfg.ftps.port, implicitTls: true });
      others.push(ftps);
      listening({ protocol: 'ftps', port: ftps.port });
    }
  } catch (err) {
    // A port in use must not leave the edges already started running behind the error.
    await closeAll().catch(() => undefined);
    throw err;
  }
  return {
    listeners,
    async close() {
      await closeAll();
      await inventory.stop();
      await ctx.store.close();
    },
  };
}

function shedding(cfg: ServerConfig) {
  return { maxInFlight: cfg.maxInFlight, retryAfterSeconds: cfg.retryAfterSeconds };
}

export function tlsOptions(cfg: ServerConfig) {
  return {
    dataDir: cfg.dataDir,
    hostnames: tlsHostnames(cfg),
    ...(cfg.https.certFile ? { certFile: cfg.https.certFile } : {}),
    ...(cfg.https.keyFile ? { keyFile: cfg.https.keyFile } : {}),
  };
}

export function tlsHostnames(cfg: ServerConfig): string[] {
  const names = new Set<string>();
  if (cfg.publicHost) names.add(cfg.publicHost);
  names.add('localhost');
  names.add('127.0.0.1');
  return [...names];
}
