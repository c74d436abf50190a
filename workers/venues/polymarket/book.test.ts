import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native } from '../../../engine/native.js';
import { Prng } from '../../prng.js';
import { attachBinanceBooks } from '../binance/book.js';
import { ModelBook } from '../../shared-memory/book-model.fixture.js';
import { BookFlag, NO_TICK, Side } from '../../shared-memory/book-layout.js';
import { attachPolymarketBooks, createPolymarketBooks, POLY_TICK_VALUE, polyTick, PolymarketBookWriter } from './book.js';
import { BookReader, TopOfBook, VwapResult } from '../../shared-memory/book-reader.js';

function setup(tokens = 3) {
  const set = createPolymarketBooks(tokens);
  return { set, w: new PolymarketBookWriter(set), r: new BookReader(set) };
}

/** Applies levels in one batch: [side, tick, size]. */
function apply(w: PolymarketBookWriter, book: number, levels: [Side, number, number][]): void {
  w.begin(book);
  for (const [side, tick, size] of levels) w.setLevel(book, side, tick, size);
  w.end(book);
}

function depthOf(r: BookReader, book: number, side: Side, max: number): [number, number][] {
  const ticks = new Int32Array(max);
  const sizes = new Float64Array(max);
  const n = r.depth(book, side, max, ticks, sizes);
  return Array.from({ length: n }, (_, i) => [ticks[i]!, sizes[i]!]);
}

test('an empty book reports empty sides and no liquidity', () => {
  const { r } = setup();
  const top = r.top(0, new TopOfBook());
  assert.equal(top.bidTick, NO_TICK);
  assert.equal(top.askTick, NO_TICK);
  assert.equal(top.flags, BookFlag.BidEmpty | BookFlag.AskEmpty);
  assert.equal(top.tickSize, 100);
  assert.equal(top.tickValue, POLY_TICK_VALUE);
  assert.deepEqual([top.windowLo, top.windowHi], [0, 10_000]);
  assert.deepEqual(depthOf(r, 0, Side.Bid, 5), []);
  const v = new VwapResult();
  assert.equal(r.vwap(0, Side.Ask, 10, v), false);
  assert.equal(v.filled, 0);
  assert.ok(Number.isNaN(v.avgTick));
  assert.equal(v.worstTick, NO_TICK);
  assert.equal(r.sizeAt(0, Side.Bid, 5000), 0);
});

test('top, depth, sizeAt and VWAP on a small book', () => {
  const { w, r } = setup();
  apply(w, 1, [
    [Side.Bid, 4500, 10],
    [Side.Bid, 4600, 5],
    [Side.Bid, 4400, 7],
    [Side.Ask, 4800, 8],
    [Side.Ask, 4700, 3],
  ]);
  const top = r.top(1, new TopOfBook());
  assert.deepEqual([top.bidTick, top.bidSize, top.askTick, top.askSize, top.flags], [4600, 5, 4700, 3, 0]);
  assert.deepEqual(depthOf(r, 1, Side.Bid, 10), [[4600, 5], [4500, 10], [4400, 7]]);
  assert.deepEqual(depthOf(r, 1, Side.Bid, 2), [[4600, 5], [4500, 10]]);
  assert.deepEqual(depthOf(r, 1, Side.Ask, 10), [[4700, 3], [4800, 8]]);
  // Output arrays shorter than `max` cap the copy.
  assert.equal(r.depth(1, Side.Ask, 10, new Int32Array(1), new Float64Array(1)), 1);
  assert.equal(r.sizeAt(1, Side.Bid, 4500), 10);
  assert.equal(r.sizeAt(1, Side.Bid, 4501), 0);
  assert.equal(r.sizeAt(1, Side.Ask, 10_001), 0, 'outside the grid');
  assert.equal(r.sizeAt(1, Side.Ask, -3), 0);

  const v = new VwapResult();
  assert.equal(r.vwap(1, Side.Ask, 5, v), true, 'buy 5: 3 @ 4700 + 2 @ 4800');
  assert.deepEqual({ ...v }, { avgTick: (3 * 4700 + 2 * 4800) / 5, filled: 5, complete: true, worstTick: 4800, levels: 2 });
  assert.equal(r.vwap(1, Side.Bid, 12, v), true, 'sell 12: 5 @ 4600 + 7 @ 4500');
  assert.equal(v.avgTick, (5 * 4600 + 7 * 4500) / 12);
  assert.equal(r.vwap(1, Side.Ask, 100, v), false, 'only 11 on the asks');
  assert.deepEqual([v.filled, v.worstTick, v.levels], [11, 4800, 2]);
  assert.throws(() => r.vwap(1, Side.Ask, 0, v), /size must be finite and > 0/);

  // Other books in the same buffer are untouched.
  assert.equal(r.top(0, new TopOfBook()).flags, BookFlag.BidEmpty | BookFlag.AskEmpty);
  assert.throws(() => r.top(3, new TopOfBook()), /book index 3 outside \[0, 3\)/);
});

test('removing the best scans to the next level; removing the last empties the side', () => {
  const { w, r } = setup();
  apply(w, 0, [[Side.Bid, 100, 1], [Side.Bid, 3000, 2], [Side.Bid, 2999, 3], [Side.Ask, 9000, 1], [Side.Ask, 9999, 4]]);
  const top = new TopOfBook();
  apply(w, 0, [[Side.Bid, 3000, 0]]);
  assert.equal(r.top(0, top).bidTick, 2999);
  apply(w, 0, [[Side.Bid, 2999, 0]]);
  assert.equal(r.top(0, top).bidTick, 100);
  apply(w, 0, [[Side.Ask, 9000, 0]]);
  assert.equal(r.top(0, top).askTick, 9999);
  apply(w, 0, [[Side.Bid, 100, 0], [Side.Bid, 50, 0]]);
  assert.equal(r.top(0, top).bidTick, NO_TICK);
  assert.equal(top.flags, BookFlag.BidEmpty);
  apply(w, 0, [[Side.Ask, 0, 2], [Side.Ask, 10_000, 2]]);
  assert.equal(r.top(0, top).askTick, 0, 'both ends of the grid are valid levels');
  assert.deepEqual(depthOf(r, 0, Side.Ask, 5), [[0, 2], [9999, 4], [10_000, 2]]);
});

test('a crossed book is flagged', () => {
  const { w, r } = setup();
  apply(w, 0, [[Side.Bid, 5000, 1], [Side.Ask, 5100, 1]]);
  assert.equal(r.top(0, new TopOfBook()).flags & BookFlag.Crossed, 0);
  apply(w, 0, [[Side.Bid, 5100, 1]]);
  assert.equal(r.top(0, new TopOfBook()).flags, BookFlag.Crossed, 'bid == ask counts as crossed');
  apply(w, 0, [[Side.Bid, 5200, 1]]);
  assert.equal(r.top(0, new TopOfBook()).flags, BookFlag.Crossed);
});

test('snapshots replace a side; clear empties the book', () => {
  const { w, r } = setup();
  apply(w, 0, [[Side.Bid, 4000, 1], [Side.Bid, 4100, 1], [Side.Ask, 6000, 1]]);
  w.begin(0);
  w.replaceSide(0, Side.Bid, [3900, 3800, 3700], [5, 0, 6], 3);
  w.end(0);
  assert.deepEqual(depthOf(r, 0, Side.Bid, 10), [[3900, 5], [3700, 6]], 'old levels gone, zero sizes skipped');
  assert.deepEqual(depthOf(r, 0, Side.Ask, 10), [[6000, 1]], 'the other side is untouched');
  w.begin(0);
  w.applySnapshot(0, new Int32Array([4200]), new Float64Array([2]), 1, [5800, 5900], [1, 1], 2);
  w.end(0);
  const top = r.top(0, new TopOfBook());
  assert.deepEqual([top.bidTick, top.askTick], [4200, 5800]);
  assert.equal(r.sizeAt(0, Side.Bid, 3900), 0);
  assert.equal(r.sizeAt(0, Side.Ask, 6000), 0);
  w.begin(0);
  w.clear(0);
  w.end(0);
  assert.equal(r.top(0, top).flags, BookFlag.BidEmpty | BookFlag.AskEmpty);
  assert.deepEqual(depthOf(r, 0, Side.Bid, 10), []);
  assert.throws(() => {
    w.begin(0);
    try {
      w.replaceSide(0, Side.Bid, [1, 2], [1], 2);
    } finally {
      w.end(0);
    }
  }, /exceeds/);
});

test('metadata: tick size, times, status flags', () => {
  const { w, r } = setup();
  w.begin(2);
  w.setTickSize(2, 10);
  w.setTimes(2, 123_456_789, 1_700_000_000_123);
  w.setStatus(2, BookFlag.Stale);
  w.setLevel(2, Side.Bid, polyTick(0.53), 100);
  w.end(2);
  const top = r.top(2, new TopOfBook());
  assert.equal(top.tickSize, 10);
  assert.equal(top.lastUpdateNs, 123_456_789);
  assert.equal(top.exchTsMs, 1_700_000_000_123);
  assert.equal(top.flags, BookFlag.Stale | BookFlag.AskEmpty);
  assert.equal(top.bidTick, 5300);
  assert.equal(top.bidTick * top.tickValue, 0.53);
  w.begin(2);
  assert.throws(() => w.setTickSize(2, 3), /does not divide 1.0/);
  assert.throws(() => w.setStatus(2, BookFlag.Crossed), /derived by readers/);
  w.end(2);
});

test('writer rejects writes outside a batch and invalid levels', () => {
  const { w } = setup();
  assert.throws(() => w.setLevel(0, Side.Bid, 5000, 1), /write outside begin\(\)\/end\(\)/);
  assert.throws(() => w.end(0), /no write batch open/);
  w.begin(0);
  assert.throws(() => w.begin(0), /already open/);
  assert.throws(() => w.setLevel(0, Side.Bid, 10_001, 1), /tick 10001 outside \[0, 10000\]/);
  assert.throws(() => w.setLevel(0, Side.Bid, 5000.5, 1), /tick must be a non-negative int32/);
  assert.throws(() => w.setLevel(0, Side.Bid, 5000, -1), /size must be finite and >= 0/);
  assert.throws(() => w.setLevel(0, Side.Bid, 5000, NaN), /size must be finite/);
  assert.throws(() => w.setLevel(7, Side.Bid, 5000, 1), /book index 7/);
  w.end(0);
});

test('attach reads the same books and refuses a buffer of another venue', () => {
  const { set, w } = setup(2);
  apply(w, 1, [[Side.Ask, 7000, 9]]);
  const other = new BookReader(attachPolymarketBooks(set.sab));
  assert.equal(other.top(1, new TopOfBook()).askSize, 9);
  assert.throws(() => attachBinanceBooks(set.sab), /holds venue 1 books, expected 2/);
  assert.throws(() => attachPolymarketBooks(new SharedArrayBuffer(4096)), /bad set offset/);
  const noMagic = new SharedArrayBuffer(4096);
  new Int32Array(noMagic)[0] = 64;
  assert.throws(() => attachPolymarketBooks(noMagic), /bad magic/);
  // Every book region starts on a cache line of memory, not only of the buffer.
  for (let b = 0; b < set.books; b++) assert.equal(native.cacheLineOffset(new Uint8Array(set.sab, set.i32.byteOffset + set.i32Base(b) * 4, 1)), 0);
});

test('property: random valid updates match the model (best, no crossing, depth, VWAP)', () => {
  const rnd = new Prng(20240601);
  const { w, r } = setup(2);
  const model = new ModelBook();
  const top = new TopOfBook();
  const vw = new VwapResult();
  const ticks = new Int32Array(20);
  const sizes = new Float64Array(20);
  const book = 1;
  for (let step = 0; step < 6000; step++) {
    w.begin(book);
    const ops = 1 + rnd.int(4);
    for (let k = 0; k < ops; k++) {
      const side: Side = rnd.int(2) === 0 ? Side.Bid : Side.Ask;
      const bestBid = model.best(Side.Bid);
      const bestAsk = model.best(Side.Ask);
      if (rnd.next() < 0.35 && model.sides[side].size > 0) {
        // Remove an existing level, the best one a third of the time.
        const keys = [...model.sides[side].keys()];
        const tick = rnd.int(3) === 0 ? model.best(side) : keys[rnd.int(keys.length)]!;
        w.setLevel(book, side, tick, 0);
        model.set(side, tick, 0);
      } else if (rnd.next() < 0.01) {
        // Occasional snapshot of one side that stays clear of the other side.
        const n = rnd.int(8);
        const snapTicks: number[] = [];
        const snapSizes: number[] = [];
        for (let i = 0; i < n; i++) {
          const t = side === Side.Bid ? (bestAsk === NO_TICK ? 4000 : bestAsk) - 1 - rnd.int(300) : (bestBid === NO_TICK ? 6000 : bestBid) + 1 + rnd.int(300);
          if (t < 0 || t > 10_000) continue;
          snapTicks.push(t);
          snapSizes.push(1 + rnd.int(500));
        }
        w.replaceSide(book, side, snapTicks, snapSizes, snapTicks.length);
        model.clearSide(side);
        snapTicks.forEach((t, i) => model.set(side, t, snapSizes[i]!));
      } else {
        // Insert or resize a level on the grid without crossing the other side.
        const t = 4000 + rnd.int(2000);
        if (side === Side.Bid && bestAsk !== NO_TICK && t >= bestAsk) continue;
        if (side === Side.Ask && bestBid !== NO_TICK && t <= bestBid) continue;
        const size = rnd.int(3) === 0 ? rnd.next() * 1000 : 1 + rnd.int(1000);
        w.setLevel(book, side, t, size);
        model.set(side, t, size);
      }
    }
    w.end(book);

    r.top(book, top);
    const bb = model.best(Side.Bid);
    const ba = model.best(Side.Ask);
    if (top.bidTick !== bb || top.askTick !== ba) assert.fail(`step ${step}: book best ${top.bidTick}/${top.askTick}, model ${bb}/${ba}`);
    assert.equal(top.bidSize, bb === NO_TICK ? 0 : model.sides[Side.Bid].get(bb));
    assert.equal(top.askSize, ba === NO_TICK ? 0 : model.sides[Side.Ask].get(ba));
    assert.equal(top.flags & BookFlag.Crossed, 0, `step ${step}: crossed after non-crossing updates`);
    assert.equal((top.flags & BookFlag.BidEmpty) !== 0, bb === NO_TICK);
    assert.equal((top.flags & BookFlag.AskEmpty) !== 0, ba === NO_TICK);
    if (step % 20 === 0) {
      for (const side of [Side.Bid, Side.Ask] as const) {
        const n = r.depth(book, side, 20, ticks, sizes);
        const want = model.levels(side).slice(0, 20);
        assert.deepEqual(Array.from({ length: n }, (_, i) => [ticks[i], sizes[i]]), want);
        const size = 1 + rnd.next() * 5000;
        r.vwap(book, side, size, vw);
        assert.deepEqual({ ...vw }, model.vwap(side, size));
      }
    }
  }
  // The untouched book stayed empty throughout.
  assert.equal(r.top(0, top).flags, BookFlag.BidEmpty | BookFlag.AskEmpty);
});

test('property: crossing updates are flagged exactly when best bid >= best ask', () => {
  const rnd = new Prng(7);
  const { w, r } = setup(1);
  const model = new ModelBook();
  const top = new TopOfBook();
  let crossedSeen = 0;
  for (let step = 0; step < 3000; step++) {
    const side: Side = rnd.int(2) === 0 ? Side.Bid : Side.Ask;
    const t = 4900 + rnd.int(200);
    const size = rnd.int(3) === 0 ? 0 : 1 + rnd.int(9);
    apply(w, 0, [[side, t, size]]);
    model.set(side, t, size);
    r.top(0, top);
    const bb = model.best(Side.Bid);
    const ba = model.best(Side.Ask);
    const crossed = bb !== NO_TICK && ba !== NO_TICK && bb >= ba;
    assert.equal((top.flags & BookFlag.Crossed) !== 0, crossed, `step ${step}`);
    assert.deepEqual([top.bidTick, top.askTick], [bb, ba]);
    if (crossed) crossedSeen++;
  }
  assert.ok(crossedSeen > 100, 'the generator did produce crossed books');
});
