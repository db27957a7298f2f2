import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../../src/domain/domain-error.js';
import { knownModels, masterTagFor, modelsForPartNumber, normalizeModel, partNumbersFor } from '../../src/domain/models.js';

describe('masterTagFor', () => {
  it('removes underscores', () => {
    assert.equal(masterTagFor('VVX_500'), 'VVX500');
    assert.equal(masterTagFor('SPIP_335'), 'SPIP335');
    assert.equal(masterTagFor('SSIP_6000'), 'SSIP6000');
    assert.equal(masterTagFor('Trio_8800'), 'Trio8800');
    assert.equal(masterTagFor('SSDuo'), 'SSDuo');
  });
});

describe('normalizeModel', () => {
  const cases: readonly [string, string][] = [
    ['vvx500', 'VVX_500'], ['VVX500', 'VVX_500'], ['VVX_500', 'VVX_500'], ['vvx 500', 'VVX_500'], ['  vvx-500 ', 'VVX_500'],
    ['trio8800', 'Trio_8800'], ['TRIO_8800', 'Trio_8800'], ['spip335', 'SPIP_335'], ['ssip6000', 'SSIP_6000'],
    ['ccx600', 'CCX_600'], ['edge_e400', 'Edge_E400'], ['EdgeE400', 'Edge_E400'], ['vvx_d60', 'VVX_D60'], ['VVX_1500', 'VVX_1500'],
    ['PolyStudioX30', 'PolyStudioX30'], ['SSDuo', 'SSDuo'], ['Some_Model_9', 'Some_Model_9'],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} -> ${expected}`, () => {
      assert.equal(normalizeModel(input), expected);
    });
  }

  it('rejects empty and junk input with a DomainError', () => {
    for (const input of ['', '   ', '../x', 'vvx 5 00', 'VVX 500 x', 'a/b', '1abc', 'VVX.500', 'x'.repeat(41), 'vvx500\u0000']) {
      assert.throws(() => normalizeModel(input), (error: unknown) => {
        assert.ok(error instanceof DomainError, JSON.stringify(input));
        assert.match(error.message, /expected a model id/);
        return true;
      });
    }
  });
});

describe('partNumbersFor', () => {
  it('knows the fact sheet part numbers by UA spelling', () => {
    assert.deepEqual(partNumbersFor('VVX_500'), ['3111-44500-001']);
    assert.deepEqual(partNumbersFor('SPIP_335'), ['2345-12375-001']);
    assert.deepEqual(partNumbersFor('SSIP_6000'), ['3111-15600-001']);
    assert.deepEqual(partNumbersFor('SPIP_650'), ['2345-12600-001', '2345-12600-002']);
  });

  it('returns [] for unknown models and other spellings', () => {
    assert.deepEqual(partNumbersFor('Trio_8800'), []);
    assert.deepEqual(partNumbersFor('VVX500'), []);
    assert.deepEqual(partNumbersFor('constructor'), []);
  });

  it('returns a copy the caller may change', () => {
    partNumbersFor('VVX_500').push('x');
    assert.deepEqual(partNumbersFor('VVX_500'), ['3111-44500-001']);
  });
});

describe('modelsForPartNumber', () => {
  it('finds the model of each fact sheet part number, including alternative assemblies', () => {
    assert.deepEqual(modelsForPartNumber('3111-44500-001'), ['VVX_500']);
    assert.deepEqual(modelsForPartNumber('3111-48810-001'), ['VVX_150']);
    assert.deepEqual(modelsForPartNumber('2345-12375-001'), ['SPIP_335']);
    assert.deepEqual(modelsForPartNumber('2345-12600-002'), ['SPIP_650']);
    assert.deepEqual(modelsForPartNumber('2345-11500-020'), ['SPIP_501']);
    assert.deepEqual(modelsForPartNumber('3111-19000-001'), ['SSDuo']);
  });

  it('is the reverse of partNumbersFor', () => {
    for (const model of ['VVX_500', 'VVX_1500', 'SPIP_501', 'SSIP_4000', 'VVX_450']) {
      for (const part of partNumbersFor(model)) assert.deepEqual(modelsForPartNumber(part), [model], part);
    }
  });

  it('returns [] for unknown, left-out and malformed part numbers', () => {
    for (const part of ['3111-17823-001', '3111-33215-001', '3111-66700-001', '9999-99999-999', '', ' 3111-44500-001', 'constructor', '__proto__']) {
      assert.deepEqual(modelsForPartNumber(part), [], part);
    }
  });

  it('returns a copy the caller may change', () => {
    modelsForPartNumber('3111-44500-001').push('x');
    assert.deepEqual(modelsForPartNumber('3111-44500-001'), ['VVX_500']);
  });
});

describe('knownModels', () => {
  it('lists each model once, sorted, each with the part numbers partNumbersFor gives', () => {
    const models = knownModels();
    const names = models.map((m) => m.model);
    assert.deepEqual(names, [...new Set(names)].sort());
    for (const m of models) assert.deepEqual(m.partNumbers, partNumbersFor(m.model), m.model);
    assert.ok(names.includes('VVX_450'));
  });
});
