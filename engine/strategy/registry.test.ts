import { test } from 'node:test';
import assert from 'node:assert/strict';
import { number, object, type Infer } from '../config/schema.js';
import { PolyedgeError } from '../errors.js';
import type { CompleteSetParams } from './complete-set.js';
import { createStrategy, registerStrategy, reloadParams, strategyFactories, strategyNames } from './registry.js';
import type { Strategy, StrategyFactory } from './types.js';

test('every registered strategy is created by name with its defaults, and carries that name', () => {
  assert.deepEqual(Object.keys(strategyFactories), ['maker', 'complete_set', 'directional']);
  for (const [name, factory] of Object.entries(strategyFactories)) {
    assert.equal(factory.name, name);
    const s = createStrategy(name);
    assert.equal(s.name, name);
    assert.deepEqual(s.params(), factory.paramsSchema.defaultValue);
    assert.ok(Object.isFrozen(s.params()));
  }
  assert.equal(strategyNames().includes('maker'), true);
  assert.equal(strategyNames().includes('toString'), false, 'inherited properties are not strategies');
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

test('registerStrategy adds a plug-in chosen by name like a built-in, and refuses a taken name or a malformed factory', () => {
  const paramsSchema = object({ level: number({ integer: true, min: 0, default: 3 }) });
  type LevelParams = Infer<typeof paramsSchema>;
  class Level implements Strategy<LevelParams> {
    constructor(
      readonly name: string,
      private p: Readonly<LevelParams>,
    ) {}
    params(): Readonly<LevelParams> {
      return this.p;
    }
    setParams(p: LevelParams): void {
      this.p = Object.freeze({ ...p });
    }
    decide(): void {}
  }
  registerStrategy({ name: 'level', paramsSchema, create: (p) => new Level('level', p) });
  assert.equal(strategyNames().includes('level'), true);
  assert.deepEqual(strategyNames(), ['maker', 'complete_set', 'directional', 'level']);
  const s = createStrategy('level', { level: 5 });
  assert.equal(s.name, 'level');
  assert.deepEqual(s.params(), { level: 5 });
  assert.deepEqual(reloadParams(s, {}), { ok: true, params: { level: 3 } });
  assert.throws(() => createStrategy('level', { level: -1 }), /strategy "level" params: level: must be >= 0/);

  const refused = (factory: unknown, message: RegExp) =>
    assert.throws(
      () => registerStrategy(factory as StrategyFactory<unknown>),
      (err: unknown) => err instanceof PolyedgeError && err.code === 'PE_CONFIG_INVALID' && err.field === 'strategy' && message.test(err.message),
    );
  const create = (p: LevelParams) => new Level('other', p);
  refused({ name: 'maker', paramsSchema, create }, /strategy "maker" is already registered/);
  refused({ name: 'level', paramsSchema, create }, /strategy "level" is already registered/);
  refused({ name: 'Bad Name', paramsSchema, create }, /name "Bad Name": must match/);
  refused({ paramsSchema, create }, /name undefined: must match/);
  refused({ name: 'no_schema', paramsSchema: { level: 3 }, create }, /strategy "no_schema": paramsSchema must be a schema/);
  refused({ name: 'no_create', paramsSchema }, /strategy "no_create": create must be a function/);
  refused(null, /must be an object, got null/);
  assert.equal(strategyNames().includes('no_create'), false, 'a refused factory is not registered');

  // A factory whose strategies carry another name would key orders, positions and reloads wrongly.
  registerStrategy({ name: 'misnamed', paramsSchema, create });
  assert.throws(() => createStrategy('misnamed'), /strategy "misnamed" created a strategy named "other"/);
});
