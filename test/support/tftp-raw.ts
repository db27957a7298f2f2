import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { readdirSync } from 'node:fs';

/** A plain UDP socket for hand-made packets: send, then wait (bounded) for what comes back. */
export class RawUdp {
  private inbox: { msg: Buffer; from: RemoteInfo }[] = [];
  private waiter: (() => void) | undefined;

  private constructor(readonly socket: Socket) {
    socket.on('message', (msg: Buffer, from: RemoteInfo) => {
      this.inbox.push({ msg, from });
      this.waiter?.();
    });
  }

  static async open(): Promise<RawUdp> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind({ address: '127.0.0.1', port: 0 }, resolve));
    return new RawUdp(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(packet: Buffer, port: number, address = '127.0.0.1'): void {
    this.socket.send(packet, port, address);
  }

  /** The next packet received, or null after `ms`. */
  async next(ms: number): Promise<{ msg: Buffer; from: RemoteInfo } | null> {
    if (this.inbox.length === 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.inbox.shift() ?? null;
  }

  /** Drops and returns everything received so far. */
  drain(): { msg: Buffer; from: RemoteInfo }[] {
    return this.inbox.splice(0);
  }

  close(): void {
    this.socket.close();
  }
}

/** How many file descriptors a process holds (Linux /proc). */
export function openFds(pid: number | 'self' = 'self'): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}
