import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isSecretParameter, secretsIn } from '../../src/domain/secret-parameters.js';
import catalog from '../../src/domain/parameter-catalog.json' with { type: 'json' };

describe('secret parameters', () => {
  test('passwords and keys are secrets; switches about passwords are not', () => {
    for (const n of ['reg.1.auth.password', 'device.auth.localAdminPassword', 'device.prov.password', 'device.wifi.psk.key', 'xmpp.1.auth.password', 'SCEP.challengePassword']) {
      assert.ok(isSecretParameter(n), n);
    }
    for (const n of ['dir.local.passwordProtected', 'sec.pwd.length.admin', 'prov.login.localPassword.hashed', 'up.echoPasswordDigits', 'reg.1.auth.userId', 'device.wifi.psk.keyType']) {
      assert.ok(!isSecretParameter(n), n);
    }
  });

  test("every password of Poly's templates is recognised", () => {
    const names = Object.keys((catalog as { patterns: Record<string, unknown> }).patterns);
    const secrets = names.filter(isSecretParameter);
    assert.ok(secrets.length >= 25, `found ${secrets.length}`);
    for (const n of names) if (/\.password$/i.test(n)) assert.ok(secrets.includes(n), n);
  });

  test('a file names the secrets it sets to a value, not the empty ones', () => {
    const xml = `<polycomConfig><reg reg.1.auth.userId="1001" reg.1.auth.password="s3cret" reg.2.auth.password=""/><device device.prov.password='x' device.set="1"/></polycomConfig>`;
    assert.deepEqual(secretsIn(xml).sort(), ['device.prov.password', 'reg.1.auth.password']);
    assert.deepEqual(secretsIn('<polycomConfig><up up.welcomeSoundEnabled="0"/></polycomConfig>'), []);
    assert.deepEqual(secretsIn('not xml at all password="x'), [], 'an unterminated value is not a setting');
  });
});
