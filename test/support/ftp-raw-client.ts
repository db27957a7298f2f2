import net from 'node:net';
import tls from 'node:tls';

export interface FtpReply {
  code: number;
  /** Every line of the reply, codes included. */
  lines: string[];
  text: string;
}

const WAIT_MS = 10_000;

/**
 * A hand-driven FTP control connection for what real clients will not do: bytes out of order,
 * garbage, overlong lines, data connections cut mid-way. Every wait is bounded.
 */
export class RawFtpClient {
  private buf = '';
  private waiting: (() => void) | null = null;
  private ended = false;

  private constructor(readonly socket: net.Socket | tls.TLSSocket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buf += d;
      this.waiting?.();
    });
    const end = () => {
      this.ended = true;
      this.waiting?.();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }

  static async connect(port: number, opts: { host?: string; implicitTls?: boolean } = {}): Promise<RawFtpClient> {
    const host = opts.host ?? '127.0.0.1';
    const socket = await new Promise<net.Socket | tls.TLSSocket>((resolve, reject) => {
      const s = opts.implicitTls ? tls.connect({ host, port, rejectUnauthorized: false }, () => resolve(s)) : net.connect({ host, port }, () => resolve(s));
      s.once('error', reject);
      s.setTimeout(WAIT_MS, () => s.destroy(new Error('connect timed out')));
    });
    socket.setTimeout(0);
    const client = new RawFtpClient(socket);
    const greeting = await client.reply();
    if (greeting.code !== 220) throw new Error(`unexpected greeting: ${greeting.text}`);
    return client;
  }

  get closed(): boolean {
    return this.ended;
  }

  send(line: string | Buffer): void {
    this.socket.write(typeof line === 'string' ? line + '\r\n' : line);
  }

  /** The next complete reply (multi-line ones whole); rejects when none comes in time or the server closed. */
  async reply(ms = WAIT_MS): Promise<FtpReply> {
    const until = Date.now() + ms;
    for (;;) {
      const r = this.take();
      if (r) return r;
      if (this.ended) throw new Error(`connection closed; unread: ${JSON.stringify(this.buf.slice(0, 200))}`);
      const left = until - Date.now();
      if (left <= 0) throw new Error(`no reply in ${ms} ms; unread: ${JSON.stringify(this.buf.slice(0, 200))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiting = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiting = null;
    }
  }

  private take(): FtpReply | null {
    const lines = this.buf.split('\r\n');
    const first = lines[0]!;
    if (lines.length < 2) return null;
    const m = /^(\d{3})([ -])/.exec(first);
    if (!m) throw new Error(`not a reply line: ${JSON.stringify(first)}`);
    let last = 0;
    if (m[2] === '-') {
      last = lines.findIndex((l, i) => i > 0 && i < lines.length - 1 && l.startsWith(`${m[1]} `));
      if (last === -1) return null;
    }
    const taken = lines.slice(0, last + 1);
    this.buf = lines.slice(last + 1).join('\r\n');
    return { code: Number(m[1]), lines: taken, text: taken.join('\n') };
  }

  async command(line: string, ms = WAIT_MS): Promise<FtpReply> {
    this.send(line);
    return this.reply(ms);
  }

  async login(user: string, password: string): Promise<void> {
    const u = await this.command(`USER ${user}`);
    if (u.code !== 331) throw new Error(`USER: ${u.text}`);
    const p = await this.command(`PASS ${password}`);
    if (p.code !== 230) throw new Error(`PASS: ${p.text}`);
  }

  /** EPSV, then a connection to the port it names. */
  async openData(): Promise<net.Socket> {
    const r = await this.command('EPSV');
    const port = Number(/\(\|\|\|(\d+)\|\)/.exec(r.text)?.[1]);
    if (r.code !== 229 || !port) throw new Error(`EPSV: ${r.text}`);
    return connectData(port, this.socket.remoteAddress!);
  }

  /** Waits (bounded) for the server to close the connection. */
  async closedByServer(ms = WAIT_MS): Promise<boolean> {
    const until = Date.now() + ms;
    while (!this.ended && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    return this.ended;
  }

  close(): void {
    this.socket.destroy();
  }
}

export function connectData(port: number, host: string, localAddress?: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, ...(localAddress ? { localAddress } : {}) }, () => {
      s.setTimeout(0);
      resolve(s);
    });
    s.once('error', reject);
    s.setTimeout(WAIT_MS, () => s.destroy(new Error('data connect timed out')));
  });
}

/** Everything the server sends on a data connection, until it closes it (bounded). */
export function readAll(s: net.Socket, ms = WAIT_MS): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`data connection not closed in ${ms} ms`));
    }, ms);
    s.on('data', (c: Buffer) => chunks.push(c));
    s.once('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
    s.once('end', () => {
      clearTimeout(t);
      resolve(Buffer.concat(chunks));
    });
  });
}

/** The bytes a data connection carries until it is closed, whichever way (end, reset); bounded. */
export function bytesUntilClosed(s: net.Socket, ms = WAIT_MS): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`data connection not closed in ${ms} ms`));
    }, ms);
    const done = () => {
      clearTimeout(t);
      resolve(Buffer.concat(chunks));
    };
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', () => {});
    if (s.closed) done();
    else s.once('close', done);
  });
}
