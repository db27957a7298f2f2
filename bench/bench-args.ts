// Flag checks shared by the benchmarks: a bad flag is a usage error, printed with the usage text.

export class UsageError extends Error {}

export function int(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got "${v}")`);
  return n;
}

/** `--workers 1,2`: one polyprov row per worker count. */
export function workerCounts(list: string): number[] {
  const workers = list.split(',').map((w) => int('workers', w.trim(), 1, 8));
  if (workers.length > 4) throw new UsageError('--workers takes at most 4 counts');
  return workers;
}
