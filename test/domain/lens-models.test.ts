import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../../src/domain/domain-error.js';
import { knownModels, lensModelName, modelFromLens } from '../../src/domain/lens-models.js';
import { normalizeModel } from '../../src/domain/models.js';

describe('modelFromLens', () => {
  it('maps Lens names, with or without brand words, to the User-Agent spelling', () => {
    const cases: [string, string][] = [
      ['Trio 8300', 'Trio_8300'],
      ['Trio 8500', 'Trio_8500'],
      ['Poly Trio 8800', 'Trio_8800'],
      ['Polycom RealPresence Trio 8800', 'Trio_8800'],
      ['Trio C60', 'Trio_C60'],
      ['Poly CCX 500', 'CCX_500'],
      ['HP Poly CCX 600', 'CCX_600'],
      ['Polycom VVX 450', 'VVX_450'],
      ['VVX 1500', 'VVX_1500'],
      ['Poly Edge E450', 'Edge_E450'],
      ['SoundPoint IP 335', 'SPIP_335'],
      ['SoundStation IP 6000', 'SSIP_6000'],
      ['SoundStation Duo', 'SSDuo'],
      ['  trio 8300 ', 'Trio_8300'],
    ];
    for (const [lens, model] of cases) assert.equal(modelFromLens(lens), model, lens);
  });

  it("accepts polyprov's own spellings, in any case and with or without the underscore", () => {
    assert.equal(modelFromLens('Trio_8300'), 'Trio_8300');
    assert.equal(modelFromLens('vvx450'), 'VVX_450');
    assert.equal(modelFromLens('VVX_450'), 'VVX_450');
    assert.equal(modelFromLens('ssduo'), 'SSDuo');
  });

  it('every known model maps back from its Lens name and from itself', () => {
    for (const model of knownModels()) {
      assert.equal(modelFromLens(lensModelName(model)), model, lensModelName(model));
      assert.equal(modelFromLens(model), model);
      // Model policies are keyed by this spelling: it must be what models.ts makes of it too.
      if (model !== 'SSDuo') assert.equal(normalizeModel(model), model);
    }
  });

  it('refuses unknown models, naming the known ones of the family', () => {
    assert.throws(() => modelFromLens('Trio 8400'), (err: Error) => err instanceof DomainError && /unknown device model "Trio 8400"/.test(err.message) && /Trio 8300, Trio 8500, Trio 8800, Trio C60/.test(err.message));
    assert.throws(() => modelFromLens('Yealink T46'), /unknown device model "Yealink T46": e\.g\. Trio 8300/);
    assert.throws(() => modelFromLens(''), DomainError);
    assert.throws(() => modelFromLens('Foo'), DomainError, 'a bare word is not taken as a model');
  });

  it("takes an exactly spelt id polyprov does not list (a newer phone), and anything well-formed with force", () => {
    assert.equal(modelFromLens('VVX_999'), 'VVX_999');
    assert.throws(() => modelFromLens('VVX 999'), DomainError);
    assert.equal(modelFromLens('VVX 999', { force: true }), 'VVX_999');
    assert.equal(modelFromLens('Foo', { force: true }), 'Foo');
    assert.throws(() => modelFromLens('not a model!', { force: true }), DomainError);
  });
});

describe('lensModelName', () => {
  it('writes models as Lens does, and leaves unknown families alone', () => {
    assert.equal(lensModelName('Trio_8300'), 'Trio 8300');
    assert.equal(lensModelName('SPIP_335'), 'SoundPoint IP 335');
    assert.equal(lensModelName('SSDuo'), 'SoundStation Duo');
    assert.equal(lensModelName('Edge_E450'), 'Edge E450');
    assert.equal(lensModelName('Foo_1'), 'Foo_1');
  });
});
