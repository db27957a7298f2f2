import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import selfsigned from 'selfsigned';
import { BOOTSTRAP_PARAMETERS, BOOTSTRAP_SWITCH, bootstrapParameters, bootstrapSubset } from '../../src/domain/bootstrap-policy.js';
import { DomainError } from '../../src/domain/domain-error.js';
import type { ResolvedParameter } from '../../src/domain/resolve-policy.js';

/** A CA and a server certificate it issued, as an administrator's files would hold them. */
interface Pki {
  caPem: string;
  serverPem: string;
  /** server certificate first, CA last: what a chain file holds */
  chainPem: string;
}

async function makePki(): Promise<Pki> {
  // EC keys keep generation fast; the parser does not care about the key type.
  const ca = await selfsigned.generate([{ name: 'commonName', value: 'polyprov test CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true },
    ],
  });
  const server = await selfsigned.generate([{ name: 'commonName', value: 'prov.example.com' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    ca: { key: ca.private, cert: ca.cert },
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'prov.example.com' }] }],
  });
  const caPem = ca.cert.trim();
  const serverPem = server.cert.trim();
  return { caPem, serverPem, chainPem: `${serverPem}\n${caPem}\n` };
}

function isDomainError(pattern: RegExp): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof DomainError, `not a DomainError: ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  };
}

function resolved(name: string, value: string): ResolvedParameter {
  return { name, value, layer: 'tenant', ref: 'acme', shadows: [] };
}

describe('bootstrapParameters', () => {
  let pki: Pki;
  before(async () => {
    pki = await makePki();
  });

  it('switches the phone to HTTPS at the given address and makes it trust the CA', () => {
    const params = bootstrapParameters({ url: 'https://prov.example.com:8443/acme/', caPem: pki.caPem });
    assert.deepEqual(params, {
      [BOOTSTRAP_SWITCH]: '1',
      'device.prov.serverType': 'HTTPS',
      'device.prov.serverName': 'https://prov.example.com:8443/acme/',
      'device.sec.TLS.customCaCert1': `${pki.caPem}\n`,
    });
    // Everything the plain-HTTP stage may carry is set here.
    for (const name of BOOTSTRAP_PARAMETERS) assert.ok(name in params, name);
  });

  it('normalises the URL', () => {
    const serverName = (url: string) => bootstrapParameters({ url, caPem: pki.caPem })['device.prov.serverName'];
    assert.equal(serverName('HTTPS://Prov.Example.COM:8443/acme'), 'https://prov.example.com:8443/acme');
    assert.equal(serverName('https://prov.example.com:443/acme/'), 'https://prov.example.com/acme/');
    assert.equal(serverName('https://prov.example.com'), 'https://prov.example.com/');
    assert.equal(serverName('https://[2001:db8::10]:8443/'), 'https://[2001:db8::10]:8443/');
  });

  it('takes the last certificate of a chain file: the one closest to the root', () => {
    const params = bootstrapParameters({ url: 'https://prov.example.com/', caPem: pki.chainPem });
    const ca = params['device.sec.TLS.customCaCert1']!;
    assert.equal(ca, `${pki.caPem}\n`);
    assert.equal(new X509Certificate(ca).fingerprint256, new X509Certificate(pki.caPem).fingerprint256);
    assert.notEqual(new X509Certificate(ca).fingerprint256, new X509Certificate(pki.serverPem).fingerprint256);
    assert.ok(!ca.includes(pki.serverPem.split('\n')[1]!), 'the server certificate leaked into the CA parameter');
  });

  it('ignores text and other PEM blocks around the certificate', () => {
    const file = `subject=CN = polyprov test CA\n-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n${pki.caPem}\n# end\n`;
    assert.equal(bootstrapParameters({ url: 'https://prov.example.com/', caPem: file })['device.sec.TLS.customCaCert1'], `${pki.caPem}\n`);
  });

  it('refuses a URL phones must not or cannot switch to', () => {
    const bad = [
      'http://prov.example.com/',
      'ftp://prov.example.com/',
      'https://admin:secret@prov.example.com/',
      'https://admin@prov.example.com/',
      'https://:secret@prov.example.com/',
      'https://prov.example.com/?tenant=acme',
      'https://prov.example.com/#top',
    ];
    for (const url of bad) {
      assert.throws(() => bootstrapParameters({ url, caPem: pki.caPem }), isDomainError(/expected https:\/\/host\[:port\]\/\[path\] without credentials, query or fragment/), url);
    }
    for (const url of ['', 'prov.example.com', 'https://', 'not a url', '//prov.example.com/']) {
      assert.throws(() => bootstrapParameters({ url, caPem: pki.caPem }), isDomainError(/invalid bootstrap URL .*expected https:\/\/host/), url);
    }
  });

  it('refuses a CA file without a certificate', () => {
    const key = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n';
    for (const caPem of ['', 'not a certificate', key, '-----BEGIN CERTIFICATE-----\n']) {
      assert.throws(() => bootstrapParameters({ url: 'https://prov.example.com/', caPem }), isDomainError(/holds no PEM certificate/), JSON.stringify(caPem));
    }
  });

  it('refuses a certificate block that does not parse, even after a good one', () => {
    const junk = '-----BEGIN CERTIFICATE-----\nTm90IGEgY2VydGlmaWNhdGUgYXQgYWxs\n-----END CERTIFICATE-----';
    for (const caPem of [junk, `${pki.caPem}\n${junk}\n`]) {
      assert.throws(() => bootstrapParameters({ url: 'https://prov.example.com/', caPem }), isDomainError(/the CA certificate does not parse/));
    }
  });
});

describe('bootstrapSubset', () => {
  it('keeps only the three device parameters of the bootstrap, in order', () => {
    const all = [
      resolved('device.prov.serverName', 'https://prov.example.com/'),
      resolved('device.prov.serverType', 'HTTPS'),
      resolved('device.prov.user', 'PlcmSpIp'),
      resolved('device.sec.TLS.customCaCert1', '-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----\n'),
      resolved('device.sec.TLS.customCaCert2', 'other'),
      resolved(BOOTSTRAP_SWITCH, '1'),
      resolved('prov.polling.enabled', '1'),
      resolved('reg.1.auth.password', 'secret'),
    ];
    const subset = bootstrapSubset(all);
    assert.deepEqual(subset, [all[0], all[1], all[3]]);
    assert.deepEqual(subset.map((p) => p.name).sort(), [...BOOTSTRAP_PARAMETERS].sort());
    assert.equal(all.length, 8, 'the input was changed');
  });

  it('is empty when the bootstrap is not configured', () => {
    assert.deepEqual(bootstrapSubset([resolved('reg.1.address', '1001')]), []);
    assert.deepEqual(bootstrapSubset([]), []);
  });
});
