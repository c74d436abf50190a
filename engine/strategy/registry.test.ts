import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolyedgeError } from '../errors.js';
import type { CompleteSetParams } from './complete-set.js';
import { createStrategy, isStrategyName, reloadParams, strategyFactories } from './registry.js';

test('every registered strategy is created by name with its defaults, and carries that name', () => {
  assert.deepEqual(Object.keys(strategyFactories), ['maker', 'complete_set', 'directional']);
  for (const [name, factory] of Object.entries(strategyFactories)) {
    assert.equal(factory.name, name);
    const s = createStrategy(name);
    assert.equal(s.name, name);
    assert.deepEqual(s.params(), factory.paramsSchema.defaultValue);
    assert.ok(Object.isFrozen(s.params()));
  }
  assert.equal(isStrategyName('maker'), true);
  assert.equal(isStrategyName('toString'), false, 'inherited properties are not strategies');
});

test('createStrategy rejects an unknown name and bad parameters with the field named', () => {
  assert.throws(
    () => createStrategy('market_maker', {}),
    (err: unknown) => err instanceof PolyedgeError && err.code === 'PE_CONFIG_INVALID' && err.field === 'strategy' && /unknown strategy "market_maker"; known: maker, complete_set, directional/.test(err.message),
  );
  assert.throws(
    () => createStrategy('complete_set', { mode: 'deep', min_edge: -1, typo: true }),
    (err: unknown) =>
      err instanceof PolyedgeError &&
      err.code === 'PE_CONFIG_INVALID' &&
      err.field === 'typo' &&
      err.message === 'strategy "complete_set" params: typo: unknown key; mode: must be one of "depth", "top", got "deep"; min_edge: must be >= 0',
  );
  assert.throws(() => createStrategy('maker', 'half_spread=1'), /params: \(root\): must be a table\/object/);
});

test('reloadParams applies a valid table whole (absent keys back to defaults) and reports violations otherwise', () => {
  const s = createStrategy('complete_set', { mode: 'top', max_size: 20 });
  const r = reloadParams(s, { max_size: 30 });
  assert.equal(r.ok, true);
  const now = s.params() as CompleteSetParams;
  assert.equal(now.max_size, 30);
  assert.equal(now.mode, 'depth', 'a reload replaces the table; mode returns to its default');
  assert.deepEqual(r.ok && r.params, now);

  const bad = reloadParams(s, { max_levels: 0.5 });
  assert.deepEqual(bad, { ok: false, violations: [{ path: 'max_levels', message: 'must be an integer' }] });
  assert.equal((s.params() as CompleteSetParams).max_levels, 50);
});
