/**
 * Polycom phone log lines (`<mac>-boot.log`, `<mac>-app.log`, or the same lines through syslog):
 * `time|module|level|missed|text` (fact sheet §6; the admin guides' "Event Logging" section).
 *
 * Time stamps, per the guides' three formats:
 * - `HHMMSS.mmm` since boot: the guides read `011511.006` as 1 h 15 min 11.006 s. The fact sheet
 *   calls it plain seconds, but all its samples fit the guides' reading, which is used here; more
 *   than six digits are taken as more hours.
 * - `MMDDhhmmss` wall clock (seen in real logs; an IP 601 syslog copy confirms the layout).
 * - `YYMMDDhhmm` wall clock to the minute: the same ten digits, so one line cannot tell it from
 *   the previous form. Ten digits are read as MMDDhhmmss; when that is no valid time (the guides'
 *   `0210281716` has hour 28) the stamp is 'unknown' rather than guessed.
 */

export type PhoneLogTime =
  | { kind: 'since-boot'; seconds: number }
  | { kind: 'wall-clock'; month: number; day: number; hour: number; minute: number; second: number }
  | { kind: 'unknown'; raw: string };

export interface PhoneLogEntry {
  kind: 'entry';
  time: PhoneLogTime;
  /** Component tag without its padding: `so`, `cfg`, `copy`, `curl`, `dectU` … */
  module: string;
  /** 0 debug … 4 minor error, 5 major error, 6 fatal; `*` for lines always printed (banners). */
  level: number | '*';
  /** Events dropped since the previous line. */
  missed: number;
  /** Free text; may itself contain `|`. */
  text: string;
  /** The whole line, without its line break. */
  raw: string;
  /** The syslog header in front of the entry, when the line came through syslog. */
  syslogPrefix?: string;
}

/** A line that is not in the log format (a truncated line, a shell message, garbage). */
export interface PhoneLogUnparsed {
  kind: 'unparsed';
  raw: string;
}

export type PhoneLogLine = PhoneLogEntry | PhoneLogUnparsed;

export type LogHighlight = 'tls' | 'certificate' | 'dns' | 'file-transfer' | 'error';

// time | module padded with spaces | level | missed | text. The time field only has to start with
// a digit, so a stamp in an undocumented layout still yields an entry (time 'unknown').
const ENTRY_SOURCE = String.raw`(\d[^|\s]{0,31})\|[ \t]*([A-Za-z][A-Za-z0-9_]{0,15})[ \t]*\|([0-9*])\|(\d{2})\|(.*)$`;
const ENTRY = new RegExp(`^${ENTRY_SOURCE}`);
// An entry after whitespace, for lines with a syslog header in front.
const ENTRY_AFTER_SPACE = new RegExp(`\\s${ENTRY_SOURCE}`);
// RFC 3164 (`<134>Jan  1 00:00:02 host …` or without <PRI>, as syslog daemons write files) and
// RFC 5424 / ISO (`<134>1 2024-05-17T18:40:23Z host …`) headers.
const SYSLOG_HEADER =
  /^(?:<\d{1,3}>\d{0,2} ?)?(?:[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}|\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}\S*)\s/;

const SINCE_BOOT = /^(\d{2,})(\d{2})(\d{2})\.(\d{3})$/;
const WALL_CLOCK = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/;
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function parseTime(raw: string): PhoneLogTime {
  const boot = SINCE_BOOT.exec(raw);
  if (boot) {
    const [hours, minutes, seconds, millis] = boot.slice(1).map(Number) as [number, number, number, number];
    if (minutes < 60 && seconds < 60) {
      return { kind: 'since-boot', seconds: hours * 3600 + minutes * 60 + seconds + millis / 1000 };
    }
  }
  const clock = WALL_CLOCK.exec(raw);
  if (clock) {
    const [month, day, hour, minute, second] = clock.slice(1).map(Number) as [number, number, number, number, number];
    const maxDay = DAYS_IN_MONTH[month - 1] ?? 0;
    if (day >= 1 && day <= maxDay && hour < 24 && minute < 60 && second < 60) {
      return { kind: 'wall-clock', month, day, hour, minute, second };
    }
  }
  return { kind: 'unknown', raw };
}

function entryOf(match: RegExpExecArray, raw: string, syslogPrefix?: string): PhoneLogEntry {
  const [, time = '', module = '', level = '', missed = '', text = ''] = match;
  const entry: PhoneLogEntry = {
    kind: 'entry',
    time: parseTime(time),
    module,
    level: level === '*' ? '*' : Number(level),
    missed: Number(missed),
    text,
    raw,
  };
  if (syslogPrefix !== undefined) entry.syslogPrefix = syslogPrefix;
  return entry;
}

/** One line (its line break already removed); null for a blank line. */
export function parsePhoneLogLine(line: string): PhoneLogLine | null {
  const raw = line.endsWith('\r') ? line.slice(0, -1) : line;
  if (raw.trim() === '') return null;
  const direct = ENTRY.exec(raw);
  if (direct) return entryOf(direct, raw);
  if (SYSLOG_HEADER.test(raw)) {
    const inner = ENTRY_AFTER_SPACE.exec(raw);
    if (inner) return entryOf(inner, raw, raw.slice(0, inner.index).trimEnd());
  }
  return { kind: 'unparsed', raw };
}

/** Every non-blank line of a log, in order; LF, CRLF and a last line without a break all work. */
export function parsePhoneLog(text: string): PhoneLogLine[] {
  const lines: PhoneLogLine[] = [];
  for (const line of text.split('\n')) {
    const parsed = parsePhoneLogLine(line);
    if (parsed) lines.push(parsed);
  }
  return lines;
}

// Words that make a line about TLS, DNS or a transfer a failure rather than a progress note.
const FAILURE =
  /fail|error|unable|could ?n[o']?t|cannot|can't|invalid|expired|not yet valid|refused|reject|denied|timed? ?out|untrusted|not trusted|mismatch|\balert\b|problem|\bbad\b/i;
const TLS = /\b(?:tls|ssl)|handshake/i;
const CERTIFICATE = /certificat|\bcert\b|\bx\.?509|issuer|self[- ]signed|unknown ca\b/i;
const DNS =
  /\bdns\b|\b(?:un)?resol(?:ve|ving|ution)\b|unresolved|name lookup|getaddrinfo|nxdomain|no such host|unknown host|host not found/i;
const TRANSFER_FAILED = /file transfer failed/i;
const TRANSFER_WORDS = /\b(?:upload|download|transfer)/i;
// HTTP methods only in capitals: "failed to get registration" is no transfer.
const TRANSFER_METHODS = /\b(?:GET|PUT|HEAD)\b/;
// `copy` does provisioning transfers and `curl` is the HTTP client (fact sheet §6, inferred from
// their messages), so any failure they log is a failed transfer.
const TRANSFER_MODULES = new Set(['copy', 'curl']);

export interface ClassifyOptions {
  /**
   * Lowest level reported as 'error'. The guides name 4 "minor error, graceful recovery", 5
   * "major error" and 6 "fatal", and 4 is also the default recording level of every module
   * (`log.level.change.*`), so an ordinary log is full of level-4 lines; 5 keeps 'error' rare
   * enough to mean something. TLS, certificate, DNS and transfer failures are found by their
   * wording at any level (and by the level alone from this one up).
   */
  errorLevel?: number;
}

/** What an administrator should look at in this line; empty for ordinary lines. */
export function classifyLogLine(line: PhoneLogLine, options: ClassifyOptions = {}): LogHighlight[] {
  const errorLevel = options.errorLevel ?? 5;
  const text = line.kind === 'entry' ? line.text : line.raw;
  const module = line.kind === 'entry' ? line.module.toLowerCase() : '';
  const level = line.kind === 'entry' ? line.level : '*';
  const severe = typeof level === 'number' && level >= errorLevel;
  const failing = severe || FAILURE.test(text);

  const highlights: LogHighlight[] = [];
  if (failing && TLS.test(text)) highlights.push('tls');
  if (failing && CERTIFICATE.test(text)) highlights.push('certificate');
  if (failing && (DNS.test(text) || module === 'dns')) highlights.push('dns');
  if (
    TRANSFER_FAILED.test(text) ||
    (failing && (TRANSFER_MODULES.has(module) || TRANSFER_WORDS.test(text) || TRANSFER_METHODS.test(text)))
  ) {
    highlights.push('file-transfer');
  }
  if (severe) highlights.push('error');
  return highlights;
}
