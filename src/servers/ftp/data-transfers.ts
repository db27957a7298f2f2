import net from 'node:net';
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';
import type { Logger } from 'pino';
import { plainAddress } from '../../domain/ip-subnet.js';
import { DataConnectionError, PassiveChannel } from './data-connection.js';

export interface TransferSettings {
  logger: Logger;
  passivePorts: { min: number; max: number };
  passiveAddress?: string;
  idleTimeoutMs: number;
}

export interface Reply {
  code: number;
  text: string;
}

const ACCEPT_TIMEOUT_MS = 30_000;

/**
 * A session's data side: the passive listener of the last PASV/EPSV, and the transfer running over
 * it, which ABOR or the end of the session can cut. Only passive mode exists (see ftp-session.ts).
 */
export class DataTransfers {
  private passive: PassiveChannel | null = null;
  private running: { abort(): void } | null = null;
  private epsvAll = false;

  constructor(
    private readonly s: TransferSettings,
    private readonly session: {
      readonly clientIp: string;
      readonly localAddress: string | undefined;
      reply(code: number, text: string): void;
      /** What PROT P asks for: data connections in TLS with this context; null for PROT C. */
      dataTls(): tls.SecureContext | null;
    },
  ) {}

  get busy(): boolean {
    return this.running !== null;
  }

  /** Cuts the running transfer; it then replies 426 itself. */
  abort(): void {
    this.running?.abort();
  }

  /** The end of the session: nothing of its data side stays open. */
  close(): void {
    this.running?.abort();
    this.drop();
  }

  /** A transfer refused before it began: its data connection is not kept for the next one. */
  drop(): void {
    this.passive?.close();
    this.passive = null;
  }

  /** PASV (IPv4 only, RFC 959) or EPSV (RFC 2428: a port alone, so any address family). */
  async open(extended: boolean, arg: string): Promise<void> {
    const reply = this.session.reply.bind(this.session);
    const local = plainAddress(this.session.localAddress);
    const family = net.isIPv4(local) ? '1' : '2';
    if (extended) {
      const a = arg.trim().toUpperCase();
      if (a === 'ALL') {
        this.epsvAll = true;
        return reply(200, 'EPSV ALL accepted');
      }
      if (a !== '' && a !== '1' && a !== '2') return reply(501, 'EPSV takes 1, 2 or ALL');
      if (a !== '' && a !== family) return reply(522, `Network protocol not supported, use (${family})`);
    } else {
      if (this.epsvAll) return reply(503, 'EPSV ALL was given: use EPSV');
      if (family !== '1') return reply(522, 'PASV is IPv4 only; use EPSV');
    }
    this.drop();
    try {
      this.passive = await PassiveChannel.open({
        host: local,
        ports: this.s.passivePorts,
        clientIp: this.session.clientIp,
        tls: this.session.dataTls(),
        acceptTimeoutMs: Math.min(ACCEPT_TIMEOUT_MS, this.s.idleTimeoutMs),
        idleTimeoutMs: this.s.idleTimeoutMs,
        logger: this.s.logger,
      });
    } catch (err) {
      const { min, max } = this.s.passivePorts;
      this.s.logger.warn({ ip: this.session.clientIp, range: `${min}-${max}`, reason: (err as Error).message }, 'no passive port for an ftp data connection');
      return reply(425, 'Cannot open a data connection now');
    }
    const port = this.passive.port;
    if (extended) return reply(229, `Entering Extended Passive Mode (|||${port}|)`);
    const address = this.s.passiveAddress ?? local;
    reply(227, `Entering Passive Mode (${address.split('.').join(',')},${port >> 8},${port & 255})`);
  }

  /**
   * One transfer over the connection of the last PASV/EPSV: 150, the connection (425 without one),
   * the work, then the work's reply. The connection serves this transfer only.
   */
  async run(opening: string, work: (data: Duplex, cut: () => boolean) => Promise<Reply>): Promise<void> {
    const reply = this.session.reply.bind(this.session);
    const channel = this.passive;
    this.passive = null;
    if (!channel) return reply(425, 'Use PASV or EPSV first');
    reply(150, opening);
    let cut = false;
    let data: Duplex | null = null;
    this.running = {
      abort: () => {
        cut = true;
        if (data) data.destroy();
        else channel.close();
      },
    };
    try {
      try {
        data = await channel.take();
      } catch (err) {
        const why = err instanceof DataConnectionError ? err.message : 'failed';
        return reply(cut ? 426 : 425, cut ? 'Transfer aborted' : `Cannot open the data connection: ${why}`);
      }
      if (cut) data.destroy();
      const result = await work(data, () => cut);
      reply(result.code, result.text);
    } finally {
      this.running = null;
      channel.close();
    }
  }
}
