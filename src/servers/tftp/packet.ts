// TFTP packets (RFC 1350, options from RFC 2347): pure encoding and strict decoding. The transfer
// loops read ACK and DATA headers inline for speed; everything else goes through here.

export const OP_RRQ = 1;
export const OP_WRQ = 2;
export const OP_DATA = 3;
export const OP_ACK = 4;
export const OP_ERROR = 5;
export const OP_OACK = 6;

/** RFC 1350 error codes, plus 8 from RFC 2347. */
export const ERR_NOT_DEFINED = 0;
export const ERR_NOT_FOUND = 1;
export const ERR_ACCESS = 2;
export const ERR_DISK_FULL = 3;
export const ERR_ILLEGAL = 4;
export const ERR_UNKNOWN_TID = 5;
export const ERR_EXISTS = 6;
export const ERR_NO_USER = 7;
export const ERR_OPTION = 8;

/**
 * A request longer than this is refused: RFC 2347 caps requests at 512 bytes; phones stay far
 * below, and some clients send long paths, so a little room, but not a 60 kB option string.
 */
export const MAX_REQUEST_BYTES = 2048;
export const MAX_OPTIONS = 16;
const MAX_OPTION_NAME = 32;
const MAX_OPTION_VALUE = 64;
/** Keeps ERROR packets small (no amplification) and within any client's buffer. */
const MAX_ERROR_MESSAGE = 200;

export type TransferMode = 'octet' | 'netascii';

export interface RequestPacket {
  opcode: typeof OP_RRQ | typeof OP_WRQ;
  filename: string;
  mode: TransferMode;
  /** Option names in lower case, in the client's order. */
  options: Map<string, string>;
}

export type Packet =
  | RequestPacket
  | { opcode: typeof OP_DATA; block: number; data: Buffer }
  | { opcode: typeof OP_ACK; block: number }
  | { opcode: typeof OP_ERROR; code: number; message: string }
  | { opcode: typeof OP_OACK; options: Map<string, string> };

/** Why a packet could not be decoded; the edge answers it with ERROR 4 (illegal operation). */
export class TftpPacketError extends Error {
  override name = 'TftpPacketError';
  constructor(
    readonly reason:
      | 'truncated'
      | 'unknown-opcode'
      | 'missing-nul'
      | 'empty-filename'
      | 'bad-filename'
      | 'bad-mode'
      | 'too-long'
      | 'bad-option'
      | 'duplicate-option'
      | 'too-many-options',
    message: string,
  ) {
    super(message);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodePacket(buf: Buffer): Packet {
  if (buf.length < 2) throw new TftpPacketError('truncated', 'packet shorter than an opcode');
  const opcode = buf.readUInt16BE(0);
  switch (opcode) {
    case OP_RRQ:
    case OP_WRQ:
      return decodeRequest(buf);
    case OP_DATA:
      if (buf.length < 4) throw new TftpPacketError('truncated', 'DATA without a block number');
      return { opcode, block: buf.readUInt16BE(2), data: buf.subarray(4) };
    case OP_ACK:
      if (buf.length !== 4) throw new TftpPacketError('truncated', 'ACK must be 4 bytes');
      return { opcode, block: buf.readUInt16BE(2) };
    case OP_ERROR: {
      if (buf.length < 5) throw new TftpPacketError('truncated', 'ERROR without a message');
      const end = buf.indexOf(0, 4);
      if (end === -1) throw new TftpPacketError('missing-nul', 'ERROR message not terminated');
      return { opcode, code: buf.readUInt16BE(2), message: buf.toString('latin1', 4, end) };
    }
    case OP_OACK:
      return { opcode, options: decodeOptions(buf, 2) };
    default:
      throw new TftpPacketError('unknown-opcode', `unknown opcode ${opcode}`);
  }
}

function decodeRequest(buf: Buffer): RequestPacket {
  if (buf.length > MAX_REQUEST_BYTES) throw new TftpPacketError('too-long', `request longer than ${MAX_REQUEST_BYTES} bytes`);
  const opcode = buf.readUInt16BE(0) as typeof OP_RRQ | typeof OP_WRQ;
  const nameEnd = buf.indexOf(0, 2);
  if (nameEnd === -1) throw new TftpPacketError('missing-nul', 'file name not terminated');
  if (nameEnd === 2) throw new TftpPacketError('empty-filename', 'empty file name');
  let filename: string;
  try {
    filename = utf8.decode(buf.subarray(2, nameEnd));
  } catch {
    throw new TftpPacketError('bad-filename', 'file name is not UTF-8');
  }
  const modeEnd = buf.indexOf(0, nameEnd + 1);
  if (modeEnd === -1) throw new TftpPacketError('missing-nul', 'mode not terminated');
  const mode = buf.toString('latin1', nameEnd + 1, modeEnd).toLowerCase();
  if (mode !== 'octet' && mode !== 'netascii') throw new TftpPacketError('bad-mode', `mode "${mode.slice(0, 20)}" not supported (octet, netascii)`);
  return { opcode, filename, mode, options: decodeOptions(buf, modeEnd + 1) };
}

/** `name NUL value NUL` pairs up to the end of the packet. */
function decodeOptions(buf: Buffer, from: number): Map<string, string> {
  const options = new Map<string, string>();
  let at = from;
  while (at < buf.length) {
    const nameEnd = buf.indexOf(0, at);
    if (nameEnd === -1) throw new TftpPacketError('missing-nul', 'option name not terminated');
    const valueEnd = buf.indexOf(0, nameEnd + 1);
    if (valueEnd === -1) throw new TftpPacketError('missing-nul', 'option without a terminated value');
    if (nameEnd === at) throw new TftpPacketError('bad-option', 'empty option name');
    if (nameEnd - at > MAX_OPTION_NAME || valueEnd - nameEnd - 1 > MAX_OPTION_VALUE) {
      throw new TftpPacketError('bad-option', 'option name or value too long');
    }
    const name = buf.toString('latin1', at, nameEnd).toLowerCase();
    const value = buf.toString('latin1', nameEnd + 1, valueEnd);
    if (!printable(name) || !printable(value)) throw new TftpPacketError('bad-option', 'option with unprintable characters');
    if (options.has(name)) throw new TftpPacketError('duplicate-option', `option "${name}" given twice`);
    if (options.size >= MAX_OPTIONS) throw new TftpPacketError('too-many-options', `more than ${MAX_OPTIONS} options`);
    options.set(name, value);
    at = valueEnd + 1;
  }
  return options;
}

function printable(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

export function encodeRequest(opcode: typeof OP_RRQ | typeof OP_WRQ, filename: string, mode: string, options?: Iterable<[string, string]>): Buffer {
  const parts: Buffer[] = [u16(opcode), Buffer.from(filename + '\0' + mode + '\0', 'utf8')];
  for (const [k, v] of options ?? []) parts.push(Buffer.from(`${k}\0${v}\0`, 'latin1'));
  return Buffer.concat(parts);
}

export function encodeData(block: number, data: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + data.length);
  out.writeUInt16BE(OP_DATA, 0);
  out.writeUInt16BE(block & 0xffff, 2);
  data.copy(out, 4);
  return out;
}

export function encodeAck(block: number): Buffer {
  const out = Buffer.allocUnsafe(4);
  out.writeUInt16BE(OP_ACK, 0);
  out.writeUInt16BE(block & 0xffff, 2);
  return out;
}

export function encodeError(code: number, message: string): Buffer {
  // Printable ASCII only: the text is whatever the core said, and a client prints it as is.
  const text = message.replace(/[^\x20-\x7e]/g, '?').slice(0, MAX_ERROR_MESSAGE);
  const out = Buffer.alloc(5 + text.length);
  out.writeUInt16BE(OP_ERROR, 0);
  out.writeUInt16BE(code, 2);
  out.write(text, 4, 'latin1');
  return out;
}

export function encodeOack(options: Iterable<[string, string]>): Buffer {
  const parts: Buffer[] = [u16(OP_OACK)];
  for (const [k, v] of options) parts.push(Buffer.from(`${k}\0${v}\0`, 'latin1'));
  return Buffer.concat(parts);
}

function u16(n: number): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(n, 0);
  return b;
}

/** What a peer's ERROR packet says, for the log line that ends a transfer (trusting nothing in it). */
export function errorPacketDetail(msg: Buffer): { code: number; message: string } {
  return { code: msg.length >= 4 ? msg.readUInt16BE(2) : -1, message: msg.toString('latin1', 4, Math.max(4, msg.indexOf(0, 4))).slice(0, 200) };
}
