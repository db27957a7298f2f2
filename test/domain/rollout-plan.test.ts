import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assignWaves, decideRollout, inWindow, parseDuration, parseWaves, parseWindow, rolloutProgress, stuckMembers, type MemberReport, type RolloutState } from '../../src/domain/rollout-plan.js';

const macs = Array.from({ length: 200 }, (_, i) => `0004f2${i.toString(16).padStart(6, '0')}`);
const T0 = '2026-11-21T02:00:00.000Z';
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000);

function state(over: Partial<RolloutState> = {}): RolloutState {
  return { toVersion: '6.4.6.1234', waves: [1, 10, 100], status: 'running', currentWave: 0, waveStartedAt: T0, waveIntervalMs: 30 * 60_000, deadlineMs: 60 * 60_000, maxFailurePercent: 0, window: null, ...over };
}

/** Every member on `old`, except those of the listed waves, on the target. */
function reports(members: { mac: string; wave: number }[], updatedWaves: number[], old = '5.9.8.5760'): MemberReport[] {
  return members.map((m) => ({ ...m, running: updatedWaves.includes(m.wave) ? '6.4.6.1234' : old }));
}

describe('parsing', () => {
  test('waves, durations and windows', () => {
    assert.deepEqual(parseWaves('1, 10,100'), [1, 10, 100]);
    for (const bad of ['', '10,5,100', '1,10', '0,100', '1,10,101', 'a,100']) assert.throws(() => parseWaves(bad), /rising percentages/, bad);
    assert.equal(parseDuration('90m'), 90 * 60_000);
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('45'), 45_000);
    assert.throws(() => parseDuration('soon'), /invalid duration/);
    assert.deepEqual(parseWindow('01:00-05:30'), { start: 60, end: 330 });
    assert.throws(() => parseWindow('25:00-01:00'), /HH:MM-HH:MM/);
    assert.ok(inWindow(parseWindow('22:00-04:00'), new Date('2026-11-21T23:30:00Z')));
    assert.ok(inWindow(parseWindow('22:00-04:00'), new Date('2026-11-21T03:59:00Z')));
    assert.ok(!inWindow(parseWindow('22:00-04:00'), new Date('2026-11-21T04:00:00Z')));
  });
});

describe('waves', () => {
  test('cumulative cuts, a canary of at least one, every device once, stable for the same name', () => {
    const plan = assignWaves('vvx-6.4.6', macs, [1, 10, 100]);
    const sizes = [0, 1, 2].map((w) => plan.filter((p) => p.wave === w).length);
    assert.deepEqual(sizes, [2, 18, 180]);
    assert.equal(new Set(plan.map((p) => p.mac)).size, 200);
    assert.deepEqual(assignWaves('vvx-6.4.6', [...macs].reverse(), [1, 10, 100]), plan);
    const other = assignWaves('another', macs, [1, 10, 100]);
    assert.notDeepEqual(other.filter((p) => p.wave === 0).map((p) => p.mac).sort(), plan.filter((p) => p.wave === 0).map((p) => p.mac).sort());
    assert.deepEqual(assignWaves('x', macs.slice(0, 3), [1, 10, 100]).map((p) => p.wave).sort(), [0, 1, 2]);
  });
});

describe('decisions', () => {
  const plan = assignWaves('vvx-6.4.6', macs, [1, 10, 100]);

  test('the canary moves first: the next wave waits until the canary reports the new version and has soaked', () => {
    assert.equal(decideRollout(state(), reports(plan, []), at(10)).action, 'wait');
    assert.equal(decideRollout(state(), reports(plan, [0]), at(10)).action, 'wait', 'healthy but soaking');
    assert.deepEqual(decideRollout(state(), reports(plan, [0]), at(31)), { action: 'advance', wave: 1 });
  });

  test('canary phones that do not come back by the deadline pause the rollout; it resumes when they report', () => {
    const silent = reports(plan, []);
    const d = decideRollout(state(), silent, at(61));
    assert.equal(d.action, 'pause');
    assert.match((d as { reason: string }).reason, /2 of 2 phones of wave 1 of 3 did not report 6\.4\.6\.1234 within 60 min/);
    assert.equal(decideRollout(state({ status: 'paused' }), silent, at(90)).action, 'wait');
    assert.deepEqual(decideRollout(state({ status: 'paused' }), reports(plan, [0]), at(90)), { action: 'resume' });
    assert.deepEqual(decideRollout(state(), reports(plan, [0]), at(91)), { action: 'advance', wave: 1 });
  });

  test('failures within the allowed percentage let the wave go after its deadline', () => {
    const members = reports(plan, [0, 1]).map((m, i) => (m.wave === 1 && i % 9 === 0 ? { ...m, running: null } : m));
    const s = state({ currentWave: 1, maxFailurePercent: 20 });
    assert.equal(decideRollout(s, members, at(45)).action, 'wait', 'before the deadline a missing phone may still come');
    assert.deepEqual(decideRollout(s, members, at(61)), { action: 'advance', wave: 2 });
    assert.equal(decideRollout(state({ currentWave: 1, maxFailurePercent: 0 }), members, at(61)).action, 'pause');
  });

  test('the last wave completes; a maintenance window holds a healthy wave', () => {
    assert.deepEqual(decideRollout(state({ currentWave: 2 }), reports(plan, [0, 1, 2]), at(1)), { action: 'complete' });
    const windowed = state({ window: '03:00-05:00' });
    assert.equal(decideRollout(windowed, reports(plan, [0]), at(40)).action, 'wait', '02:40 UTC is outside 03:00-05:00');
    assert.deepEqual(decideRollout(windowed, reports(plan, [0]), at(61)), { action: 'advance', wave: 1 });
    assert.equal(decideRollout(state({ status: 'rolled-back' }), reports(plan, [0]), at(100)).action, 'wait');
  });

  test('progress and stuck phones', () => {
    const members = reports(plan, [0]);
    const p = rolloutProgress(state({ currentWave: 1 }), members);
    assert.deepEqual(p.map((w) => [w.size, w.updated, w.released]), [[2, 2, true], [18, 0, true], [180, 0, false]]);
    assert.equal(stuckMembers(state({ currentWave: 1 }), members).length, 18);
  });
});
