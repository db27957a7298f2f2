import { DomainError } from './domain-error.js';

// The small part of SIP (RFC 3261) polyprov speaks: building an out-of-dialog NOTIFY, reading the
// responses to it, and cutting a TCP/TLS byte stream into messages. No Node SIP stack fits (see
// the stack notes), and a NOTIFY client needs nothing more. Pure: no I/O.

/** The magic cookie that marks an RFC 3261 branch (§8.1.1.7). */
export const BRANCH_COOKIE = 'z9hG4bK';

export interface NotifyInput {
  /** Where the NOTIFY goes, e.g. `sip:1001@192.0.2.10:5060`; also the To URI. */
  requestUri: string;
  transport: 'udp' | 'tcp' | 'tls';
  /** Address and port put in Via, From and Contact (IPv6 addresses are bracketed here). */
  localHost: string;
  localPort: number;
  /** Unique per transaction; the `z9hG4bK` cookie is added unless already there. */
  branch: string;
  fromTag: string;
  callId: string;
  cseq: number;
  event: string;
  authorization?: { header: 'Authorization' | 'Proxy-Authorization'; value: string };
  userAgent?: string;
}

// A header value may hold any visible character and inner spaces, never a line break (that would
// let a value inject headers) nor other controls.
const SAFE_VALUE = /^[^\x00-\x1f\x7f]+$/;
// Tokens (RFC 3261 §25.1) plus the characters Call-IDs use (`word`).
const SIP_WORD = /^[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}@]+$/;
const EVENT = /^[A-Za-z0-9\-.!%*_+`'~]+(\s*;\s*[A-Za-z0-9\-.!%*_+`'~]+(=[A-Za-z0-9\-.!%*_+`'~"]+)?)*$/;
const HOST = /^(\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*|[A-Za-z0-9\-.]+)$/;

/**
 * The Request-URI as given, or a DomainError saying what is wrong: it must be a `sip:` or `sips:`
 * URI without spaces or line breaks, at most 1024 characters.
 */
export function validateRequestUri(uri: string): string {
  if (typeof uri !== 'string' || !/^sips?:/i.test(uri)) {
    throw new DomainError(`invalid SIP Request-URI ${JSON.stringify(String(uri).slice(0, 100))}: it must start with "sip:" or "sips:", e.g. sip:1001@192.0.2.10:5060`);
  }
  if (uri.length > 1024) throw new DomainError(`invalid SIP Request-URI: ${uri.length} characters, at most 1024 are allowed`);
  if (/[\s\x00-\x1f\x7f<>"]/.test(uri)) {
    throw new DomainError(`invalid SIP Request-URI ${JSON.stringify(uri.slice(0, 100))}: spaces, line breaks, control characters, <, > and " are not allowed`);
  }
  if (uri.length <= uri.indexOf(':') + 1) throw new DomainError(`invalid SIP Request-URI ${JSON.stringify(uri)}: nothing after the scheme`);
  return uri;
}

function requireWord(what: string, value: string): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256 || !SIP_WORD.test(value)) {
    throw new DomainError(`invalid SIP ${what} ${JSON.stringify(String(value).slice(0, 100))}: 1 to 256 characters without spaces or line breaks`);
  }
}

function requireValue(what: string, value: string): void {
  if (value.length === 0 || value.length > 8192 || !SAFE_VALUE.test(value)) {
    throw new DomainError(`invalid SIP ${what}: it must be 1 to 8192 characters without line breaks or control characters`);
  }
}

/** `host:port` as Via and Contact want it, with an IPv6 address in brackets. */
export function hostPort(host: string, port: number): string {
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${bracketed}:${port}`;
}

/**
 * A complete out-of-dialog NOTIFY request with an empty body, CRLF line endings and the blank line
 * that ends the header section. Throws a DomainError naming the field when an input could not be
 * sent as is (bad Request-URI, a line break in a value, a port out of range...).
 */
export function buildNotify(input: NotifyInput): string {
  const requestUri = validateRequestUri(input.requestUri);
  if (!['udp', 'tcp', 'tls'].includes(input.transport)) {
    throw new DomainError(`invalid SIP transport ${JSON.stringify(input.transport)}: expected udp, tcp or tls`);
  }
  if (!HOST.test(input.localHost)) throw new DomainError(`invalid local SIP host ${JSON.stringify(input.localHost)}: expected an IP address or a host name`);
  if (!Number.isInteger(input.localPort) || input.localPort < 1 || input.localPort > 65535) {
    throw new DomainError(`invalid local SIP port ${input.localPort}: expected 1 to 65535`);
  }
  requireWord('branch', input.branch);
  requireWord('From tag', input.fromTag);
  requireWord('Call-ID', input.callId);
  if (!Number.isInteger(input.cseq) || input.cseq < 1 || input.cseq > 2 ** 31 - 1) {
    throw new DomainError(`invalid SIP CSeq ${input.cseq}: expected a whole number from 1 to 2147483647`);
  }
  if (!EVENT.test(input.event) || input.event.length > 256) {
    throw new DomainError(`invalid SIP Event ${JSON.stringify(input.event.slice(0, 100))}: expected a package name with optional parameters, e.g. check-sync`);
  }
  if (input.authorization) requireValue(input.authorization.header, input.authorization.value);
  const userAgent = input.userAgent ?? 'polyprov';
  requireValue('User-Agent', userAgent);

  const branch = input.branch.startsWith(BRANCH_COOKIE) ? input.branch : `${BRANCH_COOKIE}${input.branch}`;
  const local = hostPort(input.localHost, input.localPort);
  const fromHost = local.slice(0, local.lastIndexOf(':'));
  const lines = [
    `NOTIFY ${requestUri} SIP/2.0`,
    `Via: SIP/2.0/${input.transport.toUpperCase()} ${local};branch=${branch};rport`,
    'Max-Forwards: 70',
    `From: <sip:polyprov@${fromHost}>;tag=${input.fromTag}`,
    `To: <${requestUri}>`,
    `Call-ID: ${input.callId}`,
    `CSeq: ${input.cseq} NOTIFY`,
    `Contact: <sip:polyprov@${local};transport=${input.transport}>`,
    `Event: ${input.event}`,
    // RFC 6665 §8.2.1 requires it on every NOTIFY; an unsolicited one has no subscription to keep.
    'Subscription-State: terminated',
    `User-Agent: ${userAgent}`,
  ];
  if (input.authorization) lines.push(`${input.authorization.header}: ${input.authorization.value}`);
  lines.push('Content-Length: 0');
  return `${lines.join('\r\n')}\r\n\r\n`;
}

export interface SipResponse {
  status: number;
  reason: string;
  /** Lower-case full header names (compact forms expanded), values in order of appearance. */
  headers: Map<string, string[]>;
  /** The branch parameter of the topmost Via; null when it has none (an RFC 2543 peer). */
  viaBranch: string | null;
  callId: string;
  cseq: { number: number; method: string };
  body: string;
}

/** The largest message accepted: a UDP datagram cannot be larger. */
export const MAX_SIP_MESSAGE_BYTES = 65_535;
const MAX_HEADERS = 256;

const COMPACT: Record<string, string> = {
  v: 'via',
  i: 'call-id',
  f: 'from',
  t: 'to',
  l: 'content-length',
  m: 'contact',
  c: 'content-type',
  e: 'content-encoding',
  k: 'supported',
  s: 'subject',
  o: 'event',
  u: 'allow-events',
  r: 'refer-to',
};

/** Where the header section ends: the index of the blank line's terminator and its length. */
function headerEnd(buf: Buffer, from = 0): { at: number; length: number } | null {
  const crlf = buf.indexOf('\r\n\r\n', from);
  const lf = buf.indexOf('\n\n', from);
  if (crlf >= 0 && (lf < 0 || crlf <= lf)) return { at: crlf, length: 4 };
  if (lf >= 0) return { at: lf, length: 2 };
  return null;
}

function parseHeaderLines(lines: string[]): Map<string, string[]> | null {
  const headers = new Map<string, string[]>();
  let lastName: string | null = null;
  let count = 0;
  for (const line of lines) {
    if (line === '') continue;
    if (line[0] === ' ' || line[0] === '\t') {
      // A folded line continues the previous header's last value (RFC 3261 §7.3.1).
      if (!lastName) return null;
      const values = headers.get(lastName)!;
      values[values.length - 1] = `${values[values.length - 1]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return null;
    const raw = line.slice(0, colon).trim().toLowerCase();
    if (!/^[a-z0-9\-.!%*_+`'~]+$/.test(raw)) return null;
    if (++count > MAX_HEADERS) return null;
    const name = COMPACT[raw] ?? raw;
    const value = line.slice(colon + 1).trim();
    const values = headers.get(name);
    if (values) values.push(value);
    else headers.set(name, [value]);
    lastName = name;
  }
  return headers;
}

/** The first element of a comma-separated header value, outside quotes. */
function firstElement(value: string): string {
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) return value.slice(0, i);
  }
  return value;
}

/**
 * A SIP response, or null for anything else (a request, a truncated or malformed message, a
 * response without Via, Call-ID or CSeq, which no transaction could claim). Never throws; inputs
 * beyond 64 KiB or 256 headers are refused.
 */
export function parseSipResponse(bytes: Buffer | string): SipResponse | null {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  if (buf.length < 12 || buf.length > MAX_SIP_MESSAGE_BYTES) return null;
  if (buf.subarray(0, 8).toString('latin1') !== 'SIP/2.0 ') return null;
  const end = headerEnd(buf);
  if (!end) return null;
  const lines = buf.subarray(0, end.at).toString('utf8').split(/\r?\n/);
  const status = /^SIP\/2\.0 ([1-6]\d\d)(?: (.*))?$/.exec(lines[0]!);
  if (!status) return null;
  const headers = parseHeaderLines(lines.slice(1));
  if (!headers) return null;

  const via = headers.get('via')?.[0];
  const callId = headers.get('call-id')?.[0];
  const cseq = /^(\d{1,10})\s+([A-Za-z]+)$/.exec(headers.get('cseq')?.[0] ?? '');
  if (!via || !callId || !cseq) return null;
  const topVia = firstElement(via);
  const branch = /;\s*branch\s*=\s*([^;,\s]+)/i.exec(topVia);

  const rest = buf.subarray(end.at + end.length);
  const lengthHeader = headers.get('content-length')?.[0];
  let body = rest;
  if (lengthHeader !== undefined) {
    if (!/^\d{1,5}$/.test(lengthHeader)) return null;
    const length = Number(lengthHeader);
    if (length > rest.length) return null;
    body = rest.subarray(0, length);
  }
  return {
    status: Number(status[1]),
    reason: status[2] ?? '',
    headers,
    viaBranch: branch ? branch[1]! : null,
    callId,
    cseq: { number: Number(cseq[1]), method: cseq[2]!.toUpperCase() },
    body: body.toString('utf8'),
  };
}

/** Headers larger than this end a stream connection: no legitimate response to a NOTIFY needs them. */
export const MAX_SIP_HEADER_BYTES = 16 * 1024;
/** Bodies larger than this end a stream connection too. */
export const MAX_SIP_BODY_BYTES = 64 * 1024;

/** The peer sent something that cannot be a SIP message; the connection must be closed. */
export class SipFramingError extends Error {
  override name = 'SipFramingError';
}

/**
 * Cuts the first whole message off a TCP/TLS byte stream (RFC 3261 §18.3): the header section up
 * to the blank line, then Content-Length bytes of body (0 when the header is missing). Leading
 * CRLFs (RFC 5626 keep-alives) are skipped. Returns null while the message is incomplete, and
 * throws a SipFramingError when the header section exceeds 16 KiB, the Content-Length is not a
 * number or the body exceeds 64 KiB: the caller closes the connection.
 */
export function sipFraming(buffer: Buffer): { message: Buffer; rest: Buffer } | null {
  let start = 0;
  while (start < buffer.length && (buffer[start] === 0x0d || buffer[start] === 0x0a)) start++;
  const end = headerEnd(buffer, start);
  // `start` counts too: an endless run of keep-alive CRLFs must not grow the caller's buffer for ever.
  const headerBytes = (end ? end.at : buffer.length) - start;
  if (headerBytes > MAX_SIP_HEADER_BYTES || start > MAX_SIP_HEADER_BYTES) {
    throw new SipFramingError(`the peer sent more than ${MAX_SIP_HEADER_BYTES} bytes of SIP headers: it is not speaking SIP, or not to us`);
  }
  if (!end) return null;
  const head = buffer.subarray(start, end.at).toString('latin1');
  const match = /\n(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*)/i.exec(head);
  let length = 0;
  if (match) {
    const value = match[1]!.trim();
    if (!/^\d{1,10}$/.test(value)) throw new SipFramingError(`the peer sent an invalid Content-Length ${JSON.stringify(value.slice(0, 40))}`);
    length = Number(value);
    if (length > MAX_SIP_BODY_BYTES) throw new SipFramingError(`the peer announced a ${length}-byte SIP body; at most ${MAX_SIP_BODY_BYTES} are accepted`);
  }
  const stop = end.at + end.length + length;
  if (buffer.length < stop) return null;
  return { message: buffer.subarray(start, stop), rest: buffer.subarray(stop) };
}

/**
 * Expands `{name}` placeholders of a Request-URI template, e.g. `sip:{user}@{host}:{port}`, and
 * checks the result is a usable Request-URI. Values go in as given: an IPv6 host needs its
 * brackets in the value or the template. A placeholder without a value, or a stray brace, is a
 * DomainError that names it and lists the names that have values.
 */
export function requestUriFor(template: string, values: Record<string, string>): string {
  const unknown = new Set<string>();
  let out = '';
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    const strayClose = template.indexOf('}', i);
    if (strayClose >= 0 && (open < 0 || strayClose < open)) {
      throw new DomainError(`SIP Request-URI template ${JSON.stringify(template)} has a "}" without its "{" at position ${strayClose + 1}`);
    }
    if (open < 0) {
      out += template.slice(i);
      break;
    }
    const close = template.indexOf('}', open);
    const nextOpen = template.indexOf('{', open + 1);
    if (close < 0 || (nextOpen >= 0 && nextOpen < close)) {
      throw new DomainError(`SIP Request-URI template ${JSON.stringify(template)} has a "{" without its "}" at position ${open + 1}`);
    }
    const name = template.slice(open + 1, close);
    out += template.slice(i, open);
    if (Object.prototype.hasOwnProperty.call(values, name)) out += values[name];
    else unknown.add(name);
    i = close + 1;
  }
  if (unknown.size) {
    const known = Object.keys(values).map((k) => `{${k}}`).join(', ') || 'none';
    throw new DomainError(`unknown placeholder${unknown.size > 1 ? 's' : ''} ${[...unknown].map((n) => `{${n}}`).join(', ')} in SIP Request-URI template ${JSON.stringify(template)}; known: ${known}`);
  }
  return validateRequestUri(out);
}
