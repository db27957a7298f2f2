import type { Logger } from 'pino';
import type { Outcome } from './transfer-link.js';
import type { PumpOptions, PumpResult, TftpPump } from './native-pump.js';

export interface NativeRead {
  /** Resolves once the transfer has ended and its socket is closed. */
  ended: Promise<Outcome>;
  abort(): void;
}

/**
 * Runs a read's data phase on the native pump and logs how it ended, in the same words as
 * ReadTransfer, so an operator cannot tell (and need not care) which one served a phone.
 * Throws, before anything was sent, when the transfer socket cannot be opened.
 */
export function startNativeRead(pump: TftpPump, options: PumpOptions, log: Logger): NativeRead {
  let done = false;
  let settle: (o: Outcome) => void = () => {};
  const ended = new Promise<Outcome>((resolve) => (settle = resolve));
  const handle = pump.start(options, (r) => {
    done = true;
    settle(report(r, options.retries, log.child({ engine: 'native' })));
  });
  return {
    ended,
    abort() {
      if (!done) pump.abort(handle);
    },
  };
}

function report(r: PumpResult, retries: number, log: Logger): Outcome {
  const sent = r.sent;
  switch (r.outcome) {
    case 'complete':
    case 'aborted':
      return r.outcome;
    case 'abandoned':
      log.info({ block: r.abandonedBlock, timeouts: retries, sent }, 'tftp transfer abandoned: no ACK');
      return 'abandoned';
    case 'client-error':
      log.info({ code: r.clientCode, message: r.clientMessage.slice(0, 200), sent }, 'tftp client ended the transfer');
      return 'client-error';
    case 'illegal':
      log.info({ opcode: r.clientCode, sent }, 'tftp client sent a packet other than ACK; transfer ended');
      return 'failed';
    case 'unreachable':
      log.info({ err: 'port unreachable', sent }, 'tftp client unreachable; transfer ended');
      return 'client-error';
    case 'read-failed':
      log.error({ errno: r.errno, sent }, 'tftp read failed');
      return 'failed';
    default:
      log.error({ errno: r.errno, sent }, 'tftp transfer failed');
      return 'failed';
  }
}
