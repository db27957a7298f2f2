import { createHash } from 'node:crypto';
import { DomainError } from './domain-error.js';
import { quoteInput } from './quote-input.js';
import { LAYER_ORDER, type ResolvedParameter } from './resolve-policy.js';

// Polling without a thundering herd. Phones in `abs` mode all poll at prov.polling.time, 03:00 by
// default, so ten thousand phones of one tenant would hit the server in the same minute. The
// server's own parameter below names a window instead; each phone's config then gets a minute of
// that window derived from its MAC: stable across reboots and renders, spread evenly over the
// fleet, and explainable ("minute 137 of 01:00-05:00, from the MAC"). The phone's own random mode
// (prov.polling.mode="random", UCS 4.0+) draws a new time at every boot instead, which spreads
// too, but nobody can say when a given phone will poll.

/** The window ("HH:MM-HH:MM", local time of the phone, may wrap past midnight) phones of a layer poll in. */
export const POLLING_WINDOW = 'polyprov.polling.window';

export const POLLING_TIME = 'prov.polling.time';

export interface PollingWindow {
  /** Minutes after midnight. */
  start: number;
  /** Minutes in the window, 1..1440. */
  length: number;
}

const HHMM = /^([01]?\d|2[0-3]):([0-5]\d)$/;

function minutes(text: string): number | null {
  const m = HHMM.exec(text.trim());
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

export function formatMinutes(total: number): string {
  const m = ((total % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

/** `01:00-05:00`; `22:00-02:00` wraps past midnight; equal ends mean the whole day. */
export function parsePollingWindow(text: string): PollingWindow {
  const [a, b, extra] = text.split('-');
  const start = a === undefined ? null : minutes(a);
  const end = b === undefined ? null : minutes(b);
  if (start === null || end === null || extra !== undefined) {
    throw new DomainError(`invalid polling window ${quoteInput(text)}: expected HH:MM-HH:MM in the phones' local time, e.g. 01:00-05:00`);
  }
  const length = (end - start + 1440) % 1440 || 1440;
  return { start, length };
}

/** The minute of the window a phone polls at, from its MAC: the same on every render, even over the fleet. */
export function pollingTimeFor(mac: string, window: PollingWindow): string {
  const h = createHash('sha256').update(mac.toLowerCase()).digest();
  return formatMinutes(window.start + (h.readUInt32BE(0) % window.length));
}

export type PollingMode = 'window' | 'phone-random';

export interface PollingPlan {
  window: string;
  /** Seconds between polls; over a day, the phone picks a day from its MAC itself. Default 86400. */
  periodSeconds?: number;
  /** window (default): a minute per phone chosen by the server; phone-random: the phone draws one at each boot. */
  mode?: PollingMode;
}

/** The parameters a polling plan sets at one layer (validated). */
export function pollingParameters(plan: PollingPlan): Record<string, string> {
  const w = parsePollingWindow(plan.window);
  const period = plan.periodSeconds ?? 86400;
  // The phone refuses periods of an hour or less (Poly's admin guides: "integer > 3600").
  if (!Number.isInteger(period) || period <= 3600 || period > 86400 * 366) {
    throw new DomainError(`invalid polling period ${quoteInput(plan.periodSeconds)}: expected whole seconds over 3600 (an hour), e.g. 86400 for daily`);
  }
  const common = { 'prov.polling.enabled': '1', 'prov.polling.period': String(period) };
  const window = `${formatMinutes(w.start)}-${formatMinutes(w.start + w.length)}`;
  if (plan.mode === 'phone-random') {
    return { ...common, 'prov.polling.mode': 'random', [POLLING_TIME]: formatMinutes(w.start), 'prov.polling.timeRandomEnd': formatMinutes(w.start + w.length) };
  }
  return { ...common, 'prov.polling.mode': 'abs', [POLLING_WINDOW]: window };
}

/** Every parameter a polling plan may have set, so that unsetting removes both modes' traces. */
export const POLLING_PARAMETERS = ['prov.polling.enabled', 'prov.polling.period', 'prov.polling.mode', POLLING_TIME, 'prov.polling.timeRandomEnd', POLLING_WINDOW];

/**
 * The resolution with prov.polling.time derived from the window for this MAC, unless a more
 * specific layer than the window's sets prov.polling.time itself (a pin on one phone still wins).
 * Used by the renderer and by `explain`, so both say the same.
 */
export function withPollingTime(resolved: readonly ResolvedParameter[], mac: string): ResolvedParameter[] {
  const window = resolved.find((p) => p.name === POLLING_WINDOW);
  if (!window) return [...resolved];
  let parsed: PollingWindow;
  try {
    parsed = parsePollingWindow(window.value);
  } catch {
    // Validated when set; a value that no longer parses leaves the phone's own time alone.
    return [...resolved];
  }
  const own = resolved.find((p) => p.name === POLLING_TIME);
  if (own && LAYER_ORDER.indexOf(own.layer) > LAYER_ORDER.indexOf(window.layer)) return [...resolved];
  const derived: ResolvedParameter = {
    name: POLLING_TIME,
    value: pollingTimeFor(mac, parsed),
    layer: window.layer,
    ref: `${window.ref} (window ${window.value}, minute from the MAC)`,
    shadows: own ? [{ value: own.value, layer: own.layer, ref: own.ref }, ...own.shadows] : [],
  };
  const out = resolved.filter((p) => p.name !== POLLING_TIME);
  const at = out.findIndex((p) => p.name > POLLING_TIME);
  out.splice(at < 0 ? out.length : at, 0, derived);
  return out;
}
