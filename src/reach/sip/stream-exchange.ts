import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { parseSipResponse, SipFramingError, sipFraming } from '../../domain/sip-message.js';
import type { ExchangeResult, RequestForLocal } from './exchange-result.js';

export interface StreamExchangeInput {
  transport: 'tcp' | 'tls';
  host: string;
  port: number;
  /** The transaction's branch and method: only a response carrying both ends the exchange. */
  branch: string;
  method: string;
  request: RequestForLocal;
  /** Via/Contact host; default the connection's local address. */
  advertisedHost?: string;
  /** Bounds connect, handshake and answer together (Timer F: streams are not retransmitted). */
  timeoutMs: number;
  tls?: { rejectUnauthorized?: boolean; ca?: string | Buffer };
  /** Aborting ends the exchange as an error ('notifier closed'). */
  signal: AbortSignal;
}

/**
 * One request over its own TCP or TLS connection (RFC 3261 §18.1.1), framed with sipFraming:
 * provisional responses are skipped, the first final response with the request's branch ends it,
 * and the connection is closed. Never rejects: every failure is an ExchangeResult.
 */
export function exchangeOverStream(input: StreamExchangeInput): Promise<ExchangeResult> {
  const peer = `${input.host.includes(':') ? `[${input.host}]` : input.host}:${input.port}`;
  const label = input.transport.toUpperCase();
  return new Promise<ExchangeResult>((resolve) => {
    let sends = 0;
    let settled = false;
    let socket: Socket;
    const finish = (result: ExchangeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      input.signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(result);
    };
    const onAbort = () => finish({ kind: 'error', message: 'notifier closed', sends });
    const timer = setTimeout(() => finish({ kind: 'timeout', sends }), input.timeoutMs);
    if (input.transport === 'tls') {
      socket = tlsConnect({
        host: input.host,
        port: input.port,
        // SNI carries names only (RFC 6066 §3).
        ...(isIP(input.host) ? {} : { servername: input.host }),
        ...(input.tls?.ca !== undefined ? { ca: input.tls.ca } : {}),
        rejectUnauthorized: input.tls?.rejectUnauthorized ?? true,
      });
    } else {
      socket = netConnect({ host: input.host, port: input.port });
    }
    if (input.signal.aborted) return onAbort();
    input.signal.addEventListener('abort', onAbort, { once: true });

    socket.once(input.transport === 'tls' ? 'secureConnect' : 'connect', () => {
      let text: string;
      try {
        text = input.request({ host: input.advertisedHost ?? socket.localAddress ?? '0.0.0.0', port: socket.localPort ?? 0 });
      } catch (err) {
        return finish({ kind: 'error', message: (err as Error).message, sends });
      }
      sends = 1;
      socket.write(text);
    });

    let buffered: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      try {
        for (let framed = sipFraming(buffered); framed && !settled; framed = sipFraming(buffered)) {
          buffered = framed.rest;
          const response = parseSipResponse(framed.message);
          // Requests from the peer and responses to other transactions are not ours to answer.
          if (!response || response.viaBranch !== input.branch || response.cseq.method !== input.method) continue;
          if (response.status >= 200) finish({ kind: 'final', response, sends });
        }
      } catch (err) {
        if (!(err instanceof SipFramingError)) throw err;
        finish({ kind: 'error', message: `${label} peer ${peer} sent an unreadable stream: ${err.message}`, sends });
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const what = sends ? `${label} connection to ${peer} failed` : `cannot open a ${label} connection to ${peer}`;
      finish({ kind: 'error', message: `${what}: ${err.message}${err.code && !err.message.includes(err.code) ? ` (${err.code})` : ''}`, sends });
    });
    socket.on('close', () => finish({ kind: 'error', message: `${peer} closed the ${label} connection before a final response`, sends }));
  });
}
