/**
 * What to do with a log upload (`<mac>-boot.log`, `<mac>-app.log`), given how many bytes are stored.
 *
 * Phones HEAD the stored log to learn its length, then PUT only the new tail with a Content-Range
 * header; when HEAD gives no length they PUT without one (fact sheet §1.3 D, §6: the mechanism is
 * [S], the exact header syntax [U]). So the rules favour never losing or duplicating bytes:
 *
 * - With a range, the range decides, whatever `appendMode` says:
 *   - END - START + 1 must equal the body length, else refuse ('length-mismatch');
 *   - START > stored length leaves a hole: refuse ('gap'); the phone HEADs again and re-sends from
 *     the stored length;
 *   - bytes before the stored length are a retried chunk (the phone's upload offset fell behind,
 *     e.g. a lost response): skip them and append the rest. The caller must check that the
 *     skipped bytes equal what is stored (`overlapOf` says which bytes; `overlapMismatch` is the
 *     refusal when they differ), because a different text at the same offset means the stored log
 *     is not the one the phone is continuing;
 *   - a chunk that lies entirely within what is stored changes nothing (after the same check).
 * - Without a range: appendMode (the phone's `log.render.file.upload.append`, polyprov's default)
 *   appends the whole body; otherwise the body replaces the stored log.
 * - An empty body changes nothing, with or without a range (an empty replace would erase a log
 *   for no gain). A malformed range is refused before that, so header bugs are reported.
 *
 * A TOTAL in the range, when given, only has to be larger than END: a phone may announce a length
 * it has not sent yet, and the stored length after the append is what the next HEAD reports.
 */

export interface ContentRange {
  start: number;
  end: number;
  /** Complete length the client announces; null for `/*`. */
  total: number | null;
}

export interface LogAppendInput {
  storedLength: number;
  /** A parsed header, null when there was none, or 'invalid' straight from parseContentRange. */
  range: ContentRange | null | 'invalid';
  bodyLength: number;
  appendMode: boolean;
}

export interface LogAppendRefusal {
  action: 'refuse';
  /** planLogAppend never answers 'overlap-mismatch'; overlapMismatch builds that refusal. */
  reason: 'gap' | 'length-mismatch' | 'invalid-range' | 'overlap-mismatch';
  message: string;
}

export type LogAppendPlan =
  | { action: 'append'; skip: number }
  | { action: 'replace' }
  | { action: 'nothing' }
  | LogAppendRefusal;

/** Stored bytes [storedFrom, storedFrom + length) must equal the body's first `length` bytes. */
export interface LogOverlap {
  storedFrom: number;
  length: number;
}

// Up to 16 digits before converting: enough for 2^53, and a 10 kB header of digits is not parsed.
const CONTENT_RANGE = /^bytes[ \t]+(\d{1,16})-(\d{1,16})\/(\d{1,16}|\*)$/i;

function isValidRange(range: ContentRange): boolean {
  const { start, end, total } = range;
  return (
    Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && end >= start &&
    (total === null || (Number.isSafeInteger(total) && total > end))
  );
}

/**
 * `bytes START-END/TOTAL` or `bytes START-END/*` (RFC 9110 §14.4; the unit is case-insensitive).
 * null when there is no header; 'invalid' for anything else, including an empty header, END before
 * START, TOTAL not beyond END and numbers past 2^53.
 */
export function parseContentRange(header: string | undefined): ContentRange | null | 'invalid' {
  if (header === undefined) return null;
  const match = typeof header === 'string' ? CONTENT_RANGE.exec(header.trim()) : null;
  if (!match) return 'invalid';
  const [, start = '', end = '', total = ''] = match;
  const range: ContentRange = {
    start: Number(start),
    end: Number(end),
    total: total === '*' ? null : Number(total),
  };
  return isValidRange(range) ? range : 'invalid';
}

function isLength(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

export function planLogAppend(input: LogAppendInput): LogAppendPlan {
  const { storedLength, range, bodyLength, appendMode } = input;
  if (!isLength(storedLength) || !isLength(bodyLength)) {
    throw new RangeError(`planLogAppend: lengths must be non-negative integers (stored ${storedLength}, body ${bodyLength})`);
  }
  if (range === 'invalid' || (range !== null && !isValidRange(range))) {
    return {
      action: 'refuse',
      reason: 'invalid-range',
      message: 'Content-Range must read "bytes START-END/TOTAL" or "bytes START-END/*" with START <= END < TOTAL',
    };
  }
  if (bodyLength === 0) return { action: 'nothing' };
  if (range === null) return appendMode ? { action: 'append', skip: 0 } : { action: 'replace' };

  const rangeLength = range.end - range.start + 1;
  if (rangeLength !== bodyLength) {
    return {
      action: 'refuse',
      reason: 'length-mismatch',
      message: `Content-Range bytes ${range.start}-${range.end} announce ${rangeLength} bytes but the body has ${bodyLength}`,
    };
  }
  if (range.start > storedLength) {
    return {
      action: 'refuse',
      reason: 'gap',
      message: `the stored log has ${storedLength} bytes but this chunk starts at byte ${range.start}: resend from byte ${storedLength}`,
    };
  }
  if (range.end < storedLength) return { action: 'nothing' };
  return { action: 'append', skip: storedLength - range.start };
}

/**
 * The stored bytes a ranged upload claims to repeat, or null when it repeats none (or is refused).
 * The body's first `length` bytes must equal them before the plan is carried out.
 */
export function overlapOf(input: LogAppendInput): LogOverlap | null {
  const plan = planLogAppend(input);
  const { range } = input;
  if (range === null || range === 'invalid') return null;
  if (plan.action === 'append' && plan.skip > 0) return { storedFrom: range.start, length: plan.skip };
  if (plan.action === 'nothing' && input.bodyLength > 0) return { storedFrom: range.start, length: input.bodyLength };
  return null;
}

/** The refusal to give when the repeated bytes differ from the stored ones. */
export function overlapMismatch(overlap: LogOverlap): LogAppendRefusal {
  const last = overlap.storedFrom + overlap.length - 1;
  return {
    action: 'refuse',
    reason: 'overlap-mismatch',
    message: `bytes ${overlap.storedFrom}-${last} of this chunk differ from the stored log: it is not the log the phone is continuing`,
  };
}
