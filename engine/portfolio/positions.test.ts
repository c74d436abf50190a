import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Prng } from '../../workers/prng.js';
import { Side, SIZE_LOT, UNIT, type Fill, type MarketInfo, type TokenInfo } from '../trading/types.js';
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
