// A tenant at a glance, for the console's dashboard (and a CLI later): its devices and how many
// were seen lately, the models and firmware they report, the newest errors in the logs they
// uploaded, and the provisioning requests the core answered over time.

import { parsePhoneLogLine, type PhoneLogTime } from '../domain/phone-log.js';
import { PHONE_DIRECTORIES } from '../domain/phone-path.js';
import type { Device, RequestProtocol, Tenant } from '../store/store.js';
import type { AdminContext } from './admin-context.js';
import { AdminError } from './admin-error.js';
import { LOG_KINDS, openDeviceLog, type LogKind, type LogLineView } from './phone-logs.js';

/** The longest window: request counts are kept 14 days (provisioning/inventory-recorder.ts). */
export const MAX_DASHBOARD_HOURS = 336;
/** At most this many errors, newest first. */
export const MAX_RECENT_ERRORS = 20;
/**
 * Bounds on reading logs for recentErrors, so a dashboard costs the same with 10 or 10,000
 * phones: only logs a phone uploaded to within the window, the most recently updated of them
 * first and at most MAX_LOGS_READ, and only the last LOG_TAIL_BYTES of each (about 300 lines:
 * errors worth showing are recent ones). At most 50 × 32 KiB = 1.6 MiB read and parsed.
 */
export const MAX_LOGS_READ = 50;
export const LOG_TAIL_BYTES = 32 * 1024;
/** Bucket sizes the chart may use, smallest first: round numbers of minutes. */
const BUCKET_MINUTES = [1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 240, 360, 480, 720, 1440] as const;
/** The chart aims at no more buckets than this (one more when the window does not start on a bucket boundary). */
export const TARGET_BUCKETS = 48;

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/** The dashboard's protocols: FTPS counts as FTP (the same edge, with TLS). */
export type DashboardProtocol = 'http' | 'https' | 'tftp' | 'ftp';
const DASHBOARD_PROTOCOL: Record<RequestProtocol, DashboardProtocol> = { http: 'http', https: 'https', tftp: 'tftp', ftp: 'ftp', ftps: 'ftp' };

export interface RecentError {
  mac: string;
  kind: LogKind;
  /**
   * The phone's own clock stamp of the line, read as UTC (phones log in their own time zone, which
   * the log does not say) in the year that puts it at or before the upload; null when the line
   * counts time since boot or its stamp is not a date.
   */
  at: string | null;
  /** Poly's severity: 5 major error, 6 fatal (see isErrorLine). */
  level: number;
  line: string;
}

export interface RequestChartBucket {
  at: string;
  total: number;
  failed: number;
  byProtocol: Record<DashboardProtocol, number>;
}

export interface TenantDashboard {
  tenant: string;
  generatedAt: string;
  devices: { total: number; registered: number; seenOnly: number; seenInWindow: number; neverSeen: number };
  models: { model: string | null; count: number }[];
  firmware: { version: string | null; count: number }[];
  recentErrors: RecentError[];
  requests: { bucketMinutes: number; from: string; to: string; buckets: RequestChartBucket[] };
}

/** The smallest round bucket size that draws `hours` in at most TARGET_BUCKETS buckets. */
export function bucketMinutesFor(hours: number): number {
  const wanted = (hours * 60) / TARGET_BUCKETS;
  return BUCKET_MINUTES.find((m) => m >= wanted) ?? BUCKET_MINUTES[BUCKET_MINUTES.length - 1]!;
}

/** The tenant's dashboard over the last `hours` (1 to MAX_DASHBOARD_HOURS). */
export async function tenantDashboard(ctx: AdminContext, tenant: Tenant, options: { hours: number; now?: Date }): Promise<TenantDashboard> {
  const { hours } = options;
  if (!Number.isInteger(hours) || hours < 1 || hours > MAX_DASHBOARD_HOURS) {
    throw new AdminError(`invalid dashboard window ${String(hours)} hours: give a whole number of hours from 1 to ${MAX_DASHBOARD_HOURS} (14 days)`);
  }
  const now = options.now ?? new Date();
  const since = now.getTime() - hours * HOUR_MS;
  const devices = await ctx.store.listDevices(tenant.id);
  const recentErrors = await recentLogErrors(ctx, tenant, since);
  const requests = await requestChart(ctx, tenant, hours, now.getTime());
  return {
    tenant: tenant.slug,
    generatedAt: now.toISOString(),
    devices: deviceCounts(devices, since),
    models: countsBy(devices, (d) => d.model).map(([model, count]) => ({ model, count })),
    firmware: countsBy(devices, (d) => d.firmware).map(([version, count]) => ({ version, count })),
    recentErrors,
    requests,
  };
}

function deviceCounts(devices: readonly Device[], since: number): TenantDashboard['devices'] {
  const registered = devices.filter((d) => d.registered).length;
  return {
    total: devices.length,
    registered,
    seenOnly: devices.length - registered,
    seenInWindow: devices.filter((d) => d.lastSeen !== null && Date.parse(d.lastSeen) >= since).length,
    neverSeen: devices.filter((d) => d.lastSeen === null).length,
  };
}

/** Every device counted once under what it reports (null: nothing yet), most first, then by name with null last. */
function countsBy(devices: readonly Device[], key: (d: Device) => string | null): [string | null, number][] {
  const counts = new Map<string | null, number>();
  for (const d of devices) counts.set(key(d), (counts.get(key(d)) ?? 0) + 1);
  return [...counts].sort(([a, x], [b, y]) => y - x || (a === null ? 1 : b === null ? -1 : a < b ? -1 : a > b ? 1 : 0));
}

/**
 * What counts as an error on a Poly phone: a log entry of level 5 ("major error") or 6 ("fatal"),
 * the line classifyLogLine flags 'error'. Level 4 ("minor error, graceful recovery") is also every
 * module's default recording level, so ordinary logs are full of it; lines flagged only for their
 * wording (TLS, DNS, transfers) are the device page's highlights, not the dashboard's errors.
 */
function isErrorLine(line: LogLineView): line is LogLineView & { level: number } {
  return typeof line.level === 'number' && line.flags.includes('error');
}

/**
 * The newest error lines of the logs uploaded within the window, within the bounds above. Newest
 * means: logs by their last upload, newest first, and each log's lines from its end, since phone
 * clocks (often time since boot) cannot order lines of different phones.
 */
async function recentLogErrors(ctx: AdminContext, tenant: Tenant, since: number): Promise<RecentError[]> {
  const logs = (await ctx.store.listPhoneLogs(tenant.id))
    // The names openDeviceLog reads (a phone writing `0004F2…-APP.log` gets a log it cannot open).
    .map((log) => ({ log, kind: LOG_KINDS.find((k) => log.path === `${PHONE_DIRECTORIES.log}/${log.mac}-${k}.log`) }))
    .filter((l): l is typeof l & { kind: LogKind } => l.kind !== undefined && Date.parse(l.log.updatedAt) >= since)
    .sort((a, b) => (a.log.updatedAt < b.log.updatedAt ? 1 : a.log.updatedAt > b.log.updatedAt ? -1 : 0))
    .slice(0, MAX_LOGS_READ);
  const out: RecentError[] = [];
  for (const { log, kind } of logs) {
    if (out.length >= MAX_RECENT_ERRORS) break;
    const opened = await openDeviceLog(ctx, tenant, log.mac, kind);
    const { size, heldFrom } = opened.summary;
    const from = Math.max(heldFrom, size - LOG_TAIL_BYTES);
    const read = await opened.lines(from, size);
    // A tail that starts mid-line cuts its first line.
    const lines = from > heldFrom ? read.lines.slice(1) : read.lines;
    const uploadedAt = Date.parse(opened.summary.updatedAt);
    for (const line of lines.filter(isErrorLine).reverse()) {
      if (out.length >= MAX_RECENT_ERRORS) break;
      out.push({ mac: log.mac, kind, at: stampOf(line.raw, uploadedAt), level: line.level, line: line.raw });
    }
  }
  return out;
}

/** A wall-clock stamp as UTC, in the latest year not after the upload (a day's slack for time zones ahead of UTC). */
function stampOf(raw: string, uploadedAt: number): string | null {
  const parsed = parsePhoneLogLine(raw);
  if (parsed?.kind !== 'entry') return null;
  const t: PhoneLogTime = parsed.time;
  if (t.kind !== 'wall-clock') return null;
  for (let year = new Date(uploadedAt).getUTCFullYear(); year >= new Date(uploadedAt).getUTCFullYear() - 4; year--) {
    const at = new Date(Date.UTC(year, t.month - 1, t.day, t.hour, t.minute, t.second));
    // February 29th exists only in leap years: Date.UTC would roll it over to March 1st.
    if (at.getUTCMonth() !== t.month - 1) continue;
    if (at.getTime() <= uploadedAt + 24 * HOUR_MS) return at.toISOString();
  }
  return null;
}

/**
 * Contiguous buckets (zeros included) covering the window: from the bucket holding `now - hours`
 * to the end of the bucket holding now, aligned to multiples of the bucket size since the epoch
 * (the store sums minutes into the same buckets).
 */
async function requestChart(ctx: AdminContext, tenant: Tenant, hours: number, now: number): Promise<TenantDashboard['requests']> {
  const bucketMinutes = bucketMinutesFor(hours);
  const size = bucketMinutes * MINUTE_MS;
  const from = Math.floor((now - hours * HOUR_MS) / size) * size;
  const to = Math.floor(now / size) * size + size;
  const stored = await ctx.store.requestBuckets(tenant.id, { from: new Date(from).toISOString(), to: new Date(to).toISOString(), bucketMinutes });
  const buckets: RequestChartBucket[] = [];
  const byStart = new Map<number, RequestChartBucket>();
  for (let at = from; at < to; at += size) {
    const b: RequestChartBucket = { at: new Date(at).toISOString(), total: 0, failed: 0, byProtocol: { http: 0, https: 0, tftp: 0, ftp: 0 } };
    buckets.push(b);
    byStart.set(at, b);
  }
  for (const s of stored) {
    const b = byStart.get(Date.parse(s.at));
    if (!b) continue;
    b.total += s.ok + s.failed;
    b.failed += s.failed;
    b.byProtocol[DASHBOARD_PROTOCOL[s.protocol]] += s.ok + s.failed;
  }
  return { bucketMinutes, from: new Date(from).toISOString(), to: new Date(to).toISOString(), buckets };
}
