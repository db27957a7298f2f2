import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import net from 'node:net';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { after, describe, test } from 'node:test';
import { addFile } from '../../../src/admin/files.js';
import { updateTenant } from '../../../src/admin/tenants.js';
import { IN_PROCESS_PASSWORD as PASSWORD, startInProcessFtp, type InProcessFtp } from '../../support/ftp-in-process.js';
import { connectData, RawFtpClient, readAll } from '../../support/ftp-raw-client.js';
import { tempDir } from '../../support/server-process.js';
import { waitFor } from '../../support/wait-for.js';

// Edge behaviour that needs options `polyprov serve` does not expose (tiny timeouts, a session
// cap, an IPv6 listener), on a real core and real sockets in this process.

const running: InProcessFtp[] = [];
const scratch = tempDir();
async function edge(opts: Parameters<typeof startInProcessFtp>[0] = {}) {
  const e = await startInProcessFtp(opts);
  running.push(e);
  return e;
}
after(async () => {
  await Promise.all(running.map((e) => e.close()));
  rmSync(scratch, { recursive: true, force: true });
});

async function loggedIn(port: number, host?: string) {
  const c = await RawFtpClient.connect(port, host ? { host } : {});
  await c.login('acme', PASSWORD);
  return c;
}

/** A listener on the port, or undefined when it is taken. */
function listening(port: number): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(undefined));
    s.listen({ host: '127.0.0.1', port, exclusive: true }, () => resolve(s));
  });
}

function refusedConnection(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

describe('timeouts', () => {
  test('a passive port nobody connects to is closed, and the transfer gets 425', async () => {
    const e = await edge({ idleTimeoutMs: 1500 });
    const c = await loggedIn(e.edge.port);
    try {
      const r = await c.command('EPSV');
      const port = Number(/\|\|\|(\d+)\|/.exec(r.text)?.[1]);
      assert.equal((await c.command('RETR 000000000000.cfg')).code, 150);
      const failed = await c.reply(10_000);
      assert.equal(failed.code, 425, failed.text);
      assert.ok(await refusedConnection(port), 'the passive port is closed');
    } finally {
      c.close();
    }
  });

  test('a silent control connection is closed with 421', async () => {
    const e = await edge({ idleTimeoutMs: 300 });
    const c = await RawFtpClient.connect(e.edge.port);
    try {
      assert.equal((await c.reply(10_000)).code, 421);
      assert.equal(await c.closedByServer(), true, 'closed by the server');
    } finally {
      c.close();
    }
  });
});

describe('limits', () => {
  test('sessions beyond maxSessions get 421, and a freed slot is given again', async () => {
    const e = await edge({ maxSessions: 2 });
    const a = await RawFtpClient.connect(e.edge.port);
    const b = await RawFtpClient.connect(e.edge.port);
    try {
      await assert.rejects(RawFtpClient.connect(e.edge.port), /421 Too many connections/);
      a.close();
      const c = await waitFor('a free session slot', () => RawFtpClient.connect(e.edge.port).catch(() => undefined), 5000);
      assert.equal((await c.command('NOOP')).code, 200);
      c.close();
    } finally {
      a.close();
      b.close();
    }
  });

  test('a taken port of the passive range is skipped; a range with none free gets 425', async () => {
    // Two neighbouring free ports, the first held by someone else. Below the ephemeral range, so
    // no client connection of another process takes the second meanwhile.
    let holder: net.Server | undefined;
    let low = 0;
    for (let i = 0; i < 50 && !holder; i++) {
      low = 20_000 + Math.floor(Math.random() * 10_000);
      const s = await listening(low);
      const next = s && (await listening(low + 1));
      if (next) await new Promise((r) => next.close(r));
      if (s && next) holder = s;
      else s?.close();
    }
    assert.ok(holder, 'found two neighbouring free ports');
    try {
      const e = await edge({ passivePorts: { min: low, max: low + 1 } });
      const c = await loggedIn(e.edge.port);
      for (let i = 0; i < 3; i++) assert.equal((await c.command('EPSV')).text, `229 Entering Extended Passive Mode (|||${low + 1}|)`);
      c.close();
      const full = await edge({ passivePorts: { min: low, max: low } });
      const d = await loggedIn(full.edge.port);
      assert.equal((await d.command('EPSV')).code, 425);
      assert.equal((await d.command('NOOP')).code, 200);
      d.close();
    } finally {
      holder!.close();
    }
  });
});

describe('passive modes', () => {
  test('IPv6: a listener on ::1 serves over EPSV; PASV, which cannot name an IPv6 address, says so', async (t) => {
    const e = await edge({ host: '::1' }).catch((err: NodeJS.ErrnoException) => (err.code === 'EADDRNOTAVAIL' ? null : Promise.reject(err)));
    if (!e) return t.skip('no IPv6 loopback here');
    const c = await loggedIn(e.edge.port, '::1');
    try {
      assert.equal((await c.command('PASV')).code, 522);
      assert.equal((await c.command('EPSV 1')).text, '522 Network protocol not supported, use (2)');
      const data = await c.openData();
      assert.equal(data.remoteAddress, '::1');
      assert.equal((await c.command('RETR 000000000000.cfg')).code, 150);
      assert.match((await readAll(data)).toString(), /<APPLICATION /);
      assert.equal((await c.reply()).code, 226);
    } finally {
      c.close();
    }
  });

  test('a dual-stack listener on :: serves IPv4 clients over PASV, with a plain IPv4 address', async (t) => {
    const e = await edge({ host: '::' }).catch((err: NodeJS.ErrnoException) => (err.code === 'EAFNOSUPPORT' ? null : Promise.reject(err)));
    if (!e) return t.skip('no IPv6 here');
    const c = await loggedIn(e.edge.port, '127.0.0.1');
    try {
      const pasv = await c.command('PASV');
      const m = /\(127,0,0,1,(\d+),(\d+)\)/.exec(pasv.text);
      assert.ok(m, pasv.text);
      const data = await connectData(Number(m[1]) * 256 + Number(m[2]), '127.0.0.1');
      assert.equal((await c.command('RETR 000000000000.cfg')).code, 150);
      assert.match((await readAll(data)).toString(), /<APPLICATION /);
      assert.equal((await c.reply()).code, 226);
    } finally {
      c.close();
    }
  });

  test('PASV names the configured address; after EPSV ALL only EPSV is accepted', async () => {
    const e = await edge({ passiveAddress: '203.0.113.7' });
    const c = await loggedIn(e.edge.port);
    try {
      assert.match((await c.command('PASV')).text, /^227 Entering Passive Mode \(203,0,113,7,\d+,\d+\)$/);
      assert.equal((await c.command('EPSV 2')).text, '522 Network protocol not supported, use (1)');
      assert.equal((await c.command('EPSV ALL')).code, 200);
      assert.equal((await c.command('PASV')).code, 503);
      assert.equal((await c.command('EPSV')).code, 229);
    } finally {
      c.close();
    }
  });
});

describe('transfers', () => {
  test('ABOR cuts a running download: 426 for the transfer, then 226 for ABOR', async () => {
    const e = await edge();
    const big = join(scratch, 'big');
    writeFileSync(big, Buffer.alloc(16 * 1024 * 1024, 0x61));
    const tenant = (await e.ctx.store.listTenants()).find((t) => t.slug === 'acme')!;
    await addFile(e.ctx, tenant, 'big.bin', big);
    const c = await loggedIn(e.edge.port);
    try {
      // Connected but never read: the server fills the socket buffers and waits.
      const data = await c.openData();
      data.pause();
      assert.equal((await c.command('RETR big.bin')).code, 150);
      await new Promise((r) => setTimeout(r, 200));
      c.send('ABOR');
      assert.equal((await c.reply()).code, 426);
      assert.equal((await c.reply()).code, 226);
      data.destroy();
      assert.equal((await c.command('NOOP')).code, 200, 'the session goes on');
    } finally {
      c.close();
    }
  });

  test('REST then RETR sends the rest of the file; SIZE counts generated files too', async () => {
    const e = await edge();
    const c = await loggedIn(e.edge.port);
    try {
      const size = Number((await c.command('SIZE 000000000000.cfg')).text.slice(4));
      assert.ok(size > 100, `SIZE gave ${size}`);
      const whole = await c.openData();
      assert.equal((await c.command('RETR 000000000000.cfg')).code, 150);
      const all = await readAll(whole);
      assert.equal((await c.reply()).code, 226);
      assert.equal(all.length, size);
      assert.equal((await c.command('REST 100')).code, 350);
      const tail = await c.openData();
      assert.equal((await c.command('RETR 000000000000.cfg')).code, 150);
      assert.deepEqual(await readAll(tail), all.subarray(100), 'the bytes from offset 100');
      assert.equal((await c.reply()).code, 226);
      assert.equal((await c.command(`REST ${size + 1}`)).code, 350);
      assert.equal((await c.command('RETR 000000000000.cfg')).code, 554);
    } finally {
      c.close();
    }
  });

  test('REST into a stored file, and a rotated log, send exactly the bytes asked for and held', async () => {
    const e = await edge();
    const tenant = await updateTenant(e.ctx, 'acme', { logMaxBytes: 1024 });
    const blob = randomBytes(300_000);
    const local = join(scratch, 'blob');
    writeFileSync(local, blob);
    await addFile(e.ctx, tenant, 'fw/blob.bin', local);
    const c = await loggedIn(e.edge.port);
    const retr = async (path: string, rest?: number) => {
      if (rest !== undefined) assert.equal((await c.command(`REST ${rest}`)).code, 350);
      const d = await c.openData();
      assert.equal((await c.command(`RETR ${path}`)).code, 150);
      const got = await readAll(d);
      assert.equal((await c.reply()).code, 226);
      return got;
    };
    const appe = async (path: string, body: string) => {
      const d = await c.openData();
      assert.equal((await c.command(`APPE ${path}`)).code, 150);
      d.end(body);
      assert.equal((await c.reply()).code, 226);
    };
    try {
      assert.deepEqual(await retr('fw/blob.bin', 123_457), blob.subarray(123_457), 'a blob from an offset');
      assert.deepEqual(await retr('fw/blob.bin'), blob, 'and whole');
      const log = 'logs/0004f2000f01-app.log';
      await appe(log, 'a'.repeat(600));
      await appe(log, 'b'.repeat(600));
      // Over the 1024-byte cap, the first 600 bytes went into a segment: the log counts them, holds the rest.
      assert.equal((await c.command(`SIZE ${log}`)).text, '213 1200');
      assert.equal((await retr(log)).toString(), 'b'.repeat(600));
      assert.equal((await retr(log, 900)).toString(), 'b'.repeat(300));
    } finally {
      c.close();
    }
  });

  test('a data connection from another address is refused and logged once', async () => {
    const e = await edge();
    const c = await loggedIn(e.edge.port);
    try {
      const port = Number(/\|\|\|(\d+)\|/.exec((await c.command('EPSV')).text)?.[1]);
      for (let i = 0; i < 3; i++) (await connectData(port, '127.0.0.1', '127.0.0.2')).destroy();
      const mine = await connectData(port, '127.0.0.1');
      assert.equal((await c.command('NLST')).code, 150);
      assert.match((await readAll(mine)).toString(), /^000000000000\.cfg\r\n/m);
      assert.equal((await c.reply()).code, 226);
      assert.equal(e.logs.filter((l) => l.msg === 'refused a data connection from another address').length, 1);
    } finally {
      c.close();
    }
  });
});

describe('security commands', () => {
  test('PBSZ and PROT need TLS first; AUTH on an edge without TLS is refused plainly', async () => {
    const e = await edge();
    const c = await RawFtpClient.connect(e.edge.port);
    try {
      assert.equal((await c.command('PBSZ 0')).code, 503);
      assert.equal((await c.command('PROT P')).code, 503);
      assert.equal((await c.command('AUTH GSSAPI')).code, 504);
      assert.match((await c.command('FEAT')).text, /\n AUTH TLS\n/);
    } finally {
      c.close();
    }
    const plain = await edge({ tls: undefined });
    const d = await RawFtpClient.connect(plain.edge.port);
    try {
      assert.equal((await d.command('AUTH TLS')).code, 502);
      assert.doesNotMatch((await d.command('FEAT')).text, /AUTH TLS/);
      await d.login('acme', PASSWORD);
    } finally {
      d.close();
    }
  });
});

describe('AUTH TLS', () => {
  test('a ClientHello sent in the same packet as AUTH TLS is read by TLS, not as a command', async () => {
    const e = await edge();
    const raw = net.connect({ host: '127.0.0.1', port: e.edge.port });
    raw.on('error', () => {});
    let fromServer = Buffer.alloc(0);
    let stage: 'greeting' | 'auth' | 'tls' = 'greeting';
    // The TLS client writes through this; its first bytes (the ClientHello) leave behind AUTH TLS, in one write.
    const wire = new Duplex({
      write(chunk: Buffer, _enc, cb) {
        if (stage === 'greeting') {
          stage = 'auth';
          raw.write(Buffer.concat([Buffer.from('AUTH TLS\r\n'), chunk]));
        } else raw.write(chunk);
        cb();
      },
      read() {},
    });
    const greeted = new Promise<void>((resolve) => {
      raw.on('data', (d: Buffer) => {
        if (stage === 'tls') return void wire.push(d);
        fromServer = Buffer.concat([fromServer, d]);
        const text = fromServer.toString('latin1');
        if (stage === 'greeting' && text.startsWith('220 ') && text.includes('\r\n')) resolve();
        const auth = /^220 [^\r]*\r\n(234 [^\r]*\r\n)/.exec(text);
        if (stage === 'auth' && auth) {
          stage = 'tls';
          const rest = fromServer.subarray(auth[0].length);
          if (rest.length) wire.push(rest);
        }
      });
    });
    await greeted;
    const secure = tls.connect({ socket: wire, rejectUnauthorized: false });
    try {
      await Promise.race([once(secure, 'secureConnect'), new Promise((_, reject) => setTimeout(() => reject(new Error('no TLS handshake')), 10_000))]);
      let replies = '';
      secure.on('data', (d: Buffer) => (replies += d.toString()));
      secure.write(`USER acme\r\nPASS ${PASSWORD}\r\nPBSZ 0\r\nPROT P\r\n`);
      const all = await waitFor('four replies', () => (replies.split('\r\n').length > 4 ? replies : undefined), 10_000);
      assert.deepEqual(all.split('\r\n').slice(0, 4).map((l) => l.slice(0, 3)), ['331', '230', '200', '200']);
    } finally {
      secure.destroy();
      raw.destroy();
    }
  });
});
