import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bootOptions, bootServerUrl, MAX_DHCP_OPTION_BYTES, type BootServerInput } from '../../src/domain/dhcp-boot-options.js';
import { DomainError } from '../../src/domain/domain-error.js';

const refused = (input: BootServerInput, message: RegExp) =>
  assert.throws(() => bootServerUrl(input), (e: unknown) => e instanceof DomainError && message.test(e.message), JSON.stringify(input));

describe('boot server URL', () => {
  test('the full form: scheme, credentials, host, port and tenant prefix', () => {
    assert.equal(
      bootServerUrl({ protocol: 'https', host: 'prov.example.com', port: 8443, pathPrefix: 'acme', username: 'user', password: 'pass' }),
      'https://user:pass@prov.example.com:8443/acme/',
    );
  });

  test('the default port of each protocol is left out, any other kept', () => {
    assert.equal(bootServerUrl({ protocol: 'http', host: 'p.example.com', port: 80 }), 'http://p.example.com/');
    assert.equal(bootServerUrl({ protocol: 'https', host: 'p.example.com', port: 443 }), 'https://p.example.com/');
    assert.equal(bootServerUrl({ protocol: 'ftp', host: 'p.example.com', port: 21 }), 'ftp://p.example.com/');
    assert.equal(bootServerUrl({ protocol: 'ftps', host: 'p.example.com', port: 990 }), 'ftps://p.example.com/');
    assert.equal(bootServerUrl({ protocol: 'ftps', host: 'p.example.com', port: 21 }), 'ftps://p.example.com:21/', 'explicit FTPS on 21 must be named');
    assert.equal(bootServerUrl({ protocol: 'tftp', host: 'p.example.com', port: 69 }), 'tftp://p.example.com/');
    assert.equal(bootServerUrl({ protocol: 'http', host: 'p.example.com', port: 8080 }), 'http://p.example.com:8080/');
  });

  test('the Poly FAQ case: "@" in a user name becomes %40', () => {
    assert.equal(
      bootServerUrl({ protocol: 'https', host: 'prov.example.com', username: 'user@example.com', password: 'secret' }),
      'https://user%40example.com:secret@prov.example.com/',
    );
  });

  test('userinfo escapes gen-delims, "%", quotes, spaces and non-ASCII, and keeps unreserved and sub-delims', () => {
    const url = bootServerUrl({ protocol: 'https', host: 'h.example', username: 'a:b/c?d#e[f]g%h', password: 'p "\\ é€' });
    assert.equal(url, 'https://a%3Ab%2Fc%3Fd%23e%5Bf%5Dg%25h:p%20%22%5C%20%C3%A9%E2%82%AC@h.example/');
    assert.equal(bootServerUrl({ protocol: 'ftp', host: 'h.example', username: "A-z0_9.~!$&'()*+,;=", password: 'x' }), "ftp://A-z0_9.~!$&'()*+,;=:x@h.example/");
    // What the phone's URL parser sees must give back exactly the credentials.
    const parsed = new URL(url);
    assert.equal(decodeURIComponent(parsed.username), 'a:b/c?d#e[f]g%h');
    assert.equal(decodeURIComponent(parsed.password), 'p "\\ é€');
    assert.equal(parsed.hostname, 'h.example');
  });

  test('IPv6 hosts go in brackets; IPv4 and DNS names as given (names lower-cased)', () => {
    assert.equal(bootServerUrl({ protocol: 'https', host: '2001:DB8::10', port: 8443 }), 'https://[2001:db8::10]:8443/');
    assert.equal(bootServerUrl({ protocol: 'http', host: '[2001:db8::10]' }), 'http://[2001:db8::10]/');
    assert.equal(bootServerUrl({ protocol: 'tftp', host: '192.0.2.10' }), 'tftp://192.0.2.10/');
    assert.equal(bootServerUrl({ protocol: 'http', host: ' Prov.Example.COM. ' }), 'http://prov.example.com/');
  });

  test('path prefixes: slashes trimmed, nested segments kept, unsafe segments refused', () => {
    assert.equal(bootServerUrl({ protocol: 'http', host: 'h.example', pathPrefix: '/acme/' }), 'http://h.example/acme/');
    assert.equal(bootServerUrl({ protocol: 'http', host: 'h.example', pathPrefix: 'eu/acme' }), 'http://h.example/eu/acme/');
    assert.equal(bootServerUrl({ protocol: 'http', host: 'h.example', pathPrefix: null }), 'http://h.example/');
    for (const prefix of ['..', 'a/../b', 'a b', 'a?b', 'a#b', 'a%2fb', 'a//b']) refused({ protocol: 'http', host: 'h.example', pathPrefix: prefix }, /path prefix/);
  });

  test('hosts that are not a host are refused with what to give instead', () => {
    refused({ protocol: 'https', host: '' }, /empty/);
    refused({ protocol: 'https', host: 'prov example.com' }, /space/);
    refused({ protocol: 'https', host: 'https://prov.example.com' }, /scheme/);
    refused({ protocol: 'https', host: 'prov.example.com/acme' }, /path prefix and credentials are separate/);
    refused({ protocol: 'https', host: 'user@prov.example.com' }, /path prefix and credentials are separate/);
    refused({ protocol: 'https', host: 'prov.example.com:8443' }, /port as its own setting/);
    refused({ protocol: 'https', host: '[192.0.2.1]' }, /not an IPv6 address/);
    refused({ protocol: 'https', host: 'fe80::1%eth0' }, /zone index/);
    refused({ protocol: 'https', host: '192.0.2.300' }, /not a valid one/);
    refused({ protocol: 'https', host: '-bad-.example' }, /not a DNS name/);
    refused({ protocol: 'gopher' as 'http', host: 'h.example' }, /unknown boot server protocol/);
    for (const port of [0, 65536, 1.5, NaN]) refused({ protocol: 'http', host: 'h.example', port }, /port number/);
  });

  test('TFTP refuses credentials; half a credential pair is refused', () => {
    refused({ protocol: 'tftp', host: 'h.example', username: 'u', password: 'p' }, /TFTP carries no user name or password/);
    refused({ protocol: 'https', host: 'h.example', username: 'u' }, /both a user name and a password/);
    refused({ protocol: 'https', host: 'h.example', password: 'p' }, /both a user name and a password/);
  });

  test('a URL longer than one DHCP option is refused, saying what to shorten and by how much', () => {
    const base = { protocol: 'https' as const, host: 'h.example', username: 'u' };
    const fits = 'https://u:@h.example/'.length;
    assert.equal(bootServerUrl({ ...base, password: 'x'.repeat(MAX_DHCP_OPTION_BYTES - fits) }).length, 255);
    refused({ ...base, password: 'x'.repeat(MAX_DHCP_OPTION_BYTES - fits + 1) }, /256 bytes .* at most 255: shorten the host name, the path prefix, the user name or the password by 1 bytes/);
    // Escapes count in the limit: 80 "@" become 240 bytes.
    refused({ ...base, password: '@'.repeat(80) }, /each escaped character counts as 3/);
  });
});

describe('boot options', () => {
  test('66, 160 and 161 all carry the URL, and the notes explain 160 and 161', () => {
    const o = bootOptions({ protocol: 'https', host: 'prov.example.com', pathPrefix: 'acme', username: 'u', password: 'p' });
    assert.equal(o.url, 'https://u:p@prov.example.com/acme/');
    assert.deepEqual([o.option66, o.option160, o.option161], [o.url, o.url, o.url]);
    assert.match(o.notes.join(' '), /RFC 8910/);
    assert.match(o.notes.join(' '), /161 gets the same URL as 160: no Poly document/);
  });

  test('escaped credentials are explained, with the firmware caveat', () => {
    const notes = bootOptions({ protocol: 'https', host: 'h.example', username: 'user@example.com', password: 'p:w' }).notes.join(' ');
    assert.match(notes, /"@", ":"/);
    assert.match(notes, /user%40example\.com/);
    assert.match(notes, /UC Software 4\.x and newer decode/);
    assert.match(notes, /SIP 2\.x\/3\.x .* not supported/);
    const plain = bootOptions({ protocol: 'https', host: 'h.example', username: 'user', password: 'secret' }).notes.join(' ');
    assert.doesNotMatch(plain, /percent-encoded/, 'no escape note when nothing was escaped');
    assert.match(plain, /not encrypted/);
  });

  test('without credentials the notes name the factory login; TFTP explains how the tenant is found', () => {
    assert.match(bootOptions({ protocol: 'https', host: 'h.example' }).notes.join(' '), /device\.prov\.user .* PlcmSpIp/);
    const tftp = bootOptions({ protocol: 'tftp', host: 'h.example' }).notes.join(' ');
    assert.match(tftp, /TFTP carries no credentials/);
    assert.doesNotMatch(tftp, /PlcmSpIp/);
    assert.match(bootOptions({ protocol: 'ftp', host: 'h.example', username: 'u', password: 'p' }).notes.join(' '), /FTP also sends the password unencrypted/);
  });
});
