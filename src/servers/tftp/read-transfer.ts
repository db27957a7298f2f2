import type { Readable } from 'node:stream';
import { BlockSource } from './block-source.js';
import { encodeError, ERR_ILLEGAL, ERR_NOT_DEFINED, OP_ACK, OP_ERROR } from './packet.js';
import { errorPacketDetail } from './packet.js';
import { attachTransfer, type Outcome, type TransferLink } from './transfer-link.js';

/**
 * Sends one file (RRQ): a window of `windowsize` blocks (1 = RFC 1350 lock-step), slid by each
 * ACK. Only a timeout retransmits: a duplicate ACK never does (the Sorcerer's Apprentice bug
 * doubles every packet after one delayed ACK). An ACK for a block inside the window acknowledges
 * up to it, and the sender goes on from the next one, resending what the client did not take
 * (RFC 7440). Block numbers are counted in full here and wrap modulo 65536 on the wire, so files
 * of any length go through.
 */
export class ReadTransfer {
  /** Oldest block not acknowledged. */
  private base = 1;
  /** Next block never sent. */
  private next = 1;
  /** Number of the last (short) block, once it has been built. */
  private last = -1;
  /** slots[b % windowsize] holds block b's packet, for base <= b < next. */
  private readonly slots: (Buffer | undefined)[];
  private waitingForOack: boolean;
  private done = false;
  private tries = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly source: BlockSource;
  private readonly fullPacket: number;

  constructor(
    private readonly link: TransferLink,
    input: Buffer | Readable,
    size: number,
    blksize: number,
    private readonly windowsize: number,
    /** Sent first and repeated until ACK 0 when options were negotiated; null for RFC 1350 clients. */
    private readonly oack: Buffer | null,
    private readonly finished: (outcome: Outcome) => void,
  ) {
    this.slots = new Array<Buffer | undefined>(windowsize);
    this.fullPacket = 4 + blksize;
    this.waitingForOack = oack !== null;
    this.source = new BlockSource(input, blksize, size, () => this.safely(() => this.onSourceReady()));
    this.timer = attachTransfer(link, {
      onMessage: (msg) => this.onMessage(msg),
      onTimeout: () => this.onTimeout(),
      fail: (err) => this.fail(err),
      onSocketError: (err) => this.end('client-error', { err: err.message }, 'tftp client unreachable; transfer ended'),
    });
  }

  start(): void {
    if (this.oack) this.link.socket.send(this.oack);
    else this.fill();
  }

  /** Ends the transfer now (server shutdown). */
  abort(): void {
    this.end('aborted');
  }

  private onMessage(msg: Buffer): void {
    if (this.done) return;
    const op = msg.length >= 4 ? (msg[0]! << 8) | msg[1]! : -1;
    if (op === OP_ACK) {
      const block = (msg[2]! << 8) | msg[3]!;
      if (this.waitingForOack) {
        // Anything but ACK 0 is a stray; the OACK is repeated on timeout.
        if (block !== 0) return;
        this.waitingForOack = false;
        this.tries = 0;
        this.timer.refresh();
        this.fill();
        return;
      }
      this.onAck(block);
    } else if (op === OP_ERROR) {
      this.end('client-error', errorPacketDetail(msg), 'tftp client ended the transfer');
    } else {
      this.link.socket.send(encodeError(ERR_ILLEGAL, 'expected an ACK'));
      this.end('failed', { opcode: op }, 'tftp client sent a packet other than ACK; transfer ended');
    }
  }

  private onAck(wire: number): void {
    // How many blocks past the last acknowledged one this ACK reaches (mod 65536).
    const ahead = (wire - ((this.base - 1) & 0xffff)) & 0xffff;
    // 0: a duplicate; beyond what was sent: an old ACK from 65536 blocks ago. Neither moves anything.
    if (ahead === 0 || ahead > this.next - this.base) return;
    const acked = this.base - 1 + ahead;
    if (acked === this.last) {
      this.end('complete');
      return;
    }
    const slots = this.slots;
    const w = this.windowsize;
    for (let b = this.base; b <= acked; b++) slots[b % w] = undefined;
    this.base = acked + 1;
    this.tries = 0;
    this.timer.refresh();
    // A partial window was acknowledged: the client dropped what followed, so it is sent again.
    for (let b = this.base; b < this.next; b++) this.link.socket.send(slots[b % w]!);
    this.fill();
  }

  /** Sends new blocks until the window is full, the file is out, or the bytes are not there yet. */
  private fill(): void {
    const socket = this.link.socket;
    const limit = this.base + this.windowsize;
    while (this.next < limit && this.last < 0) {
      const packet = this.source.next(this.next);
      if (packet === null) {
        if (this.source.failed) this.readFailed(this.source.failed);
        return;
      }
      this.slots[this.next % this.windowsize] = packet;
      if (packet.length < this.fullPacket) this.last = this.next;
      socket.send(packet);
      this.next += 1;
    }
  }

  private onSourceReady(): void {
    if (!this.done && !this.waitingForOack) this.fill();
  }

  private onTimeout(): void {
    if (this.done) return;
    this.tries += 1;
    if (this.tries > this.link.retries) {
      this.end('abandoned', { block: this.base, timeouts: this.tries - 1 }, 'tftp transfer abandoned: no ACK');
      return;
    }
    const socket = this.link.socket;
    if (this.waitingForOack) socket.send(this.oack!);
    else for (let b = this.base; b < this.next; b++) socket.send(this.slots[b % this.windowsize]!);
    this.timer.refresh();
  }

  private readFailed(err: Error): void {
    this.link.socket.send(encodeError(ERR_NOT_DEFINED, 'read error'));
    this.link.logger.error({ err }, 'tftp read failed');
    this.end('failed');
  }

  /** A fault in this transfer ends this transfer, never the process or the listener. */
  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    if (this.done) return;
    this.link.logger.error({ err }, 'tftp transfer failed');
    try {
      this.link.socket.send(encodeError(ERR_NOT_DEFINED, 'internal error'));
    } catch {
      // The socket itself failed: there is no one left to tell.
    }
    this.end('failed');
  }

  private end(outcome: Outcome, detail?: Record<string, unknown>, msg?: string): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.source.destroy();
    this.slots.fill(undefined);
    if (msg) this.link.logger.info({ ...detail, sent: this.next - 1 }, msg);
    this.finished(outcome);
  }
}
