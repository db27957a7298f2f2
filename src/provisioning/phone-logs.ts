import type { LogFileStore } from '../blobs/log-file-store.js';
import { overlapMismatch, overlapOf, parseContentRange, planLogAppend, type LogAppendRefusal } from '../domain/log-append.js';
import type { LogRetention, PhoneLog, Store } from '../store/store.js';

/*
 * Phone logs: appends, rotation and retention.
 *
 * The phone's view. A phone numbers its log's bytes from the start of ITS file, for ever: it
 * HEADs the log to learn the length, then PUTs `Content-Range: bytes START-END/*` with START at
 * that length (domain/log-append.ts has the rules). Rotation must not change that numbering, so
 * each log row keeps a `base`: where the current file starts in the phone's numbering, i.e. the
 * bytes rotated away before it. The phone's view of its log is `base + length` bytes long; HEAD
 * reports that, ranges are planned against it, and phone offset P is byte P - base of the current
 * file. A GET can only return what is still held: a plain GET of a rotated log answers 206 with
 * `Content-Range: bytes BASE-END/TOTAL` (the current file), and a range reaching below BASE is
 * not satisfiable (416); see servers/http/send-resource.ts.
 *
 * Files. For the log `<path>` of tenant T, in the LogFileStore:
 * - the current file `T/<path>`: the phone's bytes [base, base + length);
 * - segments `T/<path>.segments/s<START>.t<ROTATED>`: each an earlier current file, the phone's
 *   bytes [START, START + size), rotated at ROTATED (milliseconds since 1970). A folder per log, so
 *   finding a log's segments (done on every append, see below) reads a folder of a few names, or
 *   none, never the tenant's whole logs folder. A segment is named once, when it is rotated, and
 *   never renamed: people number them newest first (`log list` and `log show --segments` call the
 *   newest 1, as logrotate's `.1`), but the files do not shift, so a rotation is one rename
 *   whatever the number of segments, and a crash cannot leave two files holding one name.
 *   The segment list is derived from the names, not kept in the store: STARTs
 *   are unique and increasing (only a non-empty current file is rotated, and base grows by its
 *   length), and every committed segment starts below the committed base.
 *
 * Rotation, under the log's lock (Store.updatePhoneLog), when an append adds bytes, the current
 * file is not empty, and length + new bytes would exceed the tenant's `logMaxBytes`:
 *   1. the current file is cut to its committed length (dropping stray uncommitted bytes) and
 *      renamed to segment `s<base>.t<now>`;
 *   2. the new bytes are written at 0 of a new current file;
 *   3. base += length and length = new bytes commit together.
 * After the commit, the oldest segments beyond `logSegments` are deleted. A chunk larger than the
 * cap is not split: it starts a new current file on its own (so a current file exceeds the cap by
 * at most one chunk, and only when that chunk alone does). A whole-file PUT in replace mode (not
 * polyprov's default) rotates the current file the same way: history is kept and the numbering
 * goes on.
 *
 * Crash safety. A crash between step 1 and the commit leaves a segment that starts AT the
 * committed base (committed ones start below it). The next append finds it under the lock and
 * renames it back to the current file before anything else: the unacknowledged append is gone,
 * as any unacknowledged append is. Until then readers take the committed current bytes from that
 * segment (currentLogSource), not from the current file, which is missing or holds the
 * unacknowledged chunk. Deleting segments needs no lock:
 * only segments starting below a committed base are ever deleted, and deleting one twice is fine.
 *
 * A retried chunk that reaches back before a rotation is compared with the segment that holds
 * those bytes; bytes no longer held at all (dropped by retention) cannot be compared and are taken
 * as matching.
 *
 * Maximum age. pruneOldLogSegments drops segments rotated more than `logMaxAgeDays` ago (0: no
 * age limit), and any beyond `logSegments` (after the setting was lowered). `serve` runs it every
 * hour in one process, `polyprov log prune` on demand. The current file is never aged out: it is
 * what the phone's next append continues.
 */

export class LogRefused extends Error {
  override name = 'LogRefused';
  constructor(readonly reason: LogAppendRefusal['reason'], message: string) {
    super(message);
  }
}

export interface LogFilesDeps {
  store: Store;
  logFiles: LogFileStore;
}

export interface LogSegment {
  /** Name in the LogFileStore. */
  name: string;
  /** Where it starts in the phone's numbering. */
  start: number;
  size: number;
  rotatedAt: Date;
}

const SEGMENT = /^s(\d{1,16})\.t(\d{1,16})$/;

/** The LogFileStore name of a log's current file. */
export function logFileName(tenantId: number, path: string): string {
  return `${tenantId}/${path}`;
}

function segmentFolder(current: string): string {
  return `${current}.segments/`;
}

function segmentName(current: string, start: number, rotatedAt: number): string {
  return `${segmentFolder(current)}s${start}.t${rotatedAt}`;
}

/**
 * A log's segments, oldest first. With `base` (the committed one), only committed segments: those
 * starting below it.
 */
export async function listLogSegments(logFiles: LogFileStore, tenantId: number, path: string, base?: number): Promise<LogSegment[]> {
  const folder = segmentFolder(logFileName(tenantId, path));
  const out: LogSegment[] = [];
  for (const f of await logFiles.list(folder)) {
    const m = SEGMENT.exec(f.name.slice(folder.length));
    if (!m) continue;
    const start = Number(m[1]);
    if (base !== undefined && start >= base) continue;
    out.push({ name: f.name, start, size: f.size, rotatedAt: new Date(Number(m[2])) });
  }
  return out.sort((a, b) => a.start - b.start);
}

/**
 * Where a log's committed current bytes are: its current file or, after a crash cut a rotation
 * before its commit, the segment that starts at the committed base (the next append renames it
 * back; see the top of this file).
 */
export async function currentLogSource(logFiles: LogFileStore, log: Pick<PhoneLog, 'tenantId' | 'path' | 'base'>): Promise<string> {
  const pending = (await listLogSegments(logFiles, log.tenantId, log.path)).find((s) => s.start === log.base);
  return pending?.name ?? logFileName(log.tenantId, log.path);
}

/**
 * The bytes [from, to) of the phone's view of a log that are still held (`segments`, the committed
 * ones, then the current bytes), as pieces with their phone offsets; bytes no longer held are left
 * out.
 */
export async function readHeldBytes(
  logFiles: LogFileStore,
  log: Pick<PhoneLog, 'tenantId' | 'path' | 'base' | 'length'>,
  segments: readonly LogSegment[],
  from: number,
  to: number,
): Promise<{ offset: number; bytes: Buffer }[]> {
  const sources = [
    ...segments.map((s) => ({ name: s.name, start: s.start, end: Math.min(s.start + s.size, log.base) })),
    { name: log.length > 0 && to > log.base ? await currentLogSource(logFiles, log) : '', start: log.base, end: log.base + log.length },
  ];
  const pieces: { offset: number; bytes: Buffer }[] = [];
  for (const s of sources) {
    const a = Math.max(from, s.start);
    const b = Math.min(to, s.end);
    if (a >= b) continue;
    const bytes = await logFiles.readBytes(s.name, a - s.start, b - a);
    if (bytes.length) pieces.push({ offset: a, bytes });
  }
  return pieces;
}

/**
 * One log upload, under the log's lock: the rules are in domain/log-append.ts, rotation and its
 * semantics above. Bytes are written and fsynced before the new length commits, so an
 * acknowledged append survives a crash and an unacknowledged one leaves nothing that counts.
 * `before` and `after` are lengths of the phone's view.
 */
export async function appendToLog(
  deps: LogFilesDeps,
  target: { tenantId: number; mac: string; path: string },
  data: Buffer,
  contentRange: string | undefined,
  retention: Pick<LogRetention, 'logMaxBytes' | 'logSegments'> = { logMaxBytes: Number.MAX_SAFE_INTEGER, logSegments: 0 },
): Promise<{ before: number; after: number; rotated: boolean }> {
  const name = logFileName(target.tenantId, target.path);
  const range = parseContentRange(contentRange);
  let before = 0;
  let committedBase = 0;
  let rotated = false;
  const length = await deps.store.updatePhoneLog(target.tenantId, target.path, target.mac, async (length, base) => {
    rotated = false;
    committedBase = base;
    const all = await listLogSegments(deps.logFiles, target.tenantId, target.path);
    const pending = all.find((s) => s.start === base);
    if (pending) await deps.logFiles.rename(pending.name, name); // a rotation that never committed
    const segments = all.filter((s) => s.start < base);
    const log = { tenantId: target.tenantId, path: target.path, base, length };

    const storedLength = base + length;
    before = storedLength;
    // polyprov keeps history: a whole-file PUT appends (the phone's append mode, our default).
    const input = { storedLength, range, bodyLength: data.length, appendMode: true };
    const plan = planLogAppend(input);
    if (plan.action === 'refuse') throw new LogRefused(plan.reason, plan.message);
    const overlap = overlapOf(input);
    if (overlap) {
      const held = await readHeldBytes(deps.logFiles, log, segments, overlap.storedFrom, overlap.storedFrom + overlap.length);
      for (const piece of held) {
        const at = piece.offset - overlap.storedFrom;
        if (!piece.bytes.equals(data.subarray(at, at + piece.bytes.length))) {
          const refusal = overlapMismatch(overlap);
          throw new LogRefused(refusal.reason, refusal.message);
        }
      }
    }
    if (plan.action === 'nothing') return length;
    const fresh = plan.action === 'replace' ? data : data.subarray(plan.skip);
    if (length > 0 && (plan.action === 'replace' || length + fresh.length > retention.logMaxBytes)) {
      await deps.logFiles.truncate(name, length);
      await deps.logFiles.rename(name, segmentName(name, base, Date.now()));
      await deps.logFiles.writeAt(name, 0, fresh);
      rotated = true;
      committedBase = base + length;
      return { length: fresh.length, base: committedBase };
    }
    await deps.logFiles.writeAt(name, length, fresh);
    return length + fresh.length;
  });
  if (rotated) {
    // The append is committed and acknowledged whatever happens here; the hourly prune retries.
    await dropSegments(deps.logFiles, target.tenantId, target.path, committedBase, { keep: retention.logSegments }).catch(() => undefined);
  }
  return { before, after: committedBase + length, rotated };
}

/**
 * Deletes a log's committed segments (those starting below `base`) beyond the newest `keep`, and
 * those rotated before `rotatedBefore`. Safe without the log's lock (see the top of this file).
 */
async function dropSegments(
  logFiles: LogFileStore,
  tenantId: number,
  path: string,
  base: number,
  rule: { keep: number; rotatedBefore?: number },
): Promise<LogSegment[]> {
  const segments = await listLogSegments(logFiles, tenantId, path, base);
  const dropped: LogSegment[] = [];
  segments.forEach((s, i) => {
    const newestFirst = segments.length - 1 - i;
    if (newestFirst >= rule.keep || (rule.rotatedBefore !== undefined && s.rotatedAt.getTime() < rule.rotatedBefore)) dropped.push(s);
  });
  for (const s of dropped) await logFiles.delete(s.name);
  return dropped;
}

export interface PrunedSegment {
  path: string;
  start: number;
  size: number;
  rotatedAt: string;
}

/**
 * Retention by age for one tenant: drops the segments of its logs rotated more than
 * `logMaxAgeDays` before `now` (none when that is 0), and any beyond `logSegments`. Idempotent,
 * lock-free and cheap (one listing per log), so any process may run it at any time.
 */
export async function pruneOldLogSegments(
  ctx: LogFilesDeps,
  tenant: Pick<LogRetention, 'logSegments' | 'logMaxAgeDays'> & { id: number },
  now: Date = new Date(),
): Promise<PrunedSegment[]> {
  const rotatedBefore = tenant.logMaxAgeDays > 0 ? now.getTime() - tenant.logMaxAgeDays * 86_400_000 : undefined;
  const out: PrunedSegment[] = [];
  for (const log of await ctx.store.listPhoneLogs(tenant.id)) {
    const dropped = await dropSegments(ctx.logFiles, tenant.id, log.path, log.base, {
      keep: tenant.logSegments,
      ...(rotatedBefore !== undefined ? { rotatedBefore } : {}),
    });
    for (const s of dropped) out.push({ path: log.path, start: s.start, size: s.size, rotatedAt: s.rotatedAt.toISOString() });
  }
  return out;
}
