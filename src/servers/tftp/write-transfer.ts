import { PassThrough } from 'node:stream';
import type { Refusal, UploadAnswer } from '../../provisioning/core.js';
import { encodeAck, encodeError, ERR_ILLEGAL, ERR_NOT_DEFINED, OP_DATA, OP_ERROR } from './packet.js';
import { errorPacketDetail } from './packet.js';
import { errorForRefusal } from './refusal-error.js';
import { attachTransfer, type Outcome, type TransferLink } from './transfer-link.js';

/** How much the upload body may hold that the core has not read yet before ACKs wait for it. */
const BODY_HIGH_WATER = 256 * 1024;

/**
 * Receives one file (WRQ) into the core's upload. Blocks go into the body in order, each once;
 * duplicates are acknowledged again, never written again. An ACK never runs ahead of what the body
 * took in (backpressure), and the last ACK is sent only when the core said the upload is stored:
 * a phone that got it can forget the file. A transfer that dies half-way destroys the body, and the
 * core stores nothing of it.
 */
export class WriteTransfer {
  /** Blocks received in order so far. */
  private received = 0;
  /** Blocks written since the last ACK. */
  private sinceAck = 0;
  /** The last ACK (or the OACK) sent, repeated on timeout while nothing new can be acknowledged. */
  private lastReply: Buffer;
  private acked = 0;
  private state: 'receiving' | 'storing' | 'dallying' | 'done' = 'receiving';
  /** The body refused more (write returned false): no ACK until it drains. */
  private draining = false;
  /** Out-of-order blocks in a window are answered once until the window moves. */
  private answeredStray = false;
  private tries = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly body = new PassThrough({ highWaterMark: BODY_HIGH_WATER });

  constructor(
    private readonly link: TransferLink,
    private readonly blksize: number,
    private readonly windowsize: number,
    /** OACK when options were negotiated, else ACK 0. */
    firstReply: Buffer,
    /** Starts the core's upload of `body`; it may refuse before reading a byte. */
    private readonly upload: (body: PassThrough) => Promise<UploadAnswer>,
    private readonly refused: (answer: Refusal) => void,
    private readonly finished: (outcome: Outcome) => void,
  ) {
    this.lastReply = firstReply;
    this.timer = attachTransfer(link, {
      onMessage: (msg) => this.onMessage(msg),
      onTimeout: () => this.onTimeout(),
      fail: (err) => this.fail(err),
      onSocketError: (err) => this.end('client-error', { err: err.message }, 'tftp client unreachable; upload abandoned'),
    });
  }

  start(): void {
    this.upload(this.body).then(
      (answer) => this.safely(() => this.onAnswer(answer)),
      (err: unknown) => this.fail(err),
    );
    this.link.socket.send(this.lastReply);
  }

  abort(): void {
    this.end('aborted');
  }

  private onMessage(msg: Buffer): void {
    if (this.state === 'done') return;
    const op = msg.length >= 4 ? (msg[0]! << 8) | msg[1]! : -1;
    if (op === OP_DATA) {
      this.onData(msg);
    } else if (op === OP_ERROR) {
      this.end('client-error', errorPacketDetail(msg), 'tftp client ended the upload');
    } else {
      this.link.socket.send(encodeError(ERR_ILLEGAL, 'expected DATA'));
      this.end('failed', { opcode: op }, 'tftp client sent a packet other than DATA; upload abandoned');
    }
  }

  private onData(msg: Buffer): void {
    const length = msg.length - 4;
    if (length > this.blksize) {
      this.link.socket.send(encodeError(ERR_ILLEGAL, `block larger than blksize ${this.blksize}`));
      this.end('failed', { length }, 'tftp client sent an oversized block; upload abandoned');
      return;
    }
    const wire = (msg[2]! << 8) | msg[3]!;
    if (this.state !== 'receiving') {
      // The final block again: its ACK got lost (dallying), or the core is still storing (wait).
      if (this.state === 'dallying' && wire === (this.received & 0xffff)) this.link.socket.send(this.lastReply);
      return;
    }
    if (wire !== ((this.received + 1) & 0xffff)) {
      // A block seen already, or one past a gap: say again how far we are, once per window so a
      // retransmitted window is not answered with a burst of ACKs.
      if (this.windowsize === 1 || !this.answeredStray) {
        this.answeredStray = true;
        if (!this.draining && this.received > this.acked) this.ack(this.received);
        else this.link.socket.send(this.lastReply);
      }
      return;
    }
    this.received += 1;
    this.answeredStray = false;
    this.tries = 0;
    this.timer.refresh();
    if (length < this.blksize) {
      // The last block: it is acknowledged when the core has stored the upload (onAnswer).
      if (length > 0) this.body.write(msg.subarray(4));
      this.body.end();
      this.state = 'storing';
      return;
    }
    const more = this.body.write(msg.subarray(4));
    this.sinceAck += 1;
    if (!more && !this.draining) {
      this.draining = true;
      this.body.once('drain', () =>
        this.safely(() => {
          this.draining = false;
          if (this.state === 'receiving' && this.received > this.acked) this.ack(this.received);
        }),
      );
    }
    if (this.sinceAck >= this.windowsize && !this.draining) this.ack(this.received);
  }

  private ack(block: number): void {
    this.lastReply = encodeAck(block);
    this.acked = block;
    this.sinceAck = 0;
    this.link.socket.send(this.lastReply);
  }

  private onAnswer(answer: UploadAnswer): void {
    if (this.state === 'done') return;
    if (!answer.ok) {
      const e = errorForRefusal(answer.problem, answer.message);
      this.link.socket.send(encodeError(e.code, e.message));
      this.refused(answer);
      this.end('refused');
      return;
    }
    if (this.state !== 'storing') {
      // The core finished without the whole body: nothing a client could have caused.
      this.link.logger.error('tftp upload answered before its last block');
      this.link.socket.send(encodeError(ERR_NOT_DEFINED, 'internal error'));
      this.end('failed');
      return;
    }
    this.ack(this.received);
    // Stay a while to acknowledge the last block again if this ACK is lost (RFC 1350 "dallying").
    this.state = 'dallying';
    this.timer.refresh();
  }

  private onTimeout(): void {
    if (this.state === 'done') return;
    if (this.state === 'dallying') {
      this.end('complete');
      return;
    }
    if (this.state === 'storing') {
      // The core is writing; the client waits on us, not the other way round.
      this.timer.refresh();
      return;
    }
    this.tries += 1;
    if (this.tries > this.link.retries) {
      this.end('abandoned', { timeouts: this.tries - 1 }, 'tftp upload abandoned: no DATA; nothing stored');
      return;
    }
    // Acknowledge everything taken so far: a client sending a smaller window than agreed, or one
    // whose window ended in a lost block, resumes from here.
    if (!this.draining && this.received > this.acked) this.ack(this.received);
    else this.link.socket.send(this.lastReply);
    this.timer.refresh();
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
    if (this.state === 'done') return;
    this.link.logger.error({ err }, 'tftp upload failed');
    try {
      this.link.socket.send(encodeError(ERR_NOT_DEFINED, 'internal error'));
    } catch {
      // The socket itself failed: there is no one left to tell.
    }
    this.end('failed');
  }

  private end(outcome: Outcome, detail?: Record<string, unknown>, msg?: string): void {
    if (this.state === 'done') return;
    this.state = 'done';
    clearTimeout(this.timer);
    // Whatever the core has not read yet is dropped, and an unfinished body tells it to store nothing.
    if (!this.body.writableEnded || outcome !== 'complete') this.body.destroy();
    if (msg) this.link.logger.info({ ...detail, blocks: this.received }, msg);
    this.finished(outcome);
  }
}
