// Derives src/domain/parameter-catalog.json from Poly's stock UC Software configuration templates:
//
//   npx tsx scripts/derive-parameter-catalog.ts [templates-dir]     (default ../shared/reference/ucs-templates)
//
// Every attribute of every template is a parameter name with its stock default. Names become
// catalog patterns the way lookups normalise them (parameterShape: numeric segments -> "*", a
// per-model last segment dropped); the stock default is the first occurrence's, files read in name
// order, preferring an occurrence without a model suffix. Namespace attributes and the device.set /
// device.<name>.set markers (which polyprov writes itself) are left out. The output depends only on
// the templates' contents, so running it again on the same templates gives the same bytes.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parameterShape } from '../src/domain/parameter-catalog.js';
import { parseXmlAttributes } from '../src/domain/polycom-xml.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const OUT = join(ROOT, 'src/domain/parameter-catalog.json');
const dir = resolve(process.argv[2] ?? join(ROOT, '../shared/reference/ucs-templates'));

const isNamespaceAttribute = (name: string) => name === 'xmlns' || name.startsWith('xmlns:') || name.startsWith('xsi:');
const isDeviceSetMarker = (name: string) => name === 'device.set' || (name.startsWith('device.') && name.endsWith('.set'));
const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const files = readdirSync(dir).filter((f) => f.endsWith('.cfg')).sort(byCodeUnit);
if (files.length === 0) {
  process.stderr.write(`no .cfg templates in ${dir}\n`);
  process.exit(1);
}

const found = new Map<string, { value: string; suffixed: boolean }>();
const digest = createHash('sha256');
let names = 0;
for (const file of files) {
  const xml = readFileSync(join(dir, file), 'utf8');
  digest.update(`${file}\0${xml}\0`);
  let attributes;
  try {
    attributes = parseXmlAttributes(xml);
  } catch (error) {
    process.stderr.write(`${file}: ${(error as Error).message}\n`);
    process.exit(1);
  }
  for (const { name, value } of attributes) {
    if (isNamespaceAttribute(name) || isDeviceSetMarker(name)) continue;
    names++;
    const { pattern, modelTag } = parameterShape(name);
    const suffixed = modelTag !== undefined;
    const seen = found.get(pattern);
    if (!seen || (seen.suffixed && !suffixed)) found.set(pattern, { value, suffixed });
  }
}

const patterns: Record<string, string> = {};
for (const key of [...found.keys()].sort(byCodeUnit)) patterns[key] = found.get(key)!.value;
const catalog = {
  source:
    `Poly UC Software 5.x stock configuration templates (${files.join(', ')}; sha256 ${digest.digest('hex').slice(0, 16)}), ` +
    'derived by scripts/derive-parameter-catalog.ts: numeric segments are "*", per-model suffixes folded into the base name',
  count: found.size,
  patterns,
};
const text = `${JSON.stringify(catalog, null, 2)}\n`;
writeFileSync(OUT, text);
process.stdout.write(
  `${files.length} templates in ${basename(dir)}, ${names} parameter names -> ${found.size} patterns, ${Buffer.byteLength(text)} bytes in ${relative(process.cwd(), OUT)}\n`,
);
