import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Prng } from '../../prng.js';
import { BinanceBookWriter, createBinanceBooks } from './book.js';
import { ModelBook } from '../../shared-memory/book-model.fixture.js';
import { BookFlag, NO_TICK, Side } from '../../shared-memory/book-layout.js';
import { PolymarketBookWriter } from '../polymarket/book.js';
import { BookReader, TopOfBook, VwapResult } from '../../shared-memory/book-reader.js';

/** W = 256 ticks, margin 32: small enough to make the window move. */
function setup() {
  const set = createBinanceBooks([{ tickValue: 0.01 }, { tickValue: 0.1 }], 8);
  return { set, w: new BinanceBookWriter(set), r: new BookReader(set), top: new TopOfBook() };
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let t = from; from <= to ? t <= to : t >= to; t += from <= to ? 1 : -1) out.push(t);
  return out;
}

function snapshot(w: BinanceBookWriter, book: number, bids: number[], asks: number[]): void {
  w.begin(book);
  w.applySnapshot(book, bids, bids.map(() => 1), bids.length, asks, asks.map(() => 1), asks.length);
  w.end(book);
}

test('construction validates its arguments', () => {
  assert.throws(() => createBinanceBooks([{ tickValue: 0.01 }], 3), /windowLog2 must be an integer in \[4, 24\]/);
  assert.throws(() => createBinanceBooks([{ tickValue: 0 }]), /tickValue must be > 0/);
  const { set } = setup();
  assert.throws(() => new PolymarketBookWriter(set), /not a Polymarket book set/);
});

test('a snapshot centers the window on its mid and counts the levels outside it', () => {
  const { w, r, top } = setup();
  snapshot(w, 0, [...range(100_000, 99_901), 99_000], [...range(100_001, 100_100), 101_000]);
  r.top(0, top);
  assert.deepEqual([top.bidTick, top.askTick, top.flags], [100_000, 100_001, 0]);
  assert.deepEqual([top.windowLo, top.windowHi], [100_000 - 128, 100_000 + 127]);
  assert.equal(top.droppedLevels, 2, 'the two far levels did not fit');
  assert.equal(top.tickValue, 0.01);
  assert.equal(r.sizeAt(0, Side.Bid, 99_000), 0);
  const ticks = new Int32Array(200);
  const sizes = new Float64Array(200);
  assert.equal(r.depth(0, Side.Bid, 200, ticks, sizes), 100);
  assert.equal(ticks[99], 99_901);
  const v = new VwapResult();
  assert.equal(r.vwap(0, Side.Ask, 3, v), true);
  assert.equal(v.avgTick, 100_002);
  assert.equal(r.top(1, top).flags, BookFlag.BidEmpty | BookFlag.AskEmpty, 'book 1 untouched');
});

test('the window follows the mid when a best price nears an edge', () => {
  const { w, r, top } = setup();
  snapshot(w, 0, [100_000, 99_880], [100_001]);
  w.begin(0);
  w.setLevel(0, Side.Ask, 100_090, 1); // 100 090 < hi - margin = 100 095: no move yet
  w.setLevel(0, Side.Ask, 100_001, 0);
  w.end(0);
  assert.equal(r.top(0, top).windowLo, 99_872);
  w.begin(0);
  w.setLevel(0, Side.Ask, 100_100, 1);
  w.setLevel(0, Side.Ask, 100_090, 0); // best ask 100 100 is inside the margin: recenter on mid 100 050
  w.end(0);
  r.top(0, top);
  assert.deepEqual([top.windowLo, top.windowHi], [100_050 - 128, 100_050 + 127]);
  assert.deepEqual([top.bidTick, top.askTick], [100_000, 100_100]);
  assert.equal(r.sizeAt(0, Side.Bid, 99_880), 0, 'the deep bid left the window');
  assert.equal(top.droppedLevels, 1);
});

test('an update outside the window is dropped unless it becomes the best', () => {
  const { w, r, top } = setup();
  snapshot(w, 0, range(100_000, 99_990), range(100_001, 100_010));
  w.begin(0);
  w.setLevel(0, Side.Ask, 200_000, 5); // worse than the best ask: dropped
  w.setLevel(0, Side.Bid, 50_000, 5); // worse than the best bid: dropped
  w.setLevel(0, Side.Bid, 60_000, 0); // removal of a level that cannot exist: ignored
  w.end(0);
  r.top(0, top);
  assert.equal(top.droppedLevels, 2);
  assert.equal(top.windowLo, 99_872);

  // Price jumps: asks are pulled, then a bid far above becomes the best.
  w.begin(0);
  w.replaceSide(0, Side.Ask, [], [], 0);
  w.setLevel(0, Side.Bid, 150_000, 2);
  w.end(0);
  r.top(0, top);
  assert.deepEqual([top.bidTick, top.bidSize, top.askTick], [150_000, 2, NO_TICK]);
  assert.deepEqual([top.windowLo, top.windowHi], [150_000 - 128, 150_000 + 127]);
  assert.equal(top.droppedLevels, 2 + 11, 'every old bid left the window');
  const ticks = new Int32Array(4);
  assert.equal(r.depth(0, Side.Bid, 4, ticks, new Float64Array(4)), 1);

  // A new best whose other side would not fit in one window is dropped.
  w.begin(0);
  w.setLevel(0, Side.Ask, 150_010, 1);
  w.setLevel(0, Side.Bid, 160_000, 1);
  w.end(0);
  r.top(0, top);
  assert.deepEqual([top.bidTick, top.askTick, top.droppedLevels], [150_000, 150_010, 14]);
});

test('a new best outside the window recenters between it and the other side', () => {
  const { w, r, top } = setup();
  snapshot(w, 0, range(100_000, 99_990), range(100_001, 100_010));
  w.begin(0);
  // A crossing bid 3 ticks past the window's top edge (mid-message state of a fast move).
  w.setLevel(0, Side.Bid, 100_130, 4);
  w.end(0);
  r.top(0, top);
  const center = Math.floor((100_130 + 100_001) / 2);
  assert.deepEqual([top.windowLo, top.windowHi], [center - 128, center + 127]);
  assert.deepEqual([top.bidTick, top.bidSize, top.askTick], [100_130, 4, 100_001]);
  assert.equal(top.flags, BookFlag.Crossed);
  assert.equal(top.droppedLevels, 0, 'every level still fits');
});

test('the window clamps at tick 0', () => {
  const { w, r, top } = setup();
  snapshot(w, 1, [10, 5], [20]);
  r.top(1, top);
  assert.deepEqual([top.windowLo, top.windowHi, top.bidTick, top.askTick], [0, 255, 10, 20]);
});

test('property: random walk with jumps matches the model restricted to the window', () => {
  const rnd = new Prng(99);
  const set = createBinanceBooks([{ tickValue: 0.1 }], 9); // W = 512, margin 64
  const w = new BinanceBookWriter(set);
  const r = new BookReader(set);
  const model = new ModelBook();
  const top = new TopOfBook();
  const vw = new VwapResult();
  const ticks = new Int32Array(30);
  const sizes = new Float64Array(30);
  let mid = 1_000_000;
  let dropped = 0;
  let lastLo = -1;
  let moves = 0;
  // One update per batch, so the window can be read after each and the model
  // cut to it: what the book keeps is exactly the model inside the window.
  const update = (side: Side, t: number, size: number) => {
    w.begin(0);
    w.setLevel(0, side, t, size);
    w.end(0);
    model.set(side, t, size);
    r.top(0, top);
    dropped += model.dropOutside(top.windowLo, top.windowHi);
  };
  for (let step = 0; step < 8000; step++) {
    mid += rnd.int(9) - 4;
    if (rnd.next() < 0.002) mid += (rnd.int(2) === 0 ? -1 : 1) * (200 + rnd.int(2000));
    if (step === 0 || rnd.next() < 0.003) {
      const bids = range(mid - 1, mid - 1 - rnd.int(400));
      const asks = range(mid + 1, mid + 1 + rnd.int(400));
      const bidSizes = bids.map(() => 1 + rnd.int(100));
      const askSizes = asks.map(() => 1 + rnd.int(100));
      w.begin(0);
      w.applySnapshot(0, bids, bidSizes, bids.length, asks, askSizes, asks.length);
      w.end(0);
      model.clearSide(Side.Bid);
      model.clearSide(Side.Ask);
      bids.forEach((t, i) => model.set(Side.Bid, t, bidSizes[i]!));
      asks.forEach((t, i) => model.set(Side.Ask, t, askSizes[i]!));
    } else {
      const side: Side = rnd.int(2) === 0 ? Side.Bid : Side.Ask;
      const bb = model.best(Side.Bid);
      const ba = model.best(Side.Ask);
      let t = side === Side.Bid ? mid - rnd.int(350) : mid + rnd.int(350);
      const size = rnd.next() < 0.3 ? 0 : 1 + rnd.int(100);
      // Keep the book uncrossed: an insert through the other side pulls that side's best first.
      if (size > 0 && side === Side.Bid && ba !== NO_TICK && t >= ba) {
        update(Side.Ask, ba, 0);
        t = ba - 1;
      } else if (size > 0 && side === Side.Ask && bb !== NO_TICK && t <= bb) {
        update(Side.Bid, bb, 0);
        t = bb + 1;
      }
      if (size === 0 && rnd.next() < 0.5 && model.sides[side].size > 0) t = model.best(side);
      update(side, t, size);
    }

    r.top(0, top);
    dropped += model.dropOutside(top.windowLo, top.windowHi);
    if (top.windowLo !== lastLo) moves++;
    lastLo = top.windowLo;
    const bb = model.best(Side.Bid);
    const ba = model.best(Side.Ask);
    if (top.bidTick !== bb || top.askTick !== ba) assert.fail(`step ${step}: book ${top.bidTick}/${top.askTick}, model ${bb}/${ba}`);
    assert.equal(top.flags & BookFlag.Crossed, 0, `step ${step}: crossed`);
    assert.equal(top.droppedLevels, dropped, `step ${step}: dropped levels`);
    if (step % 25 === 0) {
      for (const side of [Side.Bid, Side.Ask] as const) {
        const n = r.depth(0, side, 30, ticks, sizes);
        assert.deepEqual(Array.from({ length: n }, (_, i) => [ticks[i], sizes[i]]), model.levels(side).slice(0, 30));
        const size = 1 + rnd.next() * 3000;
        r.vwap(0, side, size, vw);
        assert.deepEqual({ ...vw }, model.vwap(side, size));
      }
    }
  }
  assert.ok(moves > 20, `the window moved ${moves} times`);
  assert.ok(dropped > 100, `levels were dropped (${dropped})`);
});
