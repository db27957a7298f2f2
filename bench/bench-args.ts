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

/**
 * The bench's settings from the command line, or the status `main` should return at once: 0 after
 * printing the usage (--help), 1 after saying what is wrong with the arguments.
 */
export function readSettings<T>(parse: (argv: string[]) => T | 'help', usage: string): T | number {
  try {
    const s = parse(process.argv.slice(2));
    if (s !== 'help') return s;
    process.stdout.write(usage + '\n');
    return 0;
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n(run with --help for usage)\n`);
    return 1;
  }
}
