import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DomainError } from '../../src/domain/domain-error.js';
import { addressNumber, isLoopbackHost, longestMatch, parsedOrNone, parseSubnet, parseSubnetList, plainAddress } from '../../src/domain/ip-subnet.js';

describe('client subnets', () => {
  test('IPv4 subnets match plain and IPv4-mapped client addresses, and nothing outside', () => {
    const s = [parseSubnet('10.20.0.0/16')];
    assert.equal(longestMatch(s, '10.20.3.4'), 112);
    assert.equal(longestMatch(s, '::ffff:10.20.255.1'), 112);
    assert.equal(longestMatch(s, '10.21.0.1'), -1);
    assert.equal(longestMatch(s, '::1'), -1);
    assert.equal(longestMatch(s, 'not-an-ip'), -1);
  });

  test('IPv6 subnets, a bare address as a single host, and the longest prefix wins', () => {
    const list = parseSubnetList(['2001:db8::/32', '2001:db8:1::/48', '192.0.2.7', '0.0.0.0/0']);
    assert.equal(longestMatch(list, '2001:db8:1::5'), 48);
    assert.equal(longestMatch(list, '2001:db8:2::5'), 32);
    assert.equal(longestMatch(list, '192.0.2.7'), 128);
    assert.equal(longestMatch(list, '198.51.100.1'), 96, '0.0.0.0/0 holds every IPv4 client');
    assert.equal(longestMatch(list, 'fe80::1%eth0'), -1, 'a zone index is ignored, the address still checked');
  });

  test('texts are written the canonical way', () => {
    assert.equal(parseSubnet(' 10.0.0.0/8 ').text, '10.0.0.0/8');
    assert.equal(parseSubnet('2001:DB8:0:0::/64').text, '2001:db8::/64');
    assert.equal(parseSubnet('::1').text, '::1/128');
    assert.equal(parseSubnet('::/0').text, '::/0');
    assert.equal(addressNumber('::ffff:1.2.3.4'), addressNumber('1.2.3.4'));
  });

  test('bad subnets are refused with a hint', () => {
    assert.throws(() => parseSubnet('10.0.0.1/8'), (e: unknown) => e instanceof DomainError && /host bits set: did you mean 10\.0\.0\.0\/8/.test(e.message));
    assert.throws(() => parseSubnet('10.0.0.0/33'), /prefix length/);
    assert.throws(() => parseSubnet('10.0.0.0/8/1'), /not a subnet/);
    assert.throws(() => parseSubnet('example.com/24'), /not a subnet/);
    assert.throws(() => parseSubnet('2001:db8::/129'), /from 0 to 128/);
    assert.deepEqual(parseSubnetList(['', ' ']), []);
  });

  test('client addresses lose the IPv4-mapped prefix only; stored subnets that no longer parse are skipped', () => {
    assert.equal(plainAddress('::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(plainAddress('::FFFF:10.1.2.3'), '10.1.2.3');
    assert.equal(plainAddress('::ffff:a01:203'), '::ffff:a01:203', 'hex form kept: still an IPv6 literal');
    assert.equal(plainAddress('2001:db8::1'), '2001:db8::1');
    assert.equal(plainAddress(undefined), '');
    assert.deepEqual(parsedOrNone('10.0.0.0/8').map((s) => s.text), ['10.0.0.0/8']);
    assert.deepEqual(parsedOrNone('garbage'), []);
  });

  test('loopback hosts are 127/8, ::1, their IPv4-mapped form and localhost; nothing else', () => {
    for (const h of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1', 'localhost']) assert.equal(isLoopbackHost(h), true, h);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', '2001:db8::1', 'prov.example.com', '']) assert.equal(isLoopbackHost(h), false, h);
  });
});
