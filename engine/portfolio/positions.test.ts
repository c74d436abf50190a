import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Prng } from '../../workers/prng.js';
import { PRICE_SCALE, Side, SIZE_LOT, UNIT, type Fill, type MarketInfo, type Resolution, type Settlement, type TokenInfo } from '../trading/types.js';
import { Portfolio } from './positions.js';

const S = UNIT;

function market(index: number, yes: number, no: number): MarketInfo {
  return { index, conditionId: `0x0${index}`, slug: `m${index}`, tokens: [yes, no], tickSize: 100, minSize: 5 * S, feeRate: 0, feeExponent: 1, negRisk: false, startMs: NaN, endMs: NaN, underlying: '' };
}
const markets = [market(0, 0, 1), market(1, 2, 3)];
const tokens: TokenInfo[] = [0, 1, 2, 3].map((i) => ({ index: i, tokenId: String(i + 1), market: i >> 1, outcome: i % 2 === 0 ? 'Yes' : 'No', complement: i ^ 1 }));

let n = 0;
function fill(f: Partial<Fill> & Pick<Fill, 'side' | 'price' | 'size'>): Fill {
  return { orderId: 'o', strategy: 'mm', token: 0, fee: 0, liquidity: 'maker', tsMs: 0, fillId: `f${++n}`, ...f };
}

/** Mid per token, ticks. */
function marks(...mids: number[]): Float64Array {
  return Float64Array.from(mids);
}

test('worked example: buy 100 @ 0.40, sell 60 @ 0.55, mark at 0.50', () => {
  const p = new Portfolio(tokens, markets);
  assert.equal(p.applyFill(fill({ side: Side.Buy, price: 4000, size: 100 * S, fee: 120_000, liquidity: 'taker' })), true);
  assert.equal(p.applyFill(fill({ side: Side.Sell, price: 5500, size: 60 * S })), true);
  const e = p.entry('mm', 0)!;
  // Cost 40.00; 60 of 100 release 24.00 against 33.00 received.
  assert.deepEqual([e.position, e.cost, e.realised, e.fees], [40 * S, 16_000_000, 9_000_000, 120_000]);
  assert.equal(e.cash, -40_000_000 + 33_000_000 - 120_000);
  const m = marks(5000, NaN, NaN, NaN);
  assert.equal(p.unrealised(m), 4_000_000); // 40 × 0.50 − 16.00
  assert.deepEqual(p.total(m), {
    realised: 9_000_000,
    unrealised: 4_000_000,
    fees: 120_000,
    net: 12_880_000,
    grossExposure: 20_000_000,
    cash: -7_120_000,
    unmarked: 0,
  });
  // Closing the rest at 0.45 releases exactly the remaining 16.00.
  p.applyFill(fill({ side: Side.Sell, price: 4500, size: 40 * S }));
  assert.deepEqual([e.position, e.cost, e.realised], [0, 0, 9_000_000 + 2_000_000]);
  assert.equal(p.unrealised(m), 0);
});

test('average cost across buys, rounding released cost to the micro without drift', () => {
  const p = new Portfolio(tokens, markets);
  p.applyFill(fill({ side: Side.Buy, price: 3300, size: 3 * S }));
  p.applyFill(fill({ side: Side.Buy, price: 3400, size: 0.03 * S }));
  const e = p.entry('mm', 0)!;
  assert.equal(e.cost, 990_000 + 10_200);
  // Selling a third: released = round(1 000 200 × 1.01 / 3.03) = 333 400.
  p.applyFill(fill({ side: Side.Sell, price: 3300, size: 1.01 * S }));
  assert.equal(e.cost, 1_000_200 - 333_400);
  assert.equal(e.realised, 333_300 - 333_400);
  p.applyFill(fill({ side: Side.Sell, price: 3300, size: 2.02 * S }));
  assert.equal(e.cost, 0);
  // Over the round trip, realised is exactly proceeds − cost.
  assert.equal(e.realised, 999_900 - 1_000_200);
});

test('a sale beyond the position flips it short and accounts the short the same way', () => {
  const p = new Portfolio(tokens, markets);
  p.applyFill(fill({ side: Side.Buy, price: 4000, size: 10 * S }));
  p.applyFill(fill({ side: Side.Sell, price: 5000, size: 15 * S }));
  const e = p.entry('mm', 0)!;
  assert.deepEqual([e.position, e.cost, e.realised], [-5 * S, -2_500_000, 1_000_000]);
  assert.equal(p.unrealised(marks(4000)), 500_000);
  p.applyFill(fill({ side: Side.Buy, price: 4000, size: 5 * S }));
  assert.deepEqual([e.position, e.cost, e.realised], [0, 0, 1_500_000]);
});

test('merge burns a complete set, credits 1.0 per share and realises against average cost', () => {
  const p = new Portfolio(tokens, markets);
  p.applyFill(fill({ token: 0, side: Side.Buy, price: 4500, size: 100 * S }));
  p.applyFill(fill({ token: 1, side: Side.Buy, price: 5000, size: 60 * S }));
  assert.equal(p.merge('mm', 0, 70 * S), false); // only 60 No
  assert.equal(p.merge('other', 0, 10 * S), false);
  assert.equal(p.merge('mm', 0, 0), false);
  assert.equal(p.merge('mm', 0, 50 * S, '0xabc'), true);
  assert.equal(p.merge('mm', 0, 50 * S, '0xabc'), false); // replayed: applied once
  assert.equal(p.merge('mm', 0, 10 * S), true);
  const yes = p.entry('mm', 0)!;
  const no = p.entry('mm', 1)!;
  // 50 first: released Yes 22.50, No 25.00; 50.00 paid, split 22.5:25 → 23.684211 / 26.315789.
  // Then 10: released Yes 4.50, No 5.00; 10.00 split → 4.736842 / 5.263158.
  assert.deepEqual([yes.position, yes.cost, no.position, no.cost], [40 * S, 18_000_000, 0, 0]);
  assert.equal(yes.realised + no.realised, 3_000_000);
  assert.deepEqual([yes.realised, no.realised], [1_184_211 + 236_842, 1_315_789 + 263_158]);
  assert.equal(p.pnl(marks(NaN, NaN), { market: 0 }).realised, 3_000_000);
  assert.equal(yes.cash + no.cash, -45_000_000 - 30_000_000 + 60_000_000);
  assert.equal(p.merge('mm', 0, SIZE_LOT), false); // No leg is empty now
});

test('aggregates by token, market and strategy; gross exposure; unmarked positions', () => {
  const p = new Portfolio(tokens, markets);
  p.applyFill(fill({ strategy: 'a', token: 0, side: Side.Buy, price: 4000, size: 10 * S }));
  p.applyFill(fill({ strategy: 'a', token: 2, side: Side.Buy, price: 2000, size: 10 * S, fee: 1_000 }));
  p.applyFill(fill({ strategy: 'b', token: 0, side: Side.Buy, price: 4200, size: 10 * S }));
  p.applyFill(fill({ strategy: 'b', token: 1, side: Side.Buy, price: 5800, size: 5 * S }));
  const m = marks(4100, 5900, 2500, NaN);
  assert.equal(p.byToken(m).get(0)!.unrealised, 100_000 - 100_000);
  assert.equal(p.byMarket(m).get(0)!.unrealised, 50_000);
  assert.equal(p.byMarket(m).get(1)!.unrealised, 500_000);
  assert.equal(p.byStrategy(m).get('a')!.net, 100_000 + 500_000 - 1_000);
  assert.equal(p.byStrategy(m).get('b')!.net, -100_000 + 50_000);
  assert.equal(p.pnl(m, { strategy: 'b', market: 0 }).unrealised, -50_000);
  assert.equal(p.grossExposure(m), 4_100_000 + 2_500_000 + 4_100_000 + 2_950_000);
  assert.equal(p.position('b', 1), 5 * S);
  assert.equal(p.position('b', 3), 0);
  // No mark for token 2: unrealised 0 there, exposure at cost, flagged.
  const noMark = p.total(marks(4100, 5900));
  assert.equal(noMark.unmarked, 1);
  assert.equal(noMark.grossExposure, 4_100_000 + 2_000_000 + 4_100_000 + 2_950_000);
});

test('daily PnL counts from the day start', () => {
  const p = new Portfolio(tokens, markets);
  p.applyFill(fill({ strategy: 'a', side: Side.Buy, price: 4000, size: 10 * S }));
  p.startDay(marks(4500), 86_400_000);
  assert.equal(p.dailyPnl(marks(4500)), 0);
  p.applyFill(fill({ strategy: 'a', side: Side.Sell, price: 4700, size: 10 * S, fee: 2_000 }));
  p.applyFill(fill({ strategy: 'c', token: 1, side: Side.Buy, price: 5000, size: 10 * S }));
  // a: +0.70 realised now, of which 0.50 was already unrealised at the day start; c: +0.10 unrealised.
  const m = marks(4500, 5100);
  assert.equal(p.dailyPnl(m, 'a'), 200_000 - 2_000);
  assert.equal(p.dailyPnl(m, 'c'), 100_000);
  assert.equal(p.dailyPnl(m), 298_000);
  assert.equal(p.dayStart, 86_400_000);
});

test('a fill applied twice counts once; malformed fills are counted and refused', () => {
  const p = new Portfolio(tokens, markets);
  const f = fill({ side: Side.Buy, price: 4000, size: 10 * S });
  assert.equal(p.applyFill(f), true);
  assert.equal(p.applyFill({ ...f }), false);
  assert.equal(p.position('mm', 0), 10 * S);
  assert.equal(p.applyFill(fill({ side: Side.Buy, price: 4000, size: 0 })), false);
  assert.equal(p.applyFill(fill({ side: Side.Buy, price: 4000, size: S, token: 9 })), false);
  assert.equal(p.applyFill(fill({ side: Side.Buy, price: 4000.5, size: S })), false);
  assert.equal(p.applyFill(fill({ side: Side.Buy, price: 4000, size: S, fee: -1 })), false);
  assert.equal(p.invalidFills, 4);
});

test('restore(snapshot()) round-trips through JSON, keeps fill ids, and rejects malformed snapshots', () => {
  const p = new Portfolio(tokens, markets);
  const rng = new Prng(42);
  const fills: Fill[] = [];
  for (let i = 0; i < 300; i++) {
    const f = fill({
      strategy: rng.int(2) === 0 ? 'a' : 'b',
      token: rng.int(4),
      side: rng.int(2) === 0 ? Side.Buy : Side.Sell,
      price: 100 * rng.range(1, 99),
      size: SIZE_LOT * rng.range(1, 5_000),
      fee: rng.int(5_000),
    });
    fills.push(f);
    p.applyFill(f);
  }
  p.merge('a', 0, 0); // refused, changes nothing
  p.applyFill(fill({ strategy: 'arb', token: 0, side: Side.Buy, price: 5000, size: 100 * S }));
  p.applyFill(fill({ strategy: 'arb', token: 1, side: Side.Buy, price: 4000, size: 100 * S }));
  assert.equal(p.merge('arb', 0, 100 * S, '0xmerge'), true);
  p.startDay(marks(5000, 5000, 5000, 5000), 1_000);
  const json = JSON.stringify(p.snapshot());
  const q = new Portfolio(tokens, markets);
  q.restore(JSON.parse(json));
  assert.deepEqual(q.snapshot(), p.snapshot());
  const m = marks(4100, 5900, 2500, 7000);
  assert.deepEqual(q.total(m), p.total(m));
  assert.equal(q.dailyPnl(m), p.dailyPnl(m));
  for (const f of fills) assert.equal(q.applyFill(f), false);
  q.applyFill(fill({ strategy: 'arb', token: 0, side: Side.Buy, price: 5000, size: S }));
  q.applyFill(fill({ strategy: 'arb', token: 1, side: Side.Buy, price: 4000, size: S }));
  assert.equal(q.merge('arb', 0, S, '0xmerge'), false); // the restored id is still known
  assert.equal(q.merge('arb', 0, S, '0xmerge2'), true);

  const before = JSON.stringify(q.snapshot());
  const bad = JSON.parse(json) as { entries: { position: unknown }[]; fillIds: unknown };
  bad.entries[0]!.position = 1.5;
  bad.fillIds = 'x';
  assert.throws(() => q.restore(bad), /entries\[0\]\.position: must be an integer.*fillIds: must be an array/);
  assert.throws(() => q.restore({ ...JSON.parse(json), entries: [{ ...JSON.parse(json).entries[0], token: 9 }] }), /unknown token 9/);
  // The failed restores left the state in place.
  assert.equal(JSON.stringify(q.snapshot()), before);
});

function settlement(market: number, winner: 0 | 1, settleId = `s${market}`): Settlement {
  const m = markets[market]!;
  return { settleId, conditionId: m.conditionId, market, tokens: [m.tokens[0], m.tokens[1]], winner, open: 100, close: winner === 0 ? 101 : 99, exact: true };
}

test('settlement closes longs and shorts at 1.0 for the winner and 0 for the loser, exactly and once', () => {
  const p = new Portfolio(tokens, markets);
  p.applyFill(fill({ strategy: 'mm', token: 0, side: Side.Buy, price: 4000, size: 10 * S, fee: 120_000, liquidity: 'taker' }));
  p.applyFill(fill({ strategy: 'mm', token: 1, side: Side.Buy, price: 7000, size: 4 * S }));
  // Paper oversell: short 5 of the winner, entered at 0.60.
  p.applyFill(fill({ strategy: 'x', token: 0, side: Side.Sell, price: 6000, size: 5 * S }));
  // Short the loser: keeps what it received.
  p.applyFill(fill({ strategy: 'x', token: 1, side: Side.Sell, price: 2500, size: 2 * S }));
  p.applyFill(fill({ strategy: 'mm', token: 2, side: Side.Buy, price: 5000, size: 3 * S }));
  const before = p.snapshot();

  assert.equal(p.settle({ ...settlement(0, 0), tokens: [0, 2] }), false, 'tokens that are not the market’s');
  assert.deepEqual(p.snapshot(), before);
  assert.equal(p.settle(settlement(0, 0)), true);

  const view = (strategy: string, token: number) => {
    const e = p.entry(strategy, token)!;
    return [e.position, e.cost, e.realised, e.cash, e.bought, e.sold, e.fees, e.fills];
  };
  assert.deepEqual(view('mm', 0), [0, 0, 10_000_000 - 4_000_000, -4_000_000 - 120_000 + 10_000_000, 10 * S, 10 * S, 120_000, 1]);
  assert.deepEqual(view('mm', 1), [0, 0, -2_800_000, -2_800_000, 4 * S, 4 * S, 0, 1]);
  assert.deepEqual(view('x', 0), [0, 0, 3_000_000 - 5_000_000, 3_000_000 - 5_000_000, 5 * S, 5 * S, 0, 1]);
  assert.deepEqual(view('x', 1), [0, 0, 500_000, 500_000, 2 * S, 2 * S, 0, 1]);
  // The other market is untouched.
  assert.deepEqual(view('mm', 2), [3 * S, 1_500_000, 0, -1_500_000, 3 * S, 0, 0, 1]);
  // Nothing is left to mark: the market's PnL is all realised, whatever the marks say.
  const m0 = p.pnl(marks(1234, 4321), { market: 0 });
  assert.deepEqual([m0.realised, m0.unrealised, m0.net, m0.grossExposure], [6_000_000 - 2_800_000 - 2_000_000 + 500_000, 0, 6_000_000 - 2_800_000 - 2_000_000 + 500_000 - 120_000, 0]);

  const after = p.snapshot();
  assert.equal(p.settle(settlement(0, 1)), false, 'same settleId: applied once');
  assert.deepEqual(p.snapshot(), after);
  // The marks a settled token gets (PRICE_SCALE / 0) value nothing more.
  assert.equal(p.unrealised(marks(PRICE_SCALE, 0), { market: 0 }), 0);
});

test('retiring a settled market moves its accounts into per-strategy totals; totals do not change; open positions refuse', () => {
  const p = new Portfolio(tokens, markets);
  p.applyFill(fill({ strategy: 'mm', token: 0, side: Side.Buy, price: 4000, size: 10 * S, fee: 50_000 }));
  p.applyFill(fill({ strategy: 'mm', token: 1, side: Side.Buy, price: 5000, size: 2 * S }));
  p.applyFill(fill({ strategy: 'mm', token: 2, side: Side.Buy, price: 2000, size: 10 * S }));
  p.applyFill(fill({ strategy: 'dir', token: 1, side: Side.Buy, price: 3000, size: 1 * S }));
  p.startDay(marks(4000, 5000, 2000, NaN), 0);
  const snapBefore = p.snapshot();
  assert.equal(p.retireMarket(0), false, 'open positions');
  assert.equal(p.retireMarket(7), false, 'no such market');
  assert.deepEqual(p.snapshot(), snapBefore);

  p.settle(settlement(0, 1));
  const m = marks(NaN, NaN, 2500, NaN);
  const total = p.total(m);
  const byStrategy = p.byStrategy(m);
  const mm = p.pnl(m, { strategy: 'mm' });
  const daily = p.dailyPnl(m);
  assert.equal(p.retireMarket(0), true);

  assert.deepEqual(p.total(m), total);
  assert.deepEqual(p.byStrategy(m), byStrategy);
  assert.deepEqual(p.pnl(m, { strategy: 'mm' }), mm);
  assert.equal(p.dailyPnl(m), daily);
  assert.deepEqual(p.entries().map((e) => [e.strategy, e.token]), [['mm', 2]]);
  assert.equal(p.entry('mm', 0), undefined);
  assert.equal(p.byMarket(m).get(0), undefined);
  assert.deepEqual(p.pnl(m, { market: 0 }), p.pnl(m, { token: 1 }));
  assert.equal(p.pnl(m, { market: 0 }).realised, 0);
  assert.deepEqual(p.retiredTotals('mm'), { realised: -4_000_000 + 1_000_000, fees: 50_000, cash: -4_050_000 + 1_000_000, bought: 12 * S, sold: 12 * S, fills: 2 });
  assert.deepEqual(p.retiredTotals('dir'), { realised: 700_000, fees: 0, cash: 700_000, bought: S, sold: S, fills: 1 });
  assert.deepEqual(p.retiredTotals('nobody'), { realised: 0, fees: 0, cash: 0, bought: 0, sold: 0, fills: 0 });

  // The slot's next market starts with fresh accounts on the same token indices.
  p.applyFill(fill({ strategy: 'mm', token: 0, side: Side.Buy, price: 3000, size: 2 * S }));
  assert.deepEqual([p.entry('mm', 0)!.fills, p.entry('mm', 0)!.realised, p.entry('mm', 0)!.cash], [1, 0, -600_000]);
  assert.equal(p.total(m).cash, total.cash - 600_000);
  // The newcomer too is retired only once flat.
  assert.equal(p.retireMarket(0), false, 'the newcomer holds a position');
  p.applyFill(fill({ strategy: 'mm', token: 0, side: Side.Sell, price: 3000, size: 2 * S }));
  assert.equal(p.retireMarket(0), true);
  assert.equal(p.retiredTotals('mm').fills, 4);
  assert.equal(p.total(m).cash, total.cash);
});

test('snapshot version 4 carries retired totals, settle ids, resolution ids and the markets of the fill ids; a version 1 snapshot still restores', () => {
  const p = new Portfolio(tokens, markets);
  p.applyFill(fill({ strategy: 'a', token: 0, side: Side.Buy, price: 4000, size: 10 * S, fee: 7 }));
  p.applyFill(fill({ strategy: 'b', token: 2, side: Side.Buy, price: 6000, size: 3 * S }));
  p.settle(settlement(0, 0, 'cond-0'));
  p.retireMarket(0);
  p.applyFill(fill({ strategy: 'a', token: 1, side: Side.Buy, price: 1000, size: 5 * S }));
  const snap = p.snapshot();
  assert.equal(snap.version, 4);
  assert.deepEqual(snap.retired, [{ strategy: 'a', realised: 6_000_000, fees: 7, cash: 6_000_000 - 7, bought: 10 * S, sold: 10 * S, fills: 1 }]);
  assert.deepEqual(snap.settleIds, ['cond-0']);

  const q = new Portfolio(tokens, markets);
  q.restore(JSON.parse(JSON.stringify(snap)));
  assert.deepEqual(q.snapshot(), snap);
  const m = marks(5000, 5000, 5000, 5000);
  assert.deepEqual(q.total(m), p.total(m));
  assert.deepEqual(q.byStrategy(m), p.byStrategy(m));
  assert.equal(q.settle(settlement(0, 1, 'cond-0')), false, 'the restored settle id is still known');
  assert.equal(q.position('a', 1), 5 * S);

  assert.throws(() => q.restore({ ...snap, retired: [{ ...snap.retired[0]!, fills: -1 }] }), /retired\[0\]\.fills: must be >= 0/);
  assert.throws(() => q.restore({ ...snap, retired: [snap.retired[0]!, snap.retired[0]!] }), /retired\[1\]: second entry for a/);
  assert.throws(() => q.restore({ ...snap, version: 5 }), /version: must be <= 4/);

  // What a version 1 writer stored: no retired totals, no settle ids.
  const v1 = new Portfolio(tokens, markets);
  v1.applyFill(fill({ strategy: 'a', token: 3, side: Side.Sell, price: 4000, size: 2 * S }));
  const { retired: _r, settleIds: _s, ...old } = { ...v1.snapshot(), version: 1 };
  const r = new Portfolio(tokens, markets);
  r.restore(JSON.parse(JSON.stringify(old)));
  assert.deepEqual(r.snapshot(), v1.snapshot());
  assert.deepEqual(r.total(m), v1.total(m));
});

/** Longs and paper shorts on both tokens of market 0, and a position in market 1 no correction of market 0 may touch. */
function heldBothWays(): Portfolio {
  const p = new Portfolio(tokens, markets);
  p.applyFill(fill({ strategy: 'mm', token: 0, side: Side.Buy, price: 4000, size: 10 * S, fee: 120_000, liquidity: 'taker' }));
  p.applyFill(fill({ strategy: 'mm', token: 1, side: Side.Buy, price: 7000, size: 4 * S }));
  p.applyFill(fill({ strategy: 'x', token: 0, side: Side.Sell, price: 6000, size: 5 * S }));
  p.applyFill(fill({ strategy: 'x', token: 1, side: Side.Sell, price: 2500, size: 2.5 * S }));
  p.applyFill(fill({ strategy: 'y', token: 2, side: Side.Buy, price: 5000, size: 3 * S }));
  return p;
}

function resolutionOf(s: Settlement, winner: 0 | 1, resolutionId = s.conditionId): Resolution {
  return { resolutionId, conditionId: s.conditionId, market: s.market, tokens: s.tokens, winner, engineWinner: s.winner, holdings: s.holdings ?? [] };
}

test('holdings: every strategy with a position in either token, shorts included', () => {
  const p = heldBothWays();
  assert.deepEqual(p.holdings([0, 1]), [
    { strategy: 'mm', positions: [10 * S, 4 * S] },
    { strategy: 'x', positions: [-5 * S, -2.5 * S] },
  ]);
  assert.deepEqual(p.holdings([2, 3]), [{ strategy: 'y', positions: [3 * S, 0] }]);
});

test('a correction to the venue’s winner leaves every account as if the venue’s winner had settled it, to the micro, once', () => {
  const p = heldBothWays();
  const s: Settlement = { ...settlement(0, 0), holdings: p.holdings([0, 1]) };
  p.settle(s);
  // mm: 10 Up @ 0.40 redeemed at 1 (+6.00) and 4 Down @ 0.70 at 0 (−2.80); x's shorts the other way round.
  assert.equal(p.pnl([], { market: 0 }).realised, 6_000_000 - 2_800_000 - 2_000_000 + 625_000);
  const r = resolutionOf(s, 1);
  assert.equal(p.correct({ ...r, tokens: [0, 2] }, true), false, 'tokens that are not the market’s');
  assert.equal(p.correct(r, true), true);

  // The venue's rule, straight: the same fills settled with Down winning.
  const venue = heldBothWays();
  venue.settle(settlement(0, 1));
  const accounts = (q: Portfolio) => q.entries().map((e) => ({ ...e }));
  assert.deepEqual(accounts(p), accounts(venue));
  // mm −4.00 + 1.20, x +3.00 − 1.875: (venue winner − engine winner) shares each, 1 pUSD a share.
  assert.equal(p.pnl([], { strategy: 'mm' }).realised, -4_000_000 + 1_200_000);
  assert.equal(p.pnl([], { strategy: 'x' }).realised, 3_000_000 - 1_875_000);
  assert.equal(p.entry('y', 2)!.realised, 0, 'the other market is untouched');

  const after = p.snapshot();
  assert.equal(p.correct(r, true), false, 'same resolutionId: applied once');
  assert.equal(p.correct({ ...r, winner: 0, engineWinner: 1 }, true), false, 'same resolutionId, whatever it says');
  assert.deepEqual(p.snapshot(), after);
  const q = new Portfolio(tokens, markets);
  q.restore(JSON.parse(JSON.stringify(after)));
  assert.deepEqual(q.snapshot().resolutionIds, [s.conditionId]);
  assert.equal(q.correct(r, true), false, 'the restored resolution id is still known');
});

test('a correction after the market was retired moves the retired totals, exactly as if the venue’s winner had settled it', () => {
  const p = heldBothWays();
  const s: Settlement = { ...settlement(0, 0), holdings: p.holdings([0, 1]) };
  p.settle(s);
  assert.equal(p.retireMarket(0), true);
  // The slot's next market trades on the same token indices: the correction must not land there.
  p.applyFill(fill({ strategy: 'mm', token: 0, side: Side.Buy, price: 3000, size: 2 * S }));
  assert.equal(p.correct(resolutionOf(s, 1), false), true);

  const venue = heldBothWays();
  venue.settle(settlement(0, 1));
  venue.retireMarket(0);
  for (const strategy of ['mm', 'x', 'y']) assert.deepEqual(p.retiredTotals(strategy), venue.retiredTotals(strategy), strategy);
  assert.deepEqual(p.retiredTotals('mm'), { realised: -4_000_000 + 1_200_000, fees: 120_000, cash: -4_120_000 + 1_200_000, bought: 14 * S, sold: 14 * S, fills: 2 });
  const e = p.entry('mm', 0)!;
  assert.deepEqual([e.position, e.realised, e.cash], [2 * S, 0, -600_000]);
  // A strategy that held only the venue's winner gains; one with nothing in either token is not created.
  const solo = new Portfolio(tokens, markets);
  const held: Settlement = { ...settlement(1, 0), holdings: [{ strategy: 'z', positions: [0, 7 * S] }, { strategy: 'w', positions: [0, 0] }] };
  solo.applyFill(fill({ strategy: 'z', token: 3, side: Side.Buy, price: 1000, size: 7 * S }));
  solo.settle(held);
  solo.retireMarket(1);
  assert.equal(solo.correct(resolutionOf(held, 1), false), true);
  assert.deepEqual(solo.retiredTotals('z'), { realised: 7_000_000 - 700_000, fees: 0, cash: 7_000_000 - 700_000, bought: 7 * S, sold: 7 * S, fills: 1 });
  assert.equal(solo.snapshot().retired.some((r) => r.strategy === 'w'), false);
});

test('a retired market takes its fill ids along: snapshots stay the size of the live markets, a duplicate of a live fill still counts once', () => {
  const p = new Portfolio(tokens, markets);
  const a = fill({ side: Side.Buy, price: 4000, size: 10 * S, token: 0 });
  const b = fill({ side: Side.Sell, price: 4000, size: 10 * S, token: 0 });
  const c = fill({ side: Side.Buy, price: 3000, size: 5 * S, token: 2 });
  for (const f of [a, b, c]) assert.equal(p.applyFill(f), true);
  assert.deepEqual(p.snapshot().fillIds, [a.fillId, b.fillId, c.fillId]);
  assert.equal(p.retireMarket(0), true);
  const s = p.snapshot();
  assert.deepEqual([s.fillIds, s.fillIdMarkets], [[c.fillId], [1]]);
  assert.equal(p.applyFill({ ...c }), false, 'the live market still refuses its duplicate');
  // Restored from that snapshot: the same ids, still with their market, so the next retirement drops them too.
  const q = new Portfolio(tokens, markets);
  q.restore(JSON.parse(JSON.stringify(s)));
  assert.equal(q.applyFill({ ...c }), false);
  assert.equal(q.applyFill(fill({ side: Side.Sell, price: 3000, size: 5 * S, token: 2 })), true);
  assert.equal(q.retireMarket(1), true);
  assert.deepEqual(q.snapshot().fillIds, []);
  // A version 3 snapshot did not say which market a fill was of: those ids are kept, as they always were.
  const old = { ...JSON.parse(JSON.stringify(s)), version: 3 } as Record<string, unknown>;
  delete old.fillIdMarkets;
  const r = new Portfolio(tokens, markets);
  r.restore(old);
  assert.deepEqual(r.snapshot().fillIdMarkets, [-1]);
  assert.equal(r.applyFill({ ...c }), false);
});
