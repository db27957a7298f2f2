import { createRequire } from 'node:module';

/**
 * The native data phase of TFTP reads (native/tftp_pump.c), built by `npm ci` when a C compiler
 * is there. Without it every read runs in TypeScript (read-transfer.ts), which is the same
 * protocol at about half the lock-step speed: the addon only moves blocks; everything that
 * decides anything stays in the edge.
 */
export interface PumpOptions {
  family: 4 | 6;
  /** The listener's address: the transfer socket binds a fresh port there (the server's TID). */
  localAddress: string;
  peerAddress: string;
  peerPort: number;
  /** The bytes in memory, or `path` and `start` of a local file; `size` bytes are sent either way. */
  data?: Buffer;
  path?: string;
  start: number;
  size: number;
  blksize: number;
  windowsize: number;
  /** Sent first and repeated until ACK 0; absent for RFC 1350 clients. */
  oack?: Buffer;
  retransmitMs: number;
  retries: number;
}

export interface PumpResult {
  outcome: 'complete' | 'aborted' | 'abandoned' | 'client-error' | 'illegal' | 'unreachable' | 'socket-failed' | 'read-failed';
  /** Blocks sent at least once. */
  sent: number;
  errno: number;
  /** The client's ERROR code, or the opcode of an illegal packet. */
  clientCode: number;
  clientMessage: string;
  abandonedBlock: number;
}

export interface TftpPump {
  /** Throws when the socket cannot be opened; otherwise `done` is called exactly once. */
  start(options: PumpOptions, done: (result: PumpResult) => void): PumpHandle;
  /** Ends a running transfer within 100 ms; only valid before its `done` was called. */
  abort(handle: PumpHandle): void;
}

export type PumpHandle = { readonly __pump: unique symbol };

/** Relative to this file, in src/ and in dist/ alike. */
const ADDON = '../../../build/Release/tftp_pump.node';

let loaded: TftpPump | null | undefined;

/** The addon, or null when it was not built (no compiler at install time). */
export function loadTftpPump(): TftpPump | null {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)(ADDON) as TftpPump;
    } catch {
      loaded = null;
    }
  }
  return loaded;
}
