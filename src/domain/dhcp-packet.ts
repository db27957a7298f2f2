import { isIPv4 } from 'node:net';
import { DomainError } from './domain-error.js';

// BOOTP/DHCP messages (RFC 2131 §2, options RFC 2132), hand-written: no maintained npm DHCP
// library handles DHCPINFORM. Parsing never throws: whatever arrives on port 67 is untrusted.

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
export const DHCP_MAGIC_COOKIE = 0x63825363;
/** Fixed header (236 bytes) plus the magic cookie. */
export const DHCP_HEADER_BYTES = 240;
/** BOOTP's minimum message (a 64-byte vendor area): some relays and clients drop shorter ones. */
export const MIN_MESSAGE_BYTES = 300;

export const DHCP_MESSAGE_TYPES = {
  discover: 1,
  offer: 2,
  request: 3,
  decline: 4,
  ack: 5,
  nak: 6,
  release: 7,
  inform: 8,
} as const;

export const DHCP_OPTIONS = {
  pad: 0,
  subnetMask: 1,
  tftpServerName: 66,
  overload: 52,
  messageType: 53,
  serverIdentifier: 54,
  parameterRequestList: 55,
  vendorClassIdentifier: 60,
  clientIdentifier: 61,
  end: 255,
} as const;

export interface DhcpMessage {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** The client hardware address field, all 16 bytes; the first `hlen` of them are the address. */
  chaddr: Buffer;
  /** Server host name field, NUL padding removed (latin1). */
  sname: string;
  /** Boot file name field, NUL padding removed (latin1). */
  file: string;
  /**
   * Options by code in the order first seen, pad and end left out. Several instances of one code
   * are concatenated (RFC 3396); options overloaded into `file`/`sname` (option 52) are included.
   */
  options: Map<number, Buffer>;
}

function readAddress(buf: Buffer, at: number): string {
  return `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;
}

function readField(buf: Buffer, at: number, length: number): string {
  const field = buf.subarray(at, at + length);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? length : nul).toString('latin1');
}

/** Reads options from `area` into `into`; false when an option runs past the end of the area. */
function readOptions(area: Buffer, into: Map<number, Buffer>): boolean {
  let at = 0;
  while (at < area.length) {
    const code = area[at]!;
    if (code === DHCP_OPTIONS.pad) {
      at++;
      continue;
    }
    if (code === DHCP_OPTIONS.end) return true;
    if (at + 1 >= area.length) return false;
    const length = area[at + 1]!;
    const end = at + 2 + length;
    if (end > area.length) return false;
    const data = area.subarray(at + 2, end);
    const seen = into.get(code);
    into.set(code, seen ? Buffer.concat([seen, data]) : Buffer.from(data));
    at = end;
  }
  // Options that fill the area to its last byte without an end option are accepted: the length
  // checks above already keep every read inside the buffer.
  return true;
}

/** Parses a BOOTP/DHCP message; null for anything too short, without the DHCP magic cookie, or with options that run out of the packet. */
export function parseDhcpMessage(buf: Buffer): DhcpMessage | null {
  if (!Buffer.isBuffer(buf) || buf.length < DHCP_HEADER_BYTES) return null;
  if (buf.readUInt32BE(236) !== DHCP_MAGIC_COOKIE) return null;
  const hlen = buf[2]!;
  if (hlen > 16) return null;
  const options = new Map<number, Buffer>();
  if (!readOptions(buf.subarray(DHCP_HEADER_BYTES), options)) return null;
  const overload = options.get(DHCP_OPTIONS.overload);
  if (overload && overload.length === 1) {
    // RFC 2131 §4.1: `file` is read before `sname`.
    if (overload[0]! & 1 && !readOptions(buf.subarray(108, 236), options)) return null;
    if (overload[0]! & 2 && !readOptions(buf.subarray(44, 108), options)) return null;
  }
  return {
    op: buf[0]!,
    htype: buf[1]!,
    hlen,
    hops: buf[3]!,
    xid: buf.readUInt32BE(4),
    secs: buf.readUInt16BE(8),
    flags: buf.readUInt16BE(10),
    ciaddr: readAddress(buf, 12),
    yiaddr: readAddress(buf, 16),
    siaddr: readAddress(buf, 20),
    giaddr: readAddress(buf, 24),
    chaddr: Buffer.from(buf.subarray(28, 44)),
    sname: overload && overload[0]! & 2 ? '' : readField(buf, 44, 64),
    file: overload && overload[0]! & 1 ? '' : readField(buf, 108, 128),
    options,
  };
}

function writeAddress(out: Buffer, at: number, name: string, address: string): void {
  if (!isIPv4(address)) throw new DomainError(`${name} must be an IPv4 address such as 192.0.2.1, not ${JSON.stringify(address)}`);
  address.split('.').forEach((part, i) => (out[at + i] = Number(part)));
}

function writeField(out: Buffer, at: number, length: number, name: string, text: string): void {
  const bytes = Buffer.from(text, 'latin1');
  if (bytes.length > length) throw new DomainError(`the ${name} field holds at most ${length} bytes, got ${bytes.length}`);
  bytes.copy(out, at);
}

function checkByte(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new DomainError(`${name} must be a whole number from 0 to ${max}, got ${value}`);
}

/**
 * Encodes a message: fixed header, magic cookie, options in map order, end, then padding up to
 * BOOTP's 300 bytes. Option data longer than 255 bytes is split into several instances (RFC 3396).
 */
export function buildDhcpMessage(msg: DhcpMessage): Buffer {
  checkByte('op', msg.op, 255);
  checkByte('htype', msg.htype, 255);
  checkByte('hlen', msg.hlen, 16);
  checkByte('hops', msg.hops, 255);
  checkByte('xid', msg.xid, 0xffffffff);
  checkByte('secs', msg.secs, 0xffff);
  checkByte('flags', msg.flags, 0xffff);
  if (msg.chaddr.length > 16) throw new DomainError(`chaddr holds at most 16 bytes, got ${msg.chaddr.length}`);
  const header = Buffer.alloc(DHCP_HEADER_BYTES);
  header[0] = msg.op;
  header[1] = msg.htype;
  header[2] = msg.hlen;
  header[3] = msg.hops;
  header.writeUInt32BE(msg.xid, 4);
  header.writeUInt16BE(msg.secs, 8);
  header.writeUInt16BE(msg.flags, 10);
  writeAddress(header, 12, 'ciaddr', msg.ciaddr);
  writeAddress(header, 16, 'yiaddr', msg.yiaddr);
  writeAddress(header, 20, 'siaddr', msg.siaddr);
  writeAddress(header, 24, 'giaddr', msg.giaddr);
  msg.chaddr.copy(header, 28);
  writeField(header, 44, 64, 'sname', msg.sname);
  writeField(header, 108, 128, 'file', msg.file);
  header.writeUInt32BE(DHCP_MAGIC_COOKIE, 236);
  const parts: Buffer[] = [header];
  for (const [code, data] of msg.options) {
    if (!Number.isInteger(code) || code <= DHCP_OPTIONS.pad || code >= DHCP_OPTIONS.end) throw new DomainError(`option code ${code} cannot carry data: use 1 to 254`);
    // A zero-length option is still one instance; longer data is cut into 255-byte instances.
    for (let at = 0; at === 0 || at < data.length; at += 255) {
      const chunk = data.subarray(at, at + 255);
      parts.push(Buffer.from([code, chunk.length]), chunk);
    }
  }
  parts.push(Buffer.from([DHCP_OPTIONS.end]));
  const body = Buffer.concat(parts);
  return body.length >= MIN_MESSAGE_BYTES ? body : Buffer.concat([body, Buffer.alloc(MIN_MESSAGE_BYTES - body.length)]);
}

/** Option 53, or null when absent or not one byte long. */
export function messageType(msg: DhcpMessage): number | null {
  const data = msg.options.get(DHCP_OPTIONS.messageType);
  return data && data.length === 1 ? data[0]! : null;
}

/** Option 55 as a list of option codes (empty when absent). */
export function parameterRequestList(msg: DhcpMessage): number[] {
  return [...(msg.options.get(DHCP_OPTIONS.parameterRequestList) ?? [])];
}

/** Option 60 as sent: Poly phones put binary RFC 3925 data there by default, so this is bytes, not text. */
export function vendorClass(msg: DhcpMessage): Buffer | null {
  return msg.options.get(DHCP_OPTIONS.vendorClassIdentifier) ?? null;
}

/** Option 54, or null when absent or not four bytes long. */
export function serverIdentifier(msg: DhcpMessage): string | null {
  const data = msg.options.get(DHCP_OPTIONS.serverIdentifier);
  return data && data.length === 4 ? readAddress(data, 0) : null;
}

/**
 * A text option (66, 160, ...) as a string, trailing NULs removed: RFC 2132 §2 lets senders add
 * one and tells receivers to drop it (dnsmasq does add one to option 66).
 */
export function optionText(msg: DhcpMessage, code: number): string | null {
  const data = msg.options.get(code);
  if (!data) return null;
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end--;
  return data.subarray(0, end).toString('latin1');
}

/** The hardware address as `00:04:f2:00:00:01` (the first `hlen` bytes of chaddr). */
export function hardwareAddress(msg: DhcpMessage): string {
  return [...msg.chaddr.subarray(0, msg.hlen)].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Encodes an IPv4 address as the four bytes options 1, 3, 54 and the like carry. */
export function addressBytes(address: string): Buffer {
  const out = Buffer.alloc(4);
  writeAddress(out, 0, 'the address', address);
  return out;
}
