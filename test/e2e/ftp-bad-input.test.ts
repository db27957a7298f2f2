import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { curl } from '../support/curl.js';
import { bytesUntilClosed, connectData, RawFtpClient, readAll } from '../support/ftp-raw-client.js';
import { cli, startServer, type ServerProcess } from '../support/server-process.js';

// What a broken phone, a scanner or an attacker sends to the FTP port: the server refuses it,
// keeps serving everyone else, and never loses a byte it already stored.

const PASSWORD = 'acme-ftp-pw-3';
const MAC = '0004f2000e01';

let server: ServerProcess;

before(async () => {
  server = await startServer();
  const added = cli(server.dataDir, ['tenant', 'add', 'acme', '--password', PASSWORD]);
  assert.equal(added.code, 0, added.stderr);
});
after(async () => {
  await server?.stop();
});

async function session(): Promise<RawFtpClient> {
  const c = await RawFtpClient.connect(server.ftpPort);
  await c.login('acme', PASSWORD);
  return c;
}

function logOverHttp(): string {
  const r = curl(`${server.httpUrl}/logs/${MAC}-app.log`, ['-u', `acme:${PASSWORD}`]);
  assert.equal(r.status, 200);
  return r.text;
}

/** APPE of `data` over a fresh data connection; resolves with the final reply. */
async function appe(c: RawFtpClient, data: string | Buffer) {
  const d = await c.openData();
  assert.equal((await c.command(`APPE logs/${MAC}-app.log`)).code, 150);
  d.end(data);
  return c.reply();
}

/** A normal session, after whatever came before: the server is still serving. */
async function stillServes() {
  const c = await session();
  try {
    const d = await c.openData();
    assert.equal((await c.command('RETR 000000000000.cfg')).code, 150);
    assert.match((await readAll(d)).toString(), /<APPLICATION /);
    assert.equal((await c.reply()).code, 226);
  } finally {
    c.close();
  }
}

describe('an interrupted APPE', () => {
  test('stores nothing from the broken transfer, keeps every byte stored before, and later APPEs still append', async () => {
    const c = await session();
    try {
      const first = '0101 00:00:01|app|stored before the break\n';
      assert.equal((await appe(c, first)).code, 226);
      assert.equal(logOverHttp(), first);

      // A phone that loses power mid-upload: half the bytes, then a TCP reset on the data connection.
      const d = await c.openData();
      assert.equal((await c.command(`APPE logs/${MAC}-app.log`)).code, 150);
      await new Promise<void>((resolve) => d.write(Buffer.alloc(32 * 1024, 0x78), () => resolve()));
      await new Promise((r) => setTimeout(r, 100));
      d.resetAndDestroy();
      const broken = await c.reply();
      assert.equal(broken.code, 426, broken.text);
      assert.equal(logOverHttp(), first, 'the earlier bytes are all there, and none of the broken transfer');

      assert.equal((await c.command('NOOP')).code, 200, 'the session goes on');
      const third = '0101 00:00:03|app|appended after the break\n';
      assert.equal((await appe(c, third)).code, 226);
      assert.equal(logOverHttp(), first + third);

      const back = await c.openData();
      assert.equal((await c.command(`RETR logs/${MAC}-app.log`)).code, 150);
      assert.equal((await readAll(back)).toString(), first + third, 'and over FTP');
      assert.equal((await c.reply()).code, 226);
    } finally {
      c.close();
    }
  });
});

describe('paths that leave the tree', () => {
  test('traversal in any spelling gets 550 and nothing is sent', async () => {
    const c = await session();
    try {
      for (const path of ['../../../etc/passwd', '/../etc/passwd', '..\\..\\etc\\passwd', '/%2e%2e/x', '/%2e%2e/%2e%2e/etc/passwd', 'logs/../../etc/passwd']) {
        const d = await c.openData();
        const r = await c.command(`RETR ${path}`);
        assert.equal(r.code, 550, `RETR ${path}: ${r.text}`);
        assert.equal((await bytesUntilClosed(d)).length, 0, `${path}: no bytes on the data connection`);
        assert.doesNotMatch(r.text, /root:/);
      }
      assert.equal((await c.command('CWD ..')).code, 550, 'no parent above the root');
      assert.equal((await c.command('CWD ../../..')).code, 550);
      assert.equal((await c.command('PWD')).text, '257 "/" is the current directory');
      assert.equal((await c.command('SIZE etc/passwd')).code, 550);
      assert.equal((await c.command('RETR etc/passwd')).code, 550);
      assert.equal((await c.command('SIZE /../etc/passwd')).code, 550);
      assert.equal((await c.command('CWD logs')).code, 250);
      assert.equal((await c.command('CDUP')).code, 250, 'a parent inside the tree is fine');
      assert.equal((await c.command('PWD')).text, '257 "/" is the current directory');
      assert.equal((await c.command('STOR ../x')).code, 425, 'no data connection was opened for it');
    } finally {
      c.close();
    }
  });
});

describe('commands before login', () => {
  test('get 530, and the same session then logs in', async () => {
    const c = await RawFtpClient.connect(server.ftpPort);
    try {
      for (const cmd of ['RETR 000000000000.cfg', 'LIST', 'CWD /logs', 'PWD', 'SIZE 000000000000.cfg', 'EPSV', 'STOR x', 'MLSD']) {
        assert.equal((await c.command(cmd)).text, '530 Please log in with USER and PASS', cmd);
      }
      assert.equal((await c.command('SYST')).code, 215);
      assert.equal((await c.command('FEAT')).code, 211);
      assert.equal((await c.command('PASS nobody-said-user')).code, 503);
      await c.login('acme', PASSWORD);
      assert.equal((await c.command('PWD')).code, 257);
    } finally {
      c.close();
    }
  });

  test('three wrong passwords close the connection', async () => {
    const c = await RawFtpClient.connect(server.ftpPort);
    try {
      for (let i = 0; i < 3; i++) {
        assert.equal((await c.command('USER acme')).code, 331);
        assert.equal((await c.command('PASS wrong')).code, 530);
      }
      assert.equal((await c.reply()).code, 421);
      assert.ok(await c.closedByServer(), 'closed');
    } finally {
      c.close();
    }
    await stillServes();
  });
});

describe('malformed input', () => {
  test('a 100 kB line gets one 500 and the session goes on', async () => {
    const c = await session();
    try {
      c.send(Buffer.from('NOOP ' + 'A'.repeat(100_000) + '\r\n'));
      c.send('NOOP');
      assert.equal((await c.reply()).code, 500);
      assert.equal((await c.reply()).code, 200, 'the next line is a command again');
      assert.equal((await c.command('PWD')).code, 257);
    } finally {
      c.close();
    }
  });

  test('garbage bytes get 500s, a flood of them closes the session, and others are served', async () => {
    const c = await RawFtpClient.connect(server.ftpPort);
    try {
      c.send(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x0d, 0x0a]));
      assert.equal((await c.reply()).code, 500);
      c.send(Buffer.from('\u0000\u0001\u0002\r\n'));
      assert.equal((await c.reply()).code, 500);
      assert.equal((await c.command('NOOP')).code, 200, 'still served after a few');
      for (let i = 0; i < 40 && !c.closed; i++) c.send(randomBytes(64).toString('latin1').replace(/[\r\n]/g, '') + '\r\n');
      let last = 0;
      for (let i = 0; i < 40; i++) {
        const r = await c.reply().catch(() => null);
        if (!r) break;
        last = r.code;
      }
      assert.equal(last, 421, 'told why it is closed');
      assert.equal(await c.closedByServer(), true, 'closed by the server');
    } finally {
      c.close();
    }
    await stillServes();
  });

  test('a data connection from another address is turned away; the client gets its own', async () => {
    const c = await session();
    try {
      const r = await c.command('EPSV');
      const port = Number(/\|\|\|(\d+)\|/.exec(r.text)?.[1]);
      // 127.0.0.2 is loopback too, but not the address this control connection came from.
      const stranger = await connectData(port, '127.0.0.1', '127.0.0.2');
      assert.equal((await bytesUntilClosed(stranger)).length, 0, 'closed at once, nothing sent');
      const mine = await connectData(port, '127.0.0.1');
      assert.equal((await c.command('RETR 000000000000.cfg')).code, 150);
      assert.match((await readAll(mine)).toString(), /<APPLICATION /);
      assert.equal((await c.reply()).code, 226);
    } finally {
      c.close();
    }
  });

  test('active mode and commands that change the tree are refused', async () => {
    const c = await session();
    try {
      assert.equal((await c.command('PORT 127,0,0,1,4,1')).code, 502);
      assert.equal((await c.command('EPRT |1|127.0.0.1|1025|')).code, 502);
      for (const cmd of ['DELE 000000000000.cfg', 'MKD x', 'RMD logs', 'RNFR 000000000000.cfg']) assert.equal((await c.command(cmd)).code, 550, cmd);
      assert.equal((await c.command('SITE CHMOD 777 x')).code, 502);
      assert.equal((await c.command('NOOP')).code, 200);
    } finally {
      c.close();
    }
  });
});
