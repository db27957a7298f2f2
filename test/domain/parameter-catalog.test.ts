import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import catalog from '../../src/domain/parameter-catalog.json' with { type: 'json' };
import { boundedEditDistance, catalogSize, isModelTag, lookupParameter, parameterShape } from '../../src/domain/parameter-catalog.js';

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
    assert.deepEqual(lookupParameter('lcl.ml.lang'), { known: true, pattern: 'lcl.ml.lang', stockDefault: '' });
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

  it('finds per-model names under their base name, with the base default', () => {
    assert.deepEqual(lookupParameter('call.callsPerLineKey.VVX101'), { known: true, pattern: 'call.callsPerLineKey', stockDefault: '24' });
    assert.deepEqual(lookupParameter('call.callsPerLineKey'), { known: true, pattern: 'call.callsPerLineKey', stockDefault: '24' });
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
