// Derives src/domain/parameter-catalog.json from Poly's stock UC Software configuration templates:
//
//   npx tsx scripts/derive-parameter-catalog.ts [templates-dir]     (default ../shared/reference/ucs-templates)
//
// Names. Every attribute of every template is a parameter name with its stock default. Names become
// catalog patterns the way lookups normalise them (parameterShape: numeric segments -> "*", a
// per-model last segment dropped); the stock default is the first occurrence's, files read in name
// order, preferring an occurrence without a model suffix. Namespace attributes and the device.set /
// device.<name>.set markers (which polyprov writes itself) are left out.
//
// Types. The templates hold default values only, never types, so types are inferred conservatively
// from every value a pattern has in any file, index or model variant (a wrong type refuses values
// phones take; a missing one only lets a typo through):
//   - boolean: every value is "0" or "1" (or empty), and the name's last word is an on/off switch:
//     enabled, enable, a word ending in Enabled/Enable (tcpQosEnabled, vadEnable), or starting with
//     use…, disable…, strict…, require…, applyTo… In the templates every name of these shapes holds
//     only 0, 1 or nothing. allow…, hide…, show…, auto…, prefer… and offer… are not switches:
//     some hold words (feature.VVXD60.allowPairing="None", up.hideSystemIpAddress="Nowhere",
//     up.showDID="AllScreens", call.autoRouting.preference="line").
//   - integer: every value is a whole number without leading zeros (pstn.extension="0000" is a
//     digit string), and no name ending in the same word holds anything else anywhere in the
//     templates: se.pat.*.inst.*.value is "2000" in one pattern and "ringback" in the next,
//     prov.login.password.encodingMode is "123" where prov.login.userId.encodingMode is "abc".
//     Words ending in list/List are lists (lcl.ml.lang.list="1,2,3,…"), and DSCP values may be
//     class names such as EF: neither is inferred.
//   - string (no constraint) otherwise.
// src/domain/parameter-types.json then sets the types polyprov is sure about, each with its
// source; a curated type wins over an inferred one. The output depends only on the templates and
// that file, so running it again gives the same bytes.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parameterShape, type ParameterType } from '../src/domain/parameter-catalog.js';
import { describeType, valueFits } from '../src/domain/parameter-check.js';
import { parseXmlAttributes } from '../src/domain/polycom-xml.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const OUT = join(ROOT, 'src/domain/parameter-catalog.json');
const CURATED = join(ROOT, 'src/domain/parameter-types.json');

export type InferredType = 'boolean' | 'integer' | 'string';

const WHOLE_NUMBER = /^-?(?:0|[1-9][0-9]*)$/;
const SWITCH_WORD = /^(?:enabled?|.*[a-z0-9]Enabled?|use[A-Z].*|disable.*|strict[A-Z].*|require.*|applyTo[A-Z].*)$/;
const LIST_WORD = /(?:^l|L)ist$/;

/** The last segment of a pattern that is not an index: reg.*.server.*.port -> port, tone.chord.ringer.A3.freq.* -> freq. */
export function lastWord(pattern: string): string {
  const words = pattern.split('.').filter((segment) => segment !== '*');
  return words[words.length - 1] ?? '';
}

/** Whether a last word names an on/off switch (see the rule above). */
export function isSwitchWord(word: string): boolean {
  return SWITCH_WORD.test(word);
}

/** The last words that hold something other than a whole number in at least one pattern. */
export function wordsHoldingText(valuesByPattern: ReadonlyMap<string, Iterable<string>>): Set<string> {
  const words = new Set<string>();
  for (const [pattern, values] of valuesByPattern) {
    for (const value of values) {
      if (value !== '' && !WHOLE_NUMBER.test(value)) words.add(lastWord(pattern));
    }
  }
  return words;
}

/** The type the templates' values imply for one pattern (rules above); `textWords` from wordsHoldingText. */
export function inferType(pattern: string, values: Iterable<string>, textWords: ReadonlySet<string>): InferredType {
  const given = [...values].filter((value) => value !== '');
  if (given.length === 0) return 'string';
  const word = lastWord(pattern);
  if (given.every((value) => value === '0' || value === '1') && isSwitchWord(word)) return 'boolean';
  if (!given.every((value) => WHOLE_NUMBER.test(value)) || textWords.has(word)) return 'string';
  if (LIST_WORD.test(word) || pattern.split('.').includes('dscp')) return 'string';
  return 'integer';
}

interface CuratedFile {
  rules: { lastSegment: string; type: ParameterType; source: string }[];
  patterns: Record<string, { type: ParameterType; source: string }>;
}

/** A curated type with its bounds widened to take `stockDefault` (a rule covers names whose defaults it cannot list). */
function widenedTo(type: ParameterType, stockDefault: string): ParameterType {
  if (typeof type !== 'object' || !('min' in type || 'max' in type) || !WHOLE_NUMBER.test(stockDefault)) return type;
  const n = Number(stockDefault);
  return {
    ...(type.min !== undefined ? { min: Math.min(type.min, n) } : {}),
    ...(type.max !== undefined ? { max: Math.max(type.max, n) } : {}),
  };
}

function isWellFormed(type: unknown): type is ParameterType {
  if (type === 'string' || type === 'boolean' || type === 'integer') return true;
  if (typeof type !== 'object' || type === null) return false;
  const keys = Object.keys(type).sort().join(',');
  const t = type as Record<string, unknown>;
  if (keys === 'oneOf') return Array.isArray(t.oneOf) && t.oneOf.length > 0 && t.oneOf.every((v) => typeof v === 'string' && v !== '');
  if (keys === 'format') return t.format === 'HH:MM';
  if (keys === 'max' || keys === 'min' || keys === 'max,min') {
    return [t.min, t.max].every((b) => b === undefined || Number.isSafeInteger(b)) && !(typeof t.min === 'number' && typeof t.max === 'number' && t.min > t.max);
  }
  return false;
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

function main(): void {
  const dir = resolve(process.argv[2] ?? join(ROOT, '../shared/reference/ucs-templates'));
  const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const isNamespaceAttribute = (name: string) => name === 'xmlns' || name.startsWith('xmlns:') || name.startsWith('xsi:');
  const isDeviceSetMarker = (name: string) => name === 'device.set' || (name.startsWith('device.') && name.endsWith('.set'));

  const files = readdirSync(dir).filter((f) => f.endsWith('.cfg')).sort(byCodeUnit);
  if (files.length === 0) fail(`no .cfg templates in ${dir}`);

  const found = new Map<string, { value: string; suffixed: boolean }>();
  const values = new Map<string, Set<string>>();
  const digest = createHash('sha256');
  let names = 0;
  for (const file of files) {
    const xml = readFileSync(join(dir, file), 'utf8');
    digest.update(`${file}\0${xml}\0`);
    let attributes;
    try {
      attributes = parseXmlAttributes(xml);
    } catch (error) {
      fail(`${file}: ${(error as Error).message}`);
    }
    for (const { name, value } of attributes) {
      if (isNamespaceAttribute(name) || isDeviceSetMarker(name)) continue;
      names++;
      const { pattern, modelTag } = parameterShape(name);
      const suffixed = modelTag !== undefined;
      const seen = found.get(pattern);
      if (!seen || (seen.suffixed && !suffixed)) found.set(pattern, { value, suffixed });
      let set = values.get(pattern);
      if (!set) values.set(pattern, (set = new Set()));
      set.add(value);
    }
  }

  const curatedText = readFileSync(CURATED, 'utf8');
  const curated = JSON.parse(curatedText) as CuratedFile;
  const textWords = wordsHoldingText(values);
  const keys = [...found.keys()].sort(byCodeUnit);
  const typeOf = new Map<string, ParameterType>(keys.map((key) => [key, inferType(key, values.get(key)!, textWords)]));
  for (const rule of curated.rules) {
    if (!isWellFormed(rule.type)) fail(`parameter-types.json: the rule for .${rule.lastSegment} has a malformed type ${JSON.stringify(rule.type)}`);
    for (const key of keys) {
      if (key.split('.').pop() === rule.lastSegment) typeOf.set(key, widenedTo(rule.type, found.get(key)!.value));
    }
  }
  for (const [pattern, entry] of Object.entries(curated.patterns)) {
    if (!found.has(pattern)) fail(`parameter-types.json: ${pattern} is not a pattern of the templates: curate only names the catalog knows`);
    if (!isWellFormed(entry.type)) fail(`parameter-types.json: ${pattern} has a malformed type ${JSON.stringify(entry.type)}`);
    if (typeof entry.source !== 'string' || entry.source === '') fail(`parameter-types.json: ${pattern} has no source`);
    for (const value of values.get(pattern)!) {
      if (value !== '' && !valueFits(entry.type, value)) {
        fail(`parameter-types.json: ${pattern} is ${JSON.stringify(value)} in the templates, which its type (${describeType(entry.type)}) refuses`);
      }
    }
    typeOf.set(pattern, entry.type);
  }

  const patterns: Record<string, string> = {};
  const types: Record<string, ParameterType> = {};
  const counts: Record<string, number> = {};
  for (const key of keys) {
    patterns[key] = found.get(key)!.value;
    const type = typeOf.get(key)!;
    const kind = typeof type === 'string' ? type : Object.keys(type).join('+');
    counts[kind] = (counts[kind] ?? 0) + 1;
    if (type !== 'string') types[key] = type;
  }
  const catalog = {
    source:
      `Poly UC Software 5.x stock configuration templates (${files.join(', ')}; sha256 ${digest.digest('hex').slice(0, 16)}), ` +
      'derived by scripts/derive-parameter-catalog.ts: numeric segments are "*", per-model suffixes folded into the base name',
    typesSource:
      `inferred from the templates' values by scripts/derive-parameter-catalog.ts (0/1 switches, whole numbers), then src/domain/parameter-types.json ` +
      `(sha256 ${createHash('sha256').update(curatedText).digest('hex').slice(0, 16)}); patterns not listed are strings`,
    count: found.size,
    patterns,
    types,
  };
  const text = `${JSON.stringify(catalog, null, 2)}\n`;
  writeFileSync(OUT, text);
  const summary = Object.entries(counts).map(([kind, n]) => `${n} ${kind}`).join(', ');
  process.stdout.write(
    `${files.length} templates in ${basename(dir)}, ${names} parameter names -> ${found.size} patterns (${summary}), ${Buffer.byteLength(text)} bytes in ${relative(process.cwd(), OUT)}\n`,
  );
}

// Tests import the inference rules; only running the file derives the catalog.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
