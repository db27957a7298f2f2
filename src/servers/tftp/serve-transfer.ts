import type { RemoteInfo, Socket, SocketType } from 'node:dgram';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { PhoneRequest, ProvisioningCore, Refusal } from '../../provisioning/core.js';
import { plainAddress } from '../../domain/ip-subnet.js';
import { localFileRangeOf } from '../../blobs/local-file-range.js';
import type { TftpPump } from './native-pump.js';
import { startNativeRead } from './native-read.js';
import { negotiate, type TransferSettings } from './options.js';
import { encodeAck, encodeError, encodeOack, ERR_ACCESS, ERR_OPTION, OP_RRQ, type RequestPacket } from './packet.js';
import { ReadTransfer } from './read-transfer.js';
import { errorForRefusal } from './refusal-error.js';
import { targetFromFilename } from './tftp-target.js';
import type { Outcome } from './transfer-link.js';
import { openTransferSocket } from './transfer-socket.js';
import { WriteTransfer } from './write-transfer.js';

export interface ServeContext {
  core: ProvisioningCore;
  logger: Logger;
  type: SocketType;
  /** The listener's address: transfer sockets bind there, so replies come from the address asked. */
  host: string;
  tenant?: string;
  retransmitMs: number;
  retries: number;
  /** The native data phase of reads, when built and not switched off (native-pump.ts). */
  pump: TftpPump | null;
}

/** How the listener stops a transfer: before it started (`aborted`) or while it runs. */
export interface TransferControl {
  aborted: boolean;
  abortTransfer?: () => void;
}

/**
 * One request, from its own socket to its end: the core's answer, option negotiation, then the
 * read or write transfer. Resolves once the transfer has ended and its socket is closed.
 */
export async function serveTransfer(ctx: ServeContext, request: RequestPacket, from: RemoteInfo, control: TransferControl): Promise<void> {
  const ip = plainAddress(from.address);
  const log = ctx.logger.child({ protocol: 'tftp', ip, file: request.filename.slice(0, 300) });
  const operation = request.opcode === OP_RRQ ? 'read' : 'write';
  // Opened when first needed: a read served natively opens its own (native/tftp_pump.c).
  let socket: Socket | undefined;
  let closed: Promise<void> = Promise.resolve();
  const openSocket = async (): Promise<Socket> => {
    if (!socket) {
      const s = await openTransferSocket(ctx.type, ctx.host, from);
      closed = new Promise<void>((resolve) => s.once('close', resolve));
      socket = s;
    }
    return socket;
  };
  let outcome: (o: Outcome) => void = () => {};
  const ended = new Promise<Outcome>((resolve) => (outcome = resolve));
  const refuse = async (code: number, message: string, detail: Record<string, unknown>) => {
    // Synchronous once the socket is open: a write transfer refused mid-way sends before it closes.
    (socket ?? (await openSocket())).send(encodeError(code, message));
    log.info({ operation, ...detail }, 'tftp request refused');
  };
  const refusedByCore = (r: Refusal) => {
    const e = errorForRefusal(r.problem, r.message);
    return refuse(e.code, e.message, { problem: r.problem, tenant: r.tenant, reason: r.message });
  };
  try {
    // close() came while this one was setting up: it never starts.
    if (control.aborted) return;
    const named = targetFromFilename(request.filename);
    if (!named.ok) return await refuse(ERR_ACCESS, named.message, { reason: named.message });
    const req: PhoneRequest = {
      protocol: 'tftp',
      operation,
      target: named.target,
      ip,
      ...(ctx.tenant !== undefined ? { listenerTenant: ctx.tenant } : {}),
    };

    if (operation === 'read') {
      const answer = await ctx.core.handle(req);
      if (control.aborted) return;
      if (!answer.ok) return await refusedByCore(answer);
      const res = answer.resource;
      // A rotated log's first bytes are gone; TFTP has no ranges, so the client gets what is held.
      const heldFrom = res.kind === 'stream' ? Math.min(res.heldFrom ?? 0, res.size) : 0;
      const size = res.kind === 'stream' ? res.size - heldFrom : res.body.length;
      const agreed = negotiate(request.options, { operation, size });
      if (!agreed.ok) return await refuse(ERR_OPTION, agreed.message, { reason: agreed.message });
      const { settings } = agreed;
      const input = res.kind === 'generated' ? res.body : size === 0 ? Buffer.alloc(0) : res.open({ start: heldFrom, end: res.size - 1 });
      const oack = agreed.oack ? encodeOack(agreed.oack) : null;
      const source = ctx.pump ? pumpSource(input) : null;
      if (ctx.pump && source) {
        const native = startNativeRead(ctx.pump, { ...source, ...pumpSettings(ctx, from, settings, size), ...(oack ? { oack } : {}) }, log);
        control.abortTransfer = () => native.abort();
        return void (await native.ended);
      }
      const transfer = new ReadTransfer(
        { socket: await openSocket(), logger: log, retransmitMs: settings.timeoutMs ?? ctx.retransmitMs, retries: ctx.retries },
        input,
        size,
        settings.blksize,
        settings.windowsize,
        oack,
        outcome,
      );
      control.abortTransfer = () => transfer.abort();
      transfer.start();
    } else {
      const agreed = negotiate(request.options, { operation });
      if (!agreed.ok) return await refuse(ERR_OPTION, agreed.message, { reason: agreed.message });
      const { settings } = agreed;
      const transfer = new WriteTransfer(
        { socket: await openSocket(), logger: log, retransmitMs: settings.timeoutMs ?? ctx.retransmitMs, retries: ctx.retries },
        settings.blksize,
        settings.windowsize,
        agreed.oack ? encodeOack(agreed.oack) : encodeAck(0),
        // Started at once: the core may refuse (tenant, path, size) before reading a byte.
        (body) => ctx.core.upload(req, body, settings.tsize),
        (r) => void refusedByCore(r),
        outcome,
      );
      control.abortTransfer = () => transfer.abort();
      transfer.start();
    }
    await ended;
  } finally {
    socket?.close();
    await closed;
  }
}

/** Memory, or a local file by its path and offset (its stream is then never read); null for any other stream. */
function pumpSource(input: Buffer | Readable): { data: Buffer; start: number } | { path: string; start: number } | null {
  if (Buffer.isBuffer(input)) return { data: input, start: 0 };
  const file = localFileRangeOf(input);
  if (!file) return null;
  input.destroy();
  return { path: file.path, start: file.start };
}

function pumpSettings(ctx: ServeContext, from: RemoteInfo, settings: TransferSettings, size: number) {
  return {
    family: ctx.type === 'udp6' ? (6 as const) : (4 as const),
    localAddress: ctx.host,
    peerAddress: from.address,
    peerPort: from.port,
    size,
    blksize: settings.blksize,
    windowsize: settings.windowsize,
    retransmitMs: settings.timeoutMs ?? ctx.retransmitMs,
    retries: ctx.retries,
  };
}
