import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OverrideFileParse } from '../../src/domain/override-file.js';
import { effectiveWithOverrides, parseOverrideFile, renderEmptyOverrideFile } from '../../src/domain/override-file.js';
import { conformantParse, hasConformantParser } from './conformant-xml.js';

// Shaped like the files in the fact sheet §4.4: header comments, <PHONE_CONFIG><OVERRIDES …/>.
const PHONE_CFG = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!-- Application SIP Helford6 5.9.6.2996 30-Jan-21 15:34 -->
<!-- Created 14-03-2024 09:12 -->
<!-- Base profile Generic -->
<PHONE_CONFIG>
  <OVERRIDES reg.1.label="Réception &amp; Accueil" up.backlight.idleIntensity="1" lcl.ml.lang="Deutsch_Deutschland" voice.volume.persist.handset="1" attendant.resourceList.1.address="1002" />
</PHONE_CONFIG>
`;

// A web-UI file in the export's layout: a comment naming the secrets left out, a DEVICE_SETTINGS group.
const WEB_CFG = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!-- Application SIP Danube2 5.4.2.4417 05-Jul-16 11:40 -->
<!-- Created 02-11-2016 10:05 -->
<!-- Base profile Generic -->
<!-- The following parameters were not exported: device.auth.localAdminPassword, reg.1.auth.password -->
<WEB_CONFIG>
  <OVERRIDES tcpIpApp.sntp.address="pool.ntp.org" tcpIpApp.sntp.gmtOffset="3600" feature.callListMissed.enabled="0" />
  <DEVICE_SETTINGS device.set="1" device.prov.serverType="FTP" device.prov.serverType.set="1" device.prov.serverName="prov.example.com" device.prov.serverName.set="1" />
</WEB_CONFIG>
`;

function parsed(xml: string): Extract<OverrideFileParse, { ok: true }> {
  const result = parseOverrideFile(xml);
  assert.ok(result.ok, `expected ok, got ${result.ok ? '' : result.error}`);
  return result;
}

function refused(xml: string): string {
  const result = parseOverrideFile(xml);
  assert.ok(!result.ok, 'expected the file to be flagged');
  assert.match(result.error, /^malformed XML: /);
  return result.error;
}

describe('parseOverrideFile', () => {
  it('reads a phone override file and its firmware stamp', () => {
    const result = parsed(PHONE_CFG);
    assert.deepEqual(
      [...result.params],
      [
        ['reg.1.label', 'Réception & Accueil'],
        ['up.backlight.idleIntensity', '1'],
        ['lcl.ml.lang', 'Deutsch_Deutschland'],
        ['voice.volume.persist.handset', '1'],
        ['attendant.resourceList.1.address', '1002'],
      ],
    );
    assert.deepEqual(result.firmware, { codename: 'Helford6', version: '5.9.6.2996' });
  });

  it('collects parameters from every element of a web file, device markers included', () => {
    const result = parsed(WEB_CFG);
    assert.equal(result.params.get('tcpIpApp.sntp.address'), 'pool.ntp.org');
    assert.equal(result.params.get('device.set'), '1');
    assert.equal(result.params.get('device.prov.serverName'), 'prov.example.com');
    assert.equal(result.params.get('device.prov.serverName.set'), '1');
    assert.equal(result.params.size, 8);
    assert.deepEqual(result.firmware, { codename: 'Danube2', version: '5.4.2.4417' });
  });

  it('keeps the first occurrence of a parameter, as phones do', () => {
    const xml = '<PHONE_CONFIG><OVERRIDES reg.1.label="first"/><reg reg.1.label="second" reg.2.label="two"/></PHONE_CONFIG>';
    assert.deepEqual([...parsed(xml).params], [['reg.1.label', 'first'], ['reg.2.label', 'two']]);
  });

  it('ignores namespace attributes', () => {
    const xml = `<PHONE_CONFIG xmlns="urn:x" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="polycomConfig.xsd">
  <OVERRIDES a.b="1"/></PHONE_CONFIG>`;
    assert.deepEqual([...parsed(xml).params], [['a.b', '1']]);
  });

  it('decodes special characters exactly', () => {
    const xml = `<PHONE_CONFIG><OVERRIDES dialplan.digitmap="[2-9]11|0T|+011xxx.T" msg.mwi.1.callBack='say "hi" &lt;now&gt;' reg.1.displayName="Zoë 山田 😀" note.multiline="a&#10;b" empty.value="" /></PHONE_CONFIG>`;
    const params = parsed(xml).params;
    assert.equal(params.get('dialplan.digitmap'), '[2-9]11|0T|+011xxx.T');
    assert.equal(params.get('msg.mwi.1.callBack'), 'say "hi" <now>');
    assert.equal(params.get('reg.1.displayName'), 'Zoë 山田 😀');
    assert.equal(params.get('note.multiline'), 'a\nb');
    assert.equal(params.get('empty.value'), '');
  });

  it('reads an empty override file as no parameters', () => {
    assert.equal(parsed('<PHONE_CONFIG><OVERRIDES/></PHONE_CONFIG>').params.size, 0);
    assert.equal(parsed('\uFEFF<?xml version="1.0"?>\n<WEB_CONFIG/>\n').params.size, 0);
  });

  describe('firmware stamp', () => {
    it('is absent without a stamp comment', () => {
      assert.equal(parsed('<PHONE_CONFIG><OVERRIDES a.b="1"/></PHONE_CONFIG>').firmware, undefined);
      assert.equal(parsed('<!-- Created 02-11-2016 10:05 --><PHONE_CONFIG/>').firmware, undefined);
    });

    it('reads older codenames and a byte-order mark', () => {
      const xml = '\uFEFF<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<!-- Application SIP Mink 4.0.11.0211 21-Jun-16 08:02 -->\n<PHONE_CONFIG/>';
      assert.deepEqual(parsed(xml).firmware, { codename: 'Mink', version: '4.0.11.0211' });
    });

    it('gives the version alone when no codename precedes it', () => {
      assert.deepEqual(parsed('<!-- Application SIP 5.9.6.2996 30-Jan-21 15:34 --><PHONE_CONFIG/>').firmware, { version: '5.9.6.2996' });
    });

    it('only reads comments in front of the root element', () => {
      assert.equal(parsed('<PHONE_CONFIG><!-- Application SIP Helford6 5.9.6.2996 --></PHONE_CONFIG>').firmware, undefined);
    });
  });

  describe('malformed uploads are flagged, never thrown', () => {
    it('an empty or blank body', () => {
      refused('');
      refused('  \r\n');
    });

    it('a truncated file', () => {
      for (const cut of [40, 150, PHONE_CFG.indexOf('/>'), PHONE_CFG.length - 3]) {
        refused(PHONE_CFG.slice(0, cut));
      }
    });

    it('binary garbage decoded as latin1', () => {
      const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256));
      assert.match(refused(bytes.toString('latin1')), /is not a character XML allows/);
      const gzip = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48]);
      refused(gzip.toString('latin1'));
    });

    it('a UTF-8 file decoded as latin1 still parses, with the text garbled', () => {
      const garbled = Buffer.from(PHONE_CFG, 'utf8').toString('latin1');
      assert.equal(parsed(garbled).params.get('reg.1.label'), 'RÃ©ception & Accueil');
    });

    it('text that is not XML, several roots, an undefined entity, a stray attribute token', () => {
      refused('reg.1.label=Reception');
      refused('<PHONE_CONFIG/><WEB_CONFIG/>');
      refused('<!DOCTYPE x [<!ENTITY e "boom">]><PHONE_CONFIG><OVERRIDES a.b="&e;"/></PHONE_CONFIG>');
      refused('<PHONE_CONFIG><OVERRIDES qos.ip.callControl.dscp EF a.b="1"/></PHONE_CONFIG>');
    });

    it('something that is not a string at all', () => {
      const result = parseOverrideFile(Buffer.from('<PHONE_CONFIG/>') as unknown as string);
      assert.equal(result.ok, false);
    });
  });

  it('reads a 1 MB file', () => {
    const attributes = Array.from({ length: 22_000 }, (_, i) => `feature.item.${i}.label="Label ${i} &amp; more"`);
    const groups = [];
    for (let i = 0; i < attributes.length; i += 500) groups.push(`  <OVERRIDES ${attributes.slice(i, i + 500).join(' ')}/>`);
    const xml = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!-- Application SIP Helford6 5.9.6.2996 30-Jan-21 15:34 -->
<PHONE_CONFIG>
${groups.join('\n')}
</PHONE_CONFIG>
`;
    assert.ok(xml.length > 1_048_576, `${xml.length} characters`);
    const started = performance.now();
    const result = parsed(xml);
    assert.ok(performance.now() - started < 5000);
    assert.equal(result.params.size, 22_000);
    assert.equal(result.params.get('feature.item.21999.label'), 'Label 21999 & more');
    assert.equal(result.firmware?.codename, 'Helford6');
  });
});

describe('parseOverrideFile against a conformant XML parser', { skip: !hasConformantParser && 'python3 not available' }, () => {
  it('reads the same parameters and rejects the same documents', () => {
    const documents = [
      PHONE_CFG,
      WEB_CFG,
      renderEmptyOverrideFile('phone'),
      renderEmptyOverrideFile('web'),
      PHONE_CFG.slice(0, 150),
      '<PHONE_CONFIG/><WEB_CONFIG/>',
      '<PHONE_CONFIG><OVERRIDES qos.ip.callControl.dscp EF a.b="1"/></PHONE_CONFIG>',
    ];
    const conformant = conformantParse(documents);
    documents.forEach((xml, i) => {
      const ours = parseOverrideFile(xml);
      const theirs = conformant[i];
      if (typeof theirs === 'string') {
        assert.equal(ours.ok, false, `document ${i}: expat refused it (${theirs})`);
        return;
      }
      assert.ok(ours.ok && theirs, `document ${i}: expat accepted it`);
      const first = new Map<string, string>();
      for (const [, name, value] of theirs) if (!first.has(name)) first.set(name, value);
      assert.deepEqual([...ours.params], [...first], `document ${i}`);
    });
  });
});

describe('renderEmptyOverrideFile', () => {
  it('writes the empty PHONE_CONFIG and WEB_CONFIG files', () => {
    const phone = renderEmptyOverrideFile('phone');
    const web = renderEmptyOverrideFile('web');
    assert.ok(phone.startsWith('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'));
    assert.ok(phone.endsWith('\n'));
    assert.match(phone.replace(/\s+/g, ''), /\?><PHONE_CONFIG><OVERRIDES\/><\/PHONE_CONFIG>$/);
    assert.match(web.replace(/\s+/g, ''), /\?><WEB_CONFIG><OVERRIDES\/><\/WEB_CONFIG>$/);
  });

  it('parses back to no parameters', () => {
    for (const kind of ['phone', 'web'] as const) {
      const result = parsed(renderEmptyOverrideFile(kind));
      assert.equal(result.params.size, 0);
      assert.equal(result.firmware, undefined);
    }
  });
});

describe('effectiveWithOverrides', () => {
  const server = new Map([
    ['reg.1.label', 'Server'],
    ['up.backlight.idleIntensity', '2'],
    ['tcpIpApp.sntp.address', 'ntp.example.com'],
  ]);

  it('puts the phone file over the web file over the server', () => {
    const web = new Map([
      ['reg.1.label', 'Web'],
      ['tcpIpApp.sntp.address', 'pool.ntp.org'],
    ]);
    const phone = new Map([
      ['reg.1.label', 'Phone'],
      ['lcl.ml.lang', 'Francais_France'],
    ]);
    const effective = effectiveWithOverrides(server, web, phone);
    assert.deepEqual(Object.fromEntries(effective), {
      'reg.1.label': { value: 'Phone', source: 'phone' },
      'up.backlight.idleIntensity': { value: '2', source: 'server' },
      'tcpIpApp.sntp.address': { value: 'pool.ntp.org', source: 'web' },
      'lcl.ml.lang': { value: 'Francais_France', source: 'phone' },
    });
  });

  it('works without override files and leaves its inputs alone', () => {
    const effective = effectiveWithOverrides(server, undefined, undefined);
    assert.equal(effective.size, 3);
    assert.ok([...effective.values()].every((entry) => entry.source === 'server'));
    const onlyWeb = effectiveWithOverrides(server, new Map([['reg.1.label', 'Web']]), undefined);
    assert.deepEqual(onlyWeb.get('reg.1.label'), { value: 'Web', source: 'web' });
    assert.equal(server.get('reg.1.label'), 'Server');
  });

  it('takes override parameters the server never set, empty values included', () => {
    const phone = parsed('<PHONE_CONFIG><OVERRIDES reg.1.label="" new.param="x"/></PHONE_CONFIG>').params;
    const effective = effectiveWithOverrides(server, undefined, phone);
    assert.deepEqual(effective.get('reg.1.label'), { value: '', source: 'phone' });
    assert.deepEqual(effective.get('new.param'), { value: 'x', source: 'phone' });
  });
});
