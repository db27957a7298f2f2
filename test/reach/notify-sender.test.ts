import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createTcpServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServer as createTlsServer } from 'node:tls';
import { parseAuthorization } from '../../src/domain/http-authorization.js';
import { type NotifyOutcome, SipNotifier, type SipNotifierOptions } from '../../src/reach/sip/notify-sender.js';
import { phoneResponse, readRequest, Sipp, type SippMessage, type SippResult } from '../support/sipp.js';

const scenario = (name: string) => join(import.meta.dirname, 'sipp', name);

/** Runs one NOTIFY against sipp playing the phone; sipp is stopped whatever happens. */
async function againstSipp(
  scenarioName: string,
  notify: (notifier: SipNotifier, port: number) => Promise<NotifyOutcome>,
  opts: { transport?: 'udp' | 'tcp'; notifier?: SipNotifierOptions; sippArgs?: string[] } = {},
): Promise<{ outcome: NotifyOutcome; sipp: SippResult; received: SippMessage[]; port: number }> {
  const sipp = await Sipp.start({ scenario: scenario(scenarioName), transport: opts.transport ?? 'udp', timeoutSeconds: 15, ...(opts.sippArgs ? { extraArgs: opts.sippArgs } : {}) });
  const notifier = new SipNotifier({ bindHost: '127.0.0.1', t1Ms: 250, timeoutMs: 8000, ...opts.notifier });
  try {
    await notifier.start();
    const outcome = await notify(notifier, sipp.port);
    const result = await sipp.finished();
    return { outcome, sipp: result, received: result.messages.filter((m) => m.direction === 'received'), port: sipp.port };
  } finally {
    await notifier.close();
    await sipp.stop();
  }
}

function md5(s: string): string {
  return createHash('md5').update(s).digest('hex');
}

/** Recomputes an MD5 qop=auth digest answer (RFC 2617 §3.2.2) with the known password, independently of the sender's code. */
function assertDigest(header: string | undefined, expect: { username: string; password: string; realm: string; nonce: string; method: string; uri: string }): void {
  const parsed = parseAuthorization(header);
  assert.ok(parsed && parsed.scheme === 'digest', `a Digest answer, got ${header}`);
  const a = parsed.answer;
  assert.equal(a.username, expect.username);
  assert.equal(a.realm, expect.realm);
  assert.equal(a.nonce, expect.nonce);
  assert.equal(a.uri, expect.uri);
  assert.equal(a.qop, 'auth');
  assert.equal(a.nc, '00000001');
  assert.match(a.cnonce ?? '', /^[0-9a-f]{16}$/);
  const ha1 = md5(`${expect.username}:${expect.realm}:${expect.password}`);
  const ha2 = md5(`${expect.method}:${expect.uri}`);
  assert.equal(a.response, md5(`${ha1}:${expect.nonce}:${a.nc}:${a.cnonce}:auth:${ha2}`));
}

function branchOf(text: string): string {
  return /;branch=([^;\r\n]+)/.exec(readRequest(text).headers.get('via') ?? '')?.[1] ?? '';
}

/** A loopback UDP socket standing in for a phone: `onRequest` decides what to send back. */
async function udpStandIn(onRequest: (socket: UdpSocket, request: string, from: RemoteInfo) => void): Promise<{ socket: UdpSocket; port: number; received: string[] }> {
  const socket = createSocket('udp4');
  const received: string[] = [];
  socket.on('message', (msg, from) => {
    received.push(msg.toString('utf8'));
    onRequest(socket, msg.toString('utf8'), from);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, port: socket.address().port, received };
}

function closeUdp(socket: UdpSocket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}

describe('SipNotifier over UDP against sipp', () => {
  it('sends a check-sync NOTIFY that the phone answers 200', async () => {
    const { outcome, sipp, received, port } = await againstSipp('notify-200.xml', (n, p) =>
      n.notify({ host: '127.0.0.1', port: p, transport: 'udp', requestUri: `sip:1001@127.0.0.1:${p}` }),
    );
    assert.equal(sipp.code, 0, sipp.output);
    assert.equal(outcome.kind, 'ok', JSON.stringify(outcome));
    assert.ok(outcome.kind === 'ok');
    assert.equal(outcome.status, 200);
    assert.equal(outcome.reason, 'OK');
    assert.equal(outcome.attempts, 1);
    assert.equal(outcome.authenticated, false);
    assert.equal(received.length, 1);
    const notify = readRequest(received[0]!.text);
    assert.equal(notify.requestLine, `NOTIFY sip:1001@127.0.0.1:${port} SIP/2.0`);
    assert.equal(notify.headers.get('event'), 'check-sync');
    assert.equal(notify.headers.get('content-length'), '0');
    assert.equal(notify.headers.get('subscription-state'), 'terminated');
    assert.equal(notify.headers.get('to'), `<sip:1001@127.0.0.1:${port}>`);
    assert.match(notify.headers.get('via') ?? '', /^SIP\/2\.0\/UDP 127\.0\.0\.1:\d+;branch=z9hG4bK[0-9a-f]{24};rport$/);
    assert.match(notify.headers.get('cseq') ?? '', /^1 NOTIFY$/);
  });

  it('answers a 401 challenge once with a correct MD5 digest, same Call-ID and From tag, CSeq + 1, new branch', async () => {
    const uri = 'sip:0004f2aabbcc@127.0.0.1';
    const { outcome, sipp, received } = await againstSipp('notify-401-then-200.xml', (n, port) =>
      n.notify({ host: '127.0.0.1', port, transport: 'udp', requestUri: uri }, { credentials: { username: 'PlcmSpIp', password: 's3cret pass' } }),
    );
    assert.equal(sipp.code, 0, sipp.output);
    assert.deepEqual({ ...outcome, elapsedMs: 0 }, { kind: 'ok', status: 200, reason: 'OK', attempts: 2, authenticated: true, elapsedMs: 0 });
    assert.equal(received.length, 2);
    const [first, second] = received.map((m) => readRequest(m.text));
    assert.equal(first!.headers.get('authorization'), undefined);
    assertDigest(second!.headers.get('authorization'), { username: 'PlcmSpIp', password: 's3cret pass', realm: 'phone.example', nonce: '4f1c2e9a7b3d', method: 'NOTIFY', uri });
    assert.equal(second!.headers.get('call-id'), first!.headers.get('call-id'));
    assert.equal(second!.headers.get('from'), first!.headers.get('from'));
    assert.equal(first!.headers.get('cseq'), '1 NOTIFY');
    assert.equal(second!.headers.get('cseq'), '2 NOTIFY');
    assert.notEqual(branchOf(received[1]!.text), branchOf(received[0]!.text));
  });

  it('answers a proxy 407 challenge with Proxy-Authorization', async () => {
    const uri = 'sip:1001@127.0.0.1';
    const { outcome, received } = await againstSipp('notify-407-then-200.xml', (n, port) =>
      n.notify({ host: '127.0.0.1', port, transport: 'udp', requestUri: uri }, { credentials: { username: 'pbx', password: 'pw' } }),
    );
    assert.equal(outcome.kind, 'ok', JSON.stringify(outcome));
    assert.ok(outcome.kind === 'ok' && outcome.authenticated);
    const second = readRequest(received[1]!.text);
    assert.equal(second.headers.get('authorization'), undefined);
    assertDigest(second.headers.get('proxy-authorization'), { username: 'pbx', password: 'pw', realm: 'proxy.example', nonce: '77aa88bb99cc', method: 'NOTIFY', uri });
  });

  it('reports a second challenge (a wrong password) as rejected, authenticated', async () => {
    const { outcome, sipp, received } = await againstSipp('notify-401-twice.xml', (n, port) =>
      n.notify({ host: '127.0.0.1', port, transport: 'udp', requestUri: 'sip:1001@127.0.0.1' }, { credentials: { username: 'PlcmSpIp', password: 'wrong' } }),
    );
    assert.equal(sipp.code, 0, sipp.output);
    assert.deepEqual({ ...outcome, elapsedMs: 0 }, { kind: 'rejected', status: 401, reason: 'Unauthorized', attempts: 2, authenticated: true, elapsedMs: 0 });
    assert.equal(received.length, 2, 'one answer only');
  });

  it('reports a challenge without credentials as rejected 401', async () => {
    const { outcome, sipp, received } = await againstSipp('notify-401-once.xml', (n, port) =>
      n.notify({ host: '127.0.0.1', port, transport: 'udp', requestUri: 'sip:1001@127.0.0.1' }),
    );
    assert.equal(sipp.code, 0, sipp.output);
    assert.deepEqual({ ...outcome, elapsedMs: 0 }, { kind: 'rejected', status: 401, reason: 'Unauthorized', attempts: 1, authenticated: false, elapsedMs: 0 });
    assert.equal(received.length, 1);
  });

  it('retransmits an unanswered NOTIFY with the same branch until the phone answers', async () => {
    const { outcome, sipp, received } = await againstSipp(
      'notify-answers-retransmission.xml',
      (n, port) => n.notify({ host: '127.0.0.1', port, transport: 'udp', requestUri: 'sip:1001@127.0.0.1' }),
      // -nr: otherwise sipp recognises the retransmission as one and never reaches its second <recv>.
      { notifier: { t1Ms: 100, timeoutMs: 8000 }, sippArgs: ['-nr'] },
    );
    assert.equal(sipp.code, 0, sipp.output);
    assert.equal(outcome.kind, 'ok', JSON.stringify(outcome));
    assert.ok(outcome.kind === 'ok' && outcome.attempts >= 2);
    assert.ok(received.length >= 2);
    assert.equal(branchOf(received[1]!.text), branchOf(received[0]!.text));
    assert.match(branchOf(received[0]!.text), /^z9hG4bK/);
    assert.equal(readRequest(received[1]!.text).headers.get('cseq'), '1 NOTIFY');
  });
});

describe('SipNotifier over UDP against stand-in phones', () => {
  it('times out with Timer F after a bounded number of retransmissions, all with one branch', async () => {
    const sink = await udpStandIn(() => undefined);
    const notifier = new SipNotifier({ bindHost: '127.0.0.1', t1Ms: 20 });
    try {
      const outcome = await notifier.notify({ host: '127.0.0.1', port: sink.port, transport: 'udp', requestUri: 'sip:1001@127.0.0.1' });
      assert.equal(outcome.kind, 'timeout', JSON.stringify(outcome));
      assert.ok(outcome.kind === 'timeout');
      // T1 20 ms doubling up to F = 1280 ms: sends at 0, 20, 60, 140, 300, 620, 1260; a loaded machine sends fewer.
      assert.ok(outcome.attempts > 1 && outcome.attempts <= 7, `attempts ${outcome.attempts}`);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(sink.received.length, outcome.attempts);
      assert.equal(new Set(sink.received.map(branchOf)).size, 1);
    } finally {
      await notifier.close();
      await closeUdp(sink.socket);
    }
  });

  it('slows retransmissions to T2 after a provisional response', async () => {
    const phone = await udpStandIn((socket, request, from) => {
      if (phone.received.length > 1) return;
      socket.send(phoneResponse(request, 100, 'Trying'), from.port, from.address);
      setTimeout(() => socket.send(phoneResponse(request, 200, 'OK'), from.port, from.address), 1000);
    });
    const notifier = new SipNotifier({ bindHost: '127.0.0.1', t1Ms: 50, t2Ms: 2000, timeoutMs: 5000 });
    try {
      const outcome = await notifier.notify({ host: '127.0.0.1', port: phone.port, transport: 'udp', requestUri: 'sip:1001@127.0.0.1' });
      assert.equal(outcome.kind, 'ok', JSON.stringify(outcome));
      // Without the switch to T2: 0, 50, 150, 350, 750 ms = 5 sends before the 200.
      assert.ok(outcome.kind === 'ok' && outcome.attempts <= 3, `attempts ${JSON.stringify(outcome)}`);
    } finally {
      await notifier.close();
      await closeUdp(phone.socket);
    }
  });

  it('ignores garbage, requests and responses of other transactions sent to its socket', async () => {
    const phone = await udpStandIn((socket, request, from) => {
      const send = (text: string | Buffer) => socket.send(text, from.port, from.address);
      const theirs = request.replace(/branch=z9hG4bK[0-9a-f]+/, 'branch=z9hG4bKnotours');
      send(Buffer.from([0xff, 0x00, 0x13, 0x37]));
      send('SIP/2.0 200 OK\r\n\r\n');
      send('SIP/2.0 999 Bad\r\nVia: x\r\n');
      send(`OPTIONS sip:polyprov@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKx\r\nCall-ID: a\r\nCSeq: 1 OPTIONS\r\n\r\n`);
      send(phoneResponse(theirs, 500, 'Not Ours'));
      send(phoneResponse(request, 486, 'Wrong Method').replace(/CSeq: 1 NOTIFY/, 'CSeq: 1 OPTIONS'));
      send('x'.repeat(60_000));
      setTimeout(() => send(phoneResponse(request, 200, 'OK')), 20);
    });
    const notifier = new SipNotifier({ bindHost: '127.0.0.1', t1Ms: 500 });
    try {
      const outcomes = await Promise.all([
        notifier.notify({ host: '127.0.0.1', port: phone.port, transport: 'udp', requestUri: 'sip:a@127.0.0.1' }),
        notifier.notify({ host: '127.0.0.1', port: phone.port, transport: 'udp', requestUri: 'sip:b@127.0.0.1' }),
      ]);
      for (const outcome of outcomes) assert.deepEqual({ ...outcome, elapsedMs: 0 }, { kind: 'ok', status: 200, reason: 'OK', attempts: 1, authenticated: false, elapsedMs: 0 });
    } finally {
      await notifier.close();
      await closeUdp(phone.socket);
    }
  });

  it('puts the bound address and port in Via and Contact, the advertised host when given, and a host name is resolved', async () => {
    const phone = await udpStandIn((socket, request, from) => socket.send(phoneResponse(request, 200, 'OK'), from.port, from.address));
    const plain = new SipNotifier({ bindHost: '127.0.0.1' });
    const advertised = new SipNotifier({ advertisedHost: 'pbx.example.com', userAgent: 'polyprov-test' });
    try {
      assert.equal((await plain.notify({ host: 'localhost', port: phone.port, transport: 'udp', requestUri: 'sip:1@localhost' })).kind, 'ok');
      assert.equal((await advertised.notify({ host: '127.0.0.1', port: phone.port, transport: 'udp', requestUri: 'sip:2@127.0.0.1' })).kind, 'ok');
      const [first, second] = phone.received.map(readRequest);
      const viaPort = /127\.0\.0\.1:(\d+);/.exec(first!.headers.get('via') ?? '')?.[1];
      assert.ok(viaPort && Number(viaPort) > 0);
      assert.equal(first!.headers.get('contact'), `<sip:polyprov@127.0.0.1:${viaPort};transport=udp>`);
      assert.match(second!.headers.get('via') ?? '', /^SIP\/2\.0\/UDP pbx\.example\.com:\d+;branch=/);
      assert.equal(second!.headers.get('user-agent'), 'polyprov-test');
    } finally {
      await plain.close();
      await advertised.close();
      await closeUdp(phone.socket);
    }
  });

  it('uses the local address of the route when bound to the wildcard address', async () => {
    const phone = await udpStandIn((socket, request, from) => socket.send(phoneResponse(request, 200, 'OK'), from.port, from.address));
    const notifier = new SipNotifier();
    try {
      assert.equal((await notifier.notify({ host: '127.0.0.1', port: phone.port, transport: 'udp', requestUri: 'sip:1@127.0.0.1' })).kind, 'ok');
      assert.match(readRequest(phone.received[0]!).headers.get('via') ?? '', /^SIP\/2\.0\/UDP 127\.0\.0\.1:\d+;/);
    } finally {
      await notifier.close();
      await closeUdp(phone.socket);
    }
  });

  it('ends pending transactions as errors on close, and refuses bad targets without throwing', async () => {
    const sink = await udpStandIn(() => undefined);
    const notifier = new SipNotifier({ bindHost: '127.0.0.1' });
    try {
      const pending = notifier.notify({ host: '127.0.0.1', port: sink.port, transport: 'udp', requestUri: 'sip:1@127.0.0.1' });
      const bad = await notifier.notify({ host: '127.0.0.1', port: sink.port, transport: 'udp', requestUri: 'http://1@127.0.0.1' });
      assert.ok(bad.kind === 'error' && /must start with "sip:" or "sips:"/.test(bad.message), JSON.stringify(bad));
      const badPort = await notifier.notify({ host: '127.0.0.1', port: 70000, transport: 'udp', requestUri: 'sip:1@127.0.0.1' });
      assert.ok(badPort.kind === 'error' && /invalid SIP port 70000/.test(badPort.message), JSON.stringify(badPort));
      const v6 = await notifier.notify({ host: '::1', port: sink.port, transport: 'udp', requestUri: 'sip:1@[::1]' });
      assert.ok(v6.kind === 'error' && /bind it to "::"/.test(v6.message), JSON.stringify(v6));
      await notifier.close();
      const closed = await pending;
      assert.ok(closed.kind === 'error' && closed.message === 'notifier closed', JSON.stringify(closed));
      const after = await notifier.notify({ host: '127.0.0.1', port: sink.port, transport: 'udp', requestUri: 'sip:1@127.0.0.1' });
      assert.ok(after.kind === 'error' && after.message === 'notifier closed');
    } finally {
      await notifier.close();
      await closeUdp(sink.socket);
    }
  });

  it('reaches IPv6 phones from a socket bound to ::1', async () => {
    const socket = createSocket('udp6');
    const received: string[] = [];
    socket.on('message', (msg, from) => {
      received.push(msg.toString());
      socket.send(phoneResponse(msg.toString(), 200, 'OK'), from.port, from.address);
    });
    await new Promise<void>((resolve) => socket.bind(0, '::1', resolve));
    const notifier = new SipNotifier({ bindHost: '::1' });
    try {
      const outcome = await notifier.notify({ host: '[::1]', port: socket.address().port, transport: 'udp', requestUri: 'sip:1@[::1]' });
      assert.equal(outcome.kind, 'ok', JSON.stringify(outcome));
      assert.match(readRequest(received[0]!).headers.get('via') ?? '', /^SIP\/2\.0\/UDP \[::1\]:\d+;/);
    } finally {
      await notifier.close();
      await closeUdp(socket);
    }
  });
});

describe('SipNotifier over TCP and TLS', () => {
  let dir: string;
  let cert: string;
  let key: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'polyprov-sip-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
      '-subj', '/CN=phone.test', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ], { stdio: 'ignore' });
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    key = readFileSync(join(dir, 'key.pem'), 'utf8');
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('sends the NOTIFY over TCP to sipp and reads its 200 from the stream', async () => {
    const { outcome, sipp, received } = await againstSipp(
      'notify-200.xml',
      (n, p) => n.notify({ host: '127.0.0.1', port: p, transport: 'tcp', requestUri: `sip:1001@127.0.0.1:${p};transport=tcp` }),
      { transport: 'tcp' },
    );
    assert.equal(outcome.kind, 'ok', `${JSON.stringify(outcome)}\n${sipp.output}`);
    assert.equal(sipp.code, 0, sipp.output);
    assert.ok(outcome.kind === 'ok' && outcome.attempts === 1);
    const notify = readRequest(received[0]!.text);
    assert.match(notify.headers.get('via') ?? '', /^SIP\/2\.0\/TCP 127\.0\.0\.1:\d+;branch=z9hG4bK/);
    assert.match(notify.headers.get('contact') ?? '', /;transport=tcp>$/);
    assert.equal(notify.headers.get('event'), 'check-sync');
  });

  /** A TLS phone: answers 100 then 200, the 200 in two pieces, once the request's headers are in. */
  async function tlsPhone(): Promise<{ server: Server; port: number; requests: string[] }> {
    const requests: string[] = [];
    const server = createTlsServer({ cert, key }, (socket) => {
      let text = '';
      socket.on('data', (d: Buffer) => {
        text += d.toString('utf8');
        if (!text.includes('\r\n\r\n')) return;
        requests.push(text);
        // The 200 split across two writes, so the client has to reassemble and frame the stream.
        const reply = phoneResponse(text, 100, 'Trying') + phoneResponse(text, 200, 'OK');
        const cut = reply.length - 40;
        socket.write(reply.slice(0, cut));
        setTimeout(() => socket.write(reply.slice(cut)), 20);
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { server, port: (server.address() as { port: number }).port, requests };
  }

  it('sends the NOTIFY over TLS, trusting the given CA, and frames a split answer', async () => {
    const phone = await tlsPhone();
    const notifier = new SipNotifier({ bindHost: '127.0.0.1', tls: { ca: cert } });
    try {
      const outcome = await notifier.notify({ host: '127.0.0.1', port: phone.port, transport: 'tls', requestUri: `sips:1001@127.0.0.1:${phone.port}` });
      assert.deepEqual({ ...outcome, elapsedMs: 0 }, { kind: 'ok', status: 200, reason: 'OK', attempts: 1, authenticated: false, elapsedMs: 0 });
      const notify = readRequest(phone.requests[0]!);
      assert.equal(notify.requestLine, `NOTIFY sips:1001@127.0.0.1:${phone.port} SIP/2.0`);
      assert.match(notify.headers.get('via') ?? '', /^SIP\/2\.0\/TLS 127\.0\.0\.1:\d+;branch=z9hG4bK/);
    } finally {
      await notifier.close();
      await new Promise((r) => phone.server.close(r));
    }
  });

  it('refuses a TLS phone whose certificate it does not trust', async () => {
    const phone = await tlsPhone();
    const notifier = new SipNotifier({ bindHost: '127.0.0.1' });
    try {
      const outcome = await notifier.notify({ host: '127.0.0.1', port: phone.port, transport: 'tls', requestUri: 'sips:1001@127.0.0.1' });
      assert.ok(outcome.kind === 'error' && /cannot open a TLS connection to 127\.0\.0\.1:\d+: .*certificate/i.test(outcome.message), JSON.stringify(outcome));
      assert.equal(phone.requests.length, 0);
    } finally {
      await notifier.close();
      await new Promise((r) => phone.server.close(r));
    }
  });

  it('reports a refused TCP connection as an error naming ECONNREFUSED', async () => {
    const probe = createTcpServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const closedPort = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const notifier = new SipNotifier({ bindHost: '127.0.0.1' });
    try {
      const outcome = await notifier.notify({ host: '127.0.0.1', port: closedPort, transport: 'tcp', requestUri: 'sip:1@127.0.0.1' });
      assert.ok(outcome.kind === 'error' && /ECONNREFUSED/.test(outcome.message), JSON.stringify(outcome));
    } finally {
      await notifier.close();
    }
  });

  it('times out a TCP phone that accepts but never answers, and reports one that hangs up', async () => {
    const sockets = new Set<import('node:net').Socket>();
    let hangUp = false;
    const server = createTcpServer((s) => {
      sockets.add(s);
      s.on('data', () => hangUp && s.end());
      s.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const p = (server.address() as { port: number }).port;
    const notifier = new SipNotifier({ bindHost: '127.0.0.1', timeoutMs: 300 });
    try {
      const silent = await notifier.notify({ host: '127.0.0.1', port: p, transport: 'tcp', requestUri: 'sip:1@127.0.0.1' });
      assert.deepEqual({ ...silent, elapsedMs: 0 }, { kind: 'timeout', attempts: 1, elapsedMs: 0 });
      hangUp = true;
      const cut = await notifier.notify({ host: '127.0.0.1', port: p, transport: 'tcp', requestUri: 'sip:1@127.0.0.1' });
      assert.ok(cut.kind === 'error' && /closed the TCP connection before a final response/.test(cut.message), JSON.stringify(cut));
    } finally {
      await notifier.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});
