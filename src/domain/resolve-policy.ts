import { DomainError } from './domain-error.js';
import { quoteInput } from './quote-input.js';

export type LayerKind = 'defaults' | 'tenant' | 'model' | 'site' | 'group' | 'rollout' | 'device';

/** Least to most specific: a value in a later layer hides the same parameter in earlier ones. */
export const LAYER_ORDER: readonly LayerKind[] = Object.freeze([
  'defaults',
  'tenant',
  'model',
  'site',
  'group',
  // A staged firmware rollout's target for the devices of its released waves; a device's own
  // setting still wins (an administrator's pin on one phone beats a fleet-wide plan).
  'rollout',
  'device',
] as const);

export interface PolicyLayer {
  kind: LayerKind;
  /** which tenant/model/site/group/device the layer came from, for explanations */
  ref: string;
  params: Readonly<Record<string, string>>;
}

export interface ShadowedValue {
  value: string;
  layer: LayerKind;
  ref: string;
}

export interface ResolvedParameter {
  name: string;
  value: string;
  layer: LayerKind;
  ref: string;
  /** the less specific values this one hides, most specific first */
  shadows: ShadowedValue[];
}

function rankOf(layer: PolicyLayer): number {
  const rank = LAYER_ORDER.indexOf(layer.kind);
  if (rank === -1) {
    throw new DomainError(
      `unknown policy layer kind ${quoteInput(layer.kind)}: expected one of ${LAYER_ORDER.join(', ')}`,
    );
  }
  return rank;
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Merges the layers into the parameters a phone gets, keeping for each parameter the values it
 * overrides so that an administrator can see why a phone ended up with a value.
 */
export function resolvePolicy(layers: readonly PolicyLayer[]): ResolvedParameter[] {
  const bySpecificity: (PolicyLayer | undefined)[] = new Array(LAYER_ORDER.length);
  for (const layer of layers) {
    const rank = rankOf(layer);
    const existing = bySpecificity[rank];
    if (existing) {
      throw new DomainError(
        `two "${layer.kind}" layers (${quoteInput(existing.ref)} and ${quoteInput(layer.ref)}): a policy takes at most one layer of each kind`,
      );
    }
    bySpecificity[rank] = layer;
  }

  // A Map, not an object, so that names such as __proto__ or constructor are ordinary keys.
  const resolved = new Map<string, ResolvedParameter>();
  for (let rank = bySpecificity.length - 1; rank >= 0; rank--) {
    const layer = bySpecificity[rank];
    if (!layer) continue;
    for (const [name, value] of Object.entries(layer.params)) {
      const winner = resolved.get(name);
      if (winner) winner.shadows.push({ value, layer: layer.kind, ref: layer.ref });
      else resolved.set(name, { name, value, layer: layer.kind, ref: layer.ref, shadows: [] });
    }
  }
  return [...resolved.values()].sort((a, b) => byCodeUnit(a.name, b.name));
}
