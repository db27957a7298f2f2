import { int, UsageError } from './bench-args.js';

// Shared arithmetic and layout of the transfer benches (TFTP, FTP): medians, MiB/s, aligned tables.

export const MiB = 1024 * 1024;

export function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The p-th percentile (nearest rank). */
export function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export const round = (n: number, digits: number) => (Number.isFinite(n) ? Number(n.toFixed(digits)) : n);

export const fmt = (n: number | undefined, digits = 0) => (n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits));

export const mibPerSecond = (bytes: number, ms: number) => (ms > 0 ? bytes / MiB / (ms / 1000) : 0);

/** Columns padded to their widest cell; the first `leftColumns` are left-aligned, the rest right-aligned. */
export function table(cols: string[], rows: string[][], leftColumns = 1): string[] {
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(cols), ...rows.map(line)];
}

/** `--clients 1,20`: a list of whole numbers, no repeats. */
export function intList(name: string, list: string, min: number, max: number): number[] {
  const out = list.split(',').map((v) => int(name, v.trim(), min, max));
  if (out.length > 4) throw new UsageError(`--${name} takes at most 4 values`);
  if (new Set(out).size !== out.length) throw new UsageError(`--${name} lists a value twice`);
  return out;
}

/** A folder for downloaded copies: a tmpfs when the machine has one, so writing them costs no disk. */
export const FAST_TEMP = '/dev/shm';
