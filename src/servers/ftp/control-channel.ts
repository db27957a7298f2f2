import type net from 'node:net';
import tls from 'node:tls';
import { formatReply, LineSplitter, type LineEvent } from './command-line.js';

export interface ControlEvents {
  /** A line (or an overlong one); calling stopReading() in here stops right after it. */
  onLine(ev: LineEvent): void;
  onIdle(): void;
  onClose(): void;
  onError(err: Error): void;
}

/**
 * The control connection's bytes: bounded lines in, replies out, and the switch to TLS (implicit
 * from the first byte, or AUTH TLS). Reading can be stopped between two lines, so that after
 * `AUTH TLS` not one more byte is read as text before the TLS layer takes the socket over.
 */
export class ControlChannel {
  private socket: net.Socket | tls.TLSSocket;
  private readonly splitter = new LineSplitter();
  private reading = true;
  private ended = false;
  readonly remoteAddress: string | undefined;
  readonly localAddress: string | undefined;

  constructor(
    raw: net.Socket,
    private readonly idleTimeoutMs: number,
    private readonly events: ControlEvents,
    implicitTls: tls.SecureContext | null,
  ) {
    this.remoteAddress = raw.remoteAddress;
    this.localAddress = raw.localAddress;
    raw.on('error', () => {});
    this.socket = raw;
    if (implicitTls) this.socket = new tls.TLSSocket(raw, { isServer: true, secureContext: implicitTls });
    this.attach(this.socket);
  }

  get secure(): boolean {
    return this.socket instanceof tls.TLSSocket;
  }

  get closed(): boolean {
    return this.ended || this.socket.destroyed;
  }

  private readonly onData = (chunk: Buffer) => {
    this.splitter.push(chunk);
    this.drain();
  };
  private readonly onTimeout = () => this.events.onIdle();
  private readonly onClose = () => {
    this.ended = true;
    this.events.onClose();
  };
  private readonly onError = (err: Error) => this.events.onError(err);

  private attach(s: net.Socket | tls.TLSSocket) {
    s.on('error', this.onError);
    s.once('close', this.onClose);
    s.setTimeout(this.idleTimeoutMs, this.onTimeout);
    s.on('data', this.onData);
  }

  private detach(s: net.Socket | tls.TLSSocket) {
    s.off('data', this.onData);
    s.off('error', this.onError);
    s.off('close', this.onClose);
    s.setTimeout(0);
    s.off('timeout', this.onTimeout);
  }

  /** Hands complete lines to the session until it asks to stop. */
  private drain() {
    while (this.reading) {
      const ev = this.splitter.next();
      if (!ev) return;
      this.events.onLine(ev);
    }
  }

  stopReading(): void {
    if (!this.reading) return;
    this.reading = false;
    this.socket.pause();
  }

  startReading(): void {
    if (this.reading || this.closed) return;
    this.reading = true;
    // Lines that arrived together with the one that stopped reading come first.
    this.drain();
    if (this.reading) this.socket.resume();
  }

  reply(code: number, text: string | readonly string[]): void {
    if (!this.closed) this.socket.write(formatReply(code, text));
  }

  /**
   * Switches to TLS now, synchronously, with reading stopped: call it right after writing the 234,
   * before returning to the event loop. Bytes already read past the AUTH line go back to the
   * socket, where the TLS layer reads them first; the text reader never sees the ClientHello.
   */
  upgrade(secureContext: tls.SecureContext): void {
    const raw = this.socket;
    this.detach(raw);
    raw.pause();
    const rest = this.splitter.takeRest();
    if (rest.length) raw.unshift(rest);
    this.socket = new tls.TLSSocket(raw, { isServer: true, secureContext });
    this.attach(this.socket);
    if (!this.reading) this.socket.pause();
  }

  /** Ends the connection after what was written; destroyed if the peer does not close soon. */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.reading = false;
    // Whatever the client still sends is read and dropped: closing with unread bytes would reset
    // the connection, and the client could lose the last reply.
    this.socket.off('data', this.onData);
    this.socket.resume();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  destroy(): void {
    this.ended = true;
    this.socket.destroy();
  }
}
