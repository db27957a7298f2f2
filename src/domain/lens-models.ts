import { DomainError } from './domain-error.js';
import { normalizeModel } from './models.js';
import { quoteInput } from './quote-input.js';

// Poly Lens names device models the way the marketing does ("Trio 8300", "Poly CCX 500",
// "SoundPoint IP 335"); polyprov keys model policies by the model id phones put in their
// User-Agent (Trio_8300, CCX_500, SPIP_335), so a model policy matches what phones report. This
// module translates, for CSV imports that come from Lens or are written after its templates.

interface Family {
  /** polyprov's (the User-Agent's) spelling of the family, the part before "_". */
  ua: string;
  /** How Lens and Poly's data sheets write the family, before the number. */
  lens: string;
  /** Model numbers known to provision from polyprov (UCS / UC Software phones). */
  numbers: readonly string[];
}

// The phones that run UC Software (the ones this server provisions), by family. SoundPoint and
// SoundStation numbers follow models.ts's part-number table; Trio, CCX and Edge E follow Poly's
// product lines. A model missing here can still be given in polyprov's exact spelling (VVX_999).
const FAMILIES: readonly Family[] = [
  { ua: 'VVX', lens: 'VVX', numbers: ['101', '150', '201', '250', '300', '301', '310', '311', '350', '400', '401', '410', '411', '450', '500', '501', '600', '601', '1500'] },
  { ua: 'Trio', lens: 'Trio', numbers: ['8300', '8500', '8800', 'C60'] },
  { ua: 'CCX', lens: 'CCX', numbers: ['350', '400', '500', '505', '600', '700'] },
  { ua: 'Edge', lens: 'Edge', numbers: ['E100', 'E220', 'E300', 'E320', 'E350', 'E400', 'E450', 'E500', 'E550'] },
  { ua: 'SPIP', lens: 'SoundPoint IP', numbers: ['301', '320', '321', '330', '331', '335', '430', '450', '501', '550', '560', '600', '601', '650', '670'] },
  { ua: 'SSIP', lens: 'SoundStation IP', numbers: ['4000', '5000', '6000', '7000'] },
];
// The SoundStation Duo has no number: its User-Agent id is SSDuo (models.ts).
const DUO = 'SSDuo';
const DUO_LENS = 'SoundStation Duo';

const KNOWN: ReadonlySet<string> = new Set([...FAMILIES.flatMap((f) => f.numbers.map((n) => `${f.ua}_${n}`)), DUO]);

// Brand words Lens and spreadsheets put in front of the family: "Poly Trio 8300", "Polycom VVX 450",
// "HP Poly CCX 500", "Polycom RealPresence Trio 8800".
const BRAND = /^(?:hp\s+)?(?:poly(?:com)?\s+)?(?:realpresence\s+)?/i;
const FAMILY_WORDS: readonly [RegExp, string][] = [
  [/^soundpoint\s*ip$|^soundpoint$|^spip$/i, 'SPIP'],
  [/^soundstation\s*ip$|^soundstation$|^ssip$/i, 'SSIP'],
  [/^vvx$/i, 'VVX'],
  [/^trio$/i, 'Trio'],
  [/^ccx$/i, 'CCX'],
  [/^edge$/i, 'Edge'],
];
// Family words, then the number: "Trio 8300", "trio_c60", "SoundPoint IP 335", "Edge E450", "VVX450".
const FAMILY_AND_NUMBER = /^(soundpoint\s*ip|soundpoint|spip|soundstation\s*ip|soundstation|ssip|vvx|trio|ccx|edge)[\s_-]*([a-z]?[0-9]+)$/i;
const DUO_NAME = /^(?:soundstation\s*(?:ip\s*)?duo|ssduo|ss\s*duo)$/i;

/** The Lens-style name of a polyprov model: Trio_8300 → "Trio 8300", SPIP_335 → "SoundPoint IP 335". */
export function lensModelName(model: string): string {
  if (model === DUO) return DUO_LENS;
  const at = model.indexOf('_');
  const family = FAMILIES.find((f) => f.ua === model.slice(0, at));
  return family ? `${family.lens} ${model.slice(at + 1)}` : model;
}

/** The models polyprov knows, in its spelling, family by family. */
export function knownModels(): string[] {
  return [...KNOWN];
}

/** The known model a Lens or polyprov spelling names (case, spaces, "_" and brand words are free), or undefined. */
function knownModel(input: string): string | undefined {
  const text = input.trim().replace(BRAND, '');
  if (DUO_NAME.test(text)) return DUO;
  const parts = FAMILY_AND_NUMBER.exec(text);
  if (!parts) return undefined;
  const word = parts[1]!.trim();
  const ua = FAMILY_WORDS.find(([re]) => re.test(word))?.[1];
  if (ua === undefined) return undefined;
  const model = `${ua}_${parts[2]!.toUpperCase()}`;
  return KNOWN.has(model) ? model : undefined;
}

/** Known models of the family the input seems to name, for the error message. */
function sameFamily(input: string): string[] {
  const text = input.trim().replace(BRAND, '').toLowerCase().replace(/[\s_-]+/g, ' ');
  const family = FAMILIES.find((f) => text.startsWith(f.lens.toLowerCase()) || text.startsWith(f.ua.toLowerCase()));
  return family ? family.numbers.map((n) => `${family.lens} ${n}`) : [];
}

/**
 * The polyprov model (User-Agent spelling, as model policies are keyed) for a model name as Poly
 * Lens writes it ("Trio 8300", "Poly CCX 500", "SoundPoint IP 335") or as polyprov does (Trio_8300,
 * vvx450). A name that is no known model is refused, except polyprov's exact spelling of a
 * well-formed id (VVX_999: a model newer than this table), or anything well-formed with `force`.
 */
export function modelFromLens(input: string, opts: { force?: boolean } = {}): string {
  const known = typeof input === 'string' ? knownModel(input) : undefined;
  if (known !== undefined) return known;
  let canonical: string | undefined;
  try {
    canonical = normalizeModel(input);
  } catch {
    canonical = undefined;
  }
  // Only a family-style id (letters, "_", then the number) counts as exactly spelt: a bare word is more
  // likely a typo than a phone.
  if (canonical !== undefined && (opts.force || (canonical === input && canonical.includes('_')))) return canonical;
  const family = typeof input === 'string' ? sameFamily(input) : [];
  const hint = family.length > 0 ? `known ${family[0]!.replace(/ \S+$/, '')} models: ${family.join(', ')}` : 'e.g. Trio 8300, VVX 450, CCX 600, SoundPoint IP 335 (Lens names) or Trio_8300, VVX_450 (polyprov names)';
  throw new DomainError(`unknown device model ${quoteInput(input)}: ${hint}; a model missing from polyprov's list can be given exactly as the phone reports it (e.g. VVX_999)`);
}
