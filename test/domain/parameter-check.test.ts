import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkParameter, describeType, unknownNameMessage, valueFits, type ParameterProblem } from '../../src/domain/parameter-check.js';

function badValue(name: string, value: string): Extract<ParameterProblem, { kind: 'bad-value' }> {
  const problem = checkParameter(name, value);
  assert.ok(problem, `${name}=${JSON.stringify(value)} should be refused`);
  assert.equal(problem.kind, 'bad-value', problem.message);
  return problem as Extract<ParameterProblem, { kind: 'bad-value' }>;
}

function fine(name: string, ...values: string[]): void {
  for (const value of values) assert.equal(checkParameter(name, value), null, `${name}=${JSON.stringify(value)}`);
}

describe('checkParameter: names', () => {
  it('catches reg.1.adress and suggests reg.1.address', () => {
    const problem = checkParameter('reg.1.adress', '1001');
    assert.deepEqual(problem, {
      kind: 'unknown-name',
      message: "reg.1.adress is not a parameter of Poly's UC Software templates (phones ignore unknown names); did you mean reg.1.address?",
      suggestions: ['reg.1.address'],
    });
  });

  it('knows indexed names whatever the index, and per-model names', () => {
    fine('reg.12.address', '1012');
    fine('reg.1.address', '1001');
    fine('call.callsPerLineKey.VVX101', '4');
    fine('reg.2.server.1.address', 'pbx.example.com');
  });

  it('keeps the model suffix in its suggestion', () => {
    const problem = checkParameter('call.callsPerLinKey.VVX101', '4');
    assert.equal(problem?.kind, 'unknown-name');
    assert.deepEqual(problem?.kind === 'unknown-name' && problem.suggestions, ['call.callsPerLineKey.VVX101']);
  });

  it('says so when it has nothing to suggest', () => {
    const problem = checkParameter('feature.tenantMark', 'x');
    assert.deepEqual(problem, {
      kind: 'unknown-name',
      message: "feature.tenantMark is not a parameter of Poly's UC Software templates (phones ignore unknown names)",
      suggestions: [],
    });
  });

  it("leaves polyprov's own names alone, whatever their value", () => {
    assert.equal(checkParameter('polyprov.firmware.version', 'not a version'), null);
    assert.equal(checkParameter('polyprov.polling.window', ''), null);
    assert.equal(checkParameter('polyprov.made.up', 'x'), null);
  });

  it('quotes names no parameter can have, and never throws on them', () => {
    for (const name of ['', '*', 'reg.*.address', '__proto__', 'a\u0000b', 'x'.repeat(10_000)]) {
      const problem = checkParameter(name, '1');
      assert.equal(problem?.kind, 'unknown-name', JSON.stringify(name.slice(0, 20)));
      assert.ok(!problem.message.includes('\u0000'));
      assert.ok(problem.message.length < 300, `${problem.message.length} characters`);
    }
    assert.match(checkParameter('a\u0000b', '1')!.message, /^"a\\u0000b" is not a parameter/);
  });
});

describe('checkParameter: values', () => {
  it('refuses a boolean that is not exactly 0 or 1', () => {
    fine('feature.callPark.enabled', '0', '1');
    for (const value of ['yes', 'true', 'on', '2', ' 1', '1 ', '01']) {
      const problem = badValue('feature.callPark.enabled', value);
      assert.equal(problem.expected, '0 or 1 (off or on)');
    }
    assert.equal(badValue('feature.callPark.enabled', 'yes').message, '"yes" is not a valid value for feature.callPark.enabled: expected 0 or 1 (off or on)');
  });

  it('checks indexed and per-model names against their pattern type', () => {
    assert.equal(badValue('reg.3.strictLineSeize', 'yes').expected, '0 or 1 (off or on)');
    fine('call.callsPerLineKey.VVX101', '8');
    assert.equal(badValue('call.callsPerLineKey.VVX101', 'eight').expected, 'a whole number');
  });

  it('takes whole numbers, negative ones too, for integers', () => {
    fine('lcl.dtmfLevel', '-7', '0', '12');
    for (const value of ['1.5', '-', '+3', '3 ', 'x']) badValue('lcl.dtmfLevel', value);
  });

  it('takes exactly one of the spellings of an enumeration, and offers the right case', () => {
    fine('prov.polling.mode', 'abs', 'rel', 'random');
    const weekly = badValue('prov.polling.mode', 'weekly');
    assert.equal(weekly.expected, 'one of abs, rel or random');
    assert.equal(weekly.message, '"weekly" is not a valid value for prov.polling.mode: expected one of abs, rel or random');
    assert.match(badValue('prov.polling.mode', 'Random').message, /; did you mean random\?$/);
    fine('device.prov.serverType', 'HTTPS', 'FTP', '2', '3');
    assert.match(badValue('device.prov.serverType', 'https').message, /expected one of FTP, TFTP, HTTP, HTTPS, FTPS, 0, 1, 2, 3 or 4; did you mean HTTPS\?$/);
    fine('device.dhcp.bootSrvUseOpt', 'Static', '2', 'CustomAndDefault');
    badValue('device.dhcp.bootSrvUseOpt', '4');
  });

  it('holds ranges at their edges', () => {
    fine('apps.push.messageType', '0', '5');
    assert.equal(badValue('apps.push.messageType', '6').expected, 'a whole number from 0 to 5');
    badValue('apps.push.messageType', '-1');
    fine('httpd.cfg.port', '1', '65535');
    badValue('httpd.cfg.port', '0');
    badValue('httpd.cfg.port', '65536');
    fine('reg.1.server.2.port', '0', '5060', '65535');
    badValue('reg.1.server.2.port', '65536');
    fine('device.dhcp.bootSrvOpt', '128', '254');
    badValue('device.dhcp.bootSrvOpt', '127');
    badValue('device.dhcp.bootSrvOpt', '255');
    fine('prov.polling.period', '3601', '86400');
    assert.equal(badValue('prov.polling.period', '3600').expected, 'a whole number of at least 3601');
    badValue('prov.polling.period', '1e5');
  });

  it('takes a time of day as HH:MM', () => {
    fine('prov.polling.time', '00:00', '03:00', '23:59');
    for (const value of ['24:00', '3:00', '03:60', '03:00:00', 'noon']) {
      assert.equal(badValue('prov.polling.time', value).expected, 'a time of day as HH:MM, 00:00 to 23:59');
    }
  });

  it('accepts an empty value for every type: the phone then uses its default', () => {
    fine('feature.callPark.enabled', '');
    fine('prov.polling.mode', '');
    fine('prov.polling.time', '');
    fine('httpd.cfg.port', '');
    fine('lcl.dtmfLevel', '');
    fine('reg.1.address', '');
  });

  it('constrains nothing for string parameters', () => {
    fine('reg.1.address', 'sip:1001@pbx.example.com', '1001', 'ünïcödé');
    fine('lcl.ml.lang', 'English_United_Kingdom');
  });

  it('refuses a value that is not text, for any known name', () => {
    assert.equal(checkParameter('reg.1.address', undefined as unknown as string)?.kind, 'bad-value');
  });
});

describe('describeType, valueFits, unknownNameMessage', () => {
  it('describes every type in words', () => {
    assert.equal(describeType('string'), 'any text');
    assert.equal(describeType('integer'), 'a whole number');
    assert.equal(describeType({ min: 1, max: 65535 }), 'a whole number from 1 to 65535');
    assert.equal(describeType({ max: 9 }), 'a whole number of at most 9');
    assert.equal(describeType({ oneOf: ['a', 'b'] }), 'one of a or b');
    assert.equal(describeType({ format: 'HH:MM' }), 'a time of day as HH:MM, 00:00 to 23:59');
  });

  it('checks a value against a type alone', () => {
    assert.ok(valueFits({ max: 9 }, '-100'));
    assert.ok(!valueFits({ max: 9 }, '10'));
    assert.ok(valueFits('string', 'anything'));
    assert.ok(!valueFits({ oneOf: ['a'] }, 'A'));
  });

  it('lists several suggestions as "a, b or c"', () => {
    assert.equal(unknownNameMessage('x.y', ['a.b', 'c.d', 'e.f']), "x.y is not a parameter of Poly's UC Software templates (phones ignore unknown names); did you mean a.b, c.d or e.f?");
  });
});
