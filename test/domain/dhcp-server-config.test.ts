import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bootOptions, type BootOptions } from '../../src/domain/dhcp-boot-options.js';
import { dhcpServerConfig, POLY_OUIS, type DhcpConfigInput } from '../../src/domain/dhcp-server-config.js';
import { DomainError } from '../../src/domain/domain-error.js';

const options = bootOptions({ protocol: 'https', host: 'prov.example.com', port: 8443, pathPrefix: 'acme', username: 'ops@example.com', password: 'secret' });
const URL_66 = 'https://ops%40example.com:secret@prov.example.com:8443/acme/';

/** Values bootOptions never makes, to prove each syntax quotes what it must. */
const hostile: BootOptions = { url: 'x', option66: `a"b\\c,d'e#f;g`, option160: 'h"i', option161: `j'k`, notes: [] };

const config = (patch: Partial<DhcpConfigInput>) => dhcpServerConfig({ server: 'isc', match: 'oui', options, tenant: 'acme', ...patch });

/** The lines between the paste markers. */
function snippet(text: string): string[] {
  const lines = text.split('\n');
  const from = lines.findIndex((l) => l.includes('polyprov: paste from here'));
  const to = lines.findIndex((l) => l.includes('polyprov: to here'));
  assert.ok(from >= 0 && to > from, 'paste markers present');
  return lines.slice(from + 1, to);
}

describe('DHCP server configuration', () => {
  test('the Poly OUIs are the three the fact sheet lists', () => {
    assert.deepEqual(POLY_OUIS, ['00:04:f2', '64:16:7f', '48:25:67']);
  });

  test('ISC dhcpd, by MAC prefix: a class with every OUI, the options declared, sent even when not requested', () => {
    const text = config({});
    const lines = snippet(text);
    assert.ok(lines.includes('option polycom-prov-160 code 160 = text;'));
    assert.ok(lines.includes('option polycom-prov-161 code 161 = text;'));
    assert.ok(lines.includes('class "polyprov-acme" {'));
    assert.ok(lines.includes('  match if substring(hardware, 1, 3) = 00:04:f2'));
    assert.ok(lines.includes('        or substring(hardware, 1, 3) = 64:16:7f'));
    assert.ok(lines.includes('        or substring(hardware, 1, 3) = 48:25:67;'));
    assert.ok(lines.includes('  option dhcp-parameter-request-list = concat(option dhcp-parameter-request-list, 42, a0, a1);'));
    assert.ok(lines.includes(`  option tftp-server-name "${URL_66}";`));
    assert.ok(lines.includes(`  option polycom-prov-160 "${URL_66}";`));
    assert.ok(lines.includes(`  option polycom-prov-161 "${URL_66}";`));
    assert.match(text, /^subnet 192\.0\.2\.0 netmask 255\.255\.255\.0 \{\n  range 192\.0\.2\.128 192\.0\.2\.254;\n\}$/m, 'default documentation subnet');
    assert.match(text, /^# .*percent-encoded/m, 'the notes travel with the file');
  });

  test('ISC dhcpd, by option 60: the enterprise number and the text form', () => {
    const lines = snippet(config({ match: 'option60' }));
    assert.ok(lines.includes('  match if substring(option vendor-class-identifier, 0, 4) = 00:00:36:3d'));
    assert.ok(lines.includes('        or substring(option vendor-class-identifier, 0, 4) = "Poly";'));
  });

  test('ISC dhcpd escapes quotes and backslashes', () => {
    const lines = snippet(config({ options: hostile }));
    assert.ok(lines.includes(`  option tftp-server-name "a\\"b\\\\c,d'e#f;g";`));
    assert.ok(lines.includes('  option polycom-prov-160 "h\\"i";'));
  });

  test('Kea: the client class with always-send options, the option definitions, and a subnet of its own', () => {
    const text = config({ server: 'kea', subnet: '10.20.0.0/16' });
    assert.match(text, /"test": "substring\(pkt4\.mac, 0, 3\) == 0x0004f2 or substring\(pkt4\.mac, 0, 3\) == 0x64167f or substring\(pkt4\.mac, 0, 3\) == 0x482567"/);
    assert.match(text, /\{ "name": "polycom-prov-160", "code": 160, "space": "dhcp4", "type": "string" \}/);
    assert.ok(text.includes(`{ "name": "tftp-server-name", "data": "${URL_66}", "always-send": true },`));
    assert.ok(text.includes(`{ "name": "polycom-prov-161", "data": "${URL_66}", "always-send": true }\n`));
    assert.ok(text.includes('{ "id": 1, "subnet": "10.20.0.0/16", "pools": [ { "pool": "10.20.128.0 - 10.20.255.254" } ] }'));
    assert.ok(text.includes('"name": "polyprov-acme"'));
    const option60 = config({ server: 'kea', match: 'option60' });
    assert.ok(option60.includes(`"test": "substring(option[60].hex, 0, 4) == 0x0000363d or vendor-class.enterprise == 13885 or substring(option[60].hex, 0, 4) == 'Poly'"`));
  });

  test('Kea: JSON-escaped, with commas and backslashes escaped for its comma-separated data', () => {
    const text = config({ server: 'kea', options: hostile });
    assert.ok(text.includes(String.raw`"data": "a\"b\\\\c\\,d'e#f;g"`), text);
    // Without the comments the file is plain JSON, and the data reads back as Kea's escaped form.
    const json = JSON.parse(text.replace(/^\s*\/\/.*$/gm, ''));
    assert.equal(json.Dhcp4['client-classes'][0]['option-data'][0].data, String.raw`a"b\\c\,d'e#f;g`);
  });

  test('dnsmasq: tags by MAC or vendor class, options forced, quoting', () => {
    const lines = snippet(config({ server: 'dnsmasq' }));
    assert.deepEqual(lines.filter((l) => !l.startsWith('#')), [
      'dhcp-mac=set:polyprov-acme,00:04:f2:*:*:*',
      'dhcp-mac=set:polyprov-acme,64:16:7f:*:*:*',
      'dhcp-mac=set:polyprov-acme,48:25:67:*:*:*',
      `dhcp-option-force=tag:polyprov-acme,66,"${URL_66}"`,
      `dhcp-option-force=tag:polyprov-acme,160,"${URL_66}"`,
      `dhcp-option-force=tag:polyprov-acme,161,"${URL_66}"`,
    ]);
    assert.ok(snippet(config({ server: 'dnsmasq', match: 'option60' })).includes('dhcp-vendorclass=set:polyprov-acme,Poly'));
    assert.ok(snippet(config({ server: 'dnsmasq', options: hostile })).includes(`dhcp-option-force=tag:polyprov-acme,66,"a\\"b\\\\c,d'e#f;g"`));
  });

  test('Windows: the exact PowerShell lines, single quotes doubled', () => {
    assert.deepEqual(snippet(config({ server: 'windows' })).filter((l) => !l.startsWith('#')), [
      `Add-DhcpServerv4OptionDefinition -OptionId 160 -Name 'Poly boot server (160)' -Type String -Description 'Provisioning URL for Poly phones'`,
      `Add-DhcpServerv4OptionDefinition -OptionId 161 -Name 'Poly boot server (161)' -Type String -Description 'Provisioning URL for Poly phones'`,
      `Add-DhcpServerv4Policy -Name 'polyprov-acme' -Condition OR -MacAddress EQ,0004F2*,64167F*,482567*`,
      `Set-DhcpServerv4OptionValue -PolicyName 'polyprov-acme' -OptionId 66 -Value '${URL_66}'`,
      `Set-DhcpServerv4OptionValue -PolicyName 'polyprov-acme' -OptionId 160 -Value '${URL_66}'`,
      `Set-DhcpServerv4OptionValue -PolicyName 'polyprov-acme' -OptionId 161 -Value '${URL_66}'`,
    ]);
    const option60 = snippet(config({ server: 'windows', match: 'option60' })).filter((l) => !l.startsWith('#'));
    assert.ok(option60.includes(`Add-DhcpServerv4Class -Name 'polyprov-acme' -Type Vendor -Data 'Poly' -Description 'Poly phones (polyprov)'`));
    assert.ok(option60.includes(`Add-DhcpServerv4Policy -Name 'polyprov-acme' -Condition OR -VendorClass EQ,'polyprov-acme*'`));
    const quoted = config({ server: 'windows', options: hostile });
    assert.ok(quoted.includes(`-OptionId 66 -Value 'a"b\\c,d''e#f;g'`));
    assert.ok(quoted.includes(`-OptionId 161 -Value 'j''k'`));
    assert.ok(quoted.includes(`# netsh dhcp server scope 192.0.2.0 set optionvalue 161 STRING "j'k"`));
    assert.ok(quoted.includes('# (option 66: the value contains a double quote, which netsh cannot pass; use the PowerShell lines above)'));
  });

  test('without a tenant the class has a generic name', () => {
    assert.match(dhcpServerConfig({ server: 'isc', match: 'oui', options }), /class "polyprov-poly-phones"/);
  });

  test('unusable input is refused with what to give instead', () => {
    const refused = (patch: Partial<DhcpConfigInput>, message: RegExp) =>
      assert.throws(() => config(patch), (e: unknown) => e instanceof DomainError && message.test(e.message), JSON.stringify(patch).slice(0, 80));
    refused({ options: { ...options, option160: 'a b' } }, /option 160 .* printable ASCII without spaces/);
    refused({ options: { ...options, option66: 'a\nb' } }, /option 66/);
    refused({ options: { ...options, option161: '' } }, /option 161/);
    refused({ options: { ...options, option66: 'x'.repeat(256) } }, /256 bytes/);
    refused({ subnet: '2001:db8::/64' }, /IPv4 network/);
    refused({ subnet: '10.0.0.0/31' }, /at least 4 addresses/);
    refused({ subnet: 'nonsense' }, /not a subnet/);
    refused({ tenant: 'Bad Tenant' }, /tenant's slug/);
    refused({ server: 'bind' as 'isc' }, /unknown DHCP server/);
    refused({ match: 'mac' as 'oui' }, /unknown match/);
  });
});
