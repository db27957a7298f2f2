import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { XMLValidator } from 'fast-xml-parser';
import { renderConfigFile } from '../../src/domain/config-file.js';
import { DomainError } from '../../src/domain/domain-error.js';
import { applyDeviceSetRule, effectiveParameters, parseXmlAttributes } from '../../src/domain/polycom-xml.js';
import { conformantParse, hasConformantParser } from './conformant-xml.js';

const TRICKY = [
  { name: 'reg.1.label', value: `Tom & Jerry's <"desk">` },
  { name: 'reg.1.address', value: 'line1\nline2\r\nline3\rend' },
  { name: 'reg.1.displayName', value: '\ttabbed\t' },
  { name: 'reg.1.auth.password', value: '  spaces kept  ' },
  { name: 'msg.mwi.1.callBack', value: 'ünïcödé 日本 😀' },
  { name: 'dialplan.digitmap', value: '[2-9]11|0T|&amp;|&#10;' },
  { name: 'up.welcomeSoundEnabled', value: '' },
] as const;

describe('renderConfigFile', () => {
  it('writes the stock layout: one element per first segment, sorted, attributes in given order', () => {
    const xml = renderConfigFile(
      [
        { name: 'reg.1.address', value: '1001' },
        { name: 'msg.mwi.1.subscribe', value: '1001' },
        { name: 'reg.1.label', value: 'Front desk' },
        { name: 'call.callsPerLineKey', value: '4' },
      ],
      'polyprov: tenant acme',
    );
    assert.equal(
      xml,
      [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
        '<!-- polyprov: tenant acme -->',
        '<polycomConfig xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="polycomConfig.xsd">',
        '  <call call.callsPerLineKey="4"/>',
        '  <msg msg.mwi.1.subscribe="1001"/>',
        '  <reg reg.1.address="1001" reg.1.label="Front desk"/>',
        '</polycomConfig>',
        '',
      ].join('\n'),
    );
  });

  it('sorts groups by code unit, so upper case comes first', () => {
    const xml = renderConfigFile([{ name: 'zz.a', value: '1' }, { name: 'Zz.a', value: '1' }, { name: 'aa.a', value: '1' }]);
    assert.deepEqual([...xml.matchAll(/^ {2}<(\w+)/gm)].map((m) => m[1]), ['Zz', 'aa', 'zz']);
  });

  it('round-trips & < > " \' newline, CR, tab, spaces and unicode unchanged', () => {
    const xml = renderConfigFile(TRICKY);
    assert.equal(XMLValidator.validate(xml), true);
    const parsed = parseXmlAttributes(xml).filter((a) => a.element !== 'polycomConfig');
    assert.deepEqual(parsed.map((a) => a.name), [
      'dialplan.digitmap',
      'msg.mwi.1.callBack',
      'reg.1.label',
      'reg.1.address',
      'reg.1.displayName',
      'reg.1.auth.password',
      'up.welcomeSoundEnabled',
    ]);
    const given = new Map<string, string>(TRICKY.map((p) => [p.name, p.value]));
    for (const { name, value } of parsed) assert.equal(value, given.get(name), name);
  });

  it('writes no raw TAB, LF or CR inside attribute values', () => {
    const xml = renderConfigFile(TRICKY);
    for (const [, value] of xml.matchAll(/="([^"]*)"/g)) {
      assert.doesNotMatch(value ?? '', /[\t\n\r]/);
    }
    assert.match(xml, /line1&#10;line2&#13;&#10;line3&#13;end/);
    assert.match(xml, /&#9;tabbed&#9;/);
  });

  it('is read identically by a conformant XML parser', { skip: !hasConformantParser && 'python3 not available' }, () => {
    const [result] = conformantParse([renderConfigFile(TRICKY)]);
    assert.ok(Array.isArray(result), String(result));
    const expected = parseXmlAttributes(renderConfigFile(TRICKY)).filter((a) => !a.name.includes(':'));
    assert.deepEqual(result.map(([element, name, value]) => ({ element, name, value })), expected);
  });

  it('adds device.set first and <name>.set after each device parameter', () => {
    const xml = renderConfigFile([
      { name: 'device.prov.serverName', value: 'prov.example' },
      { name: 'reg.1.address', value: '1001' },
      { name: 'device.prov.tagSerialNo', value: '1' },
    ]);
    const device = parseXmlAttributes(xml).filter((a) => a.element === 'device').map((a) => [a.name, a.value]);
    assert.deepEqual(device, [
      ['device.set', '1'],
      ['device.prov.serverName', 'prov.example'],
      ['device.prov.serverName.set', '1'],
      ['device.prov.tagSerialNo', '1'],
      ['device.prov.tagSerialNo.set', '1'],
    ]);
    const applied = applyDeviceSetRule(effectiveParameters([xml]));
    assert.deepEqual(Object.fromEntries(applied), {
      'device.prov.serverName': 'prov.example',
      'device.prov.tagSerialNo': '1',
      'reg.1.address': '1001',
    });
  });

  it('adds no device markers when there is no device parameter', () => {
    const xml = renderConfigFile([{ name: 'reg.1.address', value: '1001' }]);
    assert.doesNotMatch(xml, /device/);
  });

  it('renders an empty parameter list as an empty polycomConfig', () => {
    const xml = renderConfigFile([]);
    assert.equal(XMLValidator.validate(xml), true);
    assert.deepEqual(effectiveParameters([xml]), new Map());
  });

  it('refuses invalid names, values and duplicates', () => {
    assert.throws(() => renderConfigFile([{ name: '1abc.x', value: '1' }]), DomainError);
    assert.throws(() => renderConfigFile([{ name: 'device.set', value: '1' }]), /automatically/);
    assert.throws(() => renderConfigFile([{ name: 'CONFIG_FILES', value: 'x' }]), /master-file attribute/);
    assert.throws(() => renderConfigFile([{ name: 'reg.1.label', value: 'bell\u0007' }]), /"reg\.1\.label" contains U\+0007/);
    assert.throws(
      () => renderConfigFile([{ name: 'reg.1.label', value: 'a' }, { name: 'reg.1.label', value: 'b' }]),
      (error: unknown) => error instanceof DomainError && /"reg\.1\.label" appears twice/.test(error.message),
    );
  });

  it('handles a large file quickly', () => {
    const params = Array.from({ length: 5000 }, (_, i) => ({ name: `attendant.resourceList.${i}.label`, value: `Label <${i}> & co` }));
    const started = performance.now();
    const xml = renderConfigFile(params);
    const parsed = effectiveParameters([xml]);
    assert.equal(parsed.size, 5000);
    assert.equal(parsed.get('attendant.resourceList.4999.label'), 'Label <4999> & co');
    assert.ok(performance.now() - started < 1500);
  });
});
