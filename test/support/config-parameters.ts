import { XMLParser } from 'fast-xml-parser';

/** Every parameter a served Polycom config file sets, by name (a real XML parse: &#10; and the like decoded). */
export function configParameters(xml: string): Map<string, string> {
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', ignoreDeclaration: true, parseAttributeValue: false, htmlEntities: true }).parse(xml) as unknown;
  const out = new Map<string, string>();
  const walk = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) {
      if (k.startsWith('@')) {
        if (!k.startsWith('@xmlns') && !k.startsWith('@xsi:')) out.set(k.slice(1), String(v));
      } else walk(v);
    }
  };
  walk(doc);
  return out;
}
