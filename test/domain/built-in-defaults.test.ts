import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BUILT_IN_DEFAULTS } from '../../src/domain/built-in-defaults.js';
import { validateParameterName, validateParameterValue } from '../../src/domain/parameter.js';

describe('BUILT_IN_DEFAULTS', () => {
  it('holds the settings polyprov relies on', () => {
    assert.deepEqual(BUILT_IN_DEFAULTS, {
      'prov.autoConfigUpload.enabled': '1',
      'log.render.file.upload.append': '1',
      'voIpProt.SIP.specialEvent.checkSync.alwaysReboot': '0',
    });
  });

  it('contains only names and values an administrator could also set', () => {
    for (const [name, value] of Object.entries(BUILT_IN_DEFAULTS)) {
      assert.equal(validateParameterName(name), name);
      assert.equal(validateParameterValue(name, value), value);
    }
  });

  it('holds no device.* setting, which would force device.set on every phone', () => {
    assert.deepEqual(Object.keys(BUILT_IN_DEFAULTS).filter((n) => n.startsWith('device.')), []);
  });

  it('cannot be changed at run time', () => {
    assert.ok(Object.isFrozen(BUILT_IN_DEFAULTS));
  });
});
