import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { decodePacket, encodeAck, encodeData, encodeRequest, OP_ACK, OP_DATA, OP_ERROR, OP_OACK, OP_RRQ, OP_WRQ } from '../../src/servers/tftp/packet.js';

/**
 * A raw TFTP client over node:dgram that misbehaves on purpose, in a pattern the test decides:
 * it drops and duplicates DATA and ACK packets, so the server's retransmission, duplicate and
 * window handling are exercised exactly. It follows RFC 1350/2347/7440 otherwise, and keeps count
 * of what it saw so a test can check that nothing was sent needlessly.
 */

/** What happens to a packet: lost, delivered twice, or delivered as is. */
export type Fate = 'drop' | 'dup' | 'pass';
/** `block` is the full (unwrapped) block number; `nth` counts this block's packets from 0. */
export type FateOf = (block: number, nth: number) => Fate;

export interface LossyOptions {
  host: string;
  port: number;
  file: string;
  blksize?: number;
  windowsize?: number;
  /** Ask for tsize (RRQ: the server's size; WRQ: the body length). */
  tsize?: boolean;
  /** The `timeout` option in seconds (the server's retransmission timer), if sent. */
  timeout?: number;
  /** The client's own retransmission timer. */
  retransmitMs?: number;
  /** What becomes of each DATA packet: received ones on a get, sent ones on a put. */
  data?: FateOf;
  /** What becomes of each ACK: sent ones on a get, received ones on a put. */
  ack?: FateOf;
  /** The whole transfer must end by then, or it fails. */
  deadlineMs: number;
}

export interface LossyStats {
  /** DATA packets that arrived (get) or were put on the wire (put), duplicates included. */
  dataPackets: number;
  /** ACK packets put on the wire (get) or that arrived (put). */
  ackPackets: number;
  /** Options the server acknowledged; null without an OACK. */
  oack: Map<string, string> | null;
}

export class TftpError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(`TFTP error ${code}: ${message}`);
  }
}

const pass: FateOf = () => 'pass';

function requestOptions(o: LossyOptions, size?: number): [string, string][] {
  const out: [string, string][] = [];
  if (o.blksize !== undefined) out.push(['blksize', String(o.blksize)]);
  if (o.windowsize !== undefined) out.push(['windowsize', String(o.windowsize)]);
  if (o.tsize) out.push(['tsize', String(size ?? 0)]);
  if (o.timeout !== undefined) out.push(['timeout', String(o.timeout)]);
  return out;
}

/** A bound socket, a deadline and one place for every ending. */
class Session<T> {
  readonly socket: Socket;
  server: { address: string; port: number } | null = null;
  private timer: NodeJS.Timeout | undefined;
  private deadline: NodeJS.Timeout;
  readonly result: Promise<T>;
  private settle!: { resolve(v: T): void; reject(e: Error): void };
  private ended = false;

  constructor(
    private readonly o: LossyOptions,
    onPacket: (msg: Buffer) => void,
    private readonly onTimeout: () => void,
  ) {
    this.result = new Promise<T>((resolve, reject) => (this.settle = { resolve, reject }));
    this.socket = createSocket(o.host.includes(':') ? 'udp6' : 'udp4');
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('message', (msg: Buffer, from: RemoteInfo) => {
      if (this.ended) return;
      // The first answer fixes the server's TID; anything from elsewhere is not this transfer's.
      this.server ??= { address: from.address, port: from.port };
      if (from.port !== this.server.port || from.address !== this.server.address) return;
      try {
        onPacket(msg);
      } catch (err) {
        this.fail(err as Error);
      }
    });
    this.deadline = setTimeout(() => this.fail(new Error(`TFTP transfer of ${o.file} did not finish in ${o.deadlineMs} ms`)), o.deadlineMs);
  }

  send(packet: Buffer): void {
    if (this.ended) return;
    const to = this.server ?? { address: this.o.host, port: this.o.port };
    this.socket.send(packet, to.port, to.address);
  }

  /** (Re)starts the retransmission timer. */
  arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (!this.ended) {
        this.onTimeout();
        this.arm();
      }
    }, this.o.retransmitMs ?? 200);
  }

  finish(value: T): void {
    if (this.end()) this.settle.resolve(value);
  }

  fail(err: Error): void {
    if (this.end()) this.settle.reject(err);
  }

  private end(): boolean {
    if (this.ended) return false;
    this.ended = true;
    clearTimeout(this.timer);
    clearTimeout(this.deadline);
    this.socket.close();
    return true;
  }
}

/** Reads a file, receiving DATA and sending ACKs through the loss pattern. */
export function lossyGet(o: LossyOptions): Promise<{ data: Buffer; stats: LossyStats }> {
  const dataFate = o.data ?? pass;
  const ackFate = o.ack ?? pass;
  const requested = requestOptions(o);
  let blksize = 512;
  let windowsize = 1;
  const chunks: Buffer[] = [];
  let received = 0; // blocks taken in order
  let inWindow = 0;
  let started = false;
  const seenData = new Map<number, number>();
  const sentAcks = new Map<number, number>();
  const stats: LossyStats = { dataPackets: 0, ackPackets: 0, oack: null };

  const sendAck = (block: number) => {
    const nth = sentAcks.get(block) ?? 0;
    sentAcks.set(block, nth + 1);
    const fate = ackFate(block, nth);
    if (fate === 'drop') return;
    const packet = encodeAck(block);
    session.send(packet);
    stats.ackPackets += 1;
    if (fate === 'dup') {
      session.send(packet);
      stats.ackPackets += 1;
    }
  };

  // RFC 7440 receiver: after an out-of-order block, one ACK for the last block in order, then the
  // window counts again from the block after it (the sender restarts there).
  let answeredStray = false;
  const onData = (wire: number, payload: Buffer) => {
    const expected = received + 1;
    if (wire !== (expected & 0xffff)) {
      if (windowsize === 1 || !answeredStray) {
        answeredStray = true;
        inWindow = 0;
        sendAck(received);
      }
      return;
    }
    answeredStray = false;
    received = expected;
    chunks.push(Buffer.from(payload));
    inWindow += 1;
    session.arm();
    if (payload.length < blksize) {
      sendAck(received);
      // Dally a moment in case the last ACK is lost: the server would repeat the last block.
      setTimeout(() => session.finish({ data: Buffer.concat(chunks), stats }), (o.retransmitMs ?? 200) * 2).unref();
      finishing = true;
      return;
    }
    if (inWindow >= windowsize) {
      inWindow = 0;
      sendAck(received);
    }
  };
  let finishing = false;

  const session: Session<{ data: Buffer; stats: LossyStats }> = new Session(
    o,
    (msg) => {
      const p = decodePacket(msg);
      if (p.opcode === OP_ERROR) throw new TftpError(p.code, p.message);
      if (p.opcode === OP_OACK) {
        if (started) return;
        started = true;
        stats.oack = p.options;
        blksize = Number(p.options.get('blksize') ?? 512);
        windowsize = Number(p.options.get('windowsize') ?? 1);
        sendAck(0);
        session.arm();
        return;
      }
      if (p.opcode !== OP_DATA) throw new Error(`unexpected opcode ${p.opcode}`);
      started = true;
      stats.dataPackets += 1;
      // Which block this is, unwrapped relative to what we have.
      const full = received + 1 + (((p.block - ((received + 1) & 0xffff)) << 16) >> 16);
      const nth = seenData.get(full) ?? 0;
      seenData.set(full, nth + 1);
      const fate = dataFate(full, nth);
      if (fate === 'drop') return;
      if (finishing) {
        if (p.block === (received & 0xffff)) sendAck(received);
        return;
      }
      onData(p.block, p.data);
      if (fate === 'dup' && !finishing) onData(p.block, p.data);
    },
    () => {
      if (finishing) return;
      if (!started) session.send(encodeRequest(OP_RRQ, o.file, 'octet', requested));
      else {
        inWindow = 0;
        sendAck(received);
      }
    },
  );
  session.send(encodeRequest(OP_RRQ, o.file, 'octet', requested));
  session.arm();
  return session.result;
}

/** Writes `body`, sending DATA and receiving ACKs through the loss pattern. */
export function lossyPut(o: LossyOptions, body: Buffer): Promise<{ stats: LossyStats }> {
  const dataFate = o.data ?? pass;
  const ackFate = o.ack ?? pass;
  const requested = requestOptions(o, body.length);
  let blksize = 512;
  let windowsize = 1;
  let base = 1; // oldest block not acknowledged
  let next = 1; // next block not sent yet
  let started = false;
  const blocks = () => Math.floor(body.length / blksize) + 1;
  const sentData = new Map<number, number>();
  const seenAcks = new Map<number, number>();
  const stats: LossyStats = { dataPackets: 0, ackPackets: 0, oack: null };

  const sendBlock = (block: number) => {
    const nth = sentData.get(block) ?? 0;
    sentData.set(block, nth + 1);
    const fate = dataFate(block, nth);
    if (fate === 'drop') return;
    const start = (block - 1) * blksize;
    const packet = encodeData(block, body.subarray(start, Math.min(start + blksize, body.length)));
    session.send(packet);
    stats.dataPackets += 1;
    if (fate === 'dup') {
      session.send(packet);
      stats.dataPackets += 1;
    }
  };
  const fill = () => {
    while (next < base + windowsize && next <= blocks()) sendBlock(next++);
  };
  const onAck = (wire: number) => {
    const ahead = (wire - ((base - 1) & 0xffff)) & 0xffff;
    if (ahead === 0 || ahead > next - base) return;
    base += ahead;
    if (base > blocks()) {
      session.finish({ stats });
      return;
    }
    session.arm();
    next = base; // resend whatever the server did not take
    fill();
  };

  const session: Session<{ stats: LossyStats }> = new Session(
    o,
    (msg) => {
      const p = decodePacket(msg);
      if (p.opcode === OP_ERROR) throw new TftpError(p.code, p.message);
      if (p.opcode === OP_OACK || (p.opcode === OP_ACK && !started)) {
        if (p.opcode === OP_ACK && p.block !== 0) return;
        if (started) return;
        started = true;
        if (p.opcode === OP_OACK) {
          stats.oack = p.options;
          blksize = Number(p.options.get('blksize') ?? 512);
          windowsize = Number(p.options.get('windowsize') ?? 1);
        }
        session.arm();
        fill();
        return;
      }
      if (p.opcode !== OP_ACK) throw new Error(`unexpected opcode ${p.opcode}`);
      const full = base - 1 + (((p.block - ((base - 1) & 0xffff)) << 16) >> 16);
      const nth = seenAcks.get(full) ?? 0;
      seenAcks.set(full, nth + 1);
      const fate = ackFate(full, nth);
      if (fate === 'drop') return;
      stats.ackPackets += fate === 'dup' ? 2 : 1;
      onAck(p.block);
      if (fate === 'dup') onAck(p.block);
    },
    () => {
      if (!started) session.send(encodeRequest(OP_WRQ, o.file, 'octet', requested));
      else {
        next = base;
        fill();
      }
    },
  );
  session.send(encodeRequest(OP_WRQ, o.file, 'octet', requested));
  session.arm();
  return session.result;
}

/** A deterministic pseudo-random source (mulberry32), so a loss pattern is the same on every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
