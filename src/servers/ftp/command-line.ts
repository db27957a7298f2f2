// The FTP control channel's text layer, without I/O: splitting the byte stream into bounded lines,
// reading a command out of a line, and formatting replies (RFC 959 §4.2, multi-line included).

/** Longest control line accepted, terminator included; RFC 959 has no limit, so one is chosen. */
export const MAX_LINE_BYTES = 4096;

export type LineEvent = { kind: 'line'; text: string } | { kind: 'too-long' };

/**
 * Splits control bytes into lines, one at a time, so that a reader can stop right after a line
 * (AUTH TLS) and hand the bytes that follow it to someone else untouched.
 */
export class LineSplitter {
  private buf: Buffer = Buffer.alloc(0);
  /** Inside a line that was already reported as too long: its bytes are dropped up to its end. */
  private discarding = false;

  constructor(private readonly maxLineBytes = MAX_LINE_BYTES) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
  }

  next(): LineEvent | undefined {
    for (;;) {
      const nl = this.buf.indexOf(0x0a);
      if (nl === -1) {
        if (this.buf.length < this.maxLineBytes) return undefined;
        // Reported once, as soon as the limit is passed, rather than after buffering the rest.
        this.buf = Buffer.alloc(0);
        if (this.discarding) return undefined;
        this.discarding = true;
        return { kind: 'too-long' };
      }
      const raw = this.buf.subarray(0, nl);
      this.buf = this.buf.subarray(nl + 1);
      if (this.discarding) {
        this.discarding = false;
        continue;
      }
      if (raw.length + 1 > this.maxLineBytes) return { kind: 'too-long' };
      return { kind: 'line', text: decodeLine(raw) };
    }
  }

  /** The bytes not yet returned as lines (after the line that made the reader stop). */
  takeRest(): Buffer {
    const rest = this.discarding ? Buffer.alloc(0) : this.buf;
    this.buf = Buffer.alloc(0);
    this.discarding = false;
    return rest;
  }
}

const IAC = 0xff;

/**
 * A line's text: Telnet commands removed (clients send ABOR behind IAC IP IAC DM), a trailing CR
 * dropped, UTF-8 decoded (invalid bytes become U+FFFD and fail later as unknown names).
 */
export function decodeLine(raw: Buffer): string {
  let bytes = raw;
  if (bytes.includes(IAC)) {
    const out: number[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (b !== IAC) out.push(b);
      else if (bytes[i + 1] === IAC) out.push(IAC), i++;
      // WILL, WONT, DO, DONT carry an option byte; the other commands are two bytes long.
      else if ((bytes[i + 1] ?? 0) >= 0xfb) i += 2;
      else i++;
    }
    bytes = Buffer.from(out);
  }
  if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
  return bytes.toString('utf8');
}

export interface Command {
  /** Upper case, e.g. 'RETR'. */
  verb: string;
  /** Everything after the first space, kept as sent: file names may hold spaces. */
  arg: string;
}

/** A command out of a line, or null when the line is not shaped like one. */
export function parseCommand(line: string): Command | null {
  const m = /^\s*([A-Za-z]{3,4})(?: (.*))?$/s.exec(line);
  if (!m) return null;
  return { verb: m[1]!.toUpperCase(), arg: m[2] ?? '' };
}

const MAX_REPLY_TEXT = 400;

/** One reply line's text: no line breaks or control bytes (they would split or forge replies), bounded. */
export function replyText(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return clean.length > MAX_REPLY_TEXT ? clean.slice(0, MAX_REPLY_TEXT - 3) + '...' : clean;
}

/**
 * A reply as sent: `code text` on one line, or for several lines `code-first`, the middle lines
 * each after one space (FEAT, MLST), and `code last`.
 */
export function formatReply(code: number, text: string | readonly string[]): string {
  const lines = typeof text === 'string' ? [text] : text;
  if (lines.length <= 1) return `${code} ${replyText(lines[0] ?? '')}\r\n`;
  const out = [`${code}-${replyText(lines[0]!)}`];
  for (const l of lines.slice(1, -1)) out.push(` ${replyText(l)}`);
  out.push(`${code} ${replyText(lines[lines.length - 1]!)}`);
  return out.join('\r\n') + '\r\n';
}

/** A path in a 257 reply: quoted, with inner quotes doubled (RFC 959 appendix II). */
export function quotePath(path: string): string {
  return `"${path.replace(/"/g, '""')}"`;
}
