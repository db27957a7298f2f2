import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodePacket,
  encodeAck,
  encodeData,
  encodeError,
  encodeOack,
  encodeRequest,
  MAX_OPTIONS,
  MAX_REQUEST_BYTES,
  OP_ACK,
  OP_DATA,
  OP_ERROR,
  OP_OACK,
  OP_RRQ,
  OP_WRQ,
  TftpPacketError,
} from '../../../src/servers/tftp/packet.js';

const raw = (...parts: (number[] | string)[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

describe('TFTP packets round-trip', () => {
  it('RRQ and WRQ with and without options', () => {
    const rrq = decodePacket(encodeRequest(OP_RRQ, 'logs/0004f2a1b2c3-app.log', 'octet'));
    assert.deepEqual(rrq, { opcode: OP_RRQ, filename: 'logs/0004f2a1b2c3-app.log', mode: 'octet', options: new Map() });
    const wrq = decodePacket(
      encodeRequest(OP_WRQ, '/overrides/x.cfg', 'NetASCII', [
        ['BlkSize', '1468'],
        ['tsize', '0'],
        ['windowsize', '16'],
      ]),
    );
    assert.equal(wrq.opcode, OP_WRQ);
    assert.ok(wrq.opcode === OP_WRQ);
    assert.equal(wrq.mode, 'netascii', 'mode is case-insensitive');
    assert.deepEqual([...wrq.options], [
      ['blksize', '1468'],
      ['tsize', '0'],
      ['windowsize', '16'],
    ]);
  });

  it('DATA, ACK, ERROR and OACK', () => {
    const payload = Buffer.from('hello');
    assert.deepEqual(decodePacket(encodeData(70_000, payload)), { opcode: OP_DATA, block: 70_000 & 0xffff, data: payload });
    assert.deepEqual(decodePacket(encodeData(1, Buffer.alloc(0))), { opcode: OP_DATA, block: 1, data: Buffer.alloc(0) });
    assert.deepEqual(decodePacket(encodeAck(65_535)), { opcode: OP_ACK, block: 65_535 });
    assert.deepEqual(decodePacket(encodeAck(65_536)), { opcode: OP_ACK, block: 0 }, 'block numbers wrap to 0');
    assert.deepEqual(decodePacket(encodeError(1, 'File not found')), { opcode: OP_ERROR, code: 1, message: 'File not found' });
    assert.deepEqual(decodePacket(encodeOack([['blksize', '1468'], ['tsize', '123']])), {
      opcode: OP_OACK,
      options: new Map([
        ['blksize', '1468'],
        ['tsize', '123'],
      ]),
    });
  });

  it('an ERROR message is printable ASCII and short', () => {
    const e = decodePacket(encodeError(2, `Access violation: caf\u00e9\n${'x'.repeat(1000)}`));
    assert.ok(e.opcode === OP_ERROR);
    assert.match(e.message, /^Access violation: caf\?\?x+$/);
    assert.ok(e.message.length <= 200);
  });

  it('a UTF-8 file name is kept', () => {
    const p = decodePacket(encodeRequest(OP_RRQ, 'files/t\u00e9l\u00e9phone.cfg', 'octet'));
    assert.ok(p.opcode === OP_RRQ);
    assert.equal(p.filename, 'files/t\u00e9l\u00e9phone.cfg');
  });
});

describe('malformed TFTP packets are refused with a reason', () => {
  const cases: [string, Buffer, TftpPacketError['reason']][] = [
    ['empty', raw([]), 'truncated'],
    ['one byte', raw([0]), 'truncated'],
    ['opcode 0', raw([0, 0, 1, 2]), 'unknown-opcode'],
    ['opcode 9', raw([0, 9], 'x\0octet\0'), 'unknown-opcode'],
    ['opcode 0xffff', raw([0xff, 0xff, 0, 0]), 'unknown-opcode'],
    ['RRQ without any NUL', raw([0, 1], 'file'), 'missing-nul'],
    ['RRQ without mode NUL', raw([0, 1], 'file\0octet'), 'missing-nul'],
    ['RRQ with only an opcode', raw([0, 1]), 'missing-nul'],
    ['RRQ with an empty file name', raw([0, 1], '\0octet\0'), 'empty-filename'],
    ['RRQ with a file name that is not UTF-8', raw([0, 1, 0xff, 0xfe, 0], 'octet\0'), 'bad-filename'],
    ['RRQ in mail mode', raw([0, 1], 'file\0mail\0'), 'bad-mode'],
    ['RRQ with an empty mode', raw([0, 1], 'file\0\0'), 'bad-mode'],
    ['option without value', raw([0, 1], 'file\0octet\0blksize\0'), 'missing-nul'],
    ['option value without NUL', raw([0, 1], 'file\0octet\0blksize\x001468'), 'missing-nul'],
    ['empty option name', raw([0, 1], 'file\0octet\0\0x\0'), 'bad-option'],
    ['duplicate option', raw([0, 1], 'file\0octet\0blksize\x00512\0BLKSIZE\x001468\0'), 'duplicate-option'],
    ['unprintable option', raw([0, 1], 'file\0octet\0blk\x01size\x00512\0'), 'bad-option'],
    ['oversized option value', raw([0, 1], `file\0octet\0blksize\0${'9'.repeat(100)}\0`), 'bad-option'],
    ['too many options', raw([0, 1], 'file\0octet\0', Array.from({ length: MAX_OPTIONS + 1 }, (_, i) => `o${i}\0v\0`).join('')), 'too-many-options'],
    ['600 options', raw([0, 2], 'file\0octet\0', Array.from({ length: 600 }, (_, i) => `o${i}\0v\0`).join('')), 'too-long'],
    ['a 60 kB option string', raw([0, 1], 'file\0octet\0', `x\0${'y'.repeat(60_000)}\0`), 'too-long'],
    ['a request just over the limit', raw([0, 1], 'f'.repeat(MAX_REQUEST_BYTES), '\0octet\0'), 'too-long'],
    ['DATA without a block number', raw([0, 3, 0]), 'truncated'],
    ['ACK of 3 bytes', raw([0, 4, 0]), 'truncated'],
    ['ACK of 5 bytes', raw([0, 4, 0, 1, 0]), 'truncated'],
    ['ERROR without a message', raw([0, 5, 0, 1]), 'truncated'],
    ['ERROR message without NUL', raw([0, 5, 0, 1], 'oops'), 'missing-nul'],
    ['OACK option without value', raw([0, 6], 'blksize\0'), 'missing-nul'],
  ];
  for (const [name, packet, reason] of cases) {
    it(name, () => {
      assert.throws(
        () => decodePacket(packet),
        (err: unknown) => err instanceof TftpPacketError && err.reason === reason && err.message.length > 0,
      );
    });
  }

  it('random bytes never throw anything but TftpPacketError', () => {
    // Deterministic: the same 5000 packets on every run.
    let seed = 0x2545f491;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) & 0xff;
    let refused = 0;
    for (let i = 0; i < 5000; i++) {
      const len = rand() % 64;
      const bytes = Buffer.from(Array.from({ length: len }, rand));
      if (i % 2 === 0 && len >= 2) bytes[0] = 0; // half of them with a plausible opcode
      try {
        decodePacket(bytes);
      } catch (err) {
        assert.ok(err instanceof TftpPacketError, String(err));
        refused += 1;
      }
    }
    assert.ok(refused > 2500, `most random packets are refused (${refused})`);
  });
});
