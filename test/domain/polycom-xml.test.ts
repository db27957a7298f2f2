import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { XMLValidator } from 'fast-xml-parser';
import { DomainError } from '../../src/domain/domain-error.js';
import {
  applyDeviceSetRule,
  effectiveParameters,
  parseMasterFile,
  parseXmlAttributes,
  splitConfigFiles,
} from '../../src/domain/polycom-xml.js';

function malformed(xml: string, message: RegExp): void {
  assert.throws(() => parseXmlAttributes(xml), (error: unknown) => {
    assert.ok(error instanceof DomainError, `expected DomainError for ${JSON.stringify(xml)}, got ${String(error)}`);
    assert.match(error.message, /^malformed XML: /);
    assert.match(error.message, message);
    return true;
  });
}

describe('parseXmlAttributes', () => {
  it('returns every attribute of every element in document order', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!-- Application SIP Helford6 5.9.6.2996 30-Jan-21 15:34 -->
<PHONE_CONFIG a="1">
  <OVERRIDES reg.1.label="x" up.backlight.idleIntensity='2'/>
  <msg><msg.mwi msg.mwi.1.subscribe="1001"/></msg>
  <tail z="3"></tail>
</PHONE_CONFIG>`;
    assert.deepEqual(parseXmlAttributes(xml), [
      { element: 'PHONE_CONFIG', name: 'a', value: '1' },
      { element: 'OVERRIDES', name: 'reg.1.label', value: 'x' },
      { element: 'OVERRIDES', name: 'up.backlight.idleIntensity', value: '2' },
      { element: 'msg.mwi', name: 'msg.mwi.1.subscribe', value: '1001' },
      { element: 'tail', name: 'z', value: '3' },
    ]);
  });

  it('decodes predefined entities and character references, keeping values exactly', () => {
    const xml = '<a v="&amp;&lt;&gt;&quot;&apos;&#10;&#x9;&#13;&#x1F600;" w="  padded  " n="007" b="true" e=""/>';
    assert.deepEqual(parseXmlAttributes(xml).map((a) => a.value), ['&<>"\'\n\t\r😀', '  padded  ', '007', 'true', '']);
  });

  it('normalises raw whitespace in attribute values like a conformant parser', () => {
    assert.equal(parseXmlAttributes('<a v="one\ntwo\tthree\r\nfour"/>')[0]?.value, 'one two three four');
  });

  it('accepts a byte-order mark, names like constructor and __proto__, and self-closing children', () => {
    const xml = '\uFEFF<constructor __proto__="p" constructor="c" toString="t"><prototype hasOwnProperty="h"/></constructor>';
    assert.deepEqual(parseXmlAttributes(xml), [
      { element: 'constructor', name: '__proto__', value: 'p' },
      { element: 'constructor', name: 'constructor', value: 'c' },
      { element: 'constructor', name: 'toString', value: 't' },
      { element: 'prototype', name: 'hasOwnProperty', value: 'h' },
    ]);
    assert.equal(({} as Record<string, unknown>).p, undefined);
  });

  it('does not expand DOCTYPE entities', () => {
    malformed('<!DOCTYPE a [<!ENTITY e "expanded">]><a v="&e;"/>', /unknown entity &e;/);
    malformed(
      '<!DOCTYPE a [<!ENTITY x "xxxxxxxxxx"><!ENTITY y "&x;&x;&x;&x;&x;&x;&x;&x;&x;&x;">]><a v="&y;"/>',
      /unknown entity|entit/i,
    );
  });

  it('rejects malformed documents with the reason', () => {
    malformed('', /Start tag expected/);
    malformed('not xml', /not expected/);
    malformed('<a><b></a>', /Expected closing tag 'b'/);
    malformed('<a x="1" x="2"/>', /repeated/);
    malformed('<a x=1/>', /without value/);
    malformed('<a/><b/>', /exactly one root element.*found 2 root elements/);
    malformed('<a/>junk', /text outside/);
    malformed('<a v="fish & chips"/>', /"&" must start a reference/);
    malformed('<a v="a<b"/>', /"<" inside an attribute value/);
    malformed('<a v="&nbsp;"/>', /unknown entity &nbsp;/);
    malformed('<a v="&#0;"/>', /&#0; is not a character/);
    malformed('<a v="&#xD800;"/>', /is not a character/);
    malformed('<a v="\u0001"/>', /U\+0001/);
    malformed('<a v="1"', /./);
  });
});

describe('parseMasterFile', () => {
  it('collects attributes from any element; the first occurrence wins', () => {
    // The layout of a production file that splits attributes over <Software> and <Configuration>.
    const xml = `<?xml version="1.0" standalone="yes"?>
<APPLICATION LOG_FILE_DIRECTORY="logs" CONTACTS_DIRECTORY="">
  <Software APP_FILE_PATH="sip.ld" APP_FILE_PATH_Trio8800="trio/sip.ld"/>
  <Configuration CONFIG_FILES="a.cfg, b.cfg" CONFIG_FILES_Trio8800="trio.cfg" LOG_FILE_DIRECTORY="ignored"/>
</APPLICATION>`;
    assert.deepEqual(Object.fromEntries(parseMasterFile(xml)), {
      LOG_FILE_DIRECTORY: 'logs',
      CONTACTS_DIRECTORY: '',
      APP_FILE_PATH: 'sip.ld',
      APP_FILE_PATH_Trio8800: 'trio/sip.ld',
      CONFIG_FILES: 'a.cfg, b.cfg',
      CONFIG_FILES_Trio8800: 'trio.cfg',
    });
  });
});

describe('splitConfigFiles', () => {
  it('splits on commas, trims and drops empties', () => {
    assert.deepEqual(splitConfigFiles('a.cfg, b.cfg,c.cfg'), ['a.cfg', 'b.cfg', 'c.cfg']);
    assert.deepEqual(splitConfigFiles(' , a.cfg,, ,b.cfg , '), ['a.cfg', 'b.cfg']);
    assert.deepEqual(splitConfigFiles(''), []);
    assert.deepEqual(splitConfigFiles('[PHONE_MAC_ADDRESS]-ext.cfg, http://h/x.cfg'), ['[PHONE_MAC_ADDRESS]-ext.cfg', 'http://h/x.cfg']);
  });
});

describe('effectiveParameters', () => {
  const first = `<polycomConfig xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="polycomConfig.xsd">
  <reg reg.1.address="1001" reg.1.label="first"/>
</polycomConfig>`;
  const second = `<PHONE_CONFIG><OVERRIDES reg.1.label="second" reg.1.address="9999" up.backlight.idleIntensity="1"/>
<more reg.1.lineKeys="2" up.backlight.idleIntensity="3"/></PHONE_CONFIG>`;

  it('lets the first file that defines a parameter win, and ignores namespace attributes', () => {
    assert.deepEqual([...effectiveParameters([first, second])], [
      ['reg.1.address', '1001'],
      ['reg.1.label', 'first'],
      ['up.backlight.idleIntensity', '1'],
      ['reg.1.lineKeys', '2'],
    ]);
  });

  it('depends on the order of the files', () => {
    const params = effectiveParameters([second, first]);
    assert.equal(params.get('reg.1.label'), 'second');
    assert.equal(params.get('reg.1.address'), '9999');
  });

  it('fails on a malformed file', () => {
    assert.throws(() => effectiveParameters([first, '<broken']), DomainError);
  });
});

describe('applyDeviceSetRule', () => {
  const params = (entries: Record<string, string>) => new Map(Object.entries(entries));

  it('keeps device parameters only with device.set="1" and <name>.set="1", and drops the markers', () => {
    const applied = applyDeviceSetRule(params({
      'device.set': '1',
      'device.prov.serverName': 'prov.example',
      'device.prov.serverName.set': '1',
      'device.prov.user': 'phone',
      'device.prov.password': 'secret',
      'device.prov.password.set': '0',
      'reg.1.address': '1001',
    }));
    assert.deepEqual([...applied], [['device.prov.serverName', 'prov.example'], ['reg.1.address', '1001']]);
  });

  it('ignores every device parameter without device.set="1"', () => {
    for (const deviceSet of [undefined, '0', 'yes']) {
      const entries: Record<string, string> = { 'device.prov.serverName': 'x', 'device.prov.serverName.set': '1', 'reg.1.address': '1' };
      if (deviceSet !== undefined) entries['device.set'] = deviceSet;
      assert.deepEqual([...applyDeviceSetRule(params(entries))], [['reg.1.address', '1']], String(deviceSet));
    }
  });

  it('leaves the input map alone', () => {
    const input = params({ 'device.set': '1', 'device.x': '1' });
    applyDeviceSetRule(input);
    assert.equal(input.size, 2);
  });
});

const TEMPLATES = new URL('../../../shared/reference/ucs-templates/', import.meta.url);

describe('stock UCS template files', () => {
  it('parse and yield their many parameters', () => {
    const expectations: [file: string, atLeast: number, sample: string, value: string][] = [
      ['reg-basic.cfg', 30, 'reg.1.insertOBPAddressInRoute', '1'],
      ['features.cfg', 500, 'dir.local.contacts.maxNum.VVX101', '99'],
      ['site.cfg', 1500, 'prov.autoConfigUpload.enabled', '1'],
      ['device.cfg', 300, 'device.set', '0'],
    ];
    for (const [file, atLeast, sample, value] of expectations) {
      const xml = readFileSync(new URL(file, TEMPLATES), 'utf8');
      assert.equal(XMLValidator.validate(xml), true, file);
      const attributes = parseXmlAttributes(xml);
      assert.ok(attributes.length >= atLeast, `${file}: ${attributes.length} attributes`);
      const params = effectiveParameters([xml]);
      assert.equal(params.get(sample), value, `${file}: ${sample}`);
      assert.ok(!params.has('xmlns:xsi') && !params.has('xsi:noNamespaceSchemaLocation'));
    }
  });

  it('carry per-model values and stock device parameters that stay off until enabled', () => {
    const features = effectiveParameters([readFileSync(new URL('features.cfg', TEMPLATES), 'utf8')]);
    assert.equal(features.get('dir.local.contacts.maxNum.VVX101'), '99');
    const device = effectiveParameters([readFileSync(new URL('device.cfg', TEMPLATES), 'utf8')]);
    assert.ok([...device.keys()].filter((name) => name.startsWith('device.')).length > 100);
    assert.equal([...applyDeviceSetRule(device).keys()].filter((name) => name.startsWith('device.')).length, 0);
  });
});
