// A second, independent opinion on documents polyprov renders: Python's expat-based parser is a
// conformant XML 1.0 parser (it applies attribute-value normalisation, which fast-xml-parser does
// not). Tests skip this check where python3 is missing.
import { spawnSync } from 'node:child_process';

const SCRIPT = `
import json, sys
import xml.etree.ElementTree as ET
out = []
for doc in json.load(sys.stdin):
    try:
        root = ET.fromstring(doc.encode('utf-8'))
        out.append([[el.tag, k, v] for el in root.iter() for k, v in el.attrib.items() if not k.startswith('{')])
    except ET.ParseError as e:
        out.append(str(e))
json.dump(out, sys.stdout)
`;

export type ConformantResult = [element: string, name: string, value: string][] | string;

function probe(): boolean {
  try {
    return spawnSync('python3', ['-c', 'import xml.etree.ElementTree'], { timeout: 5000 }).status === 0;
  } catch {
    return false;
  }
}

export const hasConformantParser = probe();

/** Attributes (without namespaced ones) per document, or the parser's error message. */
export function conformantParse(documents: readonly string[]): ConformantResult[] {
  const run = spawnSync('python3', ['-c', SCRIPT], { input: JSON.stringify(documents), encoding: 'utf8', timeout: 10_000 });
  if (run.status !== 0) throw new Error(`python3 failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as ConformantResult[];
}
