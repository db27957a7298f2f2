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
