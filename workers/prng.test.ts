import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hash32, Prng } from './prng.js';

// Pinned outputs: recorded fixtures, fuzz corpora and paper-executor latency
// draws are all functions of this stream, so a change to it must be deliberate.
test('Prng: the seeded stream and hash32 are pinned', () => {
  const r = new Prng(42);
  assert.deepEqual([r.nextU32(), r.nextU32(), r.nextU32(), r.nextU32()], [2581720956, 1925393290, 3661312704, 2876485805]);
  assert.deepEqual([hash32(7, 0), hash32(7, 1), hash32(7, 2 ** 33 + 5)], [3408989097, 3371920073, 2941117365]);
});

test('Prng: reproducible, string seeds and labelled sub-streams independent', () => {
  const a = new Prng(7);
  const b = new Prng(7);
  const seqA = Array.from({ length: 100 }, () => a.nextU32());
  assert.deepEqual(Array.from({ length: 100 }, () => b.nextU32()), seqA);
  const c = new Prng(8);
  assert.notDeepEqual(Array.from({ length: 100 }, () => c.nextU32()), seqA);
  const s1 = new Prng('7/faults');
  const s2 = new Prng('7/faults');
  assert.equal(s1.nextU32(), s2.nextU32());
  const x = Prng.derive(7, 'faults', 'polymarket', 1);
  const y = Prng.derive(7, 'faults', 'polymarket', 2);
  const z = Prng.derive(7, 'faults', 'polymarket', 1);
  const xs = Array.from({ length: 8 }, () => x.nextU32());
  assert.notDeepEqual(Array.from({ length: 8 }, () => y.nextU32()), xs);
  assert.deepEqual(Array.from({ length: 8 }, () => z.nextU32()), xs);
});

test('Prng: int(n) is [0, n), range(lo, hi) is inclusive, both reach every value', () => {
  const r = new Prng(1);
  const ints = new Set<number>();
  const ranged = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const v = r.int(4);
    assert.ok(Number.isInteger(v) && v >= 0 && v < 4);
    ints.add(v);
    const w = r.range(3, 6);
    assert.ok(Number.isInteger(w) && w >= 3 && w <= 6);
    ranged.add(w);
  }
  assert.deepEqual([...ints].sort(), [0, 1, 2, 3]);
  assert.deepEqual([...ranged].sort(), [3, 4, 5, 6]);
  for (let i = 0; i < 1000; i++) {
    const u = r.next();
    assert.ok(u >= 0 && u < 1);
  }
});

test('Prng: pick, hex, decimalDigits', () => {
  const r = new Prng(3);
  assert.throws(() => r.pick([]), RangeError);
  assert.equal(r.pick(['only']), 'only');
  assert.match(r.hex(64), /^[0-9a-f]{64}$/);
  assert.match(r.hex(5), /^[0-9a-f]{5}$/);
  assert.match(r.decimalDigits(77), /^[1-9]\d{76}$/);
});
