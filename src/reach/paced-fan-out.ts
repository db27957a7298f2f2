import { performance } from 'node:perf_hooks';

export interface PaceOptions {
  /** Sends started per second, on average (> 0). */
  ratePerSecond: number;
  /** 0..1: each start moves by up to ±jitter/2 of the interval at random, so phones do not line up on a grid while the average rate stays exact. */
  jitter: number;
  /** At most this many sends awaiting their result at once (default 1000); the pacing waits when reached. */
  maxInFlight?: number;
  signal?: AbortSignal;
  random?: () => number; // tests
}

export interface FanOutSummary {
  /** Sends started. */
  started: number;
  /** Sends whose result was handed to onResult (and onResult finished). */
  completed: number;
  /** True when the signal stopped the run before every item was started. */
  aborted: boolean;
  elapsedMs: number;
}

function checkOptions(opts: PaceOptions): number {
  if (!Number.isFinite(opts.ratePerSecond) || opts.ratePerSecond <= 0) {
    throw new RangeError(`the fan-out rate must be a positive number of sends per second, got ${opts.ratePerSecond}`);
  }
  if (!Number.isFinite(opts.jitter) || opts.jitter < 0 || opts.jitter > 1) {
    throw new RangeError(`the fan-out jitter must be between 0 and 1 (a fraction of the interval between sends), got ${opts.jitter}`);
  }
  const maxInFlight = opts.maxInFlight ?? 1000;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
    throw new RangeError(`the fan-out maxInFlight must be a whole number of at least 1, got ${opts.maxInFlight}`);
  }
  return maxInFlight;
}

/**
 * Starts send(item) for each item at t0 + i/rate (+ jitter), awaits onResult for each completion
 * (e.g. to persist it) and stops starting new sends when the signal aborts (in-flight ones finish).
 *
 * Start times are computed from the absolute start, so late timers are caught up (several sends
 * in one tick at high rates) and the average rate does not drift. A wait for maxInFlight is the
 * exception: the schedule moves back by that wait, so phones never get a burst afterwards. If a
 * send or onResult throws, no further sends start and, once in-flight ones finish, the promise
 * rejects with that first error.
 */
export async function runPaced<T, R>(
  items: readonly T[],
  opts: PaceOptions,
  send: (item: T, index: number) => Promise<R>,
  onResult?: (item: T, result: R, index: number) => void | Promise<void>,
): Promise<FanOutSummary> {
  const maxInFlight = checkOptions(opts);
  const { signal, jitter } = opts;
  const random = opts.random ?? Math.random;
  const intervalMs = 1000 / opts.ratePerSecond;
  const t0 = performance.now();

  let started = 0;
  let completed = 0;
  let inFlight = 0;
  let failure: { error: unknown } | undefined;
  // One waiter at a time: the loop below. Timers, completions and the abort all wake it.
  let wake: (() => void) | undefined;
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(poke, Math.max(0, ms)) : undefined;
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const stopped = () => signal?.aborted === true || failure !== undefined;
  signal?.addEventListener('abort', poke);

  const running = new Set<Promise<void>>();
  let shiftMs = 0;
  try {
    for (let i = 0; i < items.length && !stopped(); i++) {
      const offset = jitter ? (random() - 0.5) * jitter * intervalMs : 0;
      if (inFlight >= maxInFlight) {
        while (inFlight >= maxInFlight && !stopped()) await pause(Infinity);
        if (stopped()) break;
        const late = performance.now() - (t0 + shiftMs + i * intervalMs + offset);
        if (late > 0) shiftMs += late;
      }
      const due = t0 + shiftMs + i * intervalMs + offset;
      for (let now = performance.now(); now < due && !stopped(); now = performance.now()) await pause(due - now);
      if (stopped()) break;

      const item = items[i]!;
      const index = i;
      started++;
      inFlight++;
      // Called now, not in a later microtask: an abort from inside send must stop the next start.
      let sending: Promise<R>;
      try {
        sending = Promise.resolve(send(item, index));
      } catch (error) {
        sending = Promise.reject(error);
      }
      const task: Promise<void> = sending
        .then((result) => onResult?.(item, result, index))
        .then(
          () => {
            completed++;
          },
          (error: unknown) => {
            failure ??= { error };
          },
        )
        .finally(() => {
          inFlight--;
          running.delete(task);
          poke();
        });
      running.add(task);
    }
    while (running.size) await Promise.all([...running]);
  } finally {
    signal?.removeEventListener('abort', poke);
  }
  if (failure) throw failure.error;
  return { started, completed, aborted: started < items.length && signal?.aborted === true, elapsedMs: Math.round(performance.now() - t0) };
}
