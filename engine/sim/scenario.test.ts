import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pacer, type Timeline } from './pacer.js';
import { BinanceBookWalk, DvolWalk, DVOL_RECORDED_SAMPLE, LiquidationGenerator, PolymarketBookModel, bestOf, type PmEvent } from './scenario.js';
import { PriceBook } from './binance-streams.js';
import type { BinanceEvent, DepthUpdate } from './binance-types.js';
import { delay } from './testkit.js';

test('Polymarket model: every intermediate state uncrossed with both sides quoted, on the tick grid; replaying the changes rebuilds the book', () => {
  const model = new PolymarketBookModel({
    seed: 3,
    markets: [{ startPrice: 0.5 }, { startPrice: 0.95 }, { startPrice: 0.03 }],
    levels: 4,
    tradeProbability: 0.3,
  });
  const replay = model.markets.map((m) => ({ bids: new Map(m.bids), asks: new Map(m.asks), tick: m.tick }));
  let changes = 0;
  let tickChanges = 0;
  for (let i = 0; i < 3000; i++) {
    for (const ev of model.step()) {
      const r = replay[ev.market];
      assert.ok(r);
      if (ev.type === 'tick') {
        assert.equal(ev.oldTick, r.tick);
        r.tick = ev.newTick;
        tickChanges++;
      } else if (ev.type === 'levels') {
        for (const c of ev.changes) {
          changes++;
          const side = c.side === 'BUY' ? r.bids : r.asks;
          if (c.size === 0) side.delete(c.price);
          else {
            assert.equal(c.price % r.tick, 0, `price ${c.price} on tick ${r.tick}`);
            assert.ok(c.price >= r.tick && c.price <= 1000 - r.tick);
            side.set(c.price, c.size);
          }
          assert.ok(c.bestBid > 0 && c.bestAsk < 1000, 'both sides quoted');
          assert.ok(c.bestBid < c.bestAsk, `uncrossed after change (${c.bestBid} < ${c.bestAsk})`);
          assert.deepEqual({ bestBid: Math.max(...r.bids.keys()), bestAsk: Math.min(...r.asks.keys()) }, { bestBid: c.bestBid, bestAsk: c.bestAsk });
        }
      } else {
        // The trade already hit the model's book; mirror it.
        const side = ev.side === 'BUY' ? r.asks : r.bids;
        const left = (side.get(ev.price) ?? 0) - ev.size;
        assert.ok(left >= 0, 'trade within the resting size');
        if (left === 0) side.delete(ev.price);
        else side.set(ev.price, left);
      }
    }
  }
  assert.ok(changes > 5000 && tickChanges > 0, `${changes} changes, ${tickChanges} tick changes`);
  model.markets.forEach((m, i) => {
    assert.deepEqual(new Map([...m.bids].sort()), new Map([...(replay[i]?.bids ?? [])].sort()));
    assert.deepEqual(new Map([...m.asks].sort()), new Map([...(replay[i]?.asks ?? [])].sort()));
    assert.equal(m.tick, replay[i]?.tick);
  });
});

test('Polymarket model: reproducible by seed; follows a given path', () => {
  const run = (seed: number): string => {
    const m = new PolymarketBookModel({ seed, markets: 2 });
    const out: PmEvent[] = [];
    for (let i = 0; i < 200; i++) out.push(...m.step());
    return JSON.stringify([m.markets.map((x) => [x.conditionId, x.yesTokenId, x.noTokenId]), out]);
  };
  assert.equal(run(5), run(5));
  assert.notEqual(run(5), run(6));
  const path = [0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2];
  const m = new PolymarketBookModel({ seed: 1, markets: [{ path, startPrice: 0.5 }], tradeProbability: 0 });
  for (let i = 0; i < 30; i++) m.step();
  const s = m.markets[0];
  assert.ok(s);
  const { bestBid, bestAsk } = bestOf(s);
  assert.ok(Math.abs((bestBid + bestAsk) / 2 - 200) <= 20, `mid ${(bestBid + bestAsk) / 2} near the path's end 0.2`);
});

test('Binance walk: contiguous pu chain, never crossed, snapshot + diffs = final book', () => {
  const walk = new BinanceBookWalk({ seed: 9, levels: 50 });
  const start = walk.snapshot(0);
  const book = PriceBook.from(start);
  let prevU = start.lastUpdateId;
  let diffs = 0;
  for (let i = 0; i < 5000; i++) {
    const ev: BinanceEvent = walk.take(1_700_000_000_000 + i);
    if (ev.kind === 'depth') {
      const d: DepthUpdate = ev.data;
      assert.equal(d.pu, prevU);
      assert.ok(d.U > d.pu && d.u >= d.U);
      prevU = d.u;
      book.apply(d.b, d.a);
      diffs++;
    } else if (ev.kind === 'bookTicker') {
      assert.ok(Number(ev.data.b) < Number(ev.data.a));
      assert.equal(ev.data.u, prevU);
    }
  }
  const end = walk.snapshot(0);
  assert.ok(diffs > 1000);
  assert.equal(end.lastUpdateId, prevU);
  assert.deepEqual(book.top('bids', 1000), end.bids);
  assert.deepEqual(book.top('asks', 1000), end.asks);
});

test('DVOL walk reverts to the recorded sample; liquidations at most once per second', () => {
  const walk = new DvolWalk(4, ['btc_usd']);
  const xs = Array.from({ length: 5000 }, (_, i) => walk.take(i).volatility);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(Math.abs(mean - DVOL_RECORDED_SAMPLE) < 3, `mean ${mean}`);
  const liq = new LiquidationGenerator(1, 'BTCUSDT', 1);
  const seconds: number[] = [];
  for (let t = 0; t < 10_000; t += 50) {
    const o = liq.maybe(1_700_000_000_000 + t, 60_000);
    if (o) seconds.push(Math.floor(o.E / 1000));
  }
  assert.equal(seconds.length, 10);
  assert.equal(new Set(seconds).size, 10);
});

class Ticks implements Timeline<number> {
  i = 0;
  constructor(
    private readonly n: number,
    private readonly gapMs: number,
  ) {}
  peekGapMs(): number | undefined {
    return this.i < this.n ? this.gapMs : undefined;
  }
  take(): number {
    return this.i++;
  }
}

test('Pacer: manual, timed at a speed factor, max speed with backpressure, end of source', async () => {
  const got: number[] = [];
  const manual = new Pacer(new Ticks(5, 1000), { mode: 'manual' }, (x) => got.push(x));
  manual.start();
  assert.equal(manual.advance(3), 3);
  assert.equal(manual.advance(10), 2);
  assert.ok(manual.exhausted);
  assert.deepEqual(got, [0, 1, 2, 3, 4]);

  // 20 ms gaps at 4x: one event per 5 ms of wall time.
  let n = 0;
  const timed = new Pacer(new Ticks(10_000, 20), { mode: 'timed', speed: 4 }, () => n++);
  const t0 = performance.now();
  timed.start();
  await delay(200);
  timed.stop();
  const elapsed = performance.now() - t0;
  assert.ok(n <= Math.floor(elapsed / 5) + 1, `not ahead: ${n} in ${elapsed} ms`);
  assert.ok(n >= Math.floor((elapsed - 80) / 5), `keeps pace: ${n} in ${elapsed} ms`);

  let idle = true;
  let blocked = true;
  let m = 0;
  let ended = false;
  const fast = new Pacer(new Ticks(5000, 1000), { mode: 'timed', speed: Infinity }, () => m++, {
    idle: () => idle,
    blocked: () => blocked,
    onEnd: () => (ended = true),
  });
  fast.start();
  await delay(40);
  assert.equal(m, 0, 'max speed waits for an audience');
  idle = false;
  await delay(30);
  assert.equal(m, 0, 'waits while a client is blocked');
  blocked = false;
  const deadline = Date.now() + 3000;
  while (!ended && Date.now() < deadline) await delay(5);
  assert.ok(ended);
  assert.equal(m, 5000);
  assert.throws(() => new Pacer(new Ticks(1, 1), { mode: 'timed', speed: 0 }, () => {}), RangeError);
});
