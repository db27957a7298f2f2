import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../../src/domain/domain-error.js';
import {
  isDeviceParameter,
  parseAssignment,
  validateParameterName,
  validateParameterValue,
} from '../../src/domain/parameter.js';

function throwsDomainError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof DomainError, `expected a DomainError, got ${String(error)}`);
    assert.match(error.message, message);
    return true;
  });
}

describe('validateParameterName', () => {
  it('accepts Polycom names', () => {
    for (const name of [
      'reg.1.address', 'voIpProt.SIP.specialEvent.checkSync.alwaysReboot', 'dir.local.contacts.maxNum.VVX101',
      'sec.TLS.profile.1.deviceCert', 'device.prov.serverName', 'up.oneTouchVoiceMail', 'feature.2.enabled', 'a',
      `a.${'b'.repeat(198)}`, 'constructor.x', 'log.render.file.upload.append',
    ]) {
      assert.equal(validateParameterName(name), name);
    }
  });

  it('rejects malformed names, saying what is wrong', () => {
    throwsDomainError(() => validateParameterName(''), /empty/);
    throwsDomainError(() => validateParameterName('1reg.address'), /start with a letter/);
    throwsDomainError(() => validateParameterName('_reg'), /start with a letter/);
    throwsDomainError(() => validateParameterName('__proto__'), /start with a letter/);
    throwsDomainError(() => validateParameterName('reg..address'), /segment 2 is empty/);
    throwsDomainError(() => validateParameterName('reg.1.'), /segment 3 is empty/);
    throwsDomainError(() => validateParameterName('reg.1.add ress'), /character " " is not allowed/);
    throwsDomainError(() => validateParameterName('reg.1.address+x'), /character "\+" is not allowed/);
    assert.equal(validateParameterName('reg.1.acd-agent-available'), 'reg.1.acd-agent-available');
    assert.equal(validateParameterName('voIpProt.SIP.ms-forking'), 'voIpProt.SIP.ms-forking');
    throwsDomainError(() => validateParameterName('reg/../x'), /character "\/" is not allowed/);
    throwsDomainError(() => validateParameterName('reg.é'), /character "é" is not allowed/);
    throwsDomainError(() => validateParameterName(`a.${'b'.repeat(199)}`), /201 characters long: at most 200/);
  });

  it('rejects device.set markers because polyprov adds them itself', () => {
    for (const name of ['device.set', 'device.prov.serverName.set', 'device.net.ipAddress.set']) {
      throwsDomainError(() => validateParameterName(name), /polyprov adds device\.set="1" .* automatically/);
    }
  });

  it('rejects master-file attributes and points to tenant/model/device settings', () => {
    for (const name of ['APP_FILE_PATH', 'CONFIG_FILES', 'LOG_FILE_DIRECTORY', 'APP_FILE_PATH_Trio8800', 'CONFIG_FILES_VVX500']) {
      throwsDomainError(() => validateParameterName(name), /master-file attribute.*tenant, model or device settings/);
    }
  });
});

describe('validateParameterValue', () => {
  it('accepts any XML-safe string, including empty, TAB, LF, CR and non-BMP characters', () => {
    for (const value of ['', 'x', 'a&b<c>"d\'e', 'line1\nline2\r\n\tend', 'ünïcödé 😀 日本', 'x'.repeat(65536)]) {
      assert.equal(validateParameterValue('reg.1.label', value), value);
    }
  });

  it('rejects control characters, naming the parameter and the character', () => {
    throwsDomainError(() => validateParameterValue('reg.1.label', 'ab\u0000c'), /"reg\.1\.label" contains U\+0000 at position 2/);
    throwsDomainError(() => validateParameterValue('reg.1.label', '\u001b[31m'), /U\+001B at position 0/);
    throwsDomainError(() => validateParameterValue('reg.1.label', '\u000b'), /U\+000B/);
    throwsDomainError(() => validateParameterValue('reg.1.label', '\uffff'), /U\+FFFF/);
  });

  it('rejects lone surrogates but not surrogate pairs', () => {
    throwsDomainError(() => validateParameterValue('reg.1.label', 'a\ud83d'), /"reg\.1\.label" contains U\+D83D/);
    throwsDomainError(() => validateParameterValue('reg.1.label', '\ude00a'), /U\+DE00 at position 0/);
    assert.equal(validateParameterValue('reg.1.label', '\ud83d\ude00'), '😀');
  });

  it('rejects values over 65536 characters', () => {
    throwsDomainError(() => validateParameterValue('reg.1.label', 'x'.repeat(65537)), /65537 characters long: at most 65536/);
  });
});

describe('isDeviceParameter', () => {
  it('is true for device.* only', () => {
    assert.equal(isDeviceParameter('device.prov.serverName'), true);
    assert.equal(isDeviceParameter('devices.x'), false);
    assert.equal(isDeviceParameter('reg.1.device'), false);
  });
});

describe('parseAssignment', () => {
  it('splits at the first "="', () => {
    assert.deepEqual(parseAssignment('reg.1.address=1001'), { name: 'reg.1.address', value: '1001' });
    assert.deepEqual(parseAssignment('reg.1.label='), { name: 'reg.1.label', value: '' });
    assert.deepEqual(parseAssignment('dialplan.digitmap=a=b==c'), { name: 'dialplan.digitmap', value: 'a=b==c' });
    assert.deepEqual(parseAssignment(' reg.1.label = Front desk '), { name: 'reg.1.label', value: ' Front desk ' });
  });

  it('rejects text without "=" and validates both parts', () => {
    throwsDomainError(() => parseAssignment('reg.1.address'), /expected name=value.*no "="/);
    throwsDomainError(() => parseAssignment('=1001'), /empty/);
    throwsDomainError(() => parseAssignment('device.set=1'), /automatically/);
    throwsDomainError(() => parseAssignment('reg.1.label=a\u0007'), /U\+0007/);
  });
});
