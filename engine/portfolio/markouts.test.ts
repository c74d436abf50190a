import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Prng } from '../../workers/prng.js';
import { validate } from '../config/schema.js';
import { slotTables, updownMarket } from '../trading/markets.fixture.js';
import { marketInSlot, PRICE_SCALE, Side, UNIT, type Fill, type Liquidity, type MarketInfo, type TokenInfo } from '../trading/types.js';
import { MARKOUT_HORIZONS_MS, MarkoutTracker, markoutParamsSchema, RETIRED_IN_REPORT, type MarkoutParams } from './markouts.js';

const S = UNIT;

function market(index: number): MarketInfo {
  return { index, conditionId: `0x0${index}`, slug: `m${index}`, tokens: [2 * index, 2 * index + 1], tickSize: 100, minSize: 5 * S, feeRate: 0, feeExponent: 1, negRisk: false, startMs: NaN, endMs: NaN, underlying: '' };
}
const markets = [market(0), market(1)];
const tokens: TokenInfo[] = [0, 1, 2, 3].map((i) => ({ index: i, tokenId: String(i + 1), market: i >> 1, outcome: i % 2 === 0 ? 'Yes' : 'No', complement: i ^ 1 }));

function params(raw: unknown = {}): MarkoutParams {
  const r = validate(markoutParamsSchema, raw);
  if (!r.ok) throw new Error(JSON.stringify(r.violations));
  return r.value;
}

let n = 0;
function fill(token: number, side: Side, price: number, shares: number, tsMs: number, liquidity: Liquidity = 'maker'): Fill {
  return { orderId: 'o', strategy: 'mm', token, side, price, size: shares * S, fee: 0, liquidity, tsMs, fillId: `f${++n}` };
}

test('markouts at each horizon use the mid prevailing then, signed from our side', () => {
  const seen: [string, number, number][] = [];
  const m = new MarkoutTracker({ tokens, markets, params: params(), onMarkout: (f, h, v) => seen.push([f.fillId, h, v]) });
  m.onMid(0, 5000, 0);
  const buy = fill(0, Side.Buy, 4900, 10, 1_000);
  const sell = fill(0, Side.Sell, 5100, 20, 1_000);
  m.onFill(buy);
  m.onFill(sell);
  m.onMid(0, 5200, 5_000);
  // A change exactly at the horizon is the mid in force at it.
  m.onMid(0, 5300, 11_000);
  m.advance(11_000);
  // Buy 10 @ 0.49, mid 0.53: +0.40; sell 20 @ 0.51, mid 0.53: −0.40.
  assert.deepEqual(seen, [
    [buy.fillId, 10_000, 400_000],
    [sell.fillId, 10_000, -400_000],
  ]);
  // A change after the horizon: the older mid held at it.
  m.onMid(0, 4800, 31_001);
  assert.deepEqual(seen.slice(2), [
    [buy.fillId, 30_000, 400_000],
    [sell.fillId, 30_000, -400_000],
  ]);
  m.advance(120_999);
  assert.equal(seen.length, 4);
  m.advance(121_000);
  assert.deepEqual(seen.slice(4), [
    [buy.fillId, 120_000, -100_000],
    [sell.fillId, 120_000, 600_000],
  ]);
  m.onMid(0, NaN, 200_000); // book emptied: no mid
  m.advance(601_000);
  assert.deepEqual(seen.slice(6), [
    [buy.fillId, 600_000, NaN],
    [sell.fillId, 600_000, NaN],
  ]);
  const r = m.report(601_000);
  assert.deepEqual(r.horizonsMs, [...MARKOUT_HORIZONS_MS]);
  const h = r.markets[0]!.horizons;
  assert.deepEqual(
    h.map((x) => [x.resolved, x.unmarked, x.pending, x.sizeMicro, x.markoutMicros]),
    [
      [2, 0, 0, 30 * S, 0],
      [2, 0, 0, 30 * S, 0],
      [2, 0, 0, 30 * S, 500_000],
      [2, 2, 0, 0, 0],
    ],
  );
  assert.equal(h[0]!.adverseShare, 20 / 30);
  assert.equal(h[2]!.perShareMicros, Math.round(500_000 / 30));
  assert.equal(h[3]!.perShareMicros, null);
  // The report is plain JSON.
  assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
});

test('markouts are aggregated per market; pending horizons show in the report', () => {
  const m = new MarkoutTracker({ tokens, markets, params: params() });
  m.onMid(0, 5000, 0);
  m.onMid(3, 3000, 0);
  m.onFill(fill(0, Side.Buy, 5000, 5, 0));
  m.onFill(fill(3, Side.Sell, 3000, 7, 0));
  m.onMid(3, 2900, 1);
  m.advance(30_000);
  const r = m.report(30_000);
  assert.deepEqual(
    r.markets.map((x) => [x.market, x.slug, x.fills, x.sizeMicro, x.horizons[1]!.markoutMicros, x.horizons[2]!.pending]),
    [
      [0, 'm0', 1, 5 * S, 0, 1],
      [1, 'm1', 1, 7 * S, 70_000, 1],
    ],
  );
});

test('toxicity: 0.5 with no evidence, near 0.5 on few fills, towards 1 on adverse flow and 0 on benign flow', () => {
  const m = new MarkoutTracker({ tokens, markets, params: params({ priorShares: 100, halfLifeMs: 3_600_000 }) });
  assert.equal(m.toxicity(0), 0.5);
  const rng = new Prng(3);
  // Market 0: our bids get filled and the price falls right after. Market 1: it holds or rises.
  const tox0: number[] = [];
  const tox1: number[] = [];
  for (let i = 0; i < 40; i++) {
    const t = i * 60_000;
    m.onMid(0, 5000, t);
    m.onMid(2, 5000, t);
    m.onFill(fill(0, Side.Buy, 4900, 10 + rng.int(10), t));
    m.onFill(fill(2, Side.Buy, 4900, 10 + rng.int(10), t));
    m.onMid(0, 4800 - 100 * rng.int(2), t + 5_000);
    m.onMid(2, 5000 + 100 * rng.int(3), t + 5_000);
    m.advance(t + 30_000);
    tox0.push(m.toxicity(0));
    tox1.push(m.toxicity(1));
  }
  assert.ok(Math.abs(tox0[0]! - 0.5) < 0.1, `one fill barely moves it: ${tox0[0]}`);
  assert.ok(tox0.at(-1)! > 0.85, `adverse flow: ${tox0.at(-1)}`);
  assert.ok(tox1.at(-1)! < 0.15, `benign flow: ${tox1.at(-1)}`);
  for (let i = 1; i < tox0.length; i++) {
    assert.ok(tox0[i]! >= tox0[i - 1]!, 'adverse evidence only raises it');
    assert.ok(tox1[i]! <= tox1[i - 1]!, 'benign evidence only lowers it');
  }
  // Taker fills are our own doing: they do not move the score.
  const before = m.toxicity(1);
  m.onFill(fill(2, Side.Buy, 5500, 50, 3_000_000, 'taker'));
  m.advance(3_100_000);
  assert.equal(m.toxicity(1), before);
});

test('toxicity evidence decays towards the prior', () => {
  const m = new MarkoutTracker({ tokens, markets, params: params({ priorShares: 10, halfLifeMs: 60_000 }) });
  m.onMid(0, 5000, 0);
  m.onFill(fill(0, Side.Buy, 5000, 30, 0));
  m.onMid(0, 4000, 1_000);
  m.advance(30_000);
  // (5 + 30) / (10 + 30)
  assert.equal(m.toxicity(0), 35 / 40);
  // Ten half-lives later one benign share outweighs what is left of the old evidence.
  m.onFill(fill(0, Side.Sell, 5000, 1, 600_000));
  m.advance(630_000);
  const w = 30 * 0.5 ** 10;
  assert.ok(Math.abs(m.toxicity(0) - (5 + w) / (10 + w + 1)) < 1e-12);
  assert.ok(m.toxicity(0) < 0.5);
});

test('bad fills and mids are counted and dropped', () => {
  const m = new MarkoutTracker({ tokens, markets, params: params() });
  m.onFill(fill(9, Side.Buy, 5000, 1, 0));
  m.onFill({ ...fill(0, Side.Buy, 5000, 1, 0), size: 0 });
  m.onMid(9, 5000, 0);
  m.onMid(0, -1, 0);
  m.onMid(0, 10_001, 0);
  assert.equal(m.dropped, 5);
  assert.deepEqual(m.report(0).markets, []);
});

test('retiring a market resolves its pending markouts at the settlement value; the reused slot starts with fresh stats', () => {
  const slot = slotTables();
  slot.place(0, marketInSlot(0, updownMarket('a')));
  const seen: [string, number, number][] = [];
  const m = new MarkoutTracker({ tokens: slot.tokens, markets: slot.markets, params: params({ priorShares: 10 }), onMarkout: (f, h, v) => seen.push([f.fillId, h, v]) });
  m.onMid(0, 5000, 0);
  m.onMid(1, 5000, 0);
  const up = fill(0, Side.Buy, 5000, 10, 280_000);
  const down = fill(1, Side.Sell, 5000, 4, 280_000);
  m.onFill(up);
  m.onFill(down);
  m.advance(290_000);
  // The market ends with Up winning: from then on its tokens are worth 1 and 0.
  m.onMid(0, PRICE_SCALE, 300_000);
  m.onMid(1, 0, 300_000);
  m.advance(310_000);
  assert.deepEqual(seen, [
    [up.fillId, 10_000, 0],
    [down.fillId, 10_000, 0],
    [up.fillId, 30_000, 5_000_000],
    [down.fillId, 30_000, 2_000_000],
  ]);
  const toxicityBefore = m.toxicity(0);
  assert.ok(toxicityBefore < 0.5, `benign flow: ${toxicityBefore}`);
  assert.deepEqual(
    m.report(310_000).markets[0]!.horizons.map((h) => h.pending),
    [0, 0, 2, 2],
  );

  // The slot is reused long before the 10 min horizon: what is pending resolves at the settlement value.
  m.retireMarket(0, [PRICE_SCALE, 0], 330_000);
  assert.deepEqual(seen.slice(4), [
    [up.fillId, 120_000, 5_000_000],
    [up.fillId, 600_000, 5_000_000],
    [down.fillId, 120_000, 2_000_000],
    [down.fillId, 600_000, 2_000_000],
  ]);
  assert.equal(m.toxicity(0), 0.5, 'the slot index starts at the prior');
  m.advance(2_000_000);
  assert.equal(seen.length, 8, 'nothing of the old market is left to resolve');

  // The engine replaces the slot's market in place; its tokens start without a mid.
  slot.place(0, marketInSlot(0, updownMarket('b', { startMs: 300_000 })));
  const later = fill(0, Side.Buy, 4000, 1, 2_000_000);
  m.onFill(later);
  m.onMid(0, 4100, 2_005_000);
  m.advance(2_010_000);
  assert.deepEqual(seen.slice(8), [[later.fillId, 10_000, 10_000]]);

  const r = m.report(2_010_000);
  assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
  assert.deepEqual(
    r.markets.map((x) => [x.market, x.slug, x.conditionId, x.retired, x.retiredMs, x.fills, x.sizeMicro]),
    [
      [0, 'btc-updown-5m-a', '0xa', true, 330_000, 2, 14 * S],
      [0, 'btc-updown-5m-b', '0xb', false, null, 1, S],
    ],
  );
  const [old, current] = r.markets;
  assert.deepEqual(
    old!.horizons.map((h) => [h.resolved, h.pending, h.markoutMicros]),
    [
      [2, 0, 0],
      [2, 0, 7_000_000],
      [2, 0, 7_000_000],
      [2, 0, 7_000_000],
    ],
  );
  assert.equal(old!.toxicity, toxicityBefore);
  assert.deepEqual(
    current!.horizons.map((h) => [h.resolved, h.pending]),
    [
      [1, 0],
      [0, 1],
      [0, 1],
      [0, 1],
    ],
  );
});

test('retiring without a final value resolves unmarked; an unknown market or a final mid off the scale is counted', () => {
  const m = new MarkoutTracker({ tokens, markets, params: params() });
  const seen: number[] = [];
  const t = new MarkoutTracker({ tokens, markets, params: params(), onMarkout: (_f, _h, v) => seen.push(v) });
  m.retireMarket(7, [PRICE_SCALE, 0], 0);
  assert.equal(m.dropped, 1);
  t.onMid(0, 5000, 0);
  t.onFill(fill(0, Side.Buy, 5000, 1, 0));
  t.retireMarket(0, [PRICE_SCALE + 1, 0], 1);
  assert.equal(t.dropped, 1);
  assert.deepEqual(seen, [NaN, NaN, NaN, NaN]);
  assert.equal(t.report(1).markets[0]!.horizons[0]!.unmarked, 1);
  t.onFill(fill(1, Side.Sell, 5000, 1, 2));
  t.retireMarket(0, [NaN, NaN], 3);
  assert.equal(t.dropped, 1);
  assert.deepEqual(seen.slice(4), [NaN, NaN, NaN, NaN]);
  assert.deepEqual(
    t.report(3).markets.map((x) => [x.retired, x.horizons[3]!.unmarked]),
    [
      [true, 1],
      [true, 1],
    ],
  );
});

test('the report lists the latest retired markets and counts the ones it no longer lists', () => {
  const m = new MarkoutTracker({ tokens, markets, params: params() });
  for (let k = 0; k < RETIRED_IN_REPORT + 4; k++) {
    m.onFill(fill(0, Side.Buy, 5000, 10, k * 1_000));
    m.retireMarket(0, [PRICE_SCALE, 0], k * 1_000 + 1);
  }
  const r = m.report(1e9);
  assert.equal(r.markets.length, RETIRED_IN_REPORT);
  assert.equal(r.retiredNotListed, 4);
  assert.deepEqual(r.markets.map((x) => x.retiredMs), Array.from({ length: RETIRED_IN_REPORT }, (_, i) => (i + 4) * 1_000 + 1), 'the oldest went first');
});
