import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { targetFromFilename } from '../../../src/servers/tftp/tftp-target.js';
import { errorForRefusal } from '../../../src/servers/tftp/refusal-error.js';
import { RateGate } from '../../../src/servers/tftp/rate-gate.js';

describe('TFTP file names become core targets', () => {
  const table: [string, string][] = [
    ['000000000000.cfg', '/000000000000.cfg'],
    ['/000000000000.cfg', '/000000000000.cfg'],
    ['logs/0004f2a1b2c3-app.log', '/logs/0004f2a1b2c3-app.log'],
    ['//logs//0004f2a1b2c3-app.log', '/logs/0004f2a1b2c3-app.log'],
    ['a b%20c?d#e.cfg', '/a%20b%2520c%3Fd%23e.cfg'],
    ['../etc/passwd', '/../etc/passwd'],
    ['t\u00e9l.cfg', '/t%C3%A9l.cfg'],
  ];
  for (const [name, target] of table) {
    it(JSON.stringify(name), () => assert.deepEqual(targetFromFilename(name), { ok: true, target }));
  }
  for (const bad of ['..\\windows\\win.ini', 'a\\b', '/', '', 'a\0b']) {
    it(`refuses ${JSON.stringify(bad)}`, () => assert.equal(targetFromFilename(bad).ok, false));
  }
});

describe('core refusals become TFTP errors', () => {
  it('maps each problem to the closest RFC 1350 code', () => {
    assert.deepEqual(errorForRefusal('not-found', 'x.cfg does not exist'), { code: 1, message: 'File not found' });
    assert.equal(errorForRefusal('unauthenticated', 'no').code, 2);
    assert.deepEqual(errorForRefusal('forbidden', 'holds secrets'), { code: 2, message: 'Access violation: holds secrets' });
    assert.equal(errorForRefusal('too-large', 'limit').code, 3);
    for (const p of ['bad-path', 'bad-request', 'too-long', 'not-allowed', 'conflict', 'not-implemented'] as const) {
      assert.deepEqual(errorForRefusal(p, `why ${p}`), { code: 0, message: `why ${p}` });
    }
  });
});

describe('RateGate', () => {
  it('lets perWindow events through per key and window', () => {
    const gate = new RateGate(1000, 2, 3);
    assert.deepEqual([gate.allow('a', 0), gate.allow('a', 10), gate.allow('a', 20), gate.allow('b', 20)], [true, true, false, true]);
    assert.equal(gate.allow('a', 1000), true, 'a new window');
    for (const k of ['c', 'd', 'e', 'f']) assert.equal(gate.allow(k, 1000), true, 'a full table starts over rather than growing');
  });
});
