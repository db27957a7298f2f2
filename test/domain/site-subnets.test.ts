import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DomainError } from '../../src/domain/domain-error.js';
import { findSubnetOverlap, formatLensSubnets, normaliseSiteSubnets, parseLensSubnets, SiteLocator, siteForAddress } from '../../src/domain/site-subnets.js';
import type { SiteSubnet } from '../../src/domain/site-subnets.js';

const LENS = '{"public-subnet-list":[{"mask-length":24,"ip-address":"203.0.113.0","private-subnet-list":[{"mask-length":16,"ip-address":"10.1.0.0"}]}]}';

function domainError(message: RegExp) {
  return (e: unknown) => e instanceof DomainError && message.test(e.message);
}

describe('Lens site subnets: parsing and formatting', () => {
  test('the Lens export shape, a bare list of entries, numeric-text masks, blank text', () => {
    assert.deepEqual(parseLensSubnets(LENS), [{ public: '203.0.113.0/24', private: ['10.1.0.0/16'] }]);
    assert.deepEqual(parseLensSubnets('[{"mask-length":"32","ip-address":"198.51.100.7"},{"mask-length":48,"ip-address":"2001:DB8:1::"}]'), [
      { public: '198.51.100.7/32', private: [] },
      { public: '2001:db8:1::/48', private: [] },
    ]);
    assert.deepEqual(parseLensSubnets('{"public-subnet-list":[]}'), []);
    assert.deepEqual(parseLensSubnets('  '), []);
  });

  test('format writes the Lens shape compactly, in Lens key order, and parses back equal', () => {
    const subnets: SiteSubnet[] = [
      { public: '203.0.113.0/24', private: ['10.1.0.0/16', '10.2.0.0/16'] },
      { public: '2001:db8:1::/48', private: [] },
    ];
    const text = formatLensSubnets(subnets);
    assert.equal(
      text,
      '{"public-subnet-list":[{"mask-length":24,"ip-address":"203.0.113.0","private-subnet-list":[{"mask-length":16,"ip-address":"10.1.0.0"},{"mask-length":16,"ip-address":"10.2.0.0"}]},' +
        '{"mask-length":48,"ip-address":"2001:db8:1::","private-subnet-list":[]}]}',
    );
    assert.deepEqual(parseLensSubnets(text), subnets);
    assert.equal(formatLensSubnets(parseLensSubnets(LENS)), LENS);
    assert.equal(formatLensSubnets([]), '{"public-subnet-list":[]}');
  });

  test('mistakes are DomainErrors that say which entry and what is expected', () => {
    assert.throws(() => parseLensSubnets('{"public-subnet-list":'), domainError(/not valid JSON/));
    assert.throws(() => parseLensSubnets('{"subnets":[]}'), domainError(/expected an object with "public-subnet-list"/));
    assert.throws(() => parseLensSubnets('{"public-subnet-list":{}}'), domainError(/must be a list/));
    assert.throws(() => parseLensSubnets('[{"mask-length":24,"ip-address":"203.0.113.9"}]'), domainError(/public subnet 1: "203\.0\.113\.9\/24" has host bits set: did you mean 203\.0\.113\.0\/24/));
    assert.throws(
      () => parseLensSubnets('[{"mask-length":24,"ip-address":"203.0.113.0"},{"mask-length":24,"ip-address":"198.51.100.0","private-subnet-list":[{"mask-length":8,"ip-address":"10.1.0.0"}]}]'),
      domainError(/public subnet 2 \(198\.51\.100\.0\/24\), private subnet 1: .*did you mean 10\.0\.0\.0\/8/),
    );
    assert.throws(() => parseLensSubnets('[{"mask-length":"24a","ip-address":"203.0.113.0"}]'), domainError(/"mask-length" must be a whole number/));
    assert.throws(() => parseLensSubnets('[{"mask-length":33,"ip-address":"203.0.113.0"}]'), domainError(/from 0 to 32/));
    assert.throws(() => parseLensSubnets('[{"mask-length":24}]'), domainError(/"ip-address" must be an address/));
    assert.throws(() => parseLensSubnets('[{"mask-length":24,"ip-address":"lens.example"}]'), domainError(/not a subnet/));
    assert.throws(() => parseLensSubnets('[{"mask-length":24,"ip-address":"203.0.113.0","private-subnet-list":"10.0.0.0/8"}]'), domainError(/"private-subnet-list" must be a list/));
    assert.throws(() => parseLensSubnets('[42]'), domainError(/public subnet 1: expected/));
  });

  test('subnets given as objects are normalised and checked the same way', () => {
    assert.deepEqual(normaliseSiteSubnets([{ public: ' 2001:DB8::/32', private: ['FD00:0:0:1::/64'] }]), [{ public: '2001:db8::/32', private: ['fd00:0:0:1::/64'] }]);
    assert.throws(() => normaliseSiteSubnets([{ public: '10.0.0.1/8', private: [] }]), domainError(/host bits/));
    assert.throws(() => normaliseSiteSubnets([{ public: '203.0.113.0/24', private: ['10.1.0.0/8'] }]), domainError(/host bits/));
    assert.throws(() => normaliseSiteSubnets([{ public: '10.0.0.0/8', private: [7 as unknown as string] }]), domainError(/private must be a list of CIDR strings/));
  });
});

describe('Lens site subnets: overlaps', () => {
  const pub = (cidr: string, ...priv: string[]): SiteSubnet => ({ public: cidr, private: priv });

  test('disjoint public subnets, or one public subnet with disjoint private subnets, do not overlap', () => {
    assert.equal(
      findSubnetOverlap([
        { slug: 'hq', subnets: [pub('203.0.113.0/25')] },
        { slug: 'branch', subnets: [pub('203.0.113.128/25'), pub('2001:db8::/32')] },
        { slug: 'lab', subnets: [pub('2001:db9::/32')] },
      ]),
      null,
    );
    assert.equal(
      findSubnetOverlap([
        { slug: 'floor-1', subnets: [pub('198.51.100.0/24', '10.1.0.0/16')] },
        { slug: 'floor-2', subnets: [pub('198.51.100.0/24', '10.2.0.0/16', '10.3.0.0/16')] },
        { slug: 'floor-3', subnets: [pub('198.51.100.0/28', '10.4.0.0/16')] },
      ]),
      null,
    );
  });

  test('nested public subnets overlap when either lists no private subnets; the message names both sites and subnets', () => {
    const problem = findSubnetOverlap([
      { slug: 'hq', subnets: [pub('203.0.0.0/16')] },
      { slug: 'other', subnets: [pub('192.0.2.0/24')] },
      { slug: 'branch', subnets: [pub('203.0.113.0/24', '10.1.0.0/16')] },
    ]);
    assert.equal(
      problem,
      'the subnets of sites "hq" and "branch" overlap: 203.0.0.0/16 (any private address) of "hq" and 203.0.113.0/24 of "branch"; a device there would belong to both (sites sharing a public subnet must list disjoint private subnets)',
    );
  });

  test('a shared public subnet with overlapping private subnets overlaps, naming the private subnets', () => {
    const problem = findSubnetOverlap([
      { slug: 'floor-1', subnets: [pub('198.51.100.0/24', '10.1.0.0/16')] },
      { slug: 'floor-2', subnets: [pub('198.51.100.0/24', '10.2.0.0/16', '10.1.5.0/24')] },
    ]);
    assert.match(problem ?? '', /^the subnets of sites "floor-1" and "floor-2" overlap: 198\.51\.100\.0\/24 \(private 10\.1\.0\.0\/16\) of "floor-1" and 198\.51\.100\.0\/24 \(private 10\.1\.5\.0\/24\) of "floor-2"/);
    const narrowerFirst = findSubnetOverlap([
      { slug: 'floor-1', subnets: [pub('198.51.100.0/24', '10.1.5.0/24')] },
      { slug: 'floor-2', subnets: [pub('198.51.100.0/24', '10.1.0.0/16')] },
    ]);
    assert.match(narrowerFirst ?? '', /\(private 10\.1\.5\.0\/24\) of "floor-1" and 198\.51\.100\.0\/24 \(private 10\.1\.0\.0\/16\) of "floor-2"/);
  });

  test('sibling blocks inside one wider block do not overlap each other', () => {
    assert.equal(
      findSubnetOverlap([
        { slug: 'a', subnets: [pub('10.7.0.0/24', '10.1.0.0/16')] },
        { slug: 'b', subnets: [pub('10.7.0.0/16', '10.2.0.0/16')] },
        { slug: 'c', subnets: [pub('10.7.1.0/24', '10.1.0.0/16')] },
      ]),
      null,
    );
  });

  test('a single address at the very end of another site’s subnet overlaps; the next address does not', () => {
    assert.match(findSubnetOverlap([{ slug: 'hq', subnets: [pub('203.0.113.0/24')] }, { slug: 'gw', subnets: [pub('203.0.113.255/32')] }]) ?? '', /sites "hq" and "gw" overlap/);
    assert.equal(findSubnetOverlap([{ slug: 'hq', subnets: [pub('203.0.113.0/24')] }, { slug: 'gw', subnets: [pub('203.0.114.0/32')] }]), null);
  });

  test('an identical subnet in two sites overlaps; IPv4 and IPv6 compare as IPv4-mapped addresses', () => {
    assert.match(findSubnetOverlap([{ slug: 'a', subnets: [pub('2001:db8::/48')] }, { slug: 'b', subnets: [pub('2001:db8::/48')] }]) ?? '', /sites "a" and "b" overlap/);
    assert.equal(findSubnetOverlap([{ slug: 'a', subnets: [pub('10.0.0.0/8')] }, { slug: 'b', subnets: [pub('2001:db8::/32')] }]), null);
    // ::/64 holds ::ffff:10.0.0.0/104, which is how IPv4 10.0.0.0/8 is compared.
    assert.match(findSubnetOverlap([{ slug: 'a', subnets: [pub('10.0.0.0/8')] }, { slug: 'b', subnets: [pub('::/64')] }]) ?? '', /sites "b" and "a" overlap/);
  });

  test('one site may not list overlapping subnets either', () => {
    assert.equal(findSubnetOverlap([{ slug: 'hq', subnets: [pub('203.0.113.0/24'), pub('203.0.113.64/26')] }]), 'site "hq" lists 203.0.113.0/24 (any private address) and 203.0.113.64/26 (any private address), which overlap: merge or remove one');
    assert.equal(
      findSubnetOverlap([{ slug: 'hq', subnets: [pub('203.0.113.0/24', '10.0.0.0/8', '10.9.0.0/16')] }]),
      'site "hq" lists private subnets 10.0.0.0/8 and 10.9.0.0/16 behind 203.0.113.0/24, which overlap: merge or remove one',
    );
    assert.equal(findSubnetOverlap([{ slug: 'hq', subnets: [pub('203.0.113.0/24', '10.1.0.0/16'), pub('203.0.113.0/24', '10.2.0.0/16')] }]), null);
  });

  test('a long chain of nested and sibling subnets finds the one deep overlap', () => {
    const sites = Array.from({ length: 2000 }, (_, i) => ({ slug: `s${i}`, subnets: [pub(`10.${i >> 8}.${i & 255}.0/24`)] }));
    assert.equal(findSubnetOverlap(sites), null);
    sites.push({ slug: 'late', subnets: [pub('10.7.200.128/25')] });
    assert.match(findSubnetOverlap(sites) ?? '', /sites "s1992" and "late" overlap: 10\.7\.200\.0\/24 \(any private address\) of "s1992" and 10\.7\.200\.128\/25/);
  });
});

describe('Lens site subnets: which site an address belongs to', () => {
  const sites = [
    { id: 1, subnets: [{ public: '203.0.113.0/24', private: [] }] },
    { id: 2, subnets: [{ public: '203.0.113.128/25', private: [] }] },
    { id: 3, subnets: [{ public: '198.51.100.0/24', private: ['10.1.0.0/16'] }] },
    { id: 4, subnets: [{ public: '198.51.100.0/24', private: ['10.2.0.0/16', '10.2.5.0/24'] }] },
    { id: 5, subnets: [{ public: '192.0.2.7/32', private: [] }, { public: '2001:db8:5::/48', private: [] }] },
    { id: 6, subnets: [{ public: '192.0.2.0/24', private: ['172.16.0.0/12'] }] },
  ];

  test('first and last address inside, just outside, /32 and IPv6', () => {
    assert.equal(siteForAddress(sites, '203.0.113.0'), 1);
    assert.equal(siteForAddress(sites, '203.0.113.127'), 1);
    assert.equal(siteForAddress(sites, '203.0.112.255'), null);
    assert.equal(siteForAddress(sites, '203.0.114.0'), null);
    assert.equal(siteForAddress(sites, '192.0.2.7'), 5);
    assert.equal(siteForAddress(sites, '::ffff:192.0.2.7'), 5, 'an IPv4-mapped source is the IPv4 address');
    assert.equal(siteForAddress(sites, '2001:db8:5:ffff:ffff:ffff:ffff:ffff'), 5);
    assert.equal(siteForAddress(sites, '2001:db8:6::'), null);
    assert.equal(siteForAddress(sites, 'not-an-address'), null);
    assert.equal(siteForAddress([], '203.0.113.5'), null);
  });

  test('the most specific public subnet wins', () => {
    assert.equal(siteForAddress(sites, '203.0.113.128'), 2);
    assert.equal(siteForAddress(sites, '203.0.113.255'), 2);
  });

  test('a site that lists no private subnets takes any private address behind its public subnet', () => {
    assert.equal(siteForAddress(sites, '203.0.113.5', '10.9.9.9'), 1);
    assert.equal(siteForAddress(sites, '192.0.2.7', '172.16.0.1'), 5, 'the /32 is more specific than the site with private subnets');
  });

  test('behind a shared public subnet the private address decides, most specific private subnet first', () => {
    assert.equal(siteForAddress(sites, '198.51.100.9', '10.1.0.1'), 3);
    assert.equal(siteForAddress(sites, '198.51.100.9', '10.2.255.255'), 4);
    assert.equal(siteForAddress(sites, '198.51.100.9', '10.3.0.1'), null, 'in no private subnet');
    assert.equal(siteForAddress(sites, '198.51.100.9'), null, 'unknown private address, two sites share the public subnet');
    const nested = [
      { id: 7, subnets: [{ public: '198.51.100.0/24', private: ['10.0.0.0/8'] }] },
      { id: 8, subnets: [{ public: '198.51.100.0/24', private: ['10.9.0.0/16'] }] },
    ];
    assert.equal(siteForAddress(nested, '198.51.100.1', '10.9.1.1'), 8);
    assert.equal(siteForAddress(nested, '198.51.100.1', '10.8.1.1'), 7);
  });

  test('one site on the public subnet: an unknown private address places the device there, a known one must match', () => {
    assert.equal(siteForAddress(sites, '192.0.2.9'), 6);
    assert.equal(siteForAddress(sites, '192.0.2.9', '172.31.255.255'), 6);
    assert.equal(siteForAddress(sites, '192.0.2.9', '172.32.0.0'), null);
  });

  test('a private address only a less specific public subnet lists still finds its site', () => {
    const layered = [
      { id: 1, subnets: [{ public: '198.51.100.0/24', private: ['10.1.0.0/16'] }] },
      { id: 2, subnets: [{ public: '198.51.100.0/25', private: ['10.2.0.0/16'] }] },
    ];
    assert.equal(siteForAddress(layered, '198.51.100.1', '10.1.2.3'), 1);
    assert.equal(siteForAddress(layered, '198.51.100.1', '10.2.2.3'), 2);
    assert.equal(siteForAddress(layered, '198.51.100.200', '10.2.2.3'), null);
    // Overlapping (refused by findSubnetOverlap, but stored data is never trusted blindly): the wider open site still takes it.
    const wideOpen = [{ id: 1, subnets: [{ public: '198.51.100.0/24', private: [] }] }, layered[1]!];
    assert.equal(siteForAddress(wideOpen, '198.51.100.1', '10.9.0.1'), 1);
  });

  test('a locator built once answers like siteForAddress', () => {
    const locator = new SiteLocator(sites);
    assert.equal(locator.empty, false);
    assert.equal(new SiteLocator([{ id: 1, subnets: [] }]).empty, true);
    for (const [ip, priv] of [['203.0.113.200'], ['198.51.100.3', '10.2.5.5'], ['192.0.2.7'], ['8.8.8.8']] as [string, string?][]) {
      assert.equal(locator.siteFor(ip, priv), siteForAddress(sites, ip, priv));
    }
  });
});
