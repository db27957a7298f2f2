import cluster from 'node:cluster';
import { networkInterfaces } from 'node:os';
import { pino, type Logger as PinoLogger } from 'pino';
import { ensureDemoTenant, type DemoCredentials } from '../admin/demo-tenant.js';
import { loadServerSecret, openAdminContext, runServer, tlsOptions, type Listener } from '../app.js';
import { ConfigError, loadConfig, type ConfigInput, type ServerConfig } from '../config.js';
import { isIPv4 } from 'node:net';
import { startInformResponder, type InformResponder } from '../reach/dhcp/inform-responder.js';
import { informRules } from '../reach/dhcp/inform-rules.js';
import { ensureFirstSuperAdmin, type InitialAdmin } from '../admin/admin-users.js';
import { startAdminApi } from '../admin/api/start-admin-api.js';
import { pruneOldLogSegments } from '../provisioning/phone-logs.js';
import { tickRollouts } from '../admin/rollouts.js';
import type { AdminContext } from '../admin/admin-context.js';
import type { Tenant } from '../store/store.js';
import { sweepTemporaryFiles } from '../blobs/local-disk-blob-store.js';
import { join } from 'node:path';
import { loadTlsMaterial } from '../servers/http/tls-material.js';
import { isLoopbackHost } from '../domain/ip-subnet.js';

export interface ServeFlags extends ConfigInput {
  demo?: boolean;
}

type WorkerMessage = { type: 'ready'; listeners: Listener[] };

/**
 * `polyprov serve`: the primary prepares the data folder once (migrations, secret, certificate,
 * demo tenant), then runs one worker per core; workers share the listening sockets through
 * node:cluster and keep their state in the store, never in their own memory.
 */
export async function serve(flags: ServeFlags): Promise<void> {
  const cfg = loadConfig(flags);
  const logger = pino({ level: cfg.logLevel, base: { pid: process.pid } });
  if (!cluster.isPrimary) return runWorker(cfg, logger);

  const ctx = await openAdminContext(cfg);
  const demo = flags.demo ? await ensureDemoTenant(ctx, cfg.dataDir) : undefined;
  await ctx.store.close();
  await loadServerSecret(cfg.dataDir);
  // Made once here, before workers race to create it: HTTPS and FTP's TLS share it.
  if (cfg.https.enabled || cfg.ftp.enabled || cfg.ftps.enabled) await loadTlsMaterial(tlsOptions(cfg));

  const swept = await sweepTemporaryFiles(join(cfg.dataDir, 'blobs'));
  if (swept) logger.info({ files: swept }, 'removed temporary files of interrupted uploads');

  // Retention by age and rollouts in the primary only: one of each, however many workers.
  startLogPruner(cfg, logger);
  startRolloutTicker(cfg, logger);
  // One UDP port 67 cannot be shared by workers: the primary answers DHCPINFORMs.
  const dhcp = cfg.dhcpInform.rules.length ? await startDhcpInform(cfg, logger) : undefined;
  // The admin API keeps nothing in memory (sessions and login limits are in the store): one copy in the primary.
  const admin = cfg.admin.enabled ? await startAdmin(cfg, logger) : undefined;

  if (cfg.workers === 1) {
    const server = await runServer(cfg, logger);
    printBanner(cfg, server.listeners, demo, dhcp, admin);
    onShutdown(logger, async () => {
      await admin?.close();
      await dhcp?.close();
      await server.close();
    });
    return;
  }

  // Let the kernel hand connections to workers: round-robin through the primary costs an IPC
  // message per connection, and phones open one connection per file (measured with npm run bench).
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  let stopping = false;
  let banner = false;
  const ready = new Set<number>();
  const fork = () => cluster.fork();
  cluster.on('message', (worker, msg: WorkerMessage) => {
    if (msg?.type !== 'ready') return;
    ready.add(worker.id);
    if (!banner && ready.size === cfg.workers) {
      banner = true;
      printBanner(cfg, msg.listeners, demo, dhcp, admin);
    }
  });
  cluster.on('exit', (worker, code, signal) => {
    ready.delete(worker.id);
    if (stopping) return;
    logger.error({ worker: worker.process.pid, code, signal }, 'worker died; starting a new one');
    setTimeout(fork, 500);
  });
  for (let i = 0; i < cfg.workers; i++) fork();
  onShutdown(logger, async () => {
    stopping = true;
    await admin?.close();
    await dhcp?.close();
    await new Promise<void>((resolve) => cluster.disconnect(() => resolve()));
  });
}

async function runWorker(cfg: ServerConfig, logger: PinoLogger): Promise<void> {
  const server = await runServer(cfg, logger);
  process.send?.({ type: 'ready', listeners: server.listeners } satisfies WorkerMessage);
  // The primary disconnects workers on shutdown: finish in-flight work, flush the inventory, leave.
  process.on('disconnect', () => void server.close().then(() => process.exit(0)));
  process.on('SIGTERM', () => undefined);
  process.on('SIGINT', () => undefined);
}

const LOG_PRUNE_FIRST_MS = 60_000;
const LOG_PRUNE_EVERY_MS = 3_600_000;
const ROLLOUT_TICK_MS = 60_000;

/**
 * Drops log segments past each tenant's maximum age (provisioning/phone-logs.ts), a minute after
 * start and then hourly. Pruning is idempotent and lock-free, so a run cut short by a shutdown is
 * harmless.
 */
function startLogPruner(cfg: ServerConfig, logger: PinoLogger): void {
  startTenantJob(cfg, logger, 'log segment pruning', LOG_PRUNE_FIRST_MS, LOG_PRUNE_EVERY_MS, async (ctx, t) => {
    const dropped = await pruneOldLogSegments(ctx, t);
    if (dropped.length) logger.info({ tenant: t.slug, segments: dropped.length, bytes: dropped.reduce((n, d) => n + d.size, 0) }, 'dropped old log segments');
  });
}

/** Moves staged firmware rollouts on every minute (admin/rollouts.ts): waves are released, paused or completed from what the phones report. */
function startRolloutTicker(cfg: ServerConfig, logger: PinoLogger): void {
  startTenantJob(cfg, logger, 'rollout tick', ROLLOUT_TICK_MS, ROLLOUT_TICK_MS, async (ctx, t) => {
    for (const r of await tickRollouts(ctx, t)) {
      if (r.decision.action !== 'wait') logger.info({ tenant: r.tenant, rollout: r.rollout, ...r.decision }, `rollout ${r.decision.action}`);
    }
  });
}

/**
 * Runs `perTenant` for every tenant on a timer, in the primary only (one run, however many
 * workers). The timers do not keep the process alive; a run that overlaps the next is skipped.
 */
function startTenantJob(cfg: ServerConfig, logger: PinoLogger, what: string, firstMs: number, everyMs: number, perTenant: (ctx: AdminContext, t: Tenant) => Promise<void>): void {
  let running = false;
  const run = async () => {
    const ctx = await openAdminContext(cfg);
    try {
      for (const t of await ctx.store.listTenants()) await perTenant(ctx, t);
    } finally {
      await ctx.store.close();
    }
  };
  const tick = () => {
    if (running) return;
    running = true;
    run()
      .catch((err: unknown) => logger.error({ err }, `${what} failed`))
      .finally(() => (running = false));
  };
  setTimeout(tick, firstMs).unref();
  setInterval(tick, everyMs).unref();
}

function onShutdown(logger: PinoLogger, close: () => Promise<void>): void {
  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

function printedHost(cfg: ServerConfig): string {
  if (cfg.publicHost) return cfg.publicHost;
  if (cfg.host !== '0.0.0.0' && cfg.host !== '::') return cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host;
  return firstIpv4();
}

interface RunningAdmin {
  port: number;
  tls: boolean;
  initial: InitialAdmin | undefined;
  close(): Promise<void>;
}

async function startAdmin(cfg: ServerConfig, logger: PinoLogger): Promise<RunningAdmin> {
  const ctx = await openAdminContext(cfg);
  try {
    const initial = await ensureFirstSuperAdmin(ctx, cfg.dataDir);
    const tls = cfg.admin.tls ? await loadTlsMaterial(tlsOptions(cfg)) : undefined;
    if (!tls && !isLoopbackHost(cfg.admin.host)) logger.warn({ host: cfg.admin.host }, 'the admin API listens beyond loopback over plain HTTP: passwords and session cookies cross the network in clear; add --admin-tls or put a TLS proxy in front');
    const firmwareLimits = { maxUnpackedBytes: cfg.admin.firmwareMaxUnpackedMib * 1024 * 1024, maxEntries: cfg.admin.firmwareMaxFiles };
    const api = await startAdminApi(ctx, { host: cfg.admin.host, port: cfg.admin.port, logger, firmwareLimits, ...(tls ? { tls: { key: tls.key, cert: tls.cert } } : {}) });
    logger.info({ protocol: 'admin-api', tls: !!tls, host: cfg.admin.host, port: api.port }, 'listening');
    return {
      port: api.port,
      tls: !!tls,
      initial,
      async close() {
        await api.close();
        await ctx.store.close();
      },
    };
  } catch (err) {
    await ctx.store.close();
    throw err;
  }
}

async function startDhcpInform(cfg: ServerConfig, logger: PinoLogger): Promise<InformResponder> {
  const serverId = cfg.dhcpInform.serverId ?? (isIPv4(cfg.publicHost ?? '') ? cfg.publicHost! : firstIpv4());
  const responder = await startInformResponder({ host: cfg.dhcpInform.host, port: cfg.dhcpInform.port, serverId, rules: informRules(cfg.dhcpInform.rules), logger }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EACCES') throw new ConfigError(`cannot bind DHCPINFORM port ${cfg.dhcpInform.port}: it needs root or CAP_NET_BIND_SERVICE (setcap cap_net_bind_service=+ep $(command -v node))`);
    if (err.code === 'EADDRINUSE') throw new ConfigError(`DHCPINFORM port ${cfg.dhcpInform.port} is in use, probably by a DHCP server on this host: let that server give options 66/160 instead (polyprov dhcp config)`);
    throw err;
  });
  logger.info({ protocol: 'dhcp-inform', port: responder.port, serverId, subnets: cfg.dhcpInform.rules.map((r) => r.subnet) }, 'listening');
  return responder;
}

function firstIpv4(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

function printBanner(cfg: ServerConfig, listeners: Listener[], demo: DemoCredentials | undefined, dhcp?: InformResponder, admin?: RunningAdmin): void {
  const host = printedHost(cfg);
  const login = demo ? `${encodeURIComponent(demo.username)}:${encodeURIComponent(demo.password)}@` : '';
  const notes: Record<Listener['protocol'], string> = {
    http: '',
    https: '',
    tftp: "no login: the client's subnet chooses the tenant, see tenant set --tftp-subnets",
    ftp: 'explicit FTPS with AUTH TLS too',
    ftps: 'implicit FTPS',
  };
  const lines = ['', 'polyprov is serving phones:'];
  for (const l of listeners) {
    const at = l.host ? (l.host.includes(':') ? `[${l.host}]` : l.host) : host;
    const creds = l.protocol === 'ftp' || l.protocol === 'ftps' ? login : '';
    const url = `${l.protocol}://${creds}${at}:${l.port}/`;
    const note = l.tenant ? `tenant "${l.tenant}" only` : notes[l.protocol];
    lines.push(`  ${l.protocol.toUpperCase().padEnd(5)} ${url}${note ? `   (${note})` : ''}`);
  }
  if (listeners.some((l) => l.protocol === 'https' || l.protocol === 'ftps' || l.protocol === 'ftp') && !cfg.https.certFile) {
    lines.push(`  (TLS uses a self-signed certificate kept in ${cfg.dataDir}/tls/)`);
  }
  if (admin) {
    const at = cfg.admin.host.includes(':') ? `[${cfg.admin.host}]` : cfg.admin.host === '0.0.0.0' ? printedHost(cfg) : cfg.admin.host;
    lines.push(`  ADMIN ${admin.tls ? 'https' : 'http'}://${at}:${admin.port}/   (console; REST API at /api/v1, its docs at /api/v1/docs)`);
    if (admin.initial) lines.push(`  first login: user ${admin.initial.username}, password in ${admin.initial.file} (change it, then the file goes)`);
  }
  if (dhcp) lines.push(`  DHCP  INFORM answered on UDP ${dhcp.port} for ${cfg.dhcpInform.rules.map((r) => r.subnet).join(', ')}`);
  lines.push(`  data: ${cfg.databaseUrl ? 'PostgreSQL' : `${cfg.dataDir}/polyprov.sqlite`}, files in ${cfg.dataDir}/blobs`);
  if (demo) {
    const http = listeners.find((l) => l.protocol === 'http') ?? listeners.find((l) => l.protocol === 'https');
    lines.push(
      '',
      `Demo tenant "${demo.tenant}": user name ${demo.username}, password ${demo.password}`,
      "Give a phone one of the URLs above as its provisioning server (DHCP option 66/160, or the phone's",
      'Provisioning Server setting) with this user name and password, or try it:',
    );
    if (http) {
      lines.push(
        `  curl ${http.protocol === 'https' ? '-k ' : ''}-u ${demo.username}:${demo.password} -A 'FileTransport PolycomVVX-VVX_450-UA/6.4.6.2163 (SN:0004f2a1b2c3) Type/Application' ${http.protocol}://127.0.0.1:${http.port}/000000000000.cfg`,
      );
    }
    const tftp = listeners.find((l) => l.protocol === 'tftp' && !l.tenant);
    if (tftp) lines.push(`  curl tftp://127.0.0.1:${tftp.port}/000000000000.cfg`);
    const ftp = listeners.find((l) => l.protocol === 'ftp');
    if (ftp) lines.push(`  curl ftp://${login}127.0.0.1:${ftp.port}/000000000000.cfg`);
  }
  lines.push('');
  process.stdout.write(lines.join('\n') + '\n');
}
