import type { Socket } from 'node:dgram';
import type { Logger } from 'pino';

/** What a transfer gets from the edge: its own socket, its log context, its timer settings. */
export interface TransferLink {
  /** Bound to a port of its own (the server's TID) and connected to the client's address and port. */
  socket: Socket;
  /** Carries the client address and file name, so each transfer line says which transfer. */
  logger: Logger;
  /** This transfer's: the edge's default, or the client's `timeout` option. */
  retransmitMs: number;
  /** Timeouts in a row before the transfer is given up. */
  retries: number;
}

/** How a transfer ended; the edge closes the socket and frees the slot whatever it is. */
export type Outcome = 'complete' | 'refused' | 'abandoned' | 'client-error' | 'failed' | 'aborted';

/** The calls a transfer answers: attachTransfer routes its socket and its retransmission timer to them. */
export interface TransferHandlers {
  onMessage(msg: Buffer): void;
  onTimeout(): void;
  /** A fault inside the transfer: it ends that transfer, never the process or the listener. */
  fail(err: unknown): void;
  /** The socket itself failed (the client's port unreachable, say). */
  onSocketError(err: Error): void;
}

/** Wires a transfer to its socket; returns its retransmission timer, armed (refresh() re-arms it). */
export function attachTransfer(link: TransferLink, t: TransferHandlers): NodeJS.Timeout {
  const timer = setTimeout(() => {
    try {
      t.onTimeout();
    } catch (err) {
      t.fail(err);
    }
  }, link.retransmitMs);
  link.socket.on('message', (msg: Buffer) => {
    try {
      t.onMessage(msg);
    } catch (err) {
      t.fail(err);
    }
  });
  link.socket.on('error', (err: Error) => t.onSocketError(err));
  return timer;
}
