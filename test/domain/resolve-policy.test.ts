import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../../src/domain/domain-error.js';
import type { LayerKind, PolicyLayer, ResolvedParameter } from '../../src/domain/resolve-policy.js';
import { LAYER_ORDER, resolvePolicy } from '../../src/domain/resolve-policy.js';

function layer(kind: LayerKind, params: Record<string, string>, ref = `${kind}-ref`): PolicyLayer {
  return { kind, ref, params };
}

function find(resolved: readonly ResolvedParameter[], name: string): ResolvedParameter {
  const found = resolved.find((p) => p.name === name);
  assert.ok(found, `${name} not resolved`);
  return found;
}

describe('resolvePolicy', () => {
  it('orders layers from least to most specific', () => {
    assert.deepEqual(LAYER_ORDER, ['defaults', 'tenant', 'model', 'site', 'group', 'rollout', 'device']);
  });

  it('lets each layer beat every less specific one', () => {
    for (let winner = 0; winner < LAYER_ORDER.length; winner++) {
      const layers = LAYER_ORDER.slice(0, winner + 1).map((kind) => layer(kind, { 'reg.1.label': kind }));
      const [resolved] = resolvePolicy(layers.reverse());
      assert.equal(resolved?.value, LAYER_ORDER[winner]);
      assert.equal(resolved?.layer, LAYER_ORDER[winner]);
      assert.equal(resolved?.ref, `${LAYER_ORDER[winner]}-ref`);
    }
  });

  it('lists the hidden values most specific first', () => {
    const resolved = resolvePolicy([
      layer('tenant', { x: 'tenant' }, 't1'),
      layer('device', { x: 'device' }, '0004f2abcdef'),
      layer('defaults', { x: 'defaults' }, 'built-in'),
      layer('group', { x: 'group' }, 'lobby'),
    ]);
    assert.deepEqual(resolved, [
      {
        name: 'x',
        value: 'device',
        layer: 'device',
        ref: '0004f2abcdef',
        shadows: [
          { value: 'group', layer: 'group', ref: 'lobby' },
          { value: 'tenant', layer: 'tenant', ref: 't1' },
          { value: 'defaults', layer: 'defaults', ref: 'built-in' },
        ],
      },
    ]);
  });

  it("reveals the group's value once the device value is removed", () => {
    const group = layer('group', { 'reg.1.label': 'Lobby', 'up.backlight.idleIntensity': '1' });
    const withDevice = resolvePolicy([group, layer('device', { 'reg.1.label': 'Desk 7' })]);
    assert.equal(find(withDevice, 'reg.1.label').value, 'Desk 7');
    const withoutDevice = resolvePolicy([group, layer('device', {})]);
    assert.equal(find(withoutDevice, 'reg.1.label').value, 'Lobby');
    assert.equal(find(withoutDevice, 'reg.1.label').layer, 'group');
    assert.deepEqual(find(withoutDevice, 'reg.1.label').shadows, []);
  });

  it('merges parameters from all layers and sorts them by code unit', () => {
    const resolved = resolvePolicy([
      layer('defaults', { b: '1', Z: '1' }),
      layer('site', { a: '2', 'a.b': '2' }),
      layer('device', { 'A.x': '3' }),
    ]);
    assert.deepEqual(resolved.map((p) => p.name), ['A.x', 'Z', 'a', 'a.b', 'b']);
    assert.equal(find(resolved, 'b').layer, 'defaults');
  });

  it('keeps empty-string values as real values that hide less specific ones', () => {
    const [resolved] = resolvePolicy([layer('tenant', { x: 'set' }), layer('device', { x: '' })]);
    assert.equal(resolved?.value, '');
    assert.equal(resolved?.shadows.length, 1);
  });

  it('treats __proto__ and constructor as ordinary names', () => {
    const params: Record<string, string> = JSON.parse('{"__proto__": "device-proto", "constructor": "c", "toString": "t"}');
    const resolved = resolvePolicy([layer('defaults', JSON.parse('{"__proto__": "default-proto"}')), layer('device', params)]);
    assert.deepEqual(resolved.map((p) => p.name), ['__proto__', 'constructor', 'toString']);
    assert.equal(find(resolved, '__proto__').value, 'device-proto');
    assert.deepEqual(find(resolved, '__proto__').shadows, [{ value: 'default-proto', layer: 'defaults', ref: 'defaults-ref' }]);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('returns [] for no layers', () => {
    assert.deepEqual(resolvePolicy([]), []);
  });

  it('refuses two layers of one kind', () => {
    assert.throws(
      () => resolvePolicy([layer('group', {}, 'lobby'), layer('group', {}, 'sales')]),
      (error: unknown) => error instanceof DomainError && /two "group" layers \("lobby" and "sales"\)/.test(error.message),
    );
  });

  it('refuses unknown kinds', () => {
    assert.throws(
      () => resolvePolicy([{ kind: 'building' as LayerKind, ref: 'b', params: {} }]),
      (error: unknown) => error instanceof DomainError && /unknown policy layer kind "building"/.test(error.message),
    );
  });
});
