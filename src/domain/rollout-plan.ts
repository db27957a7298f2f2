import { createHash } from 'node:crypto';
import { DomainError } from './domain-error.js';
import { compareFirmwareVersions } from './firmware-version.js';
import { quoteInput } from './quote-input.js';

// A staged firmware rollout as pure decisions: which wave each device is in, and given what the
// phones report (their User-Agent's version, recorded by the inventory), whether the next wave
// may go, the rollout must pause, or it is done. No clock and no I/O: the caller passes `now`.

/** "1,10,100": cumulative percentages of the devices each wave has released; the last is 100. */
export function parseWaves(text: string): number[] {
  const waves = text.split(',').map((s) => Number(s.trim()));
  const bad = () => new DomainError(`invalid waves ${quoteInput(text)}: expected rising percentages ending at 100, e.g. 1,10,100`);
  if (waves.length === 0 || waves.length > 20 || waves.some((w) => !Number.isFinite(w) || w <= 0 || w > 100)) throw bad();
  if (waves.some((w, i) => i > 0 && w <= waves[i - 1]!) || waves[waves.length - 1] !== 100) throw bad();
  return waves;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "30s", "90m", "2h", "1d", "500ms" (a bare number is seconds). */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(text);
  if (!m) throw new DomainError(`invalid duration ${quoteInput(text)}: expected a number and a unit, e.g. 30s, 90m, 2h, 1d`);
  const ms = Math.round(Number(m[1]) * UNITS[(m[2] ?? 's').toLowerCase()]!);
  if (!Number.isSafeInteger(ms) || ms > 365 * UNITS.d!) throw new DomainError(`duration ${quoteInput(text)} is longer than a year`);
  return ms;
}

export interface MaintenanceWindow {
  /** Minutes after midnight UTC. */
  start: number;
  end: number;
}

/** "01:00-05:00" in UTC; "22:00-04:00" spans midnight. */
export function parseWindow(text: string): MaintenanceWindow {
  const m = /^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$/.exec(text);
  const minutes = (h: string, mm: string) => (Number(h) < 24 && Number(mm) < 60 ? Number(h) * 60 + Number(mm) : NaN);
  const start = m ? minutes(m[1]!, m[2]!) : NaN;
  const end = m ? minutes(m[3]!, m[4]!) : NaN;
  if (!Number.isFinite(start) || !Number.isFinite(end) || start === end) {
    throw new DomainError(`invalid maintenance window ${quoteInput(text)}: expected HH:MM-HH:MM in UTC, e.g. 01:00-05:00`);
  }
  return { start, end };
}

export function inWindow(w: MaintenanceWindow, now: Date): boolean {
  const t = now.getUTCHours() * 60 + now.getUTCMinutes();
  return w.start < w.end ? t >= w.start && t < w.end : t >= w.start || t < w.end;
}

/**
 * The wave of each device: a stable shuffle (by a hash of the rollout's name and the MAC, so a
 * canary is not always the same lowest MACs, and re-planning gives the same answer), cut at the
 * cumulative percentages. Each wave releases at least one more device while any are left, so a
 * small fleet still gets a canary and a second step.
 */
export function assignWaves(name: string, macs: readonly string[], waves: readonly number[]): { mac: string; wave: number }[] {
  const order = [...new Set(macs)]
    .map((mac) => ({ mac, key: createHash('sha256').update(`${name}:${mac}`).digest('hex') }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const n = order.length;
  const bounds: number[] = [];
  waves.forEach((p, i) => bounds.push(Math.min(n, Math.max(Math.ceil((p / 100) * n), (i === 0 ? 0 : bounds[i - 1]!) + 1))));
  return order.map(({ mac }, i) => ({ mac, wave: bounds.findIndex((b) => i < b) }));
}

export interface RolloutState {
  toVersion: string;
  waves: readonly number[];
  status: 'running' | 'paused' | 'completed' | 'rolled-back';
  currentWave: number;
  waveStartedAt: string;
  waveIntervalMs: number;
  deadlineMs: number;
  maxFailurePercent: number;
  window: string | null;
}

export interface MemberReport {
  mac: string;
  wave: number;
  /** The application version the phone last reported, null when it was never seen. */
  running: string | null;
}

export interface WaveProgress {
  wave: number;
  /** Cumulative percentage this wave releases. */
  percent: number;
  size: number;
  /** Phones of the wave that report the target version. */
  updated: number;
  released: boolean;
}

export type RolloutDecision =
  | { action: 'advance'; wave: number }
  | { action: 'complete' }
  | { action: 'pause'; reason: string }
  | { action: 'resume' }
  | { action: 'wait'; reason: string };

const onTarget = (running: string | null, to: string) => {
  if (running === null) return false;
  try {
    return compareFirmwareVersions(running, to) === 0;
  } catch {
    return false;
  }
};

export function rolloutProgress(state: RolloutState, members: readonly MemberReport[]): WaveProgress[] {
  return state.waves.map((percent, wave) => {
    const mine = members.filter((m) => m.wave === wave);
    return { wave, percent, size: mine.length, updated: mine.filter((m) => onTarget(m.running, state.toVersion)).length, released: wave <= state.currentWave };
  });
}

/** Released phones that do not report the target version: the ones to look at. */
export function stuckMembers(state: RolloutState, members: readonly MemberReport[]): MemberReport[] {
  return members.filter((m) => m.wave <= state.currentWave && !onTarget(m.running, state.toVersion));
}

function minutes(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`;
}

/**
 * What a tick should do. Only the newest released wave is judged: once its deadline has passed,
 * more phones than `maxFailurePercent` of it not reporting the new version pauses the rollout,
 * and a paused rollout resumes as soon as enough of them do. The next wave goes when the current
 * one is healthy (every phone updated, or the deadline passed with few enough failures), has
 * soaked for the interval, and the clock is inside the maintenance window.
 */
export function decideRollout(state: RolloutState, members: readonly MemberReport[], now: Date): RolloutDecision {
  if (state.status === 'completed' || state.status === 'rolled-back') return { action: 'wait', reason: `the rollout is ${state.status}` };
  const wave = rolloutProgress(state, members)[state.currentWave];
  if (!wave) throw new DomainError(`rollout wave ${state.currentWave} does not exist`);
  const pending = wave.size - wave.updated;
  const failedPercent = wave.size === 0 ? 0 : (pending / wave.size) * 100;
  const elapsed = now.getTime() - Date.parse(state.waveStartedAt);
  const label = `wave ${state.currentWave + 1} of ${state.waves.length}`;
  const pastDeadline = elapsed >= state.deadlineMs;
  const healthy = pending === 0 || (pastDeadline && failedPercent <= state.maxFailurePercent);

  if (state.status === 'paused') {
    return healthy ? { action: 'resume' } : { action: 'wait', reason: `paused: ${pending} of ${wave.size} phones of ${label} do not report ${state.toVersion}` };
  }
  if (!healthy) {
    if (pastDeadline) {
      return { action: 'pause', reason: `${pending} of ${wave.size} phones of ${label} did not report ${state.toVersion} within ${minutes(state.deadlineMs)} (at most ${state.maxFailurePercent}% may fail)` };
    }
    return { action: 'wait', reason: `${label}: ${wave.updated} of ${wave.size} phones report ${state.toVersion}` };
  }
  if (state.currentWave === state.waves.length - 1) return { action: 'complete' };
  if (elapsed < state.waveIntervalMs) return { action: 'wait', reason: `${label} is healthy and soaks until ${new Date(Date.parse(state.waveStartedAt) + state.waveIntervalMs).toISOString()}` };
  if (state.window && !inWindow(parseWindow(state.window), now)) return { action: 'wait', reason: `${label} is healthy; the next wave waits for the maintenance window ${state.window} UTC` };
  return { action: 'advance', wave: state.currentWave + 1 };
}
