import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { digestAuthorization, parseDigestChallenge } from '../../domain/digest-client.js';
import { buildNotify, type SipResponse, validateRequestUri } from '../../domain/sip-message.js';
import type { ExchangeResult, RequestForLocal } from './exchange-result.js';
import { routeLocalAddress } from './route-local-address.js';
import { newBranch, newCallId, newCnonce, newTag } from './sip-ids.js';
import { exchangeOverStream } from './stream-exchange.js';
import { UdpClientTransactions } from './udp-client-transactions.js';

export type SipTransport = 'udp' | 'tcp' | 'tls';

/** Where a NOTIFY goes: the address to send to, and the Request-URI (often the phone's registered contact). */
export interface NotifyTarget {
  host: string;
  port: number;
  transport: SipTransport;
  requestUri: string;
}

/** Answer to a phone's (or its proxy's) Digest challenge. */
export interface NotifyCredentials {
  username: string;
  password: string;
}

/**
 * How one NOTIFY ended. `attempts` counts transmissions, retransmissions and the authenticated
 * retry included; `authenticated` says whether a Digest answer was sent.
 */
export type NotifyOutcome =
  | { kind: 'ok'; status: number; reason: string; attempts: number; authenticated: boolean; elapsedMs: number }
  /** A final status >= 300: includes 401/407 after one answer, or 401/407 without credentials. */
  | { kind: 'rejected'; status: number; reason: string; attempts: number; authenticated: boolean; elapsedMs: number }
  /** Timer F fired (or the TCP/TLS connection and answer took longer than that). */
  | { kind: 'timeout'; attempts: number; elapsedMs: number }
  /** DNS failure, connection refused, TLS failure, a send error, an invalid target... */
  | { kind: 'error'; message: string; elapsedMs: number };

export interface SipNotifierOptions {
  /** Address the UDP socket binds to (default 0.0.0.0; tests use 127.0.0.1); port 0 = any. */
  bindHost?: string;
  bindPort?: number;
  /** Host put in Via/From/Contact; default: the bound address, or the local address the route uses. */
  advertisedHost?: string;
  /** RFC 3261 timers; defaults T1 500 ms, T2 4000 ms, Timer F = 64*T1. Tests shrink them. */
  t1Ms?: number;
  t2Ms?: number;
  timeoutMs?: number;
  tls?: { rejectUnauthorized?: boolean; ca?: string | Buffer };
  logger?: Logger;
  userAgent?: string;
}

const METHOD = 'NOTIFY';
/** Routes looked up for a wildcard-bound socket are remembered, up to this many destinations. */
const ROUTE_CACHE_LIMIT = 1024;

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`SipNotifier option ${name} must be a positive number of milliseconds, got ${value}`);
  return v;
}

/**
 * Sends out-of-dialog SIP NOTIFYs (`Event: check-sync` by default) that make phones re-read their
 * configuration (fact sheet §7.1). UDP transactions share one socket; TCP and TLS open one
 * connection per NOTIFY.
 */
export class SipNotifier {
  private readonly udp: UdpClientTransactions;
  private readonly t1Ms: number;
  private readonly timeoutMs: number;
  private readonly streams = new AbortController();
  private readonly routes = new Map<string, string>();
  private closed = false;

  constructor(private readonly opts: SipNotifierOptions = {}) {
    this.t1Ms = positive('t1Ms', opts.t1Ms, 500);
    const t2Ms = positive('t2Ms', opts.t2Ms, 4000);
    this.timeoutMs = positive('timeoutMs', opts.timeoutMs, 64 * this.t1Ms);
    this.udp = new UdpClientTransactions(opts.bindHost ?? '0.0.0.0', opts.bindPort ?? 0, { t1Ms: this.t1Ms, t2Ms, timeoutMs: this.timeoutMs }, opts.logger);
  }

  /** Binds the one shared UDP socket (notify() also does it on first use). */
  async start(): Promise<void> {
    await this.udp.start();
  }

  /** One NOTIFY transaction (plus one authenticated retry). Never throws: every failure is an outcome. */
  async notify(target: NotifyTarget, opts: { event?: string; credentials?: NotifyCredentials } = {}): Promise<NotifyOutcome> {
    const startedAt = performance.now();
    const elapsedMs = () => Math.round(performance.now() - startedAt);
    let outcome: NotifyOutcome;
    try {
      outcome = await this.transact(target, opts.event ?? 'check-sync', opts.credentials, elapsedMs);
    } catch (err) {
      outcome = { kind: 'error', message: (err as Error).message, elapsedMs: elapsedMs() };
    }
    if (outcome.kind !== 'ok') {
      this.opts.logger?.warn({ requestUri: target.requestUri, host: target.host, port: target.port, transport: target.transport, outcome }, 'SIP NOTIFY did not succeed');
    }
    return outcome;
  }

  private async transact(target: NotifyTarget, event: string, credentials: NotifyCredentials | undefined, elapsedMs: () => number): Promise<NotifyOutcome> {
    if (this.closed) return { kind: 'error', message: 'notifier closed', elapsedMs: elapsedMs() };
    validateRequestUri(target.requestUri);
    if (!['udp', 'tcp', 'tls'].includes(target.transport)) throw new Error(`unknown SIP transport ${JSON.stringify(target.transport)}: use udp, tcp or tls`);
    if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535) throw new Error(`invalid SIP port ${target.port} for ${target.host}: expected 1 to 65535`);
    const send = target.transport === 'udp' ? await this.udpSender(target) : this.streamSender(target);

    const callId = newCallId();
    const fromTag = newTag();
    let attempts = 0;
    let authorization: { header: 'Authorization' | 'Proxy-Authorization'; value: string } | undefined;
    for (let cseq = 1; ; cseq++) {
      const branch = newBranch();
      const request: RequestForLocal = (local) =>
        buildNotify({
          requestUri: target.requestUri,
          transport: target.transport,
          localHost: local.host,
          localPort: local.port,
          branch,
          fromTag,
          callId,
          cseq,
          event,
          ...(authorization ? { authorization } : {}),
          ...(this.opts.userAgent !== undefined ? { userAgent: this.opts.userAgent } : {}),
        });
      const result: ExchangeResult = await send(branch, request);
      attempts += result.sends;
      if (result.kind === 'timeout') return { kind: 'timeout', attempts, elapsedMs: elapsedMs() };
      if (result.kind === 'error') return { kind: 'error', message: result.message, elapsedMs: elapsedMs() };
      const { status, reason } = result.response;
      const authenticated = authorization !== undefined;
      if (status < 300) return { kind: 'ok', status, reason, attempts, authenticated, elapsedMs: elapsedMs() };
      // One answer per NOTIFY: a second challenge means the credentials were refused.
      authorization = authenticated || !credentials ? undefined : this.answer(result.response, target.requestUri, credentials);
      if (!authorization) return { kind: 'rejected', status, reason, attempts, authenticated, elapsedMs: elapsedMs() };
    }
  }

  /** The header answering a 401 (WWW-Authenticate) or 407 (Proxy-Authenticate), or undefined. */
  private answer(response: SipResponse, uri: string, credentials: NotifyCredentials): { header: 'Authorization' | 'Proxy-Authorization'; value: string } | undefined {
    const proxy = response.status === 407;
    if (!proxy && response.status !== 401) return undefined;
    const offered = response.headers.get(proxy ? 'proxy-authenticate' : 'www-authenticate') ?? [];
    for (const header of offered) {
      const challenge = parseDigestChallenge(header);
      if (!challenge) continue;
      const value = digestAuthorization({ challenge, method: METHOD, uri, username: credentials.username, password: credentials.password, cnonce: newCnonce(), nc: 1 });
      return { header: proxy ? 'Proxy-Authorization' : 'Authorization', value };
    }
    return undefined;
  }

  private async udpSender(target: NotifyTarget): Promise<(branch: string, request: RequestForLocal) => Promise<ExchangeResult>> {
    const bound = await this.udp.start();
    const family = this.udp.family;
    let address = target.host.startsWith('[') && target.host.endsWith(']') ? target.host.slice(1, -1) : target.host;
    if (!isIP(address)) {
      try {
        address = (await lookup(address, { family: family === 4 ? 4 : 0 })).address;
      } catch (err) {
        throw new Error(`cannot resolve SIP host ${target.host}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
    if (isIP(address) === 6 && family === 4) {
      throw new Error(`SIP host ${target.host} is IPv6 but the notifier's UDP socket is IPv4 (${bound.address}); bind it to "::" to reach IPv6 phones`);
    }
    // A dual-stack IPv6 socket reaches IPv4 peers through mapped addresses.
    if (isIP(address) === 4 && family === 6) address = `::ffff:${address}`;
    const localHost = await this.localHostFor(bound.address, address, family);
    const destination = { address, port: target.port };
    return (branch, request) => this.udp.run(destination, branch, METHOD, Buffer.from(request({ host: localHost, port: bound.port }), 'utf8'));
  }

  private async localHostFor(boundAddress: string, destination: string, family: 4 | 6): Promise<string> {
    if (this.opts.advertisedHost) return this.opts.advertisedHost;
    if (boundAddress !== '0.0.0.0' && boundAddress !== '::') return boundAddress;
    let local = this.routes.get(destination);
    if (local === undefined) {
      local = await routeLocalAddress(destination, family).catch((err: Error) => {
        throw new Error(`no route to SIP host ${destination}: ${err.message}`);
      });
      if (this.routes.size >= ROUTE_CACHE_LIMIT) this.routes.clear();
      this.routes.set(destination, local);
    }
    return local.startsWith('::ffff:') ? local.slice(7) : local;
  }

  private streamSender(target: NotifyTarget): (branch: string, request: RequestForLocal) => Promise<ExchangeResult> {
    const host = target.host.startsWith('[') && target.host.endsWith(']') ? target.host.slice(1, -1) : target.host;
    return (branch, request) =>
      exchangeOverStream({
        transport: target.transport as 'tcp' | 'tls',
        host,
        port: target.port,
        branch,
        method: METHOD,
        request,
        ...(this.opts.advertisedHost ? { advertisedHost: this.opts.advertisedHost } : {}),
        timeoutMs: this.timeoutMs,
        ...(this.opts.tls ? { tls: this.opts.tls } : {}),
        signal: this.streams.signal,
      });
  }

  /** Ends pending transactions as errors ('notifier closed') and closes the sockets. */
  async close(): Promise<void> {
    this.closed = true;
    this.streams.abort();
    await this.udp.close();
  }
}
