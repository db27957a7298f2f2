// Option negotiation (RFC 2347 framework; blksize RFC 2348, timeout and tsize RFC 2349,
// windowsize RFC 7440). Pure: the requested options in, the transfer's settings and the OACK out.

export const DEFAULT_BLKSIZE = 512;
export const MIN_BLKSIZE = 8;
/** RFC 2348's ceiling: 65464 + 4 (TFTP) + 8 (UDP) + 20 (IPv4) fits one 64 KiB IP datagram. */
export const MAX_BLKSIZE = 65464;
export const MAX_WINDOWSIZE = 64;

/**
 * A window is sent as one burst, and a receiver holding more than its socket buffer drops the rest:
 * then every window waits for a timeout. Linux's default buffer (net.core.rmem_default, 208 KiB)
 * is counted in kernel memory per datagram, about the payload rounded up to a power of two plus
 * bookkeeping (measured: 166 datagrams of 516 bytes fit, 92 of 1472, 25 of 4100, 12 of 8196).
 * Windows are kept within this share of it, so 1468-byte blocks still get a window of 64 and
 * 8192-byte ones 9, not 16 of which 4 are lost every time.
 */
const WINDOW_BUDGET = 160 * 1024;

function datagramCost(blksize: number): number {
  return 2 ** Math.ceil(Math.log2(blksize + 4 + 28 + 320)) + 320;
}

export function maxWindowsize(blksize: number): number {
  return Math.max(1, Math.min(MAX_WINDOWSIZE, Math.floor(WINDOW_BUDGET / datagramCost(blksize))));
}

export interface TransferSettings {
  blksize: number;
  windowsize: number;
  /** Retransmission timeout the client asked for (RFC 2349), if any; else the edge's default. */
  timeoutMs?: number;
  /** WRQ: the size the client announced (becomes the upload's declared length). */
  tsize?: number;
}

export type Negotiation =
  | { ok: true; settings: TransferSettings; /** null: the client gets no OACK (RFC 1350 behaviour) */ oack: [string, string][] | null }
  | { ok: false; message: string };

export interface NegotiationContext {
  operation: 'read' | 'write';
  /** RRQ: the size that will be sent, echoed as tsize. */
  size?: number;
  /** A lower blksize ceiling than RFC 2348's, when the path cannot carry that much. */
  maxBlksize?: number;
}

/**
 * Known options with a usable value are acknowledged (in the client's order); unknown ones are
 * ignored. A known option with a value that is no number is refused (ERROR 8) rather than guessed
 * at; sizes above what the server allows are lowered, as the RFCs permit.
 */
export function negotiate(requested: ReadonlyMap<string, string>, ctx: NegotiationContext): Negotiation {
  const settings: TransferSettings = { blksize: DEFAULT_BLKSIZE, windowsize: 1 };
  const oack: [string, string][] = [];
  const maxBlksize = Math.min(MAX_BLKSIZE, ctx.maxBlksize ?? MAX_BLKSIZE);
  for (const [name, raw] of requested) {
    if (name !== 'blksize' && name !== 'timeout' && name !== 'tsize' && name !== 'windowsize') continue;
    const value = integer(raw);
    if (value === null) return { ok: false, message: `option ${name} has no valid value` };
    switch (name) {
      case 'blksize':
        if (value < MIN_BLKSIZE) return { ok: false, message: `blksize below ${MIN_BLKSIZE}` };
        settings.blksize = Math.min(value, maxBlksize);
        oack.push([name, String(settings.blksize)]);
        break;
      case 'timeout':
        // Out of range: not acknowledged, so the client keeps its own timer (RFC 2349).
        if (value < 1 || value > 255) break;
        settings.timeoutMs = value * 1000;
        oack.push([name, String(value)]);
        break;
      case 'tsize':
        if (ctx.operation === 'read') {
          // Only answerable when the size is known; RRQ clients send 0 and read ours.
          if (ctx.size === undefined) break;
          oack.push([name, String(ctx.size)]);
        } else {
          settings.tsize = value;
          oack.push([name, String(value)]);
        }
        break;
      case 'windowsize':
        if (value < 1) return { ok: false, message: 'windowsize below 1' };
        settings.windowsize = Math.min(value, MAX_WINDOWSIZE);
        oack.push([name, String(settings.windowsize)]);
        break;
    }
  }
  // The window is bounded by what a receiver holds of blocks this size (whichever option came first).
  const windowAt = oack.findIndex(([name]) => name === 'windowsize');
  if (windowAt >= 0) {
    settings.windowsize = Math.min(settings.windowsize, maxWindowsize(settings.blksize));
    oack[windowAt] = ['windowsize', String(settings.windowsize)];
  }
  return { ok: true, settings, oack: oack.length > 0 ? oack : null };
}

/** A plain decimal integer (no sign, no exponent, no spaces), or null. */
function integer(raw: string): number | null {
  if (!/^[0-9]{1,15}$/.test(raw)) return null;
  return Number(raw);
}
