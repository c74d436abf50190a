import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Prng } from '../../workers/prng.js';
import { PriceHistory, WindowPrices } from './settlement.js';

const START = 1_000_000;
const END = START + 300_000;

/** The rule by definition, on the whole set of points: last at or before each end, else the first after. */
function byDefinition(points: ReadonlyArray<[number, number]>): { open: number; close: number; exact: boolean } {
  const sorted = [...points].sort((a, b) => a[0] - b[0]);
  const last = (t: number) => sorted.filter((p) => p[0] <= t).at(-1);
  const firstAfter = (t: number) => sorted.find((p) => p[0] > t);
  const o = last(START) ?? firstAfter(START)!;
  const c = last(END) ?? firstAfter(END)!;
  return { open: o[1], close: c[1], exact: last(START) !== undefined && last(END) !== undefined };
}

test('a window settles on the last prices at or before its start and end, whatever order the points come in', () => {
  const rng = new Prng(42);
  for (let trial = 0; trial < 500; trial++) {
    const points: Array<[number, number]> = [];
    const n = 2 + rng.int(30);
    for (let i = 0; i < n; i++) points.push([START - 60_000 + rng.int(420_000), 100 + rng.int(50)]);
    // Distinct stamps: the venue stamps one price per instant.
    const unique = [...new Map(points.map((p) => [p[0], p])).values()];
    // One point past the end settles it; points come shuffled (history replayed after live ones).
    const settleAt: [number, number] = [END + 1 + rng.int(5_000), 100 + rng.int(50)];
    const shuffled = [...unique];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    const w = new WindowPrices(1);
    for (const [ts, p] of shuffled) w.observe(0, START, END, p, ts);
    assert.equal(w.observe(0, START, END, settleAt[1], settleAt[0]), true);
    const want = byDefinition([...unique, settleAt]);
    assert.equal(w.open[0], want.open, `trial ${trial} open`);
    assert.equal(w.close[0], want.close, `trial ${trial} close`);
    assert.equal(w.isExact(0), want.exact, `trial ${trial} exact`);
    assert.equal(w.winner(0), want.close >= want.open ? 0 : 1);
  }
});

test('ties go to Up, and nothing settles before a price past the end', () => {
  const w = new WindowPrices(2);
  assert.equal(w.observe(1, START, END, 100, START), false);
  assert.equal(w.observe(1, START, END, 100, END), false);
  assert.equal(w.observe(1, START, END, 90, END + 1), true);
  assert.deepEqual([w.open[1], w.close[1], w.isExact(1), w.winner(1)], [100, 100, true, 0]);
  w.reset(1);
  assert.ok(Number.isNaN(w.open[1]!));
});

test('the price history keeps the latest points, oldest first', () => {
  const h = new PriceHistory(4);
  for (let i = 1; i <= 6; i++) h.push(i * 10, i);
  const seen: number[] = [];
  h.forEach((ts, p) => seen.push(ts, p));
  assert.deepEqual(seen, [30, 3, 40, 4, 50, 5, 60, 6]);
});
