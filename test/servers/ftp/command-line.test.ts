import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeLine, formatReply, LineSplitter, parseCommand, quotePath } from '../../../src/servers/ftp/command-line.js';

function drain(s: LineSplitter) {
  const out = [];
  for (let ev = s.next(), n = 0; ev && n < 1000; ev = s.next(), n++) out.push(ev);
  return out;
}

describe('control lines', () => {
  test('CRLF and bare LF end a line; a line may arrive in pieces', () => {
    const s = new LineSplitter();
    s.push(Buffer.from('USER ac'));
    assert.deepEqual(drain(s), []);
    s.push(Buffer.from('me\r\nPASS x y\nNO'));
    assert.deepEqual(drain(s), [
      { kind: 'line', text: 'USER acme' },
      { kind: 'line', text: 'PASS x y' },
    ]);
    s.push(Buffer.from('OP\r\n'));
    assert.deepEqual(drain(s), [{ kind: 'line', text: 'NOOP' }]);
  });

  test('an overlong line is reported once, its bytes dropped, and the next line read normally', () => {
    const s = new LineSplitter(64);
    for (let i = 0; i < 100; i++) s.push(Buffer.alloc(50, 0x41));
    s.push(Buffer.from('AAAA\r\nNOOP\r\n'));
    assert.deepEqual(drain(s), [{ kind: 'too-long' }, { kind: 'line', text: 'NOOP' }]);
  });

  test('a line of exactly the limit passes; one byte more does not', () => {
    const s = new LineSplitter(10);
    s.push(Buffer.from('NOOP 1234\n'));
    assert.deepEqual(drain(s), [{ kind: 'line', text: 'NOOP 1234' }]);
    s.push(Buffer.from('NOOP 12345\nSYST\n'));
    assert.deepEqual(drain(s), [{ kind: 'too-long' }, { kind: 'line', text: 'SYST' }]);
  });

  test('reading can stop after a line and hand over the bytes behind it untouched', () => {
    const s = new LineSplitter();
    const hello = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x0a, 0x0d]);
    s.push(Buffer.concat([Buffer.from('AUTH TLS\r\n'), hello]));
    assert.deepEqual(s.next(), { kind: 'line', text: 'AUTH TLS' });
    assert.deepEqual(s.takeRest(), hello);
    assert.equal(s.next(), undefined);
  });

  test('Telnet commands are removed, an escaped 0xFF kept, invalid UTF-8 replaced', () => {
    assert.equal(decodeLine(Buffer.from([0xff, 0xf4, 0xff, 0xf2, 0x41, 0x42, 0x4f, 0x52, 0x0d])), 'ABOR');
    assert.equal(decodeLine(Buffer.from([0x41, 0xff, 0xfd, 0x01, 0x42])), 'AB');
    assert.equal(decodeLine(Buffer.from([0x41, 0xff, 0xff])), 'A\ufffd');
    assert.equal(decodeLine(Buffer.from('RETR caf\u00e9.cfg', 'utf8')), 'RETR caf\u00e9.cfg');
  });

  test('commands: verb in upper case, the argument kept as sent', () => {
    assert.deepEqual(parseCommand('retr  a b.cfg '), { verb: 'RETR', arg: ' a b.cfg ' });
    assert.deepEqual(parseCommand('PWD'), { verb: 'PWD', arg: '' });
    assert.deepEqual(parseCommand('  noop'), { verb: 'NOOP', arg: '' });
    assert.equal(parseCommand(''), null);
    assert.equal(parseCommand('\u0016\u0003\u0001'), null);
    assert.equal(parseCommand('RETRIEVE x'), null);
    assert.equal(parseCommand('12 x'), null);
  });
});

describe('replies', () => {
  test('one line, or several with the code repeated on the last', () => {
    assert.equal(formatReply(200, 'ok'), '200 ok\r\n');
    assert.equal(formatReply(211, ['Features:', 'EPSV', 'UTF8', 'End']), '211-Features:\r\n EPSV\r\n UTF8\r\n211 End\r\n');
  });

  test('text from elsewhere cannot forge a reply line', () => {
    const r = formatReply(550, 'no such file\r\n230 Login successful');
    assert.equal(r.split('\r\n').length, 2, 'one line and the final CRLF');
    assert.match(r, /^550 no such file 230 Login successful\r\n$/);
    assert.ok(formatReply(550, 'x'.repeat(10_000)).length < 500, 'bounded');
  });

  test('paths in 257 replies double their quotes', () => {
    assert.equal(quotePath('/a"b'), '"/a""b"');
  });
});
