import { createSocket } from 'node:dgram';

/**
 * The local address the kernel's routing table picks to reach `destination`: what a socket bound
 * to the wildcard address puts on the wire, and so what Via and Contact must name. Connecting a
 * UDP socket sends nothing; it only resolves the route.
 */
export async function routeLocalAddress(destination: string, family: 4 | 6): Promise<string> {
  const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(9, destination, () => resolve());
    });
    return socket.address().address;
  } finally {
    try {
      socket.close();
    } catch {
      // Never bound (the connect failed early): nothing to close.
    }
  }
}
