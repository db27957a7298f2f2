import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../../src/domain/domain-error.js';
import { compareFirmwareVersions, parseFirmwareVersion } from '../../src/domain/firmware-version.js';

describe('parseFirmwareVersion', () => {
  it('accepts UC Software versions of 2 to 5 numbers and trims them', () => {
    for (const version of ['5.9.8.5760', '4.0.15.1009', '6.4.6', '7.2.0', '3.2', '1.2.3.4.5', '0.0', '999999.0.999999']) {
      assert.equal(parseFirmwareVersion(version), version);
    }
    assert.equal(parseFirmwareVersion('  5.9.8.5760\r\n'), '5.9.8.5760');
    assert.equal(parseFirmwareVersion('\uFEFF6.4.6\n'), '6.4.6');
  });

  it('rejects suffixes, folder names, signs, leading zeros and out-of-range components', () => {
    const bad = [
      '', '   ', '5', '5.', '.5.9', '5..9', '1.2.3.4.5.6', '5.9.8rts', '5.8.0.12386-June2018', 'v5.9.8', '+5.9.8', '5.+9.8',
      '-5.9', '05.9.8', '5.09.8', '5.9.8.1000000', '5,9,8', '5 .9', '5.9 .8', '5_9_8', '5.9.8\u0000', '５.９',
    ];
    for (const text of bad) {
      assert.throws(() => parseFirmwareVersion(text), (error: unknown) => {
        assert.ok(error instanceof DomainError, JSON.stringify(text));
        assert.match(error.message, /^invalid firmware version ".*": expected a UC Software version of 2 to 5 dot-separated numbers/);
        return true;
      });
    }
  });

  it('rejects non-strings with a DomainError instead of a TypeError', () => {
    assert.throws(() => parseFirmwareVersion(5.9 as unknown as string), DomainError);
    assert.throws(() => parseFirmwareVersion(undefined as unknown as string), DomainError);
  });

  it('quotes the input so control characters show', () => {
    assert.throws(() => parseFirmwareVersion('5.9\n8'), /invalid firmware version "5\.9\\n8"/);
  });
});

describe('compareFirmwareVersions', () => {
  it('orders component by component, numerically', () => {
    assert.ok(compareFirmwareVersions('5.9.8.5760', '6.4.6') < 0);
    assert.ok(compareFirmwareVersions('6.4.6', '5.9.8.5760') > 0);
    assert.ok(compareFirmwareVersions('5.10.0', '5.9.8') > 0, 'numeric, not lexical');
    assert.ok(compareFirmwareVersions('4.0.15.1009', '4.0.9.2000') > 0);
    assert.ok(compareFirmwareVersions('5.9.8.5760', '5.9.8.12386') < 0);
    assert.equal(compareFirmwareVersions('7.2.0', '7.2.0'), 0);
  });

  it('counts a missing component as 0', () => {
    assert.equal(compareFirmwareVersions('6.4.6', '6.4.6.0'), 0);
    assert.equal(compareFirmwareVersions('6.4.6.0.0', '6.4.6'), 0);
    assert.ok(compareFirmwareVersions('6.4.6', '6.4.6.1') < 0);
    assert.ok(compareFirmwareVersions('6.4.6.1', '6.4.6') > 0);
  });

  it('sorts a list oldest first', () => {
    const versions = ['6.4.6', '4.0.15.1009', '5.9.8.5760', '5.10', '7.2.0', '5.9.8.12386'];
    assert.deepEqual(versions.sort(compareFirmwareVersions), ['4.0.15.1009', '5.9.8.5760', '5.9.8.12386', '5.10', '6.4.6', '7.2.0']);
  });

  it('refuses to compare something that is not a version', () => {
    assert.throws(() => compareFirmwareVersions('5.9.8rts', '5.9.8'), DomainError);
    assert.throws(() => compareFirmwareVersions('5.9.8', 'latest'), DomainError);
  });
});
