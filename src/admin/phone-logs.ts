// Reading the logs phones upload: list, show, tail, search. Lines are parsed by domain/phone-log.ts
// (time, module, level, missed, text) and flagged by classifyLogLine (TLS, certificate, DNS,
// failed transfers, severe levels). Offsets are the phone's numbering (provisioning/phone-logs.ts),
// so a line keeps its offset across rotations.

import { classifyLogLine, parsePhoneLogLine, type LogHighlight, type PhoneLogTime } from '../domain/phone-log.js';
import { requireMac } from '../domain/mac.js';
import { PHONE_DIRECTORIES } from '../domain/phone-path.js';
import { listLogSegments, readHeldBytes, type LogSegment } from '../provisioning/phone-logs.js';
import type { PhoneLog, Tenant } from '../store/store.js';
import type { AdminContext } from './admin-context.js';
import { AdminError } from './admin-error.js';

export type LogKind = 'app' | 'boot';
export const LOG_KINDS: readonly LogKind[] = ['app', 'boot'];

export interface LogSegmentView {
  /** 1 is the newest (rotated last). */
  number: number;
  start: number;
  size: number;
  rotatedAt: string;
}

export interface LogSummary {
  mac: string;
  kind: LogKind;
  path: string;
  /** The phone's view: every byte it ever uploaded, held or rotated away. */
  size: number;
  /** Bytes of the current file. */
  current: number;
  /** Where the current file starts in the phone's numbering. */
  base: number;
  /** The first byte still held (the oldest segment's start, or the base). */
  heldFrom: number;
  /** Oldest first. */
  segments: LogSegmentView[];
  updatedAt: string;
}

export interface LogLineView {
  mac: string;
  kind: LogKind;
  /** Where the line starts, in the phone's numbering. */
  offset: number;
  /** null for the current file, else the segment's number (1 = newest). */
  segment: number | null;
  /** Display form: `+1:15:11.006` since boot, `05-17 18:40:23` wall clock, or the raw stamp. */
  time: string | null;
  module: string | null;
  level: number | '*' | null;
  missed: number | null;
  text: string;
  raw: string;
  /** What classifyLogLine flags; empty for ordinary lines. */
  flags: LogHighlight[];
}

export function requireLogKind(v: string | undefined, fallback: LogKind): LogKind {
  if (v === undefined) return fallback;
  const k = v.toLowerCase();
  if (k === 'app' || k === 'boot') return k;
  throw new AdminError(`invalid log kind "${v}": expected app or boot`);
}

function logPath(mac: string, kind: LogKind): string {
  return `${PHONE_DIRECTORIES.log}/${mac}-${kind}.log`;
}

function kindOf(path: string): LogKind {
  return /-boot\.log$/i.test(path) ? 'boot' : 'app';
}

async function summarize(ctx: AdminContext, log: PhoneLog): Promise<{ summary: LogSummary; segments: LogSegment[] }> {
  const segments = await listLogSegments(ctx.logFiles, log.tenantId, log.path, log.base);
  const n = segments.length;
  return {
    segments,
    summary: {
      mac: log.mac,
      kind: kindOf(log.path),
      path: log.path,
      size: log.base + log.length,
      current: log.length,
      base: log.base,
      heldFrom: segments[0]?.start ?? log.base,
      segments: segments.map((s, i) => ({ number: n - i, start: s.start, size: s.size, rotatedAt: s.rotatedAt.toISOString() })),
      updatedAt: log.updatedAt,
    },
  };
}

/** The tenant's logs (or one device's), with their sizes and segments. */
export async function listDeviceLogs(ctx: AdminContext, tenant: Tenant, mac?: string): Promise<LogSummary[]> {
  const logs = await ctx.store.listPhoneLogs(tenant.id, mac === undefined ? undefined : requireMac(mac));
  const out: LogSummary[] = [];
  for (const log of logs) out.push((await summarize(ctx, log)).summary);
  return out;
}

/** One opened log: its summary and a reader of the phone's view. */
export interface OpenedLog {
  summary: LogSummary;
  /** Lines starting in [from, to) of the phone's view, from what is held; `end` is where the last complete line ends. */
  lines(from: number, to?: number, options?: { completeOnly?: boolean }): Promise<{ lines: LogLineView[]; end: number }>;
}

export async function openDeviceLog(ctx: AdminContext, tenant: Tenant, macInput: string, kind: LogKind): Promise<OpenedLog> {
  const mac = requireMac(macInput);
  const log = await ctx.store.getPhoneLog(tenant.id, logPath(mac, kind));
  if (!log) throw new AdminError(`device ${mac} has uploaded no ${kind} log to tenant "${tenant.slug}" (see: polyprov log list)`);
  return openedLog(ctx, log);
}

async function openedLog(ctx: AdminContext, log: PhoneLog): Promise<OpenedLog> {
  const { summary, segments } = await summarize(ctx, log);
  const segmentAt = (offset: number): number | null => {
    for (const s of summary.segments) if (offset >= s.start && offset < s.start + s.size) return s.number;
    return null;
  };
  return {
    summary,
    async lines(from, to = summary.size, options = {}) {
      const start = Math.max(from, summary.heldFrom);
      const pieces = await readHeldBytes(ctx.logFiles, log, segments, start, to);
      const lines: LogLineView[] = [];
      let end = start;
      // Pieces are contiguous unless a segment vanished between listing and reading (a prune):
      // a gap ends a line.
      const runs: { offset: number; bytes: Buffer }[] = [];
      for (const p of pieces) {
        const last = runs[runs.length - 1];
        if (last && last.offset + last.bytes.length === p.offset) last.bytes = Buffer.concat([last.bytes, p.bytes]);
        else runs.push({ ...p });
      }
      for (const run of runs) {
        let at = 0;
        while (at < run.bytes.length) {
          const nl = run.bytes.indexOf(0x0a, at);
          const complete = nl !== -1;
          const stop = complete ? nl : run.bytes.length;
          if (!complete && options.completeOnly) break;
          const view = lineView(summary, run.offset + at, run.bytes.subarray(at, stop).toString('utf8'), segmentAt);
          if (view) lines.push(view);
          at = complete ? nl + 1 : stop;
          end = run.offset + at;
        }
      }
      return { lines, end };
    },
  };
}

function lineView(log: LogSummary, offset: number, text: string, segmentAt: (offset: number) => number | null): LogLineView | null {
  const parsed = parsePhoneLogLine(text);
  if (!parsed) return null;
  const base = { mac: log.mac, kind: log.kind, offset, segment: segmentAt(offset), flags: classifyLogLine(parsed) };
  if (parsed.kind === 'unparsed') return { ...base, time: null, module: null, level: null, missed: null, text: parsed.raw, raw: parsed.raw };
  return { ...base, time: formatTime(parsed.time), module: parsed.module, level: parsed.level, missed: parsed.missed, text: parsed.text, raw: parsed.raw };
}

function formatTime(t: PhoneLogTime): string {
  const two = (n: number) => String(n).padStart(2, '0');
  if (t.kind === 'wall-clock') return `${two(t.month)}-${two(t.day)} ${two(t.hour)}:${two(t.minute)}:${two(t.second)}`;
  if (t.kind === 'unknown') return t.raw;
  const h = Math.floor(t.seconds / 3600);
  const m = Math.floor((t.seconds % 3600) / 60);
  const s = t.seconds % 60;
  return `+${h}:${two(m)}:${s.toFixed(3).padStart(6, '0')}`;
}

/** Every line held: the current file, and the retained segments before it when asked. */
export async function showDeviceLog(
  ctx: AdminContext,
  tenant: Tenant,
  mac: string,
  kind: LogKind,
  options: { segments?: boolean } = {},
): Promise<{ log: LogSummary; lines: LogLineView[] }> {
  const opened = await openDeviceLog(ctx, tenant, mac, kind);
  const { lines } = await opened.lines(options.segments ? opened.summary.heldFrom : opened.summary.base);
  return { log: opened.summary, lines };
}

/**
 * The last `n` lines held (segments included when the current file has fewer), and where they end,
 * for `--follow` to go on from. With `completeOnly`, a last line without its line break is left for
 * later.
 */
export async function tailDeviceLog(
  ctx: AdminContext,
  tenant: Tenant,
  mac: string,
  kind: LogKind,
  n: number,
  options: { completeOnly?: boolean } = {},
): Promise<{ log: LogSummary; lines: LogLineView[]; end: number }> {
  const opened = await openDeviceLog(ctx, tenant, mac, kind);
  const { size, heldFrom } = opened.summary;
  let window = 64 * 1024;
  for (;;) {
    const from = Math.max(heldFrom, size - window);
    const read = await opened.lines(from, size, options);
    // A window that starts mid-line cuts its first line: drop it unless the window reaches the start.
    const lines = from > heldFrom ? read.lines.slice(1) : read.lines;
    if (lines.length >= n || from === heldFrom) return { log: opened.summary, lines: n > 0 ? lines.slice(-n) : [], end: read.end };
    window *= 4;
  }
}

/** Lines from `offset` on (the phone's numbering), for `--follow`; complete lines only. */
export async function readDeviceLogFrom(
  ctx: AdminContext,
  tenant: Tenant,
  mac: string,
  kind: LogKind,
  offset: number,
): Promise<{ log: LogSummary; lines: LogLineView[]; end: number }> {
  const opened = await openDeviceLog(ctx, tenant, mac, kind);
  if (opened.summary.size <= offset) return { log: opened.summary, lines: [], end: offset };
  const read = await opened.lines(offset, opened.summary.size, { completeOnly: true });
  return { log: opened.summary, ...read };
}

export interface LogSearch {
  /** One device, or every device of the tenant. */
  mac?: string;
  /** One kind, or both. */
  kind?: LogKind;
  pattern: RegExp;
  /** Only lines classifyLogLine flags. */
  errorsOnly?: boolean;
}

/** Lines matching `pattern` (tested on the raw line) in everything held, segments included. */
export async function searchDeviceLogs(ctx: AdminContext, tenant: Tenant, q: LogSearch): Promise<LogLineView[]> {
  const mac = q.mac === undefined ? undefined : requireMac(q.mac);
  const logs = (await ctx.store.listPhoneLogs(tenant.id, mac)).filter((l) => q.kind === undefined || kindOf(l.path) === q.kind);
  const out: LogLineView[] = [];
  for (const log of logs) {
    const opened = await openedLog(ctx, log);
    const { lines } = await opened.lines(opened.summary.heldFrom);
    for (const line of lines) {
      if (q.errorsOnly && line.flags.length === 0) continue;
      q.pattern.lastIndex = 0;
      if (q.pattern.test(line.raw)) out.push(line);
    }
  }
  return out;
}

/** An administrator's regular expression, or a clear error. */
export function compileSearch(source: string, ignoreCase: boolean): RegExp {
  try {
    return new RegExp(source, ignoreCase ? 'i' : '');
  } catch (err) {
    throw new AdminError(`invalid regular expression "${source}": ${(err as Error).message}`);
  }
}
