import { DomainError } from './domain-error.js';
import { quoteInput } from './quote-input.js';

/** Master-file per-model suffix: the UA model id without underscores (VVX_500 -> VVX500). */
export function masterTagFor(model: string): string {
  return model.replace(/_/g, '');
}

// Canonical UA spelling of each family prefix; admins type them in any case, with or without "_".
const FAMILIES: ReadonlyMap<string, string> = new Map([
  ['vvx', 'VVX'],
  ['spip', 'SPIP'],
  ['ssip', 'SSIP'],
  ['trio', 'Trio'],
  ['ccx', 'CCX'],
  ['edge', 'Edge'],
]);

const FAMILY_MODEL = /^(vvx|spip|ssip|trio|ccx|edge)[\s_-]*([a-z]*[0-9][a-z0-9]*)$/i;
const SANE_MODEL = /^[A-Za-z][A-Za-z0-9_]*$/;
const MAX_MODEL_LENGTH = 40;

/**
 * Canonical UA spelling for a model typed by an administrator (vvx500, VVX500, vvx 500 -> VVX_500),
 * so that settings keyed by model match what phones send. Unknown but well-formed ids pass unchanged.
 */
export function normalizeModel(input: string): string {
  const text = typeof input === 'string' ? input.trim() : '';
  const family = FAMILY_MODEL.exec(text);
  const model = family
    ? `${FAMILIES.get(family[1].toLowerCase())}_${family[2].toUpperCase()}`
    : text;
  if (model.length === 0 || model.length > MAX_MODEL_LENGTH || !SANE_MODEL.test(model)) {
    throw new DomainError(
      `invalid model ${quoteInput(input)}: expected a model id as phones report it, e.g. VVX_500, SPIP_335, Trio_8800, CCX_600 (letters, digits and "_", at most ${MAX_MODEL_LENGTH} characters)`,
    );
  }
  return model;
}

// Fact sheet §2.5 (PolyPyTools model table, cross-checked with Asterisk's sample list). The first
// number of each list is the one Poly's own tooling uses; the others are alternative assemblies.
// Left out: SoundStructure and the VVX D60 base (they do not provision as phones), Trio 8500
// (3111-66700-001 seen only in a boot banner), Trio 8800, CCX and Edge E (numbers unknown).
const PART_NUMBERS: ReadonlyMap<string, readonly string[]> = new Map<string, readonly string[]>([
  ['SPIP_301', ['2345-11300-010', '2345-11300-001']],
  ['SPIP_320', ['2345-12200-002', '2345-12200-005']],
  ['SPIP_330', ['2345-12200-001', '2345-12200-004']],
  ['SPIP_321', ['2345-12360-001']],
  ['SPIP_331', ['2345-12365-001', '2345-12365-002']],
  ['SPIP_335', ['2345-12375-001']],
  ['SPIP_430', ['2345-11402-001']],
  ['SPIP_450', ['2345-12450-001', '2345-12450-002']],
  ['SPIP_501', ['2345-11500-030', '2345-11500-040', '2345-11500-001', '2345-11500-010', '2345-11500-020']],
  ['SPIP_550', ['2345-12500-001']],
  ['SPIP_560', ['2345-12560-001']],
  ['SPIP_600', ['2345-11600-001']],
  ['SPIP_601', ['2345-11605-001']],
  ['SPIP_650', ['2345-12600-001', '2345-12600-002']],
  ['SPIP_670', ['2345-12670-001', '2345-12670-002']],
  ['SSIP_4000', ['2201-06642-001']],
  ['SSIP_5000', ['3111-30900-001']],
  ['SSIP_6000', ['3111-15600-001']],
  ['SSIP_7000', ['3111-40000-001']],
  // UA spelling inferred from the master-file tag SSDuo.
  ['SSDuo', ['3111-19000-001']],
  ['VVX_1500', ['2345-17960-001']],
  ['VVX_101', ['3111-40250-001']],
  ['VVX_201', ['3111-40450-001']],
  ['VVX_300', ['3111-46135-002']],
  ['VVX_310', ['3111-46161-001']],
  ['VVX_400', ['3111-46157-002']],
  ['VVX_410', ['3111-46162-001']],
  ['VVX_301', ['3111-48300-001']],
  ['VVX_311', ['3111-48350-001']],
  ['VVX_401', ['3111-48400-001']],
  ['VVX_411', ['3111-48450-001']],
  ['VVX_500', ['3111-44500-001']],
  ['VVX_600', ['3111-44600-001']],
  ['VVX_501', ['3111-48500-001']],
  ['VVX_601', ['3111-48600-001']],
  ['VVX_150', ['3111-48810-001']],
  ['VVX_250', ['3111-48820-001']],
  ['VVX_350', ['3111-48830-001']],
  ['VVX_450', ['3111-48840-001']],
]);

/** Every model polyprov knows a part number of, as phones spell it, with those part numbers, by name. */
export function knownModels(): { model: string; partNumbers: string[] }[] {
  return [...PART_NUMBERS].map(([model, parts]) => ({ model, partNumbers: [...parts] })).sort((a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : 0));
}

/** Part numbers a model's firmware files are named after (<part>.sip.ld); [] when unknown. */
export function partNumbersFor(model: string): string[] {
  return [...(PART_NUMBERS.get(model) ?? [])];
}

// Built once: release imports look up every <part>.sip.ld of a split release.
const MODELS_BY_PART: ReadonlyMap<string, readonly string[]> = (() => {
  const byPart = new Map<string, string[]>();
  for (const [model, parts] of PART_NUMBERS) {
    for (const part of parts) byPart.set(part, [...(byPart.get(part) ?? []), model]);
  }
  return byPart;
})();

/** Models whose firmware files are named after a part number (3111-44500-001 -> VVX_500); [] when unknown. */
export function modelsForPartNumber(part: string): string[] {
  return [...(MODELS_BY_PART.get(part) ?? [])];
}
