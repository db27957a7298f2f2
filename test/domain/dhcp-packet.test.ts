import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  addressBytes,
  BOOTREQUEST,
  buildDhcpMessage,
  DHCP_MAGIC_COOKIE,
  DHCP_MESSAGE_TYPES,
  hardwareAddress,
  messageType,
  MIN_MESSAGE_BYTES,
  optionText,
  parameterRequestList,
  parseDhcpMessage,
  serverIdentifier,
  vendorClass,
  type DhcpMessage,
} from '../../src/domain/dhcp-packet.js';
import { DomainError } from '../../src/domain/domain-error.js';

function inform(options: [number, Buffer][] = []): DhcpMessage {
  return {
    op: BOOTREQUEST,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: 0xdeadbeef,
    secs: 3,
    flags: 0x8000,
    ciaddr: '192.0.2.10',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '198.51.100.1',
    chaddr: Buffer.from(`0004f2a1b2c3${'00'.repeat(10)}`, 'hex'),
    sname: 'server',
    file: 'boot.bin',
    options: new Map([[53, Buffer.from([DHCP_MESSAGE_TYPES.inform])], [55, Buffer.from([1, 66, 160])], ...options]),
  };
}

/** A packet written byte by byte as the RFC lays it out, to check the codec against the layout, not against itself. */
function handMade(options: number[]): Buffer {
  const b = Buffer.alloc(240);
  b[0] = 1;
  b[1] = 1;
  b[2] = 6;
  b.writeUInt32BE(0x01020304, 4);
  b.set([10, 1, 2, 3], 12);
  b.set([0x00, 0x04, 0xf2, 0, 0, 1], 28);
  b.writeUInt32BE(DHCP_MAGIC_COOKIE, 236);
  return Buffer.concat([b, Buffer.from(options)]);
}

describe('DHCP message codec', () => {
  test('a message survives build and parse unchanged', () => {
    const msg = inform([[60, Buffer.from([0, 0, 0x36, 0x3d, 1, 7, ...Buffer.from('Polycom')])]]);
    const wire = buildDhcpMessage(msg);
    assert.equal(wire.length, MIN_MESSAGE_BYTES, 'padded to the BOOTP minimum');
    const back = parseDhcpMessage(wire);
    assert.deepEqual(back, msg);
    assert.equal(messageType(back!), DHCP_MESSAGE_TYPES.inform);
    assert.deepEqual(parameterRequestList(back!), [1, 66, 160]);
    assert.deepEqual(vendorClass(back!), msg.options.get(60));
    assert.equal(hardwareAddress(back!), '00:04:f2:a1:b2:c3');
  });

  test('the header fields sit where RFC 2131 puts them', () => {
    const wire = buildDhcpMessage(inform([[54, addressBytes('192.0.2.1')]]));
    assert.equal(wire[0], 1);
    assert.equal(wire.readUInt32BE(4), 0xdeadbeef);
    assert.equal(wire.readUInt16BE(10), 0x8000);
    assert.deepEqual([...wire.subarray(12, 16)], [192, 0, 2, 10]);
    assert.deepEqual([...wire.subarray(24, 28)], [198, 51, 100, 1]);
    assert.deepEqual([...wire.subarray(28, 31)], [0x00, 0x04, 0xf2]);
    assert.equal(wire.subarray(44, 50).toString(), 'server');
    assert.equal(wire.subarray(108, 116).toString(), 'boot.bin');
    assert.equal(wire.readUInt32BE(236), DHCP_MAGIC_COOKIE);
    assert.deepEqual([...wire.subarray(240, 243)], [53, 1, 8]);
    assert.equal(serverIdentifier(parseDhcpMessage(wire)!), '192.0.2.1');
  });

  test('a hand-made packet parses: pad options skipped, end stops, trailing padding ignored', () => {
    const msg = parseDhcpMessage(handMade([0, 0, 53, 1, 8, 66, 3, 0x61, 0x62, 0x63, 255, 66, 1, 0x78, 0, 0]));
    assert.ok(msg);
    assert.equal(msg.xid, 0x01020304);
    assert.equal(msg.ciaddr, '10.1.2.3');
    assert.equal(messageType(msg), 8);
    assert.equal(optionText(msg, 66), 'abc', 'nothing after the end option is read');
    assert.equal(msg.sname, '');
  });

  test('options may fill the packet without an end option', () => {
    const msg = parseDhcpMessage(handMade([53, 1, 8]));
    assert.equal(messageType(msg!), 8);
  });

  test('split options are joined (RFC 3396) and long data is split when built', () => {
    const msg = parseDhcpMessage(handMade([66, 2, 0x61, 0x62, 53, 1, 8, 66, 1, 0x63, 255]));
    assert.equal(optionText(msg!, 66), 'abc');
    const long = Buffer.alloc(300, 0x41);
    const wire = buildDhcpMessage(inform([[43, long]]));
    const back = parseDhcpMessage(wire)!;
    assert.deepEqual(back.options.get(43), long);
    const at = wire.indexOf(Buffer.from([43, 255]));
    assert.ok(at > 240 && wire[at + 2 + 255] === 43 && wire[at + 2 + 255 + 1] === 45, 'two instances of 255 and 45 bytes');
  });

  test('text options lose trailing NULs (dnsmasq adds one to option 66)', () => {
    const msg = parseDhcpMessage(handMade([66, 4, 0x61, 0x62, 0, 0, 255]))!;
    assert.equal(optionText(msg, 66), 'ab');
    assert.equal(optionText(msg, 160), null);
  });

  test('option overload (52) reads options from file and sname', () => {
    const b = handMade([53, 1, 8, 52, 1, 3, 255]);
    b.set([66, 2, 0x66, 0x66, 255], 108);
    b.set([160, 2, 0x73, 0x73, 255], 44);
    const msg = parseDhcpMessage(b)!;
    assert.equal(optionText(msg, 66), 'ff');
    assert.equal(optionText(msg, 160), 'ss');
    assert.equal(msg.file, '');
    assert.equal(msg.sname, '');
  });

  test('garbage gives null and never throws', () => {
    const cases: Buffer[] = [
      Buffer.alloc(0),
      Buffer.from('GET / HTTP/1.1\r\n\r\n'),
      Buffer.alloc(239),
      Buffer.alloc(300),
      handMade([53, 1]),
      handMade([53, 5, 8]),
      handMade([66]),
      (() => {
        const b = handMade([53, 1, 8, 255]);
        b[2] = 17;
        return b;
      })(),
      (() => {
        const b = handMade([53, 1, 8, 52, 1, 1, 255]);
        b.set([66, 200], 108);
        return b;
      })(),
    ];
    for (const c of cases) assert.equal(parseDhcpMessage(c), null, c.subarray(0, 16).toString('hex'));
    assert.equal(parseDhcpMessage('not a buffer' as unknown as Buffer), null);
    for (let i = 0; i < 2000; i++) {
      const b = randomBytes(240 + (i % 300));
      if (i % 2) b.writeUInt32BE(DHCP_MAGIC_COOKIE, 236);
      const msg = parseDhcpMessage(b);
      if (msg) assert.ok(msg.options instanceof Map);
    }
  });

  test('helpers return null or empty for missing or malformed options', () => {
    const msg = parseDhcpMessage(handMade([53, 2, 8, 8, 54, 3, 1, 2, 3, 255]))!;
    assert.equal(messageType(msg), null);
    assert.equal(serverIdentifier(msg), null);
    assert.deepEqual(parameterRequestList(msg), []);
    assert.equal(vendorClass(msg), null);
  });

  test('building refuses values that do not fit the wire format', () => {
    const bad = (patch: Partial<DhcpMessage>, message: RegExp) =>
      assert.throws(() => buildDhcpMessage({ ...inform(), ...patch }), (e: unknown) => e instanceof DomainError && message.test(e.message));
    bad({ ciaddr: '192.0.2' }, /ciaddr must be an IPv4 address/);
    bad({ xid: 2 ** 32 }, /xid must be a whole number/);
    bad({ hlen: 17 }, /hlen/);
    bad({ chaddr: Buffer.alloc(17) }, /chaddr holds at most 16/);
    bad({ sname: 'x'.repeat(65) }, /sname field holds at most 64/);
    bad({ options: new Map([[255, Buffer.alloc(1)]]) }, /option code 255/);
    bad({ options: new Map([[0, Buffer.alloc(1)]]) }, /option code 0/);
  });
});
