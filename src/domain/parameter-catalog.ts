import catalog from './parameter-catalog.json' with { type: 'json' };

// The parameter names of Poly's stock UC Software templates, as patterns: every purely numeric
// segment is an index written "*" (reg.*.address), and per-model variants (a last segment naming a
// model, call.callsPerLineKey.VVX101) fold into their base name. Each pattern has its stock default
// and a value type, inferred from the templates or curated in parameter-types.json. Derived by
// scripts/derive-parameter-catalog.ts. Phones silently ignore names they do not know, so a name
// outside the catalog is most likely a typo: `param set` and imports refuse it unless forced
// (newer firmware knows names these 5.x templates lack, hence the way out).

/**
 * What a parameter's value may be: "string" constrains nothing, "boolean" is 0 or 1, "integer" a
 * whole number; {min, max} a whole number in that range (either bound optional), {oneOf} exactly
 * one of those spellings, {format: "HH:MM"} a time of day.
 */
export type ParameterType =
  | 'string'
  | 'boolean'
  | 'integer'
  | { min?: number; max?: number }
  | { oneOf: string[] }
  | { format: 'HH:MM' };

export type ParameterLookup =
  | { known: true; pattern: string; stockDefault: string; type: ParameterType }
  | { known: false; suggestions: string[] };

/** A parameter name taken apart: its catalog pattern, the indices it used and its model suffix. */
export interface ParameterShape {
  pattern: string;
  indices: string[];
  modelTag: string | undefined;
}

// Per-model suffixes are the master-file tags of models.ts (masterTagFor: VVX_101 -> VVX101,
// Trio_8800 -> Trio8800), plus the CX5500 and SoundStation Duo the templates also name.
const FAMILY_CANON: ReadonlyMap<string, string> = new Map([
  ['vvx', 'VVX'],
  ['spip', 'SPIP'],
  ['ssip', 'SSIP'],
  ['cx', 'CX'],
  ['ccx', 'CCX'],
  ['trio', 'Trio'],
  ['edge', 'Edge'],
]);
const MODEL_TAG = /^(?:(?:VVX|SPIP|SSIP|CX|CCX|Trio|Edge)[A-Z]?[0-9]{2,5}[A-Za-z]*|SSDuo)$/;
const MODEL_TAG_ANY_CASE = /^(?:(vvx|spip|ssip|cx|ccx|trio|edge)([a-z]?[0-9]{2,5}[a-z]*)|ssduo)$/i;
const NUMERIC = /^[0-9]+$/;
const MAX_SUGGESTIONS = 3;
// Longer than any name polyprov accepts (parameter.ts allows 200): nothing to suggest for such input.
const MAX_LOOKUP_LENGTH = 256;

const patterns: Readonly<Record<string, string>> = catalog.patterns;
// Patterns of type "string" are left out of the file.
const types = catalog.types as unknown as Readonly<Record<string, Exclude<ParameterType, 'string'>>>;

/** True when a name segment is a per-model suffix such as VVX101, SPIP335, SSIP6000 or Trio8800. */
export function isModelTag(segment: string): boolean {
  return MODEL_TAG.test(segment);
}

/** reg.1.address -> reg.*.address (indices ['1']); call.callsPerLineKey.VVX101 -> call.callsPerLineKey (tag VVX101). */
export function parameterShape(name: string): ParameterShape {
  const segments = name.split('.');
  const last = segments[segments.length - 1];
  const modelTag = segments.length > 1 && isModelTag(last) ? segments.pop() : undefined;
  const indices: string[] = [];
  const pattern = segments
    .map((segment) => {
      if (!NUMERIC.test(segment)) return segment;
      indices.push(segment);
      return '*';
    })
    .join('.');
  return { pattern, indices, modelTag };
}

/** Number of patterns in the catalog. */
export function catalogSize(): number {
  return catalog.count;
}

/** Whether `name` is a parameter of the stock templates (with its default and type), and if not, up to three names it may have meant. */
export function lookupParameter(name: string): ParameterLookup {
  // "*" only stands for an index inside the catalog; a name carrying one is no parameter name.
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_LOOKUP_LENGTH || name.includes('*')) {
    return { known: false, suggestions: [] };
  }
  const shape = parameterShape(name);
  if (Object.hasOwn(patterns, shape.pattern)) {
    const type = Object.hasOwn(types, shape.pattern) ? types[shape.pattern] : 'string';
    return { known: true, pattern: shape.pattern, stockDefault: patterns[shape.pattern], type };
  }
  return { known: false, suggestions: suggest(shape) };
}

// ---- suggestions -------------------------------------------------------------------------------

interface Candidate {
  pattern: string;
  lower: string;
}

// Patterns grouped by lower-cased first segment, built on the first unknown name: a lookup then
// compares the name only with the groups whose first segment is close to its own, and within those
// only with patterns of about its length, each with a distance computed in a band of width 2k+1.
let groups: Map<string, Candidate[]> | undefined;

function candidateGroups(): Map<string, Candidate[]> {
  if (groups) return groups;
  groups = new Map();
  for (const pattern of Object.keys(patterns)) {
    // polyprov writes device.set and <name>.set itself and refuses them as input: never suggest them.
    if (pattern === 'device.set' || (pattern.startsWith('device.') && pattern.endsWith('.set'))) continue;
    const lower = pattern.toLowerCase();
    const first = lower.split('.', 1)[0];
    let group = groups.get(first);
    if (!group) groups.set(first, (group = []));
    group.push({ pattern, lower });
  }
  return groups;
}

/** How many edits a name of this length may be away from a suggestion: a quarter of it, 1 to 3. */
function editBudget(length: number): number {
  return Math.max(1, Math.min(3, Math.floor(length / 4)));
}

/**
 * Optimal-string-alignment distance (Levenshtein plus adjacent transpositions) when it is at most
 * `max`, otherwise max + 1. Only the diagonal band |i - j| <= max is computed, and it stops as soon
 * as a whole row exceeds `max`: O(length × max) per pair.
 */
export function boundedEditDistance(a: string, b: string, max: number): number {
  const n = a.length;
  const m = b.length;
  const over = max + 1;
  if (Math.abs(n - m) > max) return over;
  if (n === 0 || m === 0) return Math.max(n, m);
  let before = new Uint16Array(m + 1).fill(over);
  let prev = new Uint16Array(m + 1).fill(over);
  let row = new Uint16Array(m + 1).fill(over);
  for (let j = 0; j <= Math.min(m, max); j++) prev[j] = j;
  for (let i = 1; i <= n; i++) {
    row.fill(over);
    row[0] = i <= max ? i : over;
    let best = row[0];
    const lo = Math.max(1, i - max);
    const hi = Math.min(m, i + max);
    const ca = a.charCodeAt(i - 1);
    for (let j = lo; j <= hi; j++) {
      const cb = b.charCodeAt(j - 1);
      let d = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca === cb ? 0 : 1));
      if (i > 1 && j > 1 && ca === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === cb) d = Math.min(d, before[j - 2] + 1);
      if (d > over) d = over;
      row[j] = d;
      if (d < best) best = d;
    }
    if (best > max) return over;
    [before, prev, row] = [prev, row, before];
  }
  return Math.min(prev[m], over);
}

/**
 * A catalog pattern written with the indices and model suffix the administrator typed: in order
 * when it has as many indices as the name had, otherwise by position (tone.chord.ringer.3.freq.2 ->
 * tone.chord.ringer.A3.freq.2); an index the name did not give stays "*".
 */
function render(pattern: string, shape: ParameterShape, modelTag: string | undefined): string {
  const segments = pattern.split('.');
  const slots = segments.filter((segment) => segment === '*').length;
  let name: string;
  if (slots === shape.indices.length) {
    let next = 0;
    name = segments.map((segment) => (segment === '*' ? shape.indices[next++] : segment)).join('.');
  } else {
    const typed = shape.pattern.split('.');
    let next = 0;
    const byPosition = typed.map((segment) => (segment === '*' ? shape.indices[next++] : undefined));
    name = segments.map((segment, at) => (segment === '*' ? (byPosition[at] ?? '*') : segment)).join('.');
  }
  return modelTag === undefined ? name : `${name}.${modelTag}`;
}

/** VVX101 for vvx101, Trio8800 for TRIO8800: the spelling a per-model suffix must have. */
function canonicalModelTag(segment: string): string | undefined {
  const match = MODEL_TAG_ANY_CASE.exec(segment);
  if (!match) return undefined;
  if (match[1] === undefined) return 'SSDuo';
  return `${FAMILY_CANON.get(match[1].toLowerCase())}${match[2].toUpperCase()}`;
}

function suggest(shape: ParameterShape): string[] {
  const out: string[] = [];
  // A model suffix in the wrong case (reg.1.address.vvx101) is not stripped, and phones match
  // suffixes exactly: offer the right spelling when the rest of the name is known.
  const dot = shape.pattern.lastIndexOf('.');
  if (shape.modelTag === undefined && dot > 0) {
    const tag = canonicalModelTag(shape.pattern.slice(dot + 1));
    const base = shape.pattern.slice(0, dot);
    if (tag !== undefined && Object.hasOwn(patterns, base)) out.push(render(base, shape, tag));
  }

  const lower = shape.pattern.toLowerCase();
  const first = lower.split('.', 1)[0];
  const max = editBudget(lower.length);
  const firstMax = Math.min(2, max);
  const scored: { pattern: string; distance: number; exact: number }[] = [];
  for (const [groupFirst, group] of candidateGroups()) {
    if (boundedEditDistance(first, groupFirst, firstMax) > firstMax) continue;
    for (const candidate of group) {
      if (Math.abs(candidate.lower.length - lower.length) > max) continue;
      // Case slips (reg.1.Address, tcpipapp.sntp.address) cost nothing in the ranking; the
      // case-sensitive distance only orders names that tie.
      const distance = boundedEditDistance(lower, candidate.lower, max);
      if (distance > max) continue;
      scored.push({ pattern: candidate.pattern, distance, exact: boundedEditDistance(shape.pattern, candidate.pattern, lower.length) });
    }
  }
  scored.sort((x, y) => x.distance - y.distance || x.exact - y.exact || (x.pattern < y.pattern ? -1 : x.pattern > y.pattern ? 1 : 0));
  for (const { pattern } of scored) {
    const name = render(pattern, shape, shape.modelTag);
    if (!out.includes(name)) out.push(name);
    if (out.length >= MAX_SUGGESTIONS) break;
  }
  return out;
}
