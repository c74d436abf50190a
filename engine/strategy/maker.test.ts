import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BookFlag } from '../../workers/shared-memory/book-layout.js';
import { Prng } from '../../workers/prng.js';
import { PRICE_SCALE, Side, UNIT, type DesiredOrder } from '../trading/types.js';
import { binaryMarket, decideOnce, TestContext } from './context.fixture.js';
import { keepOrder } from './desired.js';
import type { MakerParams } from './maker.js';
import { createStrategy, reloadParams } from './registry.js';
import type { Strategy } from './types.js';

const BASE = { fair: 'mid', half_spread: 0.01, size: 10, skew: 0.02, max_position: 100, price_floor: 0.02 };

function maker(over: Partial<MakerParams> = {}): Strategy<unknown> {
  return createStrategy('maker', { ...BASE, ...over });
}

function setup(): TestContext {
  const ctx = new TestContext([binaryMarket(0)]);
  ctx.setMarketBook(0, [[0.48, 100]], [[0.52, 100]]);
  return ctx;
}

/** A quote as a price on the first token: which side of the Yes book it acts as. */
function onFirst(d: DesiredOrder): { side: 'bid' | 'ask'; price: number } {
  const first = d.token === 0;
  const buysFirst = first === (d.side === Side.Buy);
  return { side: buysFirst ? 'bid' : 'ask', price: first ? d.price : PRICE_SCALE - d.price };
}

function quotes(out: DesiredOrder[]): { bid?: number; ask?: number } {
  const q: { bid?: number; ask?: number } = {};
  for (const d of out) q[onFirst(d).side] = onFirst(d).price;
  return q;
}

test('flat inventory: post-only GTC quotes one half spread around the mid, ask side as a No bid', () => {
  const ctx = setup();
  const out = decideOnce(maker(), ctx);
  assert.deepEqual(out, [
    { token: 0, side: Side.Buy, price: 4900, size: 10 * UNIT, type: 'GTC', postOnly: true, expiresMs: NaN, reason: 'quote_bid' },
    { token: 1, side: Side.Buy, price: 4900, size: 10 * UNIT, type: 'GTC', postOnly: true, expiresMs: NaN, reason: 'quote_ask' },
  ]);
});

test('microprice fair value leans toward the thin side', () => {
  const ctx = setup();
  ctx.setMarketBook(0, [[0.48, 300]], [[0.52, 100]]);
  // microprice = (4800·100 + 5200·300)/400 = 5100
  assert.deepEqual(quotes(decideOnce(maker({ fair: 'microprice' }), ctx)), { bid: 5000, ask: 5200 });
  assert.deepEqual(quotes(decideOnce(maker({ fair: 'mid' }), ctx)), { bid: 4900, ask: 5100 });
});

test('inventory skews both quotes away from it and sells held inventory instead of buying the complement', () => {
  const ctx = setup();
  ctx.positions[0] = 50 * UNIT; // long Yes: lean 0.5, reservation 5000 − 200·0.5
  const long = decideOnce(maker(), ctx);
  assert.deepEqual(quotes(long), { bid: 4800, ask: 5000 });
  assert.deepEqual(long[1], { token: 0, side: Side.Sell, price: 5000, size: 10 * UNIT, type: 'GTC', postOnly: true, expiresMs: NaN, reason: 'quote_ask' });

  ctx.positions[0] = 0;
  ctx.positions[1] = 50 * UNIT; // long No = short Yes
  const short = decideOnce(maker(), ctx);
  assert.deepEqual(quotes(short), { bid: 5000, ask: 5200 });
  assert.deepEqual(short[0], { token: 1, side: Side.Sell, price: 5000, size: 10 * UNIT, type: 'GTC', postOnly: true, expiresMs: NaN, reason: 'quote_bid' });

  // A complete set nets to zero inventory.
  ctx.positions[0] = 50 * UNIT;
  assert.deepEqual(quotes(decideOnce(maker(), ctx)), { bid: 4900, ask: 5100 });
});

test('size limits: the side that adds inventory shrinks to the room left, then stops', () => {
  const ctx = setup();
  ctx.positions[0] = 95 * UNIT;
  let out = decideOnce(maker(), ctx);
  assert.equal(out.length, 2);
  assert.equal(out[0]!.size, 5 * UNIT, 'bid capped at max_position − inventory');
  ctx.positions[0] = 97 * UNIT;
  out = decideOnce(maker(), ctx);
  assert.deepEqual(out.map((d) => onFirst(d).side), ['ask'], '3 shares of room is below the 5-share market minimum');
  ctx.positions[0] = 150 * UNIT;
  out = decideOnce(maker(), ctx);
  assert.deepEqual(out.map((d) => onFirst(d).side), ['ask']);
});

test('post-only quotes never cross the touch, even under full skew', () => {
  const ctx = setup();
  ctx.positions[1] = 60 * UNIT; // reservation 5000 + 1000 × 0.6: the bid target 5500 is through the ask
  const q = quotes(decideOnce(maker({ skew: 0.1 }), ctx));
  assert.equal(q.bid, 5100, 'one tick under the best ask');
  assert.equal(q.ask, 5700);
});

test('quote bands: nothing below price_floor or above 1 − price_floor', () => {
  const ctx = setup();
  ctx.setMarketBook(0, [[0.02, 100]], [[0.04, 100]]);
  assert.deepEqual(quotes(decideOnce(maker({ price_floor: 0.03 }), ctx)), { ask: 400 }, 'bid 0.02 is outside [0.03, 0.97]');
  ctx.setMarketBook(0, [[0.96, 100]], [[0.98, 100]]);
  assert.deepEqual(quotes(decideOnce(maker({ price_floor: 0.03 }), ctx)), { bid: 9600 });
  assert.deepEqual(quotes(decideOnce(maker({ price_floor: 0 }), ctx)), { bid: 9600, ask: 9800 });
});

test('quotes are on the market tick and inside the band whatever the book (seeded)', () => {
  const rng = new Prng(42);
  let quoted = 0;
  for (let i = 0; i < 500; i++) {
    const tick = [1000, 100, 10, 1][rng.int(4)]!;
    const ctx = new TestContext([binaryMarket(0, { tickSize: tick })]);
    const bid = rng.range(1, 9998);
    const ask = rng.range(bid + 1, 9999);
    const tickOf = (t: number) => Math.min(PRICE_SCALE - tick, Math.max(tick, Math.round(t / tick) * tick));
    const b = tickOf(bid);
    const a = tickOf(ask);
    if (b >= a) continue;
    ctx.setMarketBook(0, [[b / 1e4, 1 + rng.int(500)]], [[a / 1e4, 1 + rng.int(500)]], tick);
    ctx.positions[rng.int(2)] = rng.int(200) * UNIT;
    ctx.tox[0] = rng.next();
    const params = { fair: rng.int(2) ? 'mid' : 'microprice', half_spread: rng.int(500) / 1e4, skew: rng.int(500) / 1e4, price_floor: rng.int(100) / 1e4, toxicity_widen: 2 } as const;
    const out = decideOnce(maker(params), ctx);
    const lo = Math.max(tick, Math.ceil(Math.round(params.price_floor * 1e4) / tick) * tick);
    for (const d of out) {
      const q = onFirst(d);
      assert.equal(d.price % tick, 0, `off tick ${tick}: ${d.price}`);
      assert.ok(q.price >= lo && q.price <= PRICE_SCALE - lo, `outside the band: ${q.price}`);
      assert.equal(d.postOnly, true);
      if (q.side === 'bid') assert.ok(q.price < a, 'bid crosses the ask');
      else assert.ok(q.price > b, 'ask crosses the bid');
      assert.equal(d.size % 10_000, 0);
    }
    const q = quotes(out);
    if (q.bid !== undefined && q.ask !== undefined) assert.ok(q.bid < q.ask);
    quoted += out.length;
  }
  assert.ok(quoted > 300, `only ${quoted} quotes in 500 books: the sweep is not exercising the maker`);
});

test('no requote within min_requote_ticks; requote past it and after max_quote_age_ms', () => {
  const ctx = setup();
  const s = maker({ min_requote_ticks: 2, max_quote_age_ms: 10_000 });
  const first = decideOnce(s, ctx);
  ctx.rest(first);
  const [bid, ask] = [ctx.orders[0]![0]!, ctx.orders[1]![0]!];

  // Mid up one tick: targets 5000 / 5200 are one tick from the live 4900 / 5100.
  ctx.nowMs += 1_000;
  ctx.setMarketBook(0, [[0.49, 100]], [[0.53, 100]]);
  assert.deepEqual(decideOnce(s, ctx), [keepOrder(bid), keepOrder(ask)], 'live quotes re-emitted unchanged');

  // Two ticks: replaced.
  ctx.setMarketBook(0, [[0.5, 100]], [[0.54, 100]]);
  assert.deepEqual(quotes(decideOnce(s, ctx)), { bid: 5100, ask: 5300 });

  // Back to one tick away, but the quotes are now 10 s old: replaced.
  ctx.setMarketBook(0, [[0.49, 100]], [[0.53, 100]]);
  ctx.nowMs = bid.createdMs + 10_000;
  assert.deepEqual(quotes(decideOnce(s, ctx)), { bid: 5000, ask: 5200 });
  ctx.nowMs = bid.createdMs + 9_999;
  assert.deepEqual(decideOnce(s, ctx), [keepOrder(bid), keepOrder(ask)]);

  // A filled or cancelled order is not kept.
  bid.status = 'filled';
  assert.deepEqual(decideOnce(s, ctx)[0], { ...keepOrder(bid), price: 5000 });
});

test('toxicity widens the spread, and pulls the quotes past toxicity_pull', () => {
  const ctx = setup();
  const s = maker({ toxicity_widen: 2, toxicity_pull: 0.9 });
  ctx.tox[0] = 0.5; // half spread 100 × (1 + 2 × 0.5)
  assert.deepEqual(quotes(decideOnce(s, ctx)), { bid: 4800, ask: 5200 });
  ctx.tox[0] = 0.9;
  assert.deepEqual(decideOnce(s, ctx), []);
});

test('an unpriceable book gets no quotes: stale, one-sided or crossed', () => {
  const ctx = setup();
  const s = maker();
  ctx.writer.begin(0);
  ctx.writer.setStatus(0, BookFlag.Stale);
  ctx.writer.end(0);
  assert.deepEqual(decideOnce(s, ctx), []);
  ctx.setMarketBook(0, [[0.48, 100]], []);
  assert.deepEqual(decideOnce(s, ctx), []);
  ctx.setMarketBook(0, [[0.52, 100]], [[0.5, 100]]);
  assert.deepEqual(decideOnce(s, ctx), []);
});

test('a params reload changes the quotes; a bad reload changes nothing', () => {
  const ctx = setup();
  const s = maker();
  assert.deepEqual(quotes(decideOnce(s, ctx)), { bid: 4900, ask: 5100 });
  const ok = reloadParams(s, { ...BASE, half_spread: 0.03 });
  assert.equal(ok.ok, true);
  assert.equal((s.params() as MakerParams).half_spread, 0.03);
  assert.deepEqual(quotes(decideOnce(s, ctx)), { bid: 4700, ask: 5300 });

  const bad = reloadParams(s, { half_spread: 0.7, sizee: 3 });
  assert.deepEqual(bad, {
    ok: false,
    violations: [
      { path: 'sizee', message: 'unknown key' },
      { path: 'half_spread', message: 'must be <= 0.5' },
    ],
  });
  assert.deepEqual(quotes(decideOnce(s, ctx)), { bid: 4700, ask: 5300 });
});
