import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOverrideFile } from '../../src/domain/override-file.js';
import {
  filterOverrideFile,
  isOverrideAllowed,
  matchesOverridePattern,
  requireOverridePolicy,
  validateOverridePattern,
} from '../../src/domain/override-policy.js';
import { DomainError } from '../../src/domain/domain-error.js';
import { conformantParse, hasConformantParser } from './conformant-xml.js';

const PHONE_CFG = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!-- Application SIP Helford6 5.9.6.2996 30-Jan-21 15:34 -->
<PHONE_CONFIG>
  <OVERRIDES reg.1.label="Anna &amp; Co" up.backlight.idleIntensity="1" reg.2.label="Bob" lcl.ml.lang="Deutsch_Deutschland"/>
</PHONE_CONFIG>
`;

const WEB_CFG = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!-- Created 02-11-2016 10:05 -->
<WEB_CONFIG>
  <OVERRIDES tcpIpApp.sntp.address="pool.ntp.org" feature.callListMissed.enabled="0" />
  <DEVICE_SETTINGS device.set="1" device.prov.serverName="prov.example.com" />
</WEB_CONFIG>
`;

describe('matchesOverridePattern', () => {
  it('matches exact names, one-segment wildcards and trailing wildcards', () => {
    assert.ok(matchesOverridePattern('reg.1.label', 'reg.1.label'));
    assert.ok(matchesOverridePattern('reg.1.label', 'reg.*.label'));
    assert.ok(!matchesOverridePattern('reg.1.line.label', 'reg.*.label'), '* in the middle is one segment');
    assert.ok(!matchesOverridePattern('reg.1.labels', 'reg.*.label'));
    assert.ok(matchesOverridePattern('up.backlight.idleIntensity', 'up.*'));
    assert.ok(matchesOverridePattern('up.x', 'up.*'));
    assert.ok(!matchesOverridePattern('up', 'up.*'), 'a trailing * needs at least one segment');
    assert.ok(!matchesOverridePattern('upx.y', 'up.*'));
    assert.ok(matchesOverridePattern('anything.at.all', '*'));
    assert.ok(matchesOverridePattern('voIpProt.SIP.outboundProxy.address', 'voipprot.sip.*'), 'case is ignored');
  });
});

describe('isOverrideAllowed', () => {
  it('allows everything under allow-all, whatever the patterns', () => {
    assert.ok(isOverrideAllowed('reg.1.label', 'allow-all', ['reg.*']));
  });
  it('allows only listed names under allow-list', () => {
    assert.ok(isOverrideAllowed('up.backlight.idleIntensity', 'allow-list', ['up.*', 'lcl.ml.lang']));
    assert.ok(isOverrideAllowed('lcl.ml.lang', 'allow-list', ['up.*', 'lcl.ml.lang']));
    assert.ok(!isOverrideAllowed('reg.1.label', 'allow-list', ['up.*']));
    assert.ok(!isOverrideAllowed('reg.1.label', 'allow-list', []), 'an empty allow-list allows nothing');
  });
  it('allows all but the listed names under deny-list', () => {
    assert.ok(!isOverrideAllowed('reg.1.label', 'deny-list', ['reg.*']));
    assert.ok(isOverrideAllowed('up.backlight.idleIntensity', 'deny-list', ['reg.*']));
    assert.ok(isOverrideAllowed('reg.1.label', 'deny-list', []));
  });
});

describe('validateOverridePattern and requireOverridePolicy', () => {
  it('accepts parameter names with * segments', () => {
    for (const p of ['reg.*.label', 'up.*', '*', 'reg.1.acd-agent-available', 'voIpProt.SIP.*']) assert.equal(validateOverridePattern(p), p);
  });
  it('refuses what is not a parameter name pattern', () => {
    for (const p of ['', 'reg..label', 'reg.1*.label', 'reg.*.', '.reg', 'reg label', '1reg.x', 'reg.**', 'a'.repeat(300)]) {
      assert.throws(() => validateOverridePattern(p), DomainError, p);
    }
  });
  it('names the three policies', () => {
    assert.equal(requireOverridePolicy('deny-list'), 'deny-list');
    assert.throws(() => requireOverridePolicy('deny'), /allow-all.*allow-list.*deny-list/);
  });
});

describe('filterOverrideFile', () => {
  it('keeps the allowed parameters in one OVERRIDES element under PHONE_CONFIG', () => {
    const r = filterOverrideFile(PHONE_CFG, (n) => isOverrideAllowed(n, 'deny-list', ['reg.*']));
    assert.ok(r);
    assert.deepEqual(r.removed, ['reg.1.label', 'reg.2.label']);
    assert.match(r.xml, /^<\?xml version="1.0" encoding="UTF-8" standalone="yes"\?>\n/);
    assert.match(r.xml, /<PHONE_CONFIG>\s*<OVERRIDES up\.backlight\.idleIntensity="1" lcl\.ml\.lang="Deutsch_Deutschland"\/?>\s*<\/PHONE_CONFIG>\n$/);
    const back = parseOverrideFile(r.xml);
    assert.ok(back.ok);
    assert.deepEqual([...back.params], [['up.backlight.idleIntensity', '1'], ['lcl.ml.lang', 'Deutsch_Deutschland']]);
  });

  it('escapes values again', () => {
    const r = filterOverrideFile(PHONE_CFG, (n) => n === 'reg.1.label');
    assert.ok(r);
    assert.match(r.xml, /reg\.1\.label="Anna &amp; Co"/);
    const back = parseOverrideFile(r.xml);
    assert.ok(back.ok);
    assert.equal(back.params.get('reg.1.label'), 'Anna & Co');
  });

  it('renders a web file under WEB_CONFIG, from the kind or the document', () => {
    for (const kind of ['web', undefined] as const) {
      const r = filterOverrideFile(WEB_CFG, (n) => !n.startsWith('device.'), kind);
      assert.ok(r);
      assert.deepEqual(r.removed, ['device.set', 'device.prov.serverName']);
      assert.match(r.xml, /<WEB_CONFIG>\s*<OVERRIDES tcpIpApp\.sntp\.address="pool\.ntp\.org" feature\.callListMissed\.enabled="0"\/?>\s*<\/WEB_CONFIG>/);
    }
  });

  it('renders an empty OVERRIDES element when nothing is allowed, and removes nothing when all are', () => {
    const none = filterOverrideFile(PHONE_CFG, () => false);
    assert.ok(none);
    assert.equal(none.removed.length, 4);
    const back = parseOverrideFile(none.xml);
    assert.ok(back.ok);
    assert.equal(back.params.size, 0);
    const all = filterOverrideFile(PHONE_CFG, () => true);
    assert.ok(all);
    assert.deepEqual(all.removed, []);
  });

  it('returns null for a file that does not parse', () => {
    assert.equal(filterOverrideFile('<PHONE_CONFIG><OVERRIDES reg.1.label="x"', () => false), null);
    assert.equal(filterOverrideFile('', () => false), null);
  });

  it('writes a document a conformant parser reads', { skip: !hasConformantParser }, () => {
    const r = filterOverrideFile(PHONE_CFG, (n) => n !== 'reg.2.label');
    assert.ok(r);
    assert.deepEqual(conformantParse([r.xml]), [
      [
        ['OVERRIDES', 'reg.1.label', 'Anna & Co'],
        ['OVERRIDES', 'up.backlight.idleIntensity', '1'],
        ['OVERRIDES', 'lcl.ml.lang', 'Deutsch_Deutschland'],
      ],
    ]);
  });
});
