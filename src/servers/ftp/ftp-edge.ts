import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { ProvisioningCore } from '../../provisioning/core.js';
import { FtpSession } from './ftp-session.js';

export interface FtpEdgeOptions {
  logger: Logger;
  /** 0 = any free port. */
  host: string;
  port: number;
  /** Enables AUTH TLS (explicit) on a plain listener; required when implicitTls. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** This listener is implicit FTPS (TLS from the first byte). */
  implicitTls: boolean;
  /** Data connections listen here (the next port is tried when one is taken). */
  passivePorts: { min: number; max: number };
  /** IPv4 address put in PASV replies (default: the control connection's local address). */
  passiveAddress?: string;
  /** Listener bound to one tenant (PhoneRequest.listenerTenant). */
  tenant?: string;
  /** Control and data connections silent this long are closed. */
  idleTimeoutMs: number;
  /** Default 1000; beyond it a new connection gets 421 and is closed. */
  maxSessions?: number;
}

export interface RunningFtpEdge {
  port: number;
  close(): Promise<void>;
}

const DEFAULT_MAX_SESSIONS = 1000;

/** The FTP and FTPS edge: one listener, a session per control connection, each talking to the core. */
export async function startFtpEdge(core: ProvisioningCore, opts: FtpEdgeOptions): Promise<RunningFtpEdge> {
  if (opts.implicitTls && !opts.tls) throw new Error('implicit FTPS needs a TLS key and certificate');
  const secureContext = opts.tls ? tls.createSecureContext({ key: opts.tls.key, cert: opts.tls.cert }) : null;
  const logger = opts.logger;
  const maxSessions = opts.maxSessions ?? DEFAULT_MAX_SESSIONS;
  const sessions = new Set<FtpSession>();
  const settings = {
    core,
    logger,
    secureContext,
    implicitTls: opts.implicitTls,
    passivePorts: opts.passivePorts,
    idleTimeoutMs: opts.idleTimeoutMs,
    ...(opts.passiveAddress ? { passiveAddress: opts.passiveAddress } : {}),
    ...(opts.tenant ? { tenant: opts.tenant } : {}),
  };

  // No Nagle on the control channel: a reply (226 after 150) held back for the client's delayed
  // ACK cost 44 ms per upload, measured with npm run bench:ftp.
  const server = net.createServer({ noDelay: true }, (raw) => {
    raw.on('error', () => {});
    if (sessions.size >= maxSessions) {
      logger.warn({ protocol: opts.implicitTls ? 'ftps' : 'ftp', ip: raw.remoteAddress, sessions: sessions.size }, 'ftp session refused: too many sessions');
      // Plain text even on the implicit port: a TLS client reads it as a failed handshake, which is the point.
      raw.end('421 Too many connections; try again later\r\n');
      setTimeout(() => raw.destroy(), 1000).unref();
      return;
    }
    try {
      const session = new FtpSession(raw, settings);
      sessions.add(session);
      void session.done.then(() => sessions.delete(session));
    } catch (err) {
      logger.error({ err, ip: raw.remoteAddress }, 'ftp session could not start');
      raw.destroy();
    }
  });
  server.on('error', (err) => logger.error({ err }, 'ftp listener failed'));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host, port: opts.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : opts.port,
    async close() {
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sessions) s.shutdown();
      await Promise.race([Promise.all([...sessions].map((s) => s.done)), new Promise((r) => setTimeout(r, 3000).unref())]);
      await closed;
    },
  };
}
