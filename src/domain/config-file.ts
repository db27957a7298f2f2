import { isDeviceParameter, validateParameterName, validateParameterValue } from './parameter.js';
import type { XmlElement } from './xml-document.js';
import { renderXmlDocument } from './xml-document.js';

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

function groupOf(name: string): string {
  const dot = name.indexOf('.');
  return dot === -1 ? name : name.slice(0, dot);
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A UCS configuration file in the stock layout: one element per first name segment. Phones apply
 * device.* parameters only with device.set="1" and <name>.set="1", so those markers are added here
 * rather than stored.
 */
export function renderConfigFile(params: readonly { name: string; value: string }[], comment?: string): string {
  const groups = new Map<string, [string, string][]>();
  for (const { name, value } of params) {
    validateParameterName(name);
    validateParameterValue(name, value);
    const group = groupOf(name);
    let attributes = groups.get(group);
    if (!attributes) {
      attributes = isDeviceParameter(name) ? [['device.set', '1']] : [];
      groups.set(group, attributes);
    }
    attributes.push([name, value]);
    if (isDeviceParameter(name)) attributes.push([`${name}.set`, '1']);
  }

  const children: XmlElement[] = [...groups.keys()]
    .sort(byCodeUnit)
    .map((group) => ({ name: group, attributes: groups.get(group) ?? [] }));
  const root: XmlElement = {
    name: 'polycomConfig',
    attributes: [
      ['xmlns:xsi', XSI],
      ['xsi:noNamespaceSchemaLocation', 'polycomConfig.xsd'],
    ],
    children,
  };
  return renderXmlDocument({ version: '1.0', encoding: 'UTF-8', standalone: 'yes' }, root, comment);
}
