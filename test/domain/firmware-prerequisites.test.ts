import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PREREQUISITES, prerequisiteWarnings } from '../../src/domain/firmware-prerequisites.js';
import { parseFirmwareVersion } from '../../src/domain/firmware-version.js';

const states = (target: string, facts: Parameters<typeof prerequisiteWarnings>[1]) => prerequisiteWarnings(target, facts).map((w) => `${w.state}:${Object.keys(w.rule.needs).join('+')}`);

test('the table is well-formed data: versions parse, models are UA spellings or prefixes', () => {
  assert.ok(PREREQUISITES.length >= 3);
  for (const r of PREREQUISITES) {
    parseFirmwareVersion(r.fromVersion);
    for (const v of Object.values(r.needs)) parseFirmwareVersion(v);
    for (const m of r.models) assert.match(m, /^[A-Za-z]+_(\*|[A-Z0-9]+)$/);
    assert.ok(r.why && r.source);
  }
});

test('a SoundPoint going to UCS 4 needs the 4.x Updater: missing, unknown or present', () => {
  assert.deepEqual(states('4.0.15.1009', { model: 'SPIP_335', running: '3.3.1.0933', updater: '3.3.1.0933' }), ['missing:updater', 'unknown:bootrom']);
  assert.deepEqual(states('4.0.15.1009', { model: 'SPIP_335', running: '3.3.1.0933', updater: null }), ['unknown:updater', 'unknown:bootrom']);
  assert.deepEqual(states('4.0.15.1009', { model: 'SPIP_335', running: '3.3.1.0933', updater: '4.0.15.1009' }), ['unknown:bootrom']);
  // Already on 4.x: whatever it needed, it had.
  assert.deepEqual(states('4.0.15.1009', { model: 'SPIP_335', running: '4.0.14.1000', updater: null }), []);
  // A VVX is not concerned, nor an older target.
  assert.deepEqual(states('4.0.15.1009', { model: 'VVX_500', running: '4.0.14.1000', updater: null }), []);
  assert.deepEqual(states('3.1.5', { model: 'SPIP_335', running: '3.1.0', updater: null }), []);
});

test('a VVX jumping from before 5.8 to 5.9.8 or later is told to step through a release', () => {
  assert.deepEqual(states('5.9.8.5760', { model: 'VVX_500', running: '5.7.2.1000', updater: null }), ['missing:running']);
  assert.deepEqual(states('6.4.6.1234', { model: 'VVX_500', running: '5.8.3.2414', updater: null }), []);
  assert.deepEqual(states('6.4.6.1234', { model: 'VVX_500', running: null, updater: null }), ['unknown:running']);
  assert.deepEqual(states('6.4.6.1234', { model: null, running: null, updater: null }), []);
});
