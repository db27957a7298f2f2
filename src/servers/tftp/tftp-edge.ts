import { createSocket, type RemoteInfo, type SocketType } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import type { ProvisioningCore } from '../../provisioning/core.js';
import { plainAddress } from '../../domain/ip-subnet.js';
import {
  decodePacket,
  encodeError,
  ERR_ILLEGAL,
  ERR_NOT_DEFINED,
  ERR_UNKNOWN_TID,
  OP_ACK,
  OP_DATA,
  OP_ERROR,
  OP_OACK,
  OP_RRQ,
  OP_WRQ,
  TftpPacketError,
} from './packet.js';
import { loadTftpPump } from './native-pump.js';
import { RateGate } from './rate-gate.js';
import { serveTransfer, type ServeContext, type TransferControl } from './serve-transfer.js';

export interface TftpEdgeOptions {
  logger: Logger;
  host: string;
  /** 0 = any free port. */
  port: number;
  /** Slug of the tenant this listener serves (PhoneRequest.listenerTenant), if it is bound to one. */
  tenant?: string;
  /** Transfers at once; a request beyond it gets ERROR 0 "server busy, retry". */
  maxTransfers: number;
  /** Default 1000; a client's `timeout` option overrides it for its transfer. */
  retransmitMs?: number;
  /** Timeouts in a row before a transfer is abandoned; default 5. */
  retries?: number;
  /** Reads' data phase in native code when the addon is built (native-pump.ts); default true. */
  native?: boolean;
}

export interface RunningTftpEdge {
  port: number;
  close(): Promise<void>;
}

interface Active {
  abort(): void;
  finished: Promise<void>;
}

/**
 * The TFTP edge (RFC 1350 with options: blksize, timeout, tsize, windowsize). The listener only
 * takes requests; each transfer runs on a socket of its own (serve-transfer.ts). Reads and writes
 * go to the core like any other protocol's: it chooses the tenant (the listener's, or by the
 * client's subnet), applies its policy, and the edge turns its refusals into ERROR packets.
 *
 * netascii is served as octet, both ways: phones ask for octet, their files are UTF-8 XML that
 * parsers take with either line ending, and a translated stream would make tsize a lie.
 *
 * Under node:cluster the listener's bind is shared through the primary (each request goes to one
 * worker), so `maxTransfers` and the duplicate-request check hold per worker.
 */
export async function startTftpEdge(core: ProvisioningCore, opts: TftpEdgeOptions): Promise<RunningTftpEdge> {
  const logger = opts.logger;
  const type: SocketType = isIPv6(opts.host) ? 'udp6' : 'udp4';
  const retransmitMs = opts.retransmitMs ?? 1000;
  const retries = opts.retries ?? 5;
  const active = new Map<string, Active>();
  // Garbage is logged once a second per source and answered a few times a second per source.
  const logGate = new RateGate(1000, 1);
  const replyGate = new RateGate(1000, 20);

  const listener = createSocket({ type });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.bind({ address: opts.host, port: opts.port }, () => {
      listener.off('error', reject);
      resolve();
    });
  });
  listener.on('error', (err) => logger.error({ err, protocol: 'tftp' }, 'tftp listener error'));
  const pump = opts.native === false ? null : loadTftpPump();
  const ctx: ServeContext = { core, logger, type, host: opts.host, retransmitMs, retries, pump, ...(opts.tenant !== undefined ? { tenant: opts.tenant } : {}) };

  const reply = (packet: Buffer, to: RemoteInfo) => {
    if (replyGate.allow(to.address)) listener.send(packet, to.port, to.address);
  };
  const noteGarbage = (to: RemoteInfo, reason: string) => {
    if (logGate.allow(to.address)) logger.info({ protocol: 'tftp', ip: plainAddress(to.address), port: to.port, reason }, 'tftp bad packet');
  };

  const onPacket = (msg: Buffer, from: RemoteInfo) => {
    if (msg.length < 4) {
      // Too short to be anything answerable.
      noteGarbage(from, `${msg.length}-byte packet`);
      return;
    }
    const op = msg.readUInt16BE(0);
    if (op === OP_ERROR) return; // never answer an error with an error
    if (op === OP_DATA || op === OP_ACK || op === OP_OACK) {
      // A packet of some transfer sent to the listening port: no transfer lives here.
      noteGarbage(from, `opcode ${op} to the listening port`);
      reply(encodeError(ERR_UNKNOWN_TID, 'Unknown transfer ID'), from);
      return;
    }
    let request;
    try {
      request = decodePacket(msg);
    } catch (err) {
      if (!(err instanceof TftpPacketError)) throw err;
      noteGarbage(from, err.message);
      reply(encodeError(ERR_ILLEGAL, err.message), from);
      return;
    }
    if (request.opcode !== OP_RRQ && request.opcode !== OP_WRQ) return;
    const key = `${from.address}|${from.port}`;
    // A client repeats its request when the first answer is slow: that transfer is under way.
    if (active.has(key)) return;
    if (active.size >= opts.maxTransfers) {
      if (logGate.allow('busy')) logger.warn({ protocol: 'tftp', transfers: active.size, ip: plainAddress(from.address) }, 'tftp busy: request turned away');
      reply(encodeError(ERR_NOT_DEFINED, 'server busy, retry'), from);
      return;
    }
    const control: TransferControl = { aborted: false };
    const entry: Active = {
      abort() {
        control.aborted = true;
        control.abortTransfer?.();
      },
      finished: Promise.resolve(),
    };
    active.set(key, entry);
    entry.finished = serveTransfer(ctx, request, from, control)
      .catch((err: unknown) => {
        // Out of descriptors, say: one line a second, not one per request.
        if (logGate.allow('failed')) logger.error({ err, protocol: 'tftp', ip: plainAddress(from.address), file: request.filename.slice(0, 300) }, 'tftp transfer failed');
      })
      .finally(() => active.delete(key));
  };

  listener.on('message', (msg, from) => {
    try {
      onPacket(msg, from);
    } catch (err) {
      // One bad packet must not take the listener down.
      if (logGate.allow('crash')) logger.error({ err, protocol: 'tftp' }, 'tftp request handling failed');
    }
  });

  const address = listener.address();
  let closing: Promise<void> | undefined;
  return {
    port: address.port,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => listener.close(() => resolve()));
        for (const t of active.values()) t.abort();
        await Promise.all([...active.values()].map((t) => t.finished));
      })();
      return closing;
    },
  };
}
