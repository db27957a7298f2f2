import { randomInt } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { plainAddress } from '../../domain/ip-subnet.js';
import type { Logger } from 'pino';

export interface PassiveOptions {
  /** Local address to listen on: the control connection's, so data arrives where control did. */
  host: string;
  /** 0..0 lets the OS pick. */
  ports: { min: number; max: number };
  /** Only this client may connect: anyone else guessing the port is turned away. */
  clientIp: string;
  /** Set when the data channel is protected (PROT P): the connection is TLS from its first byte. */
  tls: tls.SecureContext | null;
  /** How long the listener waits for the client to connect (and finish a TLS handshake). */
  acceptTimeoutMs: number;
  /** A connected data channel silent this long is destroyed. */
  idleTimeoutMs: number;
  logger: Logger;
}

export class DataConnectionError extends Error {
  override name = 'DataConnectionError';
}


type DataSocket = net.Socket | tls.TLSSocket;

/**
 * One passive data connection (PASV/EPSV): a listener of its own on a port of the passive range,
 * for one connection from the session's client, then closed. Each session opens its own, so one
 * session's transfer can never be handed another's connection.
 */
export class PassiveChannel {
  private socket: DataSocket | null = null;
  private readonly ready: Promise<DataSocket>;
  private resolve!: (s: DataSocket) => void;
  private reject!: (e: Error) => void;
  private settled = false;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  /** The transfer owns the connection from here: close() leaves it alone. */
  private taken = false;
  private strangerLogged = false;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    private readonly opts: PassiveOptions,
  ) {
    this.ready = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Whoever needs the connection awaits it; one nobody asked for must not be an unhandled rejection.
    this.ready.catch(() => {});
    this.timer = setTimeout(() => {
      this.fail(new DataConnectionError('no data connection was made in time'));
      this.close();
    }, opts.acceptTimeoutMs);
    server.on('connection', (raw: net.Socket) => this.accept(raw));
  }

  static async open(opts: PassiveOptions): Promise<PassiveChannel> {
    const { server, port } = await listenInRange(opts.host, opts.ports);
    return new PassiveChannel(server, port, opts);
  }

  /** The connected data channel, TLS handshake done when protected; rejects after the accept timeout or close(). */
  async take(): Promise<DataSocket> {
    const s = await this.ready;
    this.taken = true;
    return s;
  }

  private succeed(s: DataSocket) {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    s.setTimeout(this.opts.idleTimeoutMs, () => s.destroy(new DataConnectionError('data connection idle')));
    this.resolve(s);
  }

  private fail(err: Error) {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.reject(err);
  }

  private accept(raw: net.Socket) {
    raw.on('error', () => {});
    if (this.closed || this.socket || plainAddress(raw.remoteAddress) !== this.opts.clientIp) {
      if (!this.strangerLogged && !this.closed && !this.socket) {
        this.strangerLogged = true;
        this.opts.logger.warn({ ip: plainAddress(raw.remoteAddress), client: this.opts.clientIp, port: this.port }, 'refused a data connection from another address');
      }
      raw.destroy();
      return;
    }
    // One connection per PASV: stop listening at once so the port goes back to the range.
    this.server.close();
    if (!this.opts.tls) {
      this.socket = raw;
      this.succeed(raw);
      return;
    }
    const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: this.opts.tls });
    this.socket = secure;
    secure.on('error', (err) => {
      this.fail(new DataConnectionError(`TLS handshake on the data connection failed: ${err.message}`));
      secure.destroy();
    });
    secure.once('close', () => this.fail(new DataConnectionError('data connection closed during the TLS handshake')));
    secure.once('secure', () => this.succeed(secure));
  }

  /** Stops listening; a connection that was made but never handed over is dropped. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.fail(new DataConnectionError('data connection closed'));
    this.server.close();
    if (this.socket && !this.taken) this.socket.destroy();
  }
}

/**
 * Listens on a free port of the range, starting at a random one so concurrent sessions rarely
 * collide. `exclusive` because `serve` runs under node:cluster: a shared listen would hand this
 * port's connections to any worker, not the one holding the session.
 */
async function listenInRange(host: string, range: { min: number; max: number }): Promise<{ server: net.Server; port: number }> {
  if (range.min === 0) return listenOn(host, 0);
  const span = range.max - range.min + 1;
  const first = randomInt(span);
  let lastError: unknown;
  for (let i = 0; i < span; i++) {
    try {
      return await listenOn(host, range.min + ((first + i) % span));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EADDRINUSE' && code !== 'EACCES') throw err;
      lastError = err;
    }
  }
  throw new DataConnectionError(`no free port in the passive range ${range.min}-${range.max}: ${(lastError as Error)?.message}`);
}

function listenOn(host: string, port: number): Promise<{ server: net.Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      server.on('error', () => {});
      const addr = server.address();
      resolve({ server, port: typeof addr === 'object' && addr ? addr.port : port });
    });
  });
}
