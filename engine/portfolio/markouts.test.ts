import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Prng } from '../../workers/prng.js';
import { validate } from '../config/schema.js';
import { slotTables, updownMarket } from '../trading/markets.fixture.js';
import { marketInSlot, PRICE_SCALE, Side, SIZE_LOT, UNIT, type Fill, type Liquidity, type MarketInfo, type TokenInfo } from '../trading/types.js';
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

// ---- the venue's correction of a settlement --------------------------------

type Seen = [string, number, number, number | undefined];

test('settleMarket makes the settlement values the mids from the end; book mids after it are dropped', () => {
  const slot = slotTables();
  slot.place(0, marketInSlot(0, updownMarket('a')));
  const viaMids: Seen[] = [];
  const viaSettle: Seen[] = [];
  const x = new MarkoutTracker({ tokens: slot.tokens, markets: slot.markets, params: params(), onMarkout: (f, h, v, r) => viaMids.push([f.fillId, h, v, r]) });
  const y = new MarkoutTracker({ tokens: slot.tokens, markets: slot.markets, params: params(), onMarkout: (f, h, v, r) => viaSettle.push([f.fillId, h, v, r]) });
  const up = fill(0, Side.Buy, 4900, 3, 250_000);
  const down = fill(1, Side.Buy, 5000, 2, 280_000);
  for (const m of [x, y]) {
    m.onMid(0, 5000, 0);
    m.onMid(1, 5000, 0);
    m.onFill(up);
    m.onFill(down);
    m.onMid(0, 5100, 270_000);
  }
  x.onMid(0, PRICE_SCALE, 300_000);
  x.onMid(1, 0, 300_000);
  y.settleMarket(0, 0, 300_000);
  y.onMid(0, 5000, 400_000);
  assert.equal(y.dropped, 1, 'a settled token has no book price');
  for (const m of [x, y]) m.advance(900_000);
  assert.deepEqual(viaSettle, viaMids);
  assert.deepEqual(y.report(900_000), x.report(900_000));
  assert.equal(viaSettle.at(-1)![2], -1_000_000, 'the Down buy at 0.50 is worth 0');
});

test('a correction re-resolves the markouts resolved on the settlement at the venue winner; those on book mids stay; twice is once', () => {
  const slot = slotTables();
  slot.place(0, marketInSlot(0, updownMarket('a')));
  const seen: Seen[] = [];
  const a = new MarkoutTracker({ tokens: slot.tokens, markets: slot.markets, params: params({ priorShares: 10 }), onMarkout: (f, h, v, r) => seen.push([f.fillId, h, v, r]) });
  const venue = new MarkoutTracker({ tokens: slot.tokens, markets: slot.markets, params: params({ priorShares: 10 }) });
  const up = fill(0, Side.Buy, 4800, 10, 100_000);
  const down = fill(1, Side.Sell, 5000, 4, 290_000);
  for (const m of [a, venue]) {
    m.onMid(0, 5000, 0);
    m.onMid(1, 5000, 0);
    m.onFill(up);
    m.onMid(0, 5200, 105_000);
    m.advance(250_000);
    m.onFill(down);
  }
  a.settleMarket(0, 0, 300_000);
  venue.settleMarket(0, 1, 300_000);
  for (const m of [a, venue]) m.advance(1_000_000);
  const settled = a.report(1_000_000).markets[0]!.horizons.map((h) => h.markoutMicros);
  // Up bought at 0.48 worth 0.52 at 10 s, 30 s, 2 min and 1 at 10 min; Down sold at 0.50, due from the end on, worth 0.
  assert.deepEqual(settled, [400_000 + 2_000_000, 400_000 + 2_000_000, 400_000 + 2_000_000, 5_200_000 + 2_000_000]);
  const toxicitySettled = a.toxicity(0);
  seen.length = 0;

  assert.equal(a.correctSettlement(0, '0xa', 1), 5);
  assert.deepEqual(seen, [
    [up.fillId, 600_000, -4_800_000, 5_200_000],
    [down.fillId, 10_000, -2_000_000, 2_000_000],
    [down.fillId, 30_000, -2_000_000, 2_000_000],
    [down.fillId, 120_000, -2_000_000, 2_000_000],
    [down.fillId, 600_000, -2_000_000, 2_000_000],
  ]);
  const corrected = a.report(1_000_000);
  assert.deepEqual(
    corrected.markets[0]!.horizons.map((h) => h.markoutMicros),
    [400_000 - 2_000_000, 400_000 - 2_000_000, 400_000 - 2_000_000, -4_800_000 - 2_000_000],
  );
  assert.deepEqual(corrected, venue.report(1_000_000));
  assert.equal(a.toxicity(0), venue.toxicity(0));
  assert.ok(a.toxicity(0) > toxicitySettled, 'the Down sell was picked off after all');

  assert.equal(a.correctSettlement(0, '0xa', 1), 0);
  assert.equal(seen.length, 5);
  assert.deepEqual(a.report(1_000_000), corrected);
  // The engine retires it at the venue's value once corrected: nothing left to move.
  a.retireMarket(0, [0, PRICE_SCALE], 1_100_000);
  assert.equal(a.correctSettlement(0, '0xa', 1), 0);
  assert.equal(a.correctSettlement(0, '0xzz', 0), 0, 'an unknown market');
  assert.equal(a.correctSettlement(1, '0xa', 0), 0, 'the market in another slot');
  assert.deepEqual(a.report(1_100_000).markets[0]!.horizons, corrected.markets[0]!.horizons);
});

test('what a correction needs goes once its window has passed or the market has left the report', () => {
  const slot = slotTables();
  const m = new MarkoutTracker({ tokens: slot.tokens, markets: slot.markets, params: params(), correctionWindowMs: 60_000 });
  slot.place(0, marketInSlot(0, updownMarket('a')));
  m.onMid(0, 5000, 0);
  m.onFill(fill(0, Side.Buy, 5000, 1, 295_000));
  m.settleMarket(0, 0, 300_000);
  m.retireMarket(0, [PRICE_SCALE, 0], 310_000);
  slot.place(0, marketInSlot(0, updownMarket('b', { startMs: 300_000 })));
  m.onMid(0, 5000, 300_000);
  m.onFill(fill(0, Side.Buy, 5000, 1, 590_000));
  m.settleMarket(0, 0, 600_000);
  assert.equal(m.correctSettlement(0, '0xa', 1), 4, "a's window is open: retired, still correctable");
  m.retireMarket(0, [PRICE_SCALE, 0], 700_000);
  const before = m.report(700_000);
  assert.equal(m.correctSettlement(0, '0xb', 1), 0, "b's window closed at 660 000");
  assert.deepEqual(m.report(700_000), before);

  const n = new MarkoutTracker({ tokens: slot.tokens, markets: slot.markets, params: params() });
  for (let k = 0; k <= RETIRED_IN_REPORT; k++) {
    slot.place(0, marketInSlot(0, updownMarket(`k${k}`, { startMs: k * 300_000 })));
    n.onMid(0, 5000, k * 300_000);
    n.onFill(fill(0, Side.Buy, 5000, 1, k * 300_000 + 295_000));
    n.settleMarket(0, 0, (k + 1) * 300_000);
    n.retireMarket(0, [PRICE_SCALE, 0], (k + 1) * 300_000 + 1);
  }
  assert.equal(n.correctSettlement(0, '0xk0', 1), 0, 'no longer in the report');
  assert.equal(n.correctSettlement(0, `0xk${RETIRED_IN_REPORT}`, 1), 4);
});

/** Ten-minute windows of fills, then settle, reuse and correction, as the engine drives them. */
const END = 900_000;
type Op =
  | { k: 'mid'; token: number; mid: number; t: number }
  | { k: 'fill'; fill: Fill }
  | { k: 'advance'; t: number }
  | { k: 'settle' }
  | { k: 'correct' }
  | { k: 'retire'; t: number }
  | { k: 'reuse'; t: number };

interface Life {
  ops: Op[];
  /** Fills of the settled market reported after its settlement (their markouts all resolve on it). */
  late: Set<string>;
}

function lifeOf(seed: number, variant: 'in slot' | 'retired, then corrected' | 'corrected, then retired'): Life {
  const rng = new Prng(seed);
  const ops: Op[] = [];
  const late = new Set<string>();
  const mids = [5000, 5000, 5000, 5000];
  for (let token = 0; token < 4; token++) ops.push({ k: 'mid', token, mid: 5000, t: 0 });
  const settleAt = END + rng.int(20_000);
  let slot0 = true;
  const step = (t: number, tokens: number) => {
    const r = rng.next();
    const token = rng.int(tokens) + (slot0 ? 0 : 2);
    if (r < 0.45) {
      mids[token] = Math.min(9_950, Math.max(50, mids[token]! + 50 * (rng.int(9) - 4)));
      ops.push({ k: 'mid', token, mid: mids[token]!, t });
    } else if (r < 0.75) {
      const price = Math.min(9_900, Math.max(100, Math.round(mids[token]! / 100) * 100 + 100 * (rng.int(5) - 2)));
      const f = fill(token, rng.int(2) as Side, price, 1, Math.max(0, t - rng.int(300)), rng.next() < 0.8 ? 'maker' : 'taker');
      ops.push({ k: 'fill', fill: { ...f, size: (1 + rng.int(200)) * SIZE_LOT } });
    } else ops.push({ k: 'advance', t });
  };
  let t = 0;
  while ((t += 1 + rng.int(8_000)) < settleAt) step(t, 4);
  ops.push({ k: 'settle' });
  if (rng.next() < 0.3) {
    const f = fill(rng.int(2), Side.Buy, 5000, 1 + rng.int(20), END - 1 - rng.int(40_000));
    late.add(f.fillId);
    ops.push({ k: 'fill', fill: f });
  }
  // After the settlement only slot 1 trades, until slot 0 takes another market.
  slot0 = false;
  const post: Op[][] = [];
  const postMs: number[] = [];
  for (t = settleAt; (t += 1 + rng.int(30_000)) < END + 700_000; ) {
    const at = ops.length;
    step(t, 2);
    post.push(ops.splice(at));
    postMs.push(t);
  }
  const correctAt = rng.int(post.length + 1);
  const retireAt = variant === 'in slot' ? -1 : variant === 'retired, then corrected' ? rng.int(correctAt + 1) : correctAt + rng.int(post.length + 1 - correctAt);
  for (let i = 0; i <= post.length; i++) {
    const prev = postMs[i - 1] ?? settleAt;
    if (i === retireAt) ops.push({ k: 'retire', t: prev }, { k: 'reuse', t: prev });
    if (i === correctAt) ops.push({ k: 'correct' });
    ops.push(...(post[i] ?? []));
  }
  ops.push({ k: 'advance', t: END + 700_000 });
  return { ops, late };
}

test('property: settled one way and corrected, a tracker ends exactly where one told the venue winner from the start does', () => {
  const variants = ['in slot', 'retired, then corrected', 'corrected, then retired'] as const;
  let changedLives = 0;
  const SEEDS = 300;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const variant = variants[seed % 3]!;
    const { ops, late } = lifeOf(seed, variant);
    const slot = slotTables();
    slot.place(0, marketInSlot(0, updownMarket('a', { startMs: END - 300_000 })));
    slot.place(1, marketInSlot(1, updownMarket('x', { startMs: END })));
    const engineWinner = (seed >> 1) % 2 === 0 ? 0 : 1;
    const venueWinner = engineWinner === 0 ? 1 : 0;
    const byA = new Map<string, number>();
    const byVenue = new Map<string, number>();
    const a = new MarkoutTracker({
      tokens: slot.tokens,
      markets: slot.markets,
      params: params({ priorShares: 20, halfLifeMs: 120_000 }),
      onMarkout: (f, h, v, replaces) => {
        const key = `${f.fillId}:${h}`;
        if (replaces === undefined) {
          assert.equal(byA.has(key), false, `seed ${seed}: ${key} resolved twice`);
        } else {
          assert.equal(byA.get(key), replaces, `seed ${seed}: ${key} replaces what it was`);
          assert.ok(f.tsMs + h >= END || late.has(f.fillId), `seed ${seed}: ${key} was resolved on a book mid before the end`);
        }
        byA.set(key, v);
      },
    });
    const venue = new MarkoutTracker({
      tokens: slot.tokens,
      markets: slot.markets,
      params: params({ priorShares: 20, halfLifeMs: 120_000 }),
      onMarkout: (f, h, v) => byVenue.set(`${f.fillId}:${h}`, v),
    });
    let corrected = false;
    let changed = 0;
    for (const op of ops) {
      switch (op.k) {
        case 'mid':
          a.onMid(op.token, op.mid, op.t);
          venue.onMid(op.token, op.mid, op.t);
          break;
        case 'fill':
          a.onFill(op.fill);
          venue.onFill(op.fill);
          break;
        case 'advance':
          a.advance(op.t);
          venue.advance(op.t);
          break;
        case 'settle':
          a.settleMarket(0, engineWinner, END);
          venue.settleMarket(0, venueWinner, END);
          break;
        case 'correct':
          changed = a.correctSettlement(0, '0xa', venueWinner);
          assert.equal(a.correctSettlement(0, '0xa', venueWinner), 0, `seed ${seed}: a second correction changes nothing`);
          corrected = true;
          break;
        case 'retire': {
          // The engine retires a corrected market at the venue's value.
          const w = corrected ? venueWinner : engineWinner;
          a.retireMarket(0, w === 0 ? [PRICE_SCALE, 0] : [0, PRICE_SCALE], op.t);
          venue.retireMarket(0, venueWinner === 0 ? [PRICE_SCALE, 0] : [0, PRICE_SCALE], op.t);
          break;
        }
        case 'reuse': {
          slot.place(0, marketInSlot(0, updownMarket('b', { startMs: END })));
          const f = fill(0, Side.Sell, 4000, 2, op.t);
          for (const m of [a, venue]) {
            m.onMid(0, 4100, op.t);
            m.onFill(f);
          }
          break;
        }
      }
      if (corrected) {
        assert.equal(a.toxicity(0), venue.toxicity(0), `seed ${seed}: toxicity after ${op.k}`);
        assert.equal(a.toxicity(1), venue.toxicity(1), `seed ${seed}: slot 1 after ${op.k}`);
      }
    }
    assert.equal(corrected, true);
    if (changed > 0) changedLives++;
    assert.deepEqual(a.report(END + 700_000), venue.report(END + 700_000), `seed ${seed} (${variant})`);
    assert.deepEqual(byA, byVenue, `seed ${seed}: the listener's latest values`);
    assert.equal(a.dropped, 0);
  }
  assert.ok(changedLives > SEEDS * 0.8, `the correction moved markouts in ${changedLives} of ${SEEDS} lives`);
});
