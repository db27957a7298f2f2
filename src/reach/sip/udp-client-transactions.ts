import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { parseSipResponse } from '../../domain/sip-message.js';
import type { ExchangeResult } from './exchange-result.js';

/** RFC 3261 timers, in milliseconds; `timeoutMs` is Timer F. */
export interface TransactionTimers {
  t1Ms: number;
  t2Ms: number;
  timeoutMs: number;
}

interface Pending {
  method: string;
  sends: number;
  provisional: boolean;
  onResponse(response: NonNullable<ReturnType<typeof parseSipResponse>>): void;
  finish(result: ExchangeResult): void;
}

/** Ignored datagrams are summed into one debug line per this interval, never one per packet. */
const IGNORED_LOG_INTERVAL_MS = 10_000;

/**
 * Non-INVITE client transactions (RFC 3261 §17.1.2) over one shared UDP socket: a fan-out to
 * thousands of phones must not hold thousands of sockets, so responses find their transaction by
 * the top Via branch (and the CSeq method), never by the socket they arrive on.
 */
export class UdpClientTransactions {
  private socket: Socket | undefined;
  private starting: Promise<AddressInfo> | undefined;
  private readonly pending = new Map<string, Pending>();
  private ignored = 0;
  private ignoredLoggedAt = -Infinity;
  private socketErrorLogged = false;
  private closed = false;

  constructor(
    private readonly bindHost: string,
    private readonly bindPort: number,
    private readonly timers: TransactionTimers,
    private readonly logger?: Logger,
  ) {}

  /** Binds the socket once; later calls share the first bind. */
  start(): Promise<AddressInfo> {
    if (this.closed) return Promise.reject(new Error('the SIP notifier is closed; create a new one'));
    this.starting ??= this.bind();
    return this.starting;
  }

  private async bind(): Promise<AddressInfo> {
    const socket = createSocket({ type: this.bindHost.includes(':') ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      // exclusive: under node:cluster a shared bind would route every response through the primary.
      socket.bind({ address: this.bindHost, port: this.bindPort, exclusive: true }, () => {
        socket.off('error', reject);
        resolve();
      });
    }).catch((err: Error) => {
      socket.close();
      this.starting = undefined;
      throw new Error(`cannot bind the SIP UDP socket to ${this.bindHost}:${this.bindPort}: ${err.message}; choose another bind address or port`);
    });
    socket.on('message', (datagram) => this.receive(datagram));
    socket.on('error', (err) => {
      // Receive-side errors do not end the socket; say so once, not per packet.
      if (this.socketErrorLogged) return;
      this.socketErrorLogged = true;
      this.logger?.warn({ err }, 'SIP UDP socket error');
    });
    this.socket = socket;
    return socket.address();
  }

  /** IPv4 or IPv6, from the bound socket's type. */
  get family(): 4 | 6 {
    return this.bindHost.includes(':') ? 6 : 4;
  }

  get address(): AddressInfo | undefined {
    return this.socket?.address();
  }

  /**
   * Sends `request` and retransmits it (Timer E: T1 doubling up to T2, every T2 once a provisional
   * response came) until a final response with this branch arrives or Timer F fires.
   */
  run(destination: { address: string; port: number }, branch: string, method: string, request: Buffer): Promise<ExchangeResult> {
    const socket = this.socket;
    if (!socket) return Promise.resolve({ kind: 'error', message: 'the SIP notifier is not started or already closed', sends: 0 });
    if (this.pending.has(branch)) return Promise.resolve({ kind: 'error', message: `duplicate SIP branch ${branch}`, sends: 0 });
    const { t1Ms, t2Ms, timeoutMs } = this.timers;
    return new Promise<ExchangeResult>((resolve) => {
      let timerE: NodeJS.Timeout | undefined;
      let interval = t1Ms;
      const transmit = () => {
        entry.sends++;
        socket.send(request, destination.port, destination.address, (err) => {
          if (err) entry.finish({ kind: 'error', message: `cannot send the SIP request to ${destination.address}:${destination.port}: ${err.message}`, sends: entry.sends });
        });
      };
      const armTimerE = () => {
        timerE = setTimeout(() => {
          transmit();
          interval = entry.provisional ? t2Ms : Math.min(interval * 2, t2Ms);
          armTimerE();
        }, interval);
      };
      const timerF = setTimeout(() => entry.finish({ kind: 'timeout', sends: entry.sends }), timeoutMs);
      const entry: Pending = {
        method,
        sends: 0,
        provisional: false,
        onResponse: (response) => {
          if (response.status < 200) {
            // Proceeding: the next retransmissions go every T2 (§17.1.2.2).
            entry.provisional = true;
            return;
          }
          entry.finish({ kind: 'final', response, sends: entry.sends });
        },
        finish: (result) => {
          if (this.pending.get(branch) !== entry) return;
          this.pending.delete(branch);
          clearTimeout(timerE);
          clearTimeout(timerF);
          resolve(result);
        },
      };
      this.pending.set(branch, entry);
      transmit();
      armTimerE();
    });
  }

  private receive(datagram: Buffer): void {
    const response = parseSipResponse(datagram);
    const entry = response?.viaBranch ? this.pending.get(response.viaBranch) : undefined;
    if (!response || !entry || response.cseq.method !== entry.method) {
      // Garbage, requests, late retransmissions of answered transactions: nothing to do.
      this.ignored++;
      const now = Date.now();
      if (now - this.ignoredLoggedAt >= IGNORED_LOG_INTERVAL_MS) {
        this.ignoredLoggedAt = now;
        this.logger?.debug({ ignoredDatagrams: this.ignored }, 'SIP UDP datagrams matching no transaction were ignored');
      }
      return;
    }
    entry.onResponse(response);
  }

  /** Ends pending transactions as errors ('notifier closed') and closes the socket. */
  async close(): Promise<void> {
    this.closed = true;
    await this.starting?.catch(() => undefined);
    for (const entry of [...this.pending.values()]) entry.finish({ kind: 'error', message: 'notifier closed', sends: entry.sends });
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}
