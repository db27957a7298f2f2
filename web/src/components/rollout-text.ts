// How a rollout's settings read in the console, the same on its list and its own page.

import type { Rollout, RolloutSelector } from '../types.js';

/** `site hq, model VVX_450`, or `the whole tenant`. */
export function selectorText(sel: RolloutSelector): string {
  const parts = [sel.site && `site ${sel.site}`, sel.group && `group ${sel.group}`, sel.model && `model ${sel.model}`].filter(Boolean);
  return parts.length ? parts.join(', ') : 'the whole tenant';
}

/** `wave 2 of 3 (10 %)`. */
export function waveText(r: Rollout): string {
  return `wave ${r.currentWave + 1} of ${r.waves.length} (${r.waves[r.currentWave] ?? '?'} %)`;
}

/** `90 min`, `2 h`, `1 d 6 h`. */
export function durationText(ms: number): string {
  const min = Math.round(ms / 60_000);
  if (min < 120) return `${min} min`;
  const h = Math.round(min / 60);
  return h < 48 ? `${h} h` : `${Math.floor(h / 24)} d ${h % 24} h`;
}
