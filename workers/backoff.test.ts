import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelayMs } from './backoff.js';
import { Prng } from './prng.js';

const POLICY = { baseMs: 250, maxMs: 10_000 };

test('backoff: the cap doubles per attempt from baseMs and stops at maxMs', () => {
  const half = (): number => 0.5;
  assert.deepEqual(
    Array.from({ length: 8 }, (_, n) => backoffDelayMs(n, POLICY, half)),
    [125, 250, 500, 1_000, 2_000, 4_000, 5_000, 5_000],
  );
  // Just under 1: the delay approaches the cap but never reaches it.
  const top = (): number => 1 - 2 ** -32;
  assert.equal(backoffDelayMs(0, POLICY, top), 249);
  assert.equal(backoffDelayMs(40, POLICY, top), 9_999);
  assert.equal(backoffDelayMs(0, POLICY, () => 0), 0);
});

test('backoff: any attempt count reaches maxMs, even from a 1 ms base, and never gives NaN', () => {
  const p = { baseMs: 1, maxMs: 3_600_000 };
  const top = (): number => 1 - 2 ** -32;
  assert.equal(backoffDelayMs(21, p, top), 2_097_151);
  assert.equal(backoffDelayMs(22, p, top), 3_599_999);
  for (const n of [1_000, 1e9, Number.MAX_SAFE_INTEGER]) assert.equal(backoffDelayMs(n, p, top), 3_599_999);
  assert.equal(backoffDelayMs(5, { baseMs: 0, maxMs: 100 }, top), 0);
});

test('backoff: seeded by a Prng the delays are the same every run and stay under each cap', () => {
  const run = (seed: number): number[] => {
    const rng = new Prng(seed);
    return Array.from({ length: 12 }, (_, n) => backoffDelayMs(n, POLICY, () => rng.next()));
  };
  const a = run(11);
  assert.deepEqual(run(11), a);
  assert.notDeepEqual(run(12), a);
  a.forEach((d, n) => {
    assert.ok(Number.isInteger(d) && d >= 0 && d < Math.min(POLICY.maxMs, POLICY.baseMs * 2 ** n), `attempt ${n}: ${d}`);
  });
});
