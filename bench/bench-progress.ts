import { performance } from 'node:perf_hooks';

/** When the bench started (module load), for the progress stamps and the total duration. */
export const BENCH_START = performance.now();

/** Progress on stderr, stamped with seconds since the bench started; results go to stdout. */
export function progress(msg: string): void {
  process.stderr.write(`[${((performance.now() - BENCH_START) / 1000).toFixed(1).padStart(5)} s] ${msg}\n`);
}

/** The environment of the servers: never the caller's POLYPROV_* settings (a database URL would send polyprov elsewhere). */
export function serverEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('POLYPROV_') && k !== 'NODE_OPTIONS') env[k] = v;
  return env;
}
