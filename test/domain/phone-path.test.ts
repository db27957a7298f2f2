import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classifyPhonePath, undoubledImagePath } from '../../src/domain/phone-path.js';

const MAC = '0004f2a1b2c3';

describe('what a path means to a phone', () => {
  test('master files: the shared one and a MAC-named one, any case', () => {
    assert.deepEqual(classifyPhonePath(['000000000000.cfg']), { kind: 'master', mac: null });
    assert.deepEqual(classifyPhonePath(['0004F2A1B2C3.CFG']), { kind: 'master', mac: MAC });
    assert.deepEqual(classifyPhonePath([`${MAC}-polyprov.cfg`]), { kind: 'device-config', mac: MAC });
  });

  test('uploads are keyed lower-case, MAC and fixed suffix alike, so one log is one log', () => {
    for (const name of [`${MAC}-app.log`, '0004F2A1B2C3-APP.log', '0004f2a1b2c3-App.LOG']) {
      assert.deepEqual(classifyPhonePath(['logs', name]), { kind: 'upload', category: 'log', mac: MAC, path: `logs/${MAC}-app.log` }, name);
    }
    assert.deepEqual(classifyPhonePath(['overrides', '0004F2A1B2C3-PHONE.cfg']), { kind: 'upload', category: 'override', mac: MAC, path: `overrides/${MAC}-phone.cfg` });
    assert.deepEqual(classifyPhonePath(['contacts', `${MAC}-Directory.xml`]), { kind: 'upload', category: 'directory', mac: MAC, path: `contacts/${MAC}-directory.xml` });
    assert.deepEqual(classifyPhonePath(['calls', `${MAC}-calls.xml`]), { kind: 'upload', category: 'call-list', mac: MAC, path: `calls/${MAC}-calls.xml` });
  });

  test("a core file keeps the phone's own name after the MAC", () => {
    assert.deepEqual(classifyPhonePath(['coredumps', '0004F2A1B2C3.Core.GZ']), { kind: 'upload', category: 'core-file', mac: MAC, path: `coredumps/${MAC}.Core.GZ` });
  });

  test('anything else is a file of the tree (MAC-named ones lower-cased), never an upload', () => {
    assert.deepEqual(classifyPhonePath(['logs', `${MAC}-other.log`]), { kind: 'file', mac: MAC, path: `logs/${MAC}-other.log` });
    assert.deepEqual(classifyPhonePath(['sub', 'logs', `${MAC}-app.log`]), { kind: 'file', mac: MAC, path: `sub/logs/${MAC}-app.log` });
    assert.deepEqual(classifyPhonePath(['Site.CFG']), { kind: 'file', mac: null, path: 'Site.CFG' });
  });

  test('a doubled part-number prefix on an image is undone, nothing else', () => {
    assert.equal(undoubledImagePath('firmware/6.4.6/3111-44500-001.3111-44500-001.sip.ld'), 'firmware/6.4.6/3111-44500-001.sip.ld');
    assert.equal(undoubledImagePath('3111-44500-001.sip.ld'), null);
    assert.equal(undoubledImagePath('3111-44500-001.3111-48300-001.sip.ld'), null);
  });
});
