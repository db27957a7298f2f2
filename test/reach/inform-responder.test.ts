import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { bootOptions } from '../../src/domain/dhcp-boot-options.js';
import {
  BOOTREPLY,
  BOOTREQUEST,
  buildDhcpMessage,
  DHCP_MAGIC_COOKIE,
  DHCP_MESSAGE_TYPES,
  hardwareAddress,
  messageType,
  optionText,
  parseDhcpMessage,
  serverIdentifier,
  type DhcpMessage,
} from '../../src/domain/dhcp-packet.js';
import { DomainError } from '../../src/domain/domain-error.js';
import { startInformResponder, type InformResponder } from '../../src/reach/dhcp/inform-responder.js';
import { run } from '../support/tftp-clients.js';

// dhcping and nmap's dhcp-discover use the fixed DHCP ports (they send to 67 and listen on 68),
// so the responder binds 127.0.0.1:67 here; the file is skipped only when a port is taken.

const options = bootOptions({ protocol: 'https', host: 'prov.example.com', port: 8443, pathPrefix: 'acme', username: 'ops@example.com', password: 'secret' });
const URL = 'https://ops%40example.com:secret@prov.example.com:8443/acme/';
const tftpOptions = bootOptions({ protocol: 'tftp', host: '192.0.2.7' });

function udpPortBusy(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', (err: NodeJS.ErrnoException) => resolve(`UDP port ${port} on 127.0.0.1 is in use (${err.code}): a DHCP server or client runs on this host`));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(null)));
  });
}

const busy = (await udpPortBusy(67)) ?? (await udpPortBusy(68));

function capturingLogger(): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines: () => lines };
}

let xid = 0x7000;
function request(type: number, patch: Partial<DhcpMessage> = {}): DhcpMessage {
  return {
    op: BOOTREQUEST, htype: 1, hlen: 6, hops: 0, xid: ++xid, secs: 0, flags: 0,
    ciaddr: '127.0.0.1', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '0.0.0.0',
    chaddr: Buffer.concat([Buffer.from('0004f2000001', 'hex'), Buffer.alloc(10)]), sname: '', file: '',
    options: new Map([[53, Buffer.from([type])], [55, Buffer.from([1, 66, 160])]]),
    ...patch,
  };
}

function bound(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(port, '127.0.0.1', () => resolve(s));
  });
}

/** Sends `msg` to the responder from `client` and waits at most `waitMs` for a reply with its xid on `listener`. */
function exchange(client: Socket, to: number, msg: DhcpMessage, waitMs: number, listener: Socket = client): Promise<DhcpMessage | null> {
  return new Promise((resolve) => {
    const onMessage = (buf: Buffer) => {
      const reply = parseDhcpMessage(buf);
      if (reply && reply.xid === msg.xid) finish(reply);
    };
    const timer = setTimeout(() => finish(null), waitMs);
    const finish = (reply: DhcpMessage | null) => {
      clearTimeout(timer);
      listener.off('message', onMessage);
      resolve(reply);
    };
    listener.on('message', onMessage);
    client.send(buildDhcpMessage(msg), to, '127.0.0.1');
  });
}

describe('DHCPINFORM responder', { skip: busy ?? false }, () => {
  let responder: InformResponder;
  let log: ReturnType<typeof capturingLogger>;
  let client: Socket;

  before(async () => {
    log = capturingLogger();
    responder = await startInformResponder({
      host: '127.0.0.1',
      serverId: '127.0.0.1',
      rules: [
        { subnet: '127.0.0.0/8', options },
        // The longer prefix wins for its clients.
        { subnet: '127.0.0.77/32', options: tftpOptions },
      ],
      logger: log.logger,
    });
    client = await bound(68);
  });
  after(async () => {
    client?.close();
    await responder?.close();
  });

  test('listens on port 67', () => {
    assert.equal(responder.port, 67);
  });

  test('dhcping gets an answer from the responder', async () => {
    // dhcping binds port 68 itself.
    client.close();
    try {
      const answered = responder.stats().answered;
      const r = await run('dhcping', ['-i', '-t', '3', '-c', '127.0.0.1', '-s', '127.0.0.1', '-h', '00:04:f2:00:00:01'], 20_000);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /Got answer from: 127\.0\.0\.1/);
      assert.equal(responder.stats().answered, answered + 1);
      // A DHCPREQUEST is for a real DHCP server: no answer.
      const req = await run('dhcping', ['-r', '-t', '1', '-c', '127.0.0.1', '-s', '127.0.0.1', '-h', '00:04:f2:00:00:01'], 20_000);
      assert.equal(req.code, 1, req.stdout + req.stderr);
      assert.match(req.stdout + req.stderr, /no answer/);
    } finally {
      client = await bound(68);
    }
  });

  test("nmap's dhcp-discover script reads the ACK, the server identifier and option 66", async () => {
    client.close();
    try {
      // On loopback nmap knows no MAC of its own, so the script needs one.
      const r = await run(
        'nmap',
        ['-sU', '-p67', '-Pn', '-v', '--script', 'dhcp-discover', '--script-args', 'dhcp-discover.dhcptype=DHCPINFORM,dhcp-discover.mac=00:04:f2:00:00:02', '127.0.0.1'],
        60_000,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /DHCP Message Type: DHCPACK/, r.stdout);
      assert.match(r.stdout, /Server Identifier: 127\.0\.0\.1/);
      assert.ok(r.stdout.includes(`TFTP Server Name: ${URL}`), r.stdout);
    } finally {
      client = await bound(68);
    }
  });

  test('a DHCPINFORM gets a DHCPACK to ciaddr:68 with the rule\'s options 66, 160 and 161', async () => {
    const msg = request(DHCP_MESSAGE_TYPES.inform, { flags: 0x8000, chaddr: Buffer.concat([Buffer.from('0004f2abcdef', 'hex'), Buffer.alloc(10)]) });
    // Sent from another port: RFC 2131 §4.3.5 sends the ACK to the client's address on port 68, not back to the sender.
    const sender = await bound(0);
    const ack = await exchange(sender, 67, msg, 2000, client).finally(() => sender.close());
    assert.ok(ack, 'an answer came to port 68');
    assert.equal(ack.op, BOOTREPLY);
    assert.equal(messageType(ack), DHCP_MESSAGE_TYPES.ack);
    assert.equal(ack.ciaddr, '127.0.0.1');
    assert.equal(ack.yiaddr, '0.0.0.0');
    assert.equal(ack.flags, 0x8000);
    assert.equal(hardwareAddress(ack), '00:04:f2:ab:cd:ef');
    assert.equal(serverIdentifier(ack), '127.0.0.1');
    assert.equal(optionText(ack, 66), URL);
    assert.equal(optionText(ack, 160), URL);
    assert.equal(optionText(ack, 161), URL);
    assert.equal(ack.options.has(51), false, 'no lease time in an ACK to an INFORM');
  });

  test('the most specific rule wins', async () => {
    // The ACK goes to ciaddr:68, so this client listens on 127.0.0.77.
    const other = await new Promise<Socket>((resolve, reject) => {
      const s = createSocket('udp4');
      s.once('error', reject);
      s.bind(68, '127.0.0.77', () => resolve(s));
    });
    try {
      const reply = await exchange(other, 67, request(DHCP_MESSAGE_TYPES.inform, { ciaddr: '127.0.0.77' }), 2000);
      assert.equal(optionText(reply!, 66), 'tftp://192.0.2.7/');
    } finally {
      other.close();
    }
  });

  test('a client without ciaddr is answered at its source address and port', async () => {
    const ephemeral = await bound(0);
    try {
      const ack = await exchange(ephemeral, 67, request(DHCP_MESSAGE_TYPES.inform, { ciaddr: '0.0.0.0' }), 2000);
      assert.equal(optionText(ack!, 160), URL);
    } finally {
      ephemeral.close();
    }
  });

  test('DISCOVER, REQUEST and replies get no answer and are counted as ignored', async () => {
    const was = responder.stats();
    for (const msg of [request(DHCP_MESSAGE_TYPES.discover), request(DHCP_MESSAGE_TYPES.request), { ...request(DHCP_MESSAGE_TYPES.inform), op: BOOTREPLY }]) {
      assert.equal(await exchange(client, 67, msg, 500), null);
    }
    assert.deepEqual(responder.stats(), { answered: was.answered, ignored: was.ignored + 3 });
    assert.ok(log.lines().some((l) => l.level === 20 && l.msg === 'dhcp packet ignored: not a DHCPINFORM'));
  });

  test('garbage does not stop it: every piece is ignored and the next DHCPINFORM is answered', async () => {
    const was = responder.stats();
    const valid = buildDhcpMessage(request(DHCP_MESSAGE_TYPES.inform));
    const truncated = Buffer.from(valid.subarray(0, 245));
    truncated[241] = 200;
    const garbage = [Buffer.alloc(0), Buffer.from('hello'), Buffer.alloc(239, 0xff), Buffer.alloc(600, 0x41), truncated, Buffer.alloc(300)];
    garbage[5]!.writeUInt32BE(DHCP_MAGIC_COOKIE, 236);
    garbage[5]![240] = 53; // a DHCP message whose option 53 is empty
    for (const g of garbage) client.send(g, 67, '127.0.0.1');
    const ack = await exchange(client, 67, request(DHCP_MESSAGE_TYPES.inform), 2000);
    assert.equal(optionText(ack!, 66), URL);
    assert.deepEqual(responder.stats(), { answered: was.answered + 1, ignored: was.ignored + garbage.length });
    assert.ok(!log.lines().some((l) => (l.level as number) >= 50), 'no error logged');
  });
});

describe('DHCPINFORM responder for a subnet without the client', () => {
  let responder: InformResponder;
  let client: Socket;
  const log = capturingLogger();
  before(async () => {
    responder = await startInformResponder({ host: '127.0.0.1', port: 0, serverId: '127.0.0.1', rules: [{ subnet: '10.0.0.0/8', options }], logger: log.logger });
    client = await bound(0);
  });
  after(async () => {
    client?.close();
    await responder?.close();
  });

  test('a client outside every configured subnet gets no answer and is counted as ignored', async () => {
    assert.notEqual(responder.port, 0);
    assert.equal(await exchange(client, responder.port, request(DHCP_MESSAGE_TYPES.inform, { ciaddr: '0.0.0.0' }), 500), null);
    assert.equal(await exchange(client, responder.port, request(DHCP_MESSAGE_TYPES.inform, { ciaddr: '192.0.2.1' }), 500), null);
    assert.deepEqual(responder.stats(), { answered: 0, ignored: 2 });
    const ignored = log.lines().filter((l) => l.msg === 'dhcp packet ignored: client outside every configured subnet');
    assert.deepEqual(ignored.map((l) => [l.level, l.client]), [[20, '127.0.0.1'], [20, '192.0.2.1']], 'one debug line each');
    assert.ok(!log.lines().some((l) => (l.level as number) >= 40), 'nothing above debug for ignored packets');
  });
});

describe('DHCPINFORM responder for every IPv4 client', () => {
  let responder: InformResponder;
  let client: Socket;
  before(async () => {
    responder = await startInformResponder({ host: '127.0.0.1', port: 0, serverId: '127.0.0.1', rules: [{ subnet: '0.0.0.0/0', options }], logger: capturingLogger().logger });
    client = await bound(0);
  });
  after(async () => {
    client?.close();
    await responder?.close();
  });

  test('broadcast, multicast and 0.x addresses are never answered, even by a rule holding them', async () => {
    // nmap's UDP probe for port 67 carries ciaddr 255.255.255.255.
    for (const ciaddr of ['255.255.255.255', '224.0.0.1', '240.1.2.3', '0.1.2.3']) {
      assert.equal(await exchange(client, responder.port, request(DHCP_MESSAGE_TYPES.inform, { ciaddr }), 300), null, ciaddr);
    }
    assert.deepEqual(responder.stats(), { answered: 0, ignored: 4 });
  });
});

describe('DHCPINFORM responder settings', () => {
  const logger = capturingLogger().logger;
  const refused = (opts: Partial<Parameters<typeof startInformResponder>[0]>, message: RegExp) =>
    assert.rejects(
      startInformResponder({ host: '127.0.0.1', port: 0, serverId: '127.0.0.1', rules: [{ subnet: '10.0.0.0/8', options }], logger, ...opts }),
      (e: unknown) => e instanceof DomainError && message.test(e.message),
    );

  test('bad settings are refused before anything is bound', async () => {
    await refused({ serverId: 'prov.example.com' }, /IPv4 address as phones reach it/);
    await refused({ host: '::1' }, /binds an IPv4 address/);
    await refused({ rules: [] }, /at least one rule/);
    await refused({ rules: [{ subnet: '2001:db8::/32', options }] }, /not IPv4/);
    await refused({ rules: [{ subnet: '10.0.0.0/8', options: { ...options, option160: '' } }] }, /option 160 .* 1 to 255 bytes/);
  });

  test('a port already taken is reported with what to do', async () => {
    const taken = await bound(0);
    try {
      await assert.rejects(
        startInformResponder({ host: '127.0.0.1', port: taken.address().port, serverId: '127.0.0.1', rules: [{ subnet: '10.0.0.0/8', options }], logger }),
        /EADDRINUSE.*another DHCP server listens there/,
      );
    } finally {
      taken.close();
    }
  });
});
