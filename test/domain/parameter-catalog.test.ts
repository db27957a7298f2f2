import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inferType, isSwitchWord, lastWord, wordsHoldingText } from '../../scripts/derive-parameter-catalog.js';
import catalog from '../../src/domain/parameter-catalog.json' with { type: 'json' };
import curated from '../../src/domain/parameter-types.json' with { type: 'json' };
import { boundedEditDistance, catalogSize, isModelTag, lookupParameter, parameterShape, type ParameterType } from '../../src/domain/parameter-catalog.js';
import { valueFits } from '../../src/domain/parameter-check.js';

const catalogTypes = catalog.types as unknown as Record<string, ParameterType>;
const curatedTypes = curated.patterns as unknown as Record<string, { type: ParameterType; source: string }>;

/** The type the catalog gives a pattern. */
function typeOf(pattern: string): ParameterType {
  assert.ok(Object.hasOwn(catalog.patterns, pattern), `${pattern} is in the catalog`);
  return Object.hasOwn(catalogTypes, pattern) ? catalogTypes[pattern] : 'string';
}

function suggestionsFor(name: string): string[] {
  const found = lookupParameter(name);
  assert.equal(found.known, false, `${name} should be unknown`);
  return found.known ? [] : found.suggestions;
}

describe('parameter catalog data', () => {
  const keys = Object.keys(catalog.patterns);

  it('has more than 2000 patterns, counted, sorted and unique', () => {
    assert.ok(keys.length > 2000, `only ${keys.length} patterns`);
    assert.equal(catalog.count, keys.length);
    assert.equal(catalogSize(), keys.length);
    assert.deepEqual(keys, [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    assert.match(catalog.source, /UC Software/);
  });

  it('holds patterns only: no numeric segment, no model suffix, no namespace attribute, no device.set marker', () => {
    for (const key of keys) {
      assert.equal(parameterShape(key).pattern, key, key);
      assert.ok(!key.startsWith('xmlns') && !key.startsWith('xsi:'), key);
      assert.ok(key !== 'device.set' && !(key.startsWith('device.') && key.endsWith('.set')), key);
    }
  });

  it('maps every pattern to a string stock default', () => {
    for (const [key, value] of Object.entries(catalog.patterns)) assert.equal(typeof value, 'string', key);
  });

  it('types only catalog patterns, lists no "string" type, and every stock default fits its type', () => {
    const typed = Object.keys(catalogTypes);
    assert.ok(typed.length > 1000, `only ${typed.length} typed patterns`);
    let booleans = 0;
    for (const [pattern, type] of Object.entries(catalogTypes)) {
      assert.ok(Object.hasOwn(catalog.patterns, pattern), pattern);
      assert.notEqual(type, 'string', pattern);
      if (type === 'boolean') booleans++;
      const stockDefault = (catalog.patterns as Record<string, string>)[pattern];
      assert.ok(stockDefault === '' || valueFits(type, stockDefault), `${pattern}: stock default ${JSON.stringify(stockDefault)} does not fit ${JSON.stringify(type)}`);
    }
    assert.ok(booleans > 200, `only ${booleans} booleans`);
    assert.match(catalog.typesSource, /parameter-types\.json/);
  });
});

describe('type inference from the templates (scripts/derive-parameter-catalog.ts)', () => {
  // Values as the stock templates hold them, for real catalog entries.
  const templateValues = new Map<string, string[]>([
    ['feature.callPark.enabled', ['0']],
    ['powerSaving.enable', ['1', '0']],
    ['qos.ethernet.tcpQosEnabled', ['0']],
    ['voice.vadEnable', ['0']],
    ['voIpProt.SIP.useSendonlyHold', ['1']],
    ['call.shared.disableDivert', ['1']],
    ['reg.*.strictLineSeize', ['0']],
    ['sec.srtp.requireMatchingTag', ['1']],
    ['dialplan.applyToForward', ['0']],
    ['apps.push.alertSound', ['0']],
    ['feature.VVXD60.allowLineMappings', ['0']],
    ['feature.VVXD60.allowPairing', ['None']],
    ['reg.*.server.*.expires', ['3600']],
    ['lcl.dtmfLevel', ['-7']],
    ['call.callsPerLineKey', ['24', '8']],
    ['pstn.extension', ['0000']],
    ['prov.login.userId.encodingMode', ['abc']],
    ['prov.login.password.encodingMode', ['123']],
    ['se.pat.misc.custom1.inst.*.value', ['12', '']],
    ['se.pat.misc.misc5.inst.*.value', ['A3Major', 'Db3Major', '3000', '-11']],
    ['sec.TLS.profile.*.caCert.defaultList', ['1']],
    ['lcl.ml.lang.list', ['All', '1,2,3,4,5,6,7,8,9,10,13,14,15,16,17,18,19,22']],
    ['qos.ip.rtp.dscp.assuredService.*', ['46', '45', '43', '42', '41']],
    ['reg.*.address', ['']],
    ['up.showDID', ['AllScreens']],
  ]);
  const textWords = wordsHoldingText(templateValues);
  const inferred = (pattern: string) => inferType(pattern, templateValues.get(pattern)!, textWords);

  it('takes the last word that is not an index', () => {
    assert.equal(lastWord('reg.*.server.*.port'), 'port');
    assert.equal(lastWord('tone.chord.ringer.A3.freq.*'), 'freq');
    assert.equal(lastWord('prov.polling.enabled'), 'enabled');
  });

  it('knows on/off switch words, and not allow…, hide…, show… or auto…', () => {
    for (const word of ['enabled', 'enable', 'tcpQosEnabled', 'vadEnable', 'useOutboundProxy', 'disable', 'disableDivert', 'strictLineSeize', 'require', 'requireMatchingTag', 'applyToForward']) {
      assert.ok(isSwitchWord(word), word);
    }
    for (const word of ['allowPairing', 'allowLineMappings', 'hideSystemIpAddress', 'showDID', 'autoAnswer', 'enabledFor', 'useful', 'Enabled', 'port', 'alertSound']) {
      assert.ok(!isSwitchWord(word), word);
    }
  });

  it('infers booleans from 0/1 values of switch names', () => {
    for (const pattern of ['feature.callPark.enabled', 'powerSaving.enable', 'qos.ethernet.tcpQosEnabled', 'voice.vadEnable', 'voIpProt.SIP.useSendonlyHold', 'call.shared.disableDivert', 'reg.*.strictLineSeize', 'sec.srtp.requireMatchingTag', 'dialplan.applyToForward']) {
      assert.equal(inferred(pattern), 'boolean', pattern);
      assert.equal(typeOf(pattern), 'boolean', `${pattern} in the catalog`);
    }
  });

  it('infers integers from whole numbers, negative ones too, when the name is no switch', () => {
    for (const pattern of ['apps.push.alertSound', 'feature.VVXD60.allowLineMappings', 'reg.*.server.*.expires', 'lcl.dtmfLevel', 'call.callsPerLineKey']) {
      assert.equal(inferred(pattern), 'integer', pattern);
      assert.equal(typeOf(pattern), 'integer', `${pattern} in the catalog`);
    }
  });

  it('leaves digit strings, words that hold text elsewhere, lists, DSCP values and empty defaults untyped', () => {
    assert.ok(textWords.has('encodingMode') && textWords.has('value') && !textWords.has('expires'));
    for (const pattern of [
      'pstn.extension',
      'prov.login.password.encodingMode',
      'se.pat.misc.custom1.inst.*.value',
      'sec.TLS.profile.*.caCert.defaultList',
      'lcl.ml.lang.list',
      'qos.ip.rtp.dscp.assuredService.*',
      'reg.*.address',
      'feature.VVXD60.allowPairing',
      'up.showDID',
    ]) {
      assert.equal(inferred(pattern), 'string', pattern);
      assert.equal(typeOf(pattern), 'string', `${pattern} in the catalog`);
    }
  });
});

describe('curated types (parameter-types.json)', () => {
  it('gives every entry a source, and the catalog carries each curated type over the inferred one', () => {
    const entries = Object.entries(curatedTypes);
    assert.ok(entries.length >= 15, `${entries.length} entries`);
    for (const [pattern, { type, source }] of entries) {
      assert.ok(typeof source === 'string' && source.length > 10, `${pattern} has a source`);
      assert.deepEqual(typeOf(pattern), type, pattern);
    }
    for (const rule of curated.rules) assert.ok(rule.source.length > 10, rule.lastSegment);
  });

  it('holds what polyprov knows about polling, boot servers, push and check-sync', () => {
    assert.deepEqual(typeOf('prov.polling.mode'), { oneOf: ['abs', 'rel', 'random'] });
    assert.deepEqual(typeOf('prov.polling.period'), { min: 3601 });
    assert.deepEqual(typeOf('prov.polling.time'), { format: 'HH:MM' });
    assert.deepEqual(typeOf('apps.push.messageType'), { min: 0, max: 5 });
    assert.deepEqual(typeOf('device.dhcp.bootSrvOpt'), { min: 128, max: 254 });
    const serverType = typeOf('device.prov.serverType');
    assert.ok(typeof serverType === 'object' && 'oneOf' in serverType);
    for (const v of ['FTP', 'TFTP', 'HTTP', 'HTTPS', 'FTPS', '2', '3']) assert.ok(serverType.oneOf.includes(v), v);
    const bootSrv = typeOf('device.dhcp.bootSrvUseOpt');
    assert.ok(typeof bootSrv === 'object' && 'oneOf' in bootSrv);
    for (const v of ['0', '1', '2', '3', 'Static', 'CustomAndDefault']) assert.ok(bootSrv.oneOf.includes(v), v);
    for (const name of ['alwaysReboot', 'downloadCallList', 'downloadDirectory']) assert.equal(typeOf(`voIpProt.SIP.specialEvent.checkSync.${name}`), 'boolean', name);
  });

  it('types every .port name as a port number, with 0 where that is the stock default', () => {
    const ports = Object.keys(catalog.patterns).filter((p) => p.endsWith('.port'));
    assert.ok(ports.length >= 15, `${ports.length} ports`);
    for (const pattern of ports) {
      const stockDefault = (catalog.patterns as Record<string, string>)[pattern];
      assert.deepEqual(typeOf(pattern), { min: stockDefault === '0' ? 0 : 1, max: 65535 }, pattern);
    }
    assert.deepEqual(typeOf('httpd.cfg.port'), { min: 1, max: 65535 });
    assert.deepEqual(typeOf('reg.*.server.*.port'), { min: 0, max: 65535 });
  });
});

describe('parameterShape', () => {
  it('turns numeric segments into "*" and keeps the indices', () => {
    assert.deepEqual(parameterShape('reg.1.address'), { pattern: 'reg.*.address', indices: ['1'], modelTag: undefined });
    assert.deepEqual(parameterShape('tone.chord.ringer.1.freq.2'), { pattern: 'tone.chord.ringer.*.freq.*', indices: ['1', '2'], modelTag: undefined });
  });

  it('strips a model tag in last position only', () => {
    assert.deepEqual(parameterShape('call.callsPerLineKey.VVX101'), { pattern: 'call.callsPerLineKey', indices: [], modelTag: 'VVX101' });
    assert.deepEqual(parameterShape('VVXD60.Handset.1.line.2'), { pattern: 'VVXD60.Handset.*.line.*', indices: ['1', '2'], modelTag: undefined });
    assert.equal(parameterShape('VVX101').pattern, 'VVX101');
  });

  it('knows model tags and leaves codec and protocol names alone', () => {
    for (const tag of ['VVX101', 'VVX1500', 'VVXD60', 'SPIP335', 'SSIP6000', 'Trio8800', 'CX5500', 'CCX600', 'EdgeE400', 'SSDuo']) assert.ok(isModelTag(tag), tag);
    for (const segment of ['H323', 'G722', 'H264', 'SIP', 'A1', 'WM50', 'vvx101', 'VVX', 'VVX1']) assert.ok(!isModelTag(segment), segment);
  });
});

describe('lookupParameter: known names', () => {
  it('finds plain names with their stock default', () => {
    assert.deepEqual(lookupParameter('lcl.ml.lang'), { known: true, pattern: 'lcl.ml.lang', stockDefault: '', type: 'string' });
    const backlight = lookupParameter('up.backlight.idleIntensity');
    assert.equal(backlight.known, true);
  });

  it('finds indexed names whatever the index', () => {
    for (const [name, pattern] of [
      ['reg.1.address', 'reg.*.address'],
      ['reg.34.address', 'reg.*.address'],
      ['reg.2.server.1.address', 'reg.*.server.*.address'],
      ['dialplan.1.digitmap', 'dialplan.*.digitmap'],
      ['attendant.resourceList.12.address', 'attendant.resourceList.*.address'],
      ['efk.efklist.3.mname', 'efk.efklist.*.mname'],
      ['softkey.4.label', 'softkey.*.label'],
      ['tone.chord.ringer.A3.freq.2', 'tone.chord.ringer.A3.freq.*'],
    ] as const) {
      const found = lookupParameter(name);
      assert.ok(found.known, name);
      assert.equal(found.known && found.pattern, pattern, name);
    }
  });

  it('finds per-model names under their base name, with the base default and type', () => {
    assert.deepEqual(lookupParameter('call.callsPerLineKey.VVX101'), { known: true, pattern: 'call.callsPerLineKey', stockDefault: '24', type: 'integer' });
    assert.deepEqual(lookupParameter('call.callsPerLineKey'), { known: true, pattern: 'call.callsPerLineKey', stockDefault: '24', type: 'integer' });
    assert.equal(lookupParameter('reg.1.address.Trio8800').known, true);
  });

  it('finds device.* names', () => {
    assert.equal(lookupParameter('device.prov.serverName').known, true);
    assert.equal(lookupParameter('device.sntp.serverName').known, true);
  });
});

describe('lookupParameter: unknown names', () => {
  it('suggests the close name with the indices the administrator typed', () => {
    assert.deepEqual(suggestionsFor('reg.1.adress'), ['reg.1.address']);
    assert.deepEqual(suggestionsFor('reg.12.auth.pasword'), ['reg.12.auth.password']);
    assert.deepEqual(suggestionsFor('attendant.resourceList.4.adress'), ['attendant.resourceList.4.address']);
    assert.equal(suggestionsFor('efk.efklist.2.mnme')[0], 'efk.efklist.2.mname');
    assert.deepEqual(suggestionsFor('rge.1.address'), ['reg.1.address']);
    assert.equal(suggestionsFor('device.prov.servrName')[0], 'device.prov.serverName');
  });

  it('places indices by position when the suggestion has fewer of them', () => {
    assert.equal(suggestionsFor('tone.chord.ringer.3.freq.2')[0], 'tone.chord.ringer.A3.freq.2');
  });

  it('ranks case slips first', () => {
    assert.equal(suggestionsFor('tcpipapp.sntp.address')[0], 'tcpIpApp.sntp.address');
    assert.equal(suggestionsFor('reg.1.Address')[0], 'reg.1.address');
  });

  it('keeps the model suffix, and fixes its case', () => {
    assert.deepEqual(suggestionsFor('call.callsPerLinKey.VVX101'), ['call.callsPerLineKey.VVX101']);
    assert.equal(suggestionsFor('call.callsPerLineKey.vvx101')[0], 'call.callsPerLineKey.VVX101');
  });

  it('suggests at most three names, never a device.set marker', () => {
    assert.ok(suggestionsFor('reg.1.lable').length <= 3);
    for (const s of suggestionsFor('device.prov.serverName.st')) assert.ok(!s.endsWith('.set'), s);
  });

  it('has nothing to suggest for names far from any', () => {
    assert.deepEqual(suggestionsFor('feature.tenantMark'), []);
    assert.deepEqual(suggestionsFor('up.x'), []);
  });

  it('survives garbage without throwing', () => {
    for (const name of ['', '.', '...', '*', 'reg.*.address', '1.2.3', 'ünï.cödé', '\u0000', 'constructor', '__proto__', 'toString', 'hasOwnProperty.x', 'x'.repeat(10_000), 'reg.1.'.repeat(500)]) {
      const found = lookupParameter(name);
      assert.equal(found.known, false, JSON.stringify(name.slice(0, 20)));
      assert.ok(!found.known && Array.isArray(found.suggestions));
    }
    assert.equal(lookupParameter(undefined as unknown as string).known, false);
  });

  it('is fast enough to run per command', () => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < 200; i++) lookupParameter(`tone.chord.ringr.${i}.freq.1`);
    const perCallMs = Number(process.hrtime.bigint() - start) / 200 / 1e6;
    assert.ok(perCallMs < 20, `${perCallMs} ms per lookup`);
  });
});

describe('boundedEditDistance', () => {
  it('counts edits up to the bound, transpositions as one', () => {
    assert.equal(boundedEditDistance('address', 'address', 3), 0);
    assert.equal(boundedEditDistance('adress', 'address', 3), 1);
    assert.equal(boundedEditDistance('adderss', 'address', 3), 1);
    assert.equal(boundedEditDistance('kitten', 'sitting', 3), 3);
    assert.equal(boundedEditDistance('', 'abc', 3), 3);
  });

  it('answers max + 1 beyond the bound', () => {
    assert.equal(boundedEditDistance('kitten', 'sitting', 2), 3);
    assert.equal(boundedEditDistance('a', 'abcdef', 2), 3);
    assert.equal(boundedEditDistance('abcdef', 'uvwxyz', 1), 2);
  });
});
