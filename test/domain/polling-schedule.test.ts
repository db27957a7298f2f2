import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../../src/domain/domain-error.js';
import {
  POLLING_PARAMETERS,
  POLLING_TIME,
  POLLING_WINDOW,
  parsePollingWindow,
  pollingParameters,
  pollingTimeFor,
  withPollingTime,
  type PollingWindow,
} from '../../src/domain/polling-schedule.js';
import { resolvePolicy, type LayerKind, type PolicyLayer, type ResolvedParameter } from '../../src/domain/resolve-policy.js';

/** A fleet of distinct, realistic MACs (Poly's 0004f2 prefix). */
function fleet(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `0004f2${i.toString(16).padStart(6, '0')}`);
}

/** Minutes after midnight of an HH:MM the code produced (asserting the shape on the way). */
function clock(hhmm: string): number {
  const m = /^(\d\d):(\d\d)$/.exec(hhmm);
  assert.ok(m, `not HH:MM: ${hhmm}`);
  const total = Number(m[1]) * 60 + Number(m[2]);
  assert.ok(Number(m[1]) < 24 && Number(m[2]) < 60, `not a time of day: ${hhmm}`);
  return total;
}

/** The minute's offset into the window; inside the window iff < window.length. */
function offsetIn(window: PollingWindow, hhmm: string): number {
  return (clock(hhmm) - window.start + 1440) % 1440;
}

function layer(kind: LayerKind, params: Record<string, string>, ref = `${kind}-ref`): PolicyLayer {
  return { kind, ref, params };
}

function find(resolved: readonly ResolvedParameter[], name: string): ResolvedParameter {
  const found = resolved.find((p) => p.name === name);
  assert.ok(found, `${name} not resolved`);
  return found;
}

function isSorted(names: readonly string[]): boolean {
  return names.every((n, i) => i === 0 || names[i - 1]! < n);
}

const MAC = '0004f2a1b2c3';

describe('parsePollingWindow', () => {
  it('reads a window inside one day', () => {
    assert.deepEqual(parsePollingWindow('01:00-05:00'), { start: 60, length: 240 });
    assert.deepEqual(parsePollingWindow('00:00-00:01'), { start: 0, length: 1 });
    assert.deepEqual(parsePollingWindow('1:30-5:45'), { start: 90, length: 255 });
    assert.deepEqual(parsePollingWindow(' 01:00 - 05:00 '), { start: 60, length: 240 });
  });

  it('wraps a window past midnight', () => {
    assert.deepEqual(parsePollingWindow('22:00-02:00'), { start: 1320, length: 240 });
    assert.deepEqual(parsePollingWindow('23:59-00:00'), { start: 1439, length: 1 });
  });

  it('takes equal ends as the whole day', () => {
    assert.deepEqual(parsePollingWindow('03:00-03:00'), { start: 180, length: 1440 });
    assert.deepEqual(parsePollingWindow('00:00-00:00'), { start: 0, length: 1440 });
  });

  it('refuses anything else with the expected form and the input', () => {
    const bad = ['', '01:00', '01:00-', '-05:00', '24:00-05:00', '01:60-05:00', '01:00-05:00-06:00', '0100-0500', '1h-5h', 'soon', '01:00–05:00', '-1:00-05:00'];
    for (const text of bad) {
      assert.throws(
        () => parsePollingWindow(text),
        (err: unknown) => {
          assert.ok(err instanceof DomainError, `${JSON.stringify(text)}: not a DomainError`);
          assert.match(err.message, /expected HH:MM-HH:MM/);
          assert.match(err.message, /e\.g\. 01:00-05:00/);
          assert.ok(err.message.includes(JSON.stringify(text)), `${err.message} does not quote the input`);
          return true;
        },
        JSON.stringify(text),
      );
    }
  });
});

describe('pollingTimeFor', () => {
  const window = parsePollingWindow('01:00-05:00');

  it('is the same for the same MAC, whatever its case', () => {
    const first = pollingTimeFor(MAC, window);
    for (let i = 0; i < 3; i++) assert.equal(pollingTimeFor(MAC, window), first);
    assert.equal(pollingTimeFor(MAC.toUpperCase(), window), first);
    assert.equal(pollingTimeFor('0004F2a1B2c3', window), first);
  });

  it('differs between MACs', () => {
    const times = new Set(fleet(50).map((mac) => pollingTimeFor(mac, window)));
    assert.ok(times.size > 30, `50 MACs share only ${times.size} minutes`);
  });

  it('keeps every phone inside a window that wraps past midnight, on both sides of it', () => {
    const wrapping = parsePollingWindow('22:00-02:00');
    let beforeMidnight = 0;
    let afterMidnight = 0;
    for (const mac of fleet(5000)) {
      const time = pollingTimeFor(mac, wrapping);
      const offset = offsetIn(wrapping, time);
      assert.ok(offset < wrapping.length, `${mac} polls at ${time}, outside 22:00-02:00`);
      if (clock(time) >= 22 * 60) beforeMidnight++;
      else afterMidnight++;
    }
    // Half the window lies on each side; both halves must be used, not just one.
    assert.ok(beforeMidnight > 2000 && afterMidnight > 2000, `${beforeMidnight} before, ${afterMidnight} after midnight`);
  });

  it('puts a one-minute window on its only minute and a whole day anywhere', () => {
    assert.equal(pollingTimeFor(MAC, parsePollingWindow('04:17-04:18')), '04:17');
    const day = parsePollingWindow('03:00-03:00');
    const hours = new Set(fleet(2000).map((mac) => pollingTimeFor(mac, day).slice(0, 2)));
    assert.equal(hours.size, 24);
  });

  it('spreads ten thousand phones over a four-hour window: no minute gets more than twice its share', () => {
    const macs = fleet(10_000);
    const perMinute = new Array<number>(window.length).fill(0);
    for (const mac of macs) {
      const offset = offsetIn(window, pollingTimeFor(mac, window));
      assert.ok(offset < window.length, `${mac} polls outside 01:00-05:00`);
      perMinute[offset]!++;
    }
    const mean = macs.length / window.length;
    const busiest = Math.max(...perMinute);
    const quietest = Math.min(...perMinute);
    assert.ok(busiest <= 2 * mean, `the busiest minute gets ${busiest} phones, the mean is ${mean.toFixed(1)}`);
    assert.ok(quietest > 0, 'some minute of the window is never used');
  });
});

describe('pollingParameters', () => {
  it('window mode: absolute polling, daily by default, the window normalised', () => {
    assert.deepEqual(pollingParameters({ window: '1:00-5:00' }), {
      'prov.polling.enabled': '1',
      'prov.polling.period': '86400',
      'prov.polling.mode': 'abs',
      'polyprov.polling.window': '01:00-05:00',
    });
    assert.deepEqual(pollingParameters({ window: ' 22:00 - 2:00', mode: 'window', periodSeconds: 172800 }), {
      'prov.polling.enabled': '1',
      'prov.polling.period': '172800',
      'prov.polling.mode': 'abs',
      'polyprov.polling.window': '22:00-02:00',
    });
    assert.equal(pollingParameters({ window: '03:00-03:00' })[POLLING_WINDOW], '03:00-03:00');
  });

  it('phone-random mode: random polling between the window ends, no window of ours', () => {
    assert.deepEqual(pollingParameters({ window: '22:00-2:00', mode: 'phone-random' }), {
      'prov.polling.enabled': '1',
      'prov.polling.period': '86400',
      'prov.polling.mode': 'random',
      'prov.polling.time': '22:00',
      'prov.polling.timeRandomEnd': '02:00',
    });
  });

  it('names only parameters that unsetting removes', () => {
    for (const mode of ['window', 'phone-random'] as const) {
      for (const name of Object.keys(pollingParameters({ window: '01:00-05:00', mode }))) {
        assert.ok(POLLING_PARAMETERS.includes(name), `${name} (${mode}) missing from POLLING_PARAMETERS`);
      }
    }
  });

  it('accepts periods over an hour and refuses the rest', () => {
    assert.equal(pollingParameters({ window: '01:00-05:00', periodSeconds: 3601 })['prov.polling.period'], '3601');
    assert.equal(pollingParameters({ window: '01:00-05:00', periodSeconds: 7 * 86400 })['prov.polling.period'], '604800');
    for (const periodSeconds of [3600, 60, 0, -86400, 3600.5, 86400.25, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(
        () => pollingParameters({ window: '01:00-05:00', periodSeconds }),
        (err: unknown) => err instanceof DomainError && /invalid polling period/.test(err.message) && /whole seconds over 3600/.test(err.message),
        String(periodSeconds),
      );
    }
  });

  it('refuses an invalid window', () => {
    assert.throws(() => pollingParameters({ window: '25:00-05:00' }), (err: unknown) => err instanceof DomainError && /HH:MM-HH:MM/.test(err.message));
  });
});

describe('withPollingTime', () => {
  it('derives prov.polling.time at the window layer, in name order', () => {
    const resolved = resolvePolicy([
      layer('tenant', { [POLLING_WINDOW]: '01:00-05:00', 'prov.polling.enabled': '1', 'reg.1.address': '1001' }, 'acme'),
    ]);
    const before = structuredClone(resolved);
    const out = withPollingTime(resolved, MAC);
    const time = find(out, POLLING_TIME);
    assert.deepEqual(time, {
      name: POLLING_TIME,
      value: pollingTimeFor(MAC, parsePollingWindow('01:00-05:00')),
      layer: 'tenant',
      ref: time.ref,
      shadows: [],
    });
    assert.ok(time.ref.includes('acme'), time.ref);
    assert.ok(time.ref.includes('01:00-05:00'), time.ref);
    assert.deepEqual(
      out.map((p) => p.name),
      [POLLING_WINDOW, 'prov.polling.enabled', POLLING_TIME, 'reg.1.address'],
    );
    assert.deepEqual(resolved, before, 'the input was changed');
  });

  it('appends at the end when every name sorts before it, and is the same for an upper-case MAC', () => {
    const resolved = resolvePolicy([layer('site', { [POLLING_WINDOW]: '22:00-02:00' }, 'hq')]);
    const out = withPollingTime(resolved, MAC);
    assert.deepEqual(out.map((p) => p.name), [POLLING_WINDOW, POLLING_TIME]);
    assert.deepEqual(withPollingTime(resolved, MAC.toUpperCase()), out);
    const time = find(out, POLLING_TIME).value;
    assert.ok(offsetIn(parsePollingWindow('22:00-02:00'), time) < 240, `${time} is outside 22:00-02:00`);
  });

  it('records the less specific prov.polling.time values it hides', () => {
    const resolved = resolvePolicy([
      layer('defaults', { [POLLING_TIME]: '03:00', 'prov.polling.enabled': '0' }, 'built-in'),
      layer('model', { [POLLING_TIME]: '04:00' }, 'VVX450'),
      layer('site', { [POLLING_WINDOW]: '01:00-05:00', 'prov.polling.enabled': '1' }, 'hq'),
      layer('device', { 'reg.1.label': 'Reception' }, MAC),
    ]);
    const out = withPollingTime(resolved, MAC);
    const time = find(out, POLLING_TIME);
    assert.equal(time.layer, 'site');
    assert.equal(time.value, pollingTimeFor(MAC, parsePollingWindow('01:00-05:00')));
    assert.deepEqual(time.shadows, [
      { value: '04:00', layer: 'model', ref: 'VVX450' },
      { value: '03:00', layer: 'defaults', ref: 'built-in' },
    ]);
    assert.equal(out.filter((p) => p.name === POLLING_TIME).length, 1);
    assert.equal(out.length, resolved.length);
    assert.ok(isSorted(out.map((p) => p.name)), out.map((p) => p.name).join(', '));
  });

  it('leaves a more specific layer’s own prov.polling.time alone', () => {
    const resolved = resolvePolicy([
      layer('tenant', { [POLLING_WINDOW]: '01:00-05:00' }, 'acme'),
      layer('device', { [POLLING_TIME]: '02:30' }, MAC),
    ]);
    const out = withPollingTime(resolved, MAC);
    assert.deepEqual(out, resolved);
    assert.equal(find(out, POLLING_TIME).value, '02:30');
    assert.equal(find(out, POLLING_TIME).layer, 'device');
  });

  it('changes nothing without a window, or with one that no longer parses', () => {
    const plain = resolvePolicy([layer('defaults', { [POLLING_TIME]: '03:00', 'prov.polling.enabled': '1' })]);
    const out = withPollingTime(plain, MAC);
    assert.deepEqual(out, plain);
    assert.notEqual(out, plain, 'a copy, not the caller’s array');

    const broken = resolvePolicy([
      layer('defaults', { [POLLING_TIME]: '03:00' }),
      layer('tenant', { [POLLING_WINDOW]: '25:00-05:00' }),
    ]);
    assert.deepEqual(withPollingTime(broken, MAC), broken);
  });
});
