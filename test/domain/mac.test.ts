import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../../src/domain/domain-error.js';
import { macFromFileName, parseMac, requireMac, SITE_MAC } from '../../src/domain/mac.js';

describe('parseMac', () => {
  it('accepts the four usual spellings and returns 12 lower-case hex digits', () => {
    for (const input of ['0004F2ABCDEF', '0004f2abcdef', '00:04:f2:ab:cd:ef', '00-04-F2-AB-CD-EF', '0004.f2ab.cdef', ' 0004F2ABCDEF\n']) {
      assert.equal(parseMac(input), '0004f2abcdef', input);
    }
  });

  it('returns null for anything that is not one MAC', () => {
    for (const input of [
      '', '00:11', '0004f2abcde', '0004f2abcdef0', '0004f2abcdeg', '00:04:f2:ab:cd', '00:04-f2:ab:cd:ef',
      '0004f2:abcdef', '00 04 f2 ab cd ef', '0x0004f2abcdef', '0004.f2ab.cde', 'a'.repeat(100_000),
    ]) {
      assert.equal(parseMac(input), null, JSON.stringify(input.slice(0, 30)));
    }
  });

  it('returns null for the site MAC, which is not a device', () => {
    assert.equal(parseMac('000000000000'), null);
    assert.equal(parseMac('00:00:00:00:00:00'), null);
  });
});

describe('requireMac', () => {
  it('returns the normalised MAC', () => {
    assert.equal(requireMac('00-04-F2-A1-B2-C3'), '0004f2a1b2c3');
  });

  it('throws a DomainError that shows the input and the expected form', () => {
    assert.throws(() => requireMac('00:11'), (error: unknown) => {
      assert.ok(error instanceof DomainError);
      assert.equal(error.name, 'DomainError');
      assert.match(error.message, /invalid MAC address "00:11": expected 12 hexadecimal digits, e\.g\. 0004f2a1b2c3/);
      return true;
    });
  });

  it('says specifically that 000000000000 is not a device', () => {
    assert.throws(() => requireMac(SITE_MAC), (error: unknown) => {
      assert.ok(error instanceof DomainError);
      assert.match(error.message, /000000000000.*not a device/);
      assert.doesNotMatch(error.message, /invalid MAC address/);
      return true;
    });
  });

  it('keeps messages short for huge input', () => {
    assert.throws(() => requireMac('x'.repeat(10_000)), (error: unknown) => {
      assert.ok(error instanceof DomainError);
      assert.ok(error.message.length < 400);
      return true;
    });
  });
});

describe('macFromFileName', () => {
  it('finds the MAC in the names phones use for their own files', () => {
    for (const name of ['0004f2abcdef.cfg', '0004F2ABCDEF-phone.cfg', '0004f2abcdef-app.log', '0004f2abcdef-directory.xml', '0004f2abcdef']) {
      assert.equal(macFromFileName(name), '0004f2abcdef', name);
    }
  });

  it('returns null for shared files and look-alikes', () => {
    for (const name of [
      '000000000000.cfg', '000000000000-directory.xml', 'sip.ld', '3111-44500-001.sip.ld', '0004f2abcdef0.cfg',
      '0004f2abcde.cfg', 'x0004f2abcdef.cfg', '0004f2abcdef_phone.cfg', '', 'site.cfg',
    ]) {
      assert.equal(macFromFileName(name), null, name);
    }
  });
});
