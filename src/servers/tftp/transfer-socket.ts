import { createSocket, type Socket, type SocketType } from 'node:dgram';

/**
 * A transfer's own socket: a fresh port on the listener's address (the server's TID), connected
 * to the client's. `exclusive` keeps the bind in this process: under node:cluster a shared bind
 * would be made by the primary and every datagram would cross a process boundary. Being connected,
 * it sends without a per-packet address lookup, and the kernel delivers it only the client's
 * packets: a stray sender is answered with ICMP port-unreachable and never reaches the transfer.
 */
export async function openTransferSocket(type: SocketType, address: string, peer: { address: string; port: number }): Promise<Socket> {
  const socket = createSocket({ type });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address, port: 0, exclusive: true }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    await new Promise<void>((resolve, reject) => {
      socket.connect(peer.port, peer.address, (err?: Error) => (err ? reject(err) : resolve()));
    });
    return socket;
  } catch (err) {
    socket.close();
    throw err;
  }
}
