import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

// Classic servers are told their port rather than reporting one: ask the kernel for a free one on
// loopback and hand it over. Another process could take it in between; the server then fails to
// start, and the caller tries again.

export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A block of `count` consecutive TCP ports for passive FTP data connections, below Linux's
 * ephemeral range (32768-60999) so outgoing connections do not take them, at a random place so
 * that two runs (or FTP tests running meanwhile) rarely pick the same.
 */
export function passivePortRange(count: number): { min: number; max: number } {
  const min = 20_000 + Math.floor(Math.random() * ((32_000 - 20_000 - count) / count)) * count;
  return { min, max: min + count - 1 };
}
