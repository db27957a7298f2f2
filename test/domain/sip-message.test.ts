import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../../src/domain/domain-error.js';
import {
  buildNotify,
  MAX_SIP_HEADER_BYTES,
  type NotifyInput,
  parseSipResponse,
  requestUriFor,
  SipFramingError,
  sipFraming,
} from '../../src/domain/sip-message.js';

const base: NotifyInput = {
  requestUri: 'sip:1001@192.0.2.10:5060',
  transport: 'udp',
  localHost: '192.0.2.1',
  localPort: 5070,
  branch: 'abc123',
  fromTag: 'tag42',
  callId: 'c0ffee@polyprov',
  cseq: 1,
  event: 'check-sync',
};

function domainError(pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof DomainError, String(error));
    assert.match(error.message, pattern);
    return true;
  };
}

describe('buildNotify', () => {
  it('writes every header of an out-of-dialog check-sync NOTIFY, CRLF-terminated, with the blank line at the end', () => {
    const text = buildNotify({ ...base, userAgent: 'polyprov/0.1' });
    assert.ok(text.endsWith('\r\n\r\n'));
    assert.equal(text.replace(/\r\n/g, '').includes('\n'), false, 'no bare LF');
    assert.deepEqual(text.split('\r\n'), [
      'NOTIFY sip:1001@192.0.2.10:5060 SIP/2.0',
      'Via: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bKabc123;rport',
      'Max-Forwards: 70',
      'From: <sip:polyprov@192.0.2.1>;tag=tag42',
      'To: <sip:1001@192.0.2.10:5060>',
      'Call-ID: c0ffee@polyprov',
      'CSeq: 1 NOTIFY',
      'Contact: <sip:polyprov@192.0.2.1:5070;transport=udp>',
      'Event: check-sync',
      'Subscription-State: terminated',
      'User-Agent: polyprov/0.1',
      'Content-Length: 0',
      '',
      '',
    ]);
  });

  it('keeps a branch that already has the magic cookie, names TCP/TLS in Via and Contact, brackets IPv6', () => {
    const text = buildNotify({ ...base, branch: 'z9hG4bKxyz', transport: 'tls', localHost: '::1', localPort: 5061, requestUri: 'sips:phone@[::1]:5061' });
    assert.match(text, /^Via: SIP\/2\.0\/TLS \[::1\]:5061;branch=z9hG4bKxyz;rport\r$/m);
    assert.match(text, /^From: <sip:polyprov@\[::1\]>;tag=tag42\r$/m);
    assert.match(text, /^Contact: <sip:polyprov@\[::1\]:5061;transport=tls>\r$/m);
    assert.match(buildNotify({ ...base, transport: 'tcp' }), /^Via: SIP\/2\.0\/TCP 192\.0\.2\.1:5070;branch=z9hG4bKabc123;rport\r$/m);
  });

  it('puts the Authorization or Proxy-Authorization header before Content-Length, and a default User-Agent', () => {
    const text = buildNotify({ ...base, cseq: 2, authorization: { header: 'Proxy-Authorization', value: 'Digest username="a"' } });
    assert.match(text, /\r\nCSeq: 2 NOTIFY\r\n/);
    assert.match(text, /\r\nUser-Agent: polyprov\r\nProxy-Authorization: Digest username="a"\r\nContent-Length: 0\r\n\r\n$/);
  });

  it('refuses a Request-URI that is not sip:/sips: or carries spaces or line breaks', () => {
    for (const requestUri of ['http://x', '1001@host', '', 'sip:', 'sip:a b@host', 'sip:a@host\r\nX-Evil: 1', 'sip:a@host\n', 'sip:<a>']) {
      assert.throws(() => buildNotify({ ...base, requestUri }), domainError(/invalid SIP Request-URI/), JSON.stringify(requestUri));
    }
    assert.throws(() => buildNotify({ ...base, requestUri: 'tel:+1555' }), domainError(/must start with "sip:" or "sips:"/));
  });

  it('refuses values that would inject headers or break the message', () => {
    assert.throws(() => buildNotify({ ...base, event: 'check-sync\r\nX: y' }), domainError(/invalid SIP Event/));
    assert.throws(() => buildNotify({ ...base, callId: 'a b' }), domainError(/invalid SIP Call-ID/));
    assert.throws(() => buildNotify({ ...base, fromTag: '' }), domainError(/invalid SIP From tag/));
    assert.throws(() => buildNotify({ ...base, userAgent: 'x\ny' }), domainError(/invalid SIP User-Agent/));
    assert.throws(() => buildNotify({ ...base, authorization: { header: 'Authorization', value: 'Digest\r\nX: 1' } }), domainError(/invalid SIP Authorization/));
    assert.throws(() => buildNotify({ ...base, localPort: 0 }), domainError(/invalid local SIP port 0/));
    assert.throws(() => buildNotify({ ...base, cseq: 0 }), domainError(/invalid SIP CSeq 0/));
    assert.throws(() => buildNotify({ ...base, localHost: 'a b' }), domainError(/invalid local SIP host/));
    assert.throws(() => buildNotify({ ...base, transport: 'sctp' as 'udp' }), domainError(/expected udp, tcp or tls/));
  });

  it('accepts event parameters', () => {
    assert.match(buildNotify({ ...base, event: 'check-sync;reboot=false' }), /\r\nEvent: check-sync;reboot=false\r\n/);
  });
});

const ok200 = [
  'SIP/2.0 200 OK',
  'Via: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bKabc123;rport=5070;received=192.0.2.1',
  'From: <sip:polyprov@192.0.2.1>;tag=tag42',
  'To: <sip:1001@192.0.2.10:5060>;tag=99',
  'Call-ID: c0ffee@polyprov',
  'CSeq: 1 NOTIFY',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

describe('parseSipResponse', () => {
  it('reads the status line, headers, top Via branch, Call-ID and CSeq', () => {
    const r = parseSipResponse(ok200);
    assert.ok(r);
    assert.equal(r.status, 200);
    assert.equal(r.reason, 'OK');
    assert.equal(r.viaBranch, 'z9hG4bKabc123');
    assert.equal(r.callId, 'c0ffee@polyprov');
    assert.deepEqual(r.cseq, { number: 1, method: 'NOTIFY' });
    assert.deepEqual(r.headers.get('to'), ['<sip:1001@192.0.2.10:5060>;tag=99']);
    assert.equal(r.body, '');
  });

  it('expands compact header names, joins folded lines, ignores case and keeps the body', () => {
    const text = [
      'SIP/2.0 401 Unauthorized',
      'v: SIP/2.0/UDP 10.0.0.1:5060;BRANCH=z9hG4bKtop, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKsecond',
      'v: SIP/2.0/UDP 10.0.0.3;branch=z9hG4bKthird',
      'i: compact-id',
      'f: <sip:a@b>;tag=1',
      't: <sip:c@d>',
      'cseq: 7 notify',
      'WWW-Authenticate: Digest realm="phones",',
      '\tnonce="abc",',
      '  qop="auth"',
      'c: text/plain',
      'l: 5',
      '',
      'hello and more',
    ].join('\r\n');
    const r = parseSipResponse(Buffer.from(text));
    assert.ok(r);
    assert.equal(r.status, 401);
    assert.equal(r.viaBranch, 'z9hG4bKtop');
    assert.equal(r.callId, 'compact-id');
    assert.deepEqual(r.cseq, { number: 7, method: 'NOTIFY' });
    assert.deepEqual(r.headers.get('via')?.length, 2);
    assert.deepEqual(r.headers.get('from'), ['<sip:a@b>;tag=1']);
    assert.deepEqual(r.headers.get('to'), ['<sip:c@d>']);
    assert.deepEqual(r.headers.get('www-authenticate'), ['Digest realm="phones", nonce="abc", qop="auth"']);
    assert.deepEqual(r.headers.get('content-type'), ['text/plain']);
    assert.equal(r.body, 'hello');
  });

  it('accepts bare LF line endings and a missing reason phrase; a Via without branch gives null', () => {
    const r = parseSipResponse('SIP/2.0 180\nVia: SIP/2.0/UDP h\nCall-ID: x\nCSeq: 1 NOTIFY\n\n');
    assert.ok(r);
    assert.equal(r.status, 180);
    assert.equal(r.reason, '');
    assert.equal(r.viaBranch, null);
  });

  it('returns null for requests, garbage, truncated bodies and responses no transaction could claim', () => {
    const bad: (string | Buffer)[] = [
      '',
      'garbage',
      Buffer.from([0, 1, 2, 3, 255, 254, 0, 0, 0, 0, 0, 0, 0, 0]),
      'NOTIFY sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: x\r\nCSeq: 1 NOTIFY\r\n\r\n',
      'SIP/2.0 200 OK\r\nVia: x\r\nCall-ID: y\r\nCSeq: 1 NOTIFY\r\n', // no end of headers
      'SIP/2.0 999 Nope\r\nVia: x\r\nCall-ID: y\r\nCSeq: 1 NOTIFY\r\n\r\n',
      'SIP/2.0 20 OK\r\nVia: x\r\nCall-ID: y\r\nCSeq: 1 NOTIFY\r\n\r\n',
      'SIP/3.0 200 OK\r\nVia: x\r\nCall-ID: y\r\nCSeq: 1 NOTIFY\r\n\r\n',
      'SIP/2.0 200 OK\r\nCall-ID: y\r\nCSeq: 1 NOTIFY\r\n\r\n', // no Via
      'SIP/2.0 200 OK\r\nVia: x\r\nCSeq: 1 NOTIFY\r\n\r\n', // no Call-ID
      'SIP/2.0 200 OK\r\nVia: x\r\nCall-ID: y\r\nCSeq: one NOTIFY\r\n\r\n',
      'SIP/2.0 200 OK\r\nVia: x\r\nCall-ID: y\r\nCSeq: 1 NOTIFY\r\nContent-Length: 10\r\n\r\nshort',
      'SIP/2.0 200 OK\r\nVia: x\r\nCall-ID: y\r\nCSeq: 1 NOTIFY\r\nContent-Length: -1\r\n\r\n',
      'SIP/2.0 200 OK\r\n folded-first\r\nVia: x\r\nCall-ID: y\r\nCSeq: 1 NOTIFY\r\n\r\n',
      'SIP/2.0 200 OK\r\nno colon here\r\nVia: x\r\nCall-ID: y\r\nCSeq: 1 NOTIFY\r\n\r\n',
      `SIP/2.0 200 OK\r\n${'X-A: 1\r\n'.repeat(300)}Via: x\r\nCall-ID: y\r\nCSeq: 1 NOTIFY\r\n\r\n`,
      `SIP/2.0 200 OK\r\nVia: x\r\nCall-ID: y\r\nCSeq: 1 NOTIFY\r\nX: ${'a'.repeat(70_000)}\r\n\r\n`,
    ];
    for (const input of bad) assert.equal(parseSipResponse(input), null, JSON.stringify(input.toString().slice(0, 60)));
  });

  it('never throws on random bytes', () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) & 0xff;
    for (let n = 0; n < 2000; n++) {
      const bytes = Buffer.from(Array.from({ length: 1 + (n % 300) }, next));
      const mutated = Buffer.concat([Buffer.from(ok200.slice(0, n % ok200.length)), bytes]);
      parseSipResponse(bytes);
      parseSipResponse(mutated);
    }
  });
});

describe('sipFraming', () => {
  const msg = (body: string, lengthHeader = `Content-Length: ${Buffer.byteLength(body)}\r\n`) =>
    `SIP/2.0 200 OK\r\nVia: x\r\nCall-ID: y\r\nCSeq: 1 NOTIFY\r\n${lengthHeader}\r\n${body}`;

  it('returns null until a whole message is there, then cuts exactly one', () => {
    const one = msg('abc');
    const two = msg('', 'l: 0\r\n');
    const stream = Buffer.from(one + two);
    for (let cut = 0; cut < one.length; cut++) assert.equal(sipFraming(stream.subarray(0, cut)), null, `cut at ${cut}`);
    const first = sipFraming(stream);
    assert.ok(first);
    assert.equal(first.message.toString(), one);
    const second = sipFraming(first.rest);
    assert.ok(second);
    assert.equal(second.message.toString(), two);
    assert.equal(second.rest.length, 0);
  });

  it('treats a missing Content-Length as an empty body and skips keep-alive CRLFs', () => {
    const framed = sipFraming(Buffer.from(`\r\n\r\n\r\n${msg('', '')}NEXT`));
    assert.ok(framed);
    assert.equal(framed.message.toString(), msg('', ''));
    assert.equal(framed.rest.toString(), 'NEXT');
    assert.equal(sipFraming(Buffer.from('\r\n\r\n')), null);
  });

  it('refuses headers over 16 KiB, a bad Content-Length and an oversized body', () => {
    const huge = Buffer.from(`SIP/2.0 200 OK\r\nX: ${'a'.repeat(MAX_SIP_HEADER_BYTES)}`);
    assert.throws(() => sipFraming(huge), (e: unknown) => e instanceof SipFramingError && /more than 16384 bytes of SIP headers/.test(e.message));
    assert.throws(() => sipFraming(Buffer.concat([huge, Buffer.from('\r\n\r\n')])), SipFramingError);
    assert.throws(() => sipFraming(Buffer.from('\r\n'.repeat(MAX_SIP_HEADER_BYTES))), SipFramingError);
    assert.throws(() => sipFraming(Buffer.from(msg('', 'Content-Length: x\r\n'))), /invalid Content-Length "x"/);
    assert.throws(() => sipFraming(Buffer.from(msg('', 'Content-Length: 99999999\r\n'))), /99999999-byte SIP body/);
    // Just under the limit is fine.
    const under = `SIP/2.0 200 OK\r\nX: ${'a'.repeat(MAX_SIP_HEADER_BYTES - 30)}\r\n\r\n`;
    assert.ok(sipFraming(Buffer.from(under)));
  });
});

describe('requestUriFor', () => {
  it('expands placeholders, several times each', () => {
    assert.equal(requestUriFor('sip:{user}@{host}:{port}', { user: '1001', host: '192.0.2.10', port: '5060' }), 'sip:1001@192.0.2.10:5060');
    assert.equal(requestUriFor('sips:{mac}@{host};x={mac}', { mac: '0004f2aabbcc', host: 'p.example' }), 'sips:0004f2aabbcc@p.example;x=0004f2aabbcc');
    assert.equal(requestUriFor('sip:fixed@host', {}), 'sip:fixed@host');
  });

  it('names unknown placeholders and the known ones', () => {
    assert.throws(
      () => requestUriFor('sip:{user}@{hots}:{prot}', { user: '1', host: 'h', port: '1' }),
      domainError(/unknown placeholders \{hots\}, \{prot\} in SIP Request-URI template "sip:\{user\}@\{hots\}:\{prot\}"; known: \{user\}, \{host\}, \{port\}/),
    );
    assert.throws(() => requestUriFor('sip:{}@h', {}), domainError(/unknown placeholder \{\} .*known: none/));
    assert.throws(() => requestUriFor('sip:{toString}@h', {}), domainError(/unknown placeholder \{toString\}/));
  });

  it('refuses stray braces and a result that is not a Request-URI', () => {
    assert.throws(() => requestUriFor('sip:{user@h', { user: '1' }), domainError(/"\{" without its "\}"/));
    assert.throws(() => requestUriFor('sip:user}@h', { user: '1' }), domainError(/"\}" without its "\{"/));
    assert.throws(() => requestUriFor('sip:{a{b}}@h', { b: '1' }), domainError(/"\{" without its "\}"/));
    assert.throws(() => requestUriFor('{scheme}:x@h', { scheme: 'http' }), domainError(/must start with "sip:"/));
    assert.throws(() => requestUriFor('sip:{user}@h', { user: 'a\r\nX: 1' }), domainError(/line breaks/));
  });
});
