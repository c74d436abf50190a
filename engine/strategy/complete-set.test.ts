import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BookFlag } from '../../workers/shared-memory/book-layout.js';
import { Prng } from '../../workers/prng.js';
import { feeMicros, PRICE_SCALE, Side, SIZE_LOT, UNIT, type DesiredOrder } from '../trading/types.js';
import { mergeableSets, type CompleteSetParams } from './complete-set.js';
import { binaryMarket, decideOnce, TestContext, type Level } from './context.fixture.js';
import { keepOrder } from './desired.js';
import { createStrategy } from './registry.js';
import type { Strategy } from './types.js';

function arb(over: Partial<CompleteSetParams> = {}): Strategy<unknown> {
  return createStrategy('complete_set', { min_edge: 0.01, ...over });
}

// Marginal cost of a set by depth: 0.95 to 10, 0.97 to 15, 0.98 to 30, 1.01 to 45, 1.05 beyond.
const YES: Level[] = [[0.45, 10], [0.47, 20], [0.5, 100]];
const NO: Level[] = [[0.5, 15], [0.51, 30], [0.55, 100]];

function setup(yes: Level[] = YES, no: Level[] = NO, over: Parameters<typeof binaryMarket>[1] = {}): TestContext {
  const ctx = new TestContext([binaryMarket(0, over)]);
  ctx.setBook(0, [[0.05, 50]], yes);
  ctx.setBook(1, [[0.05, 50]], no);
  return ctx;
}

function leg(token: number, price: number, shares: number, type = 'FOK'): DesiredOrder {
  return { token, side: Side.Buy, price, size: Math.round(shares * UNIT), type: type as 'FOK', postOnly: false, expiresMs: NaN, reason: 'arb_leg' };
}

/** Micro-pUSD to buy `size` micro-shares off a ladder, fee per level: the definition, computed independently of the strategy. */
function ladderCost(levels: Level[], size: number, rate: number, exponent: number): number {
  let left = size;
  let cost = 0;
  for (const [p, s] of [...levels].sort((a, b) => a[0] - b[0])) {
    const tick = Math.round(p * PRICE_SCALE);
    const take = Math.min(left, Math.round(s * UNIT));
    cost += (tick * take) / PRICE_SCALE + feeMicros(tick, take, rate, exponent);
    left -= take;
    if (left === 0) break;
  }
  return left > 0 ? Infinity : cost;
}

test('depth mode buys the largest lot size whose VWAP cost clears 1 − min_edge, limited at the worst level', () => {
  // Up to 45 sets cost 44.20; beyond, 1.05 each: s × 0.99 > 44.20 + 1.05 (s − 45) holds up to s = 50.83.
  assert.deepEqual(decideOnce(arb(), setup()), [leg(0, 5000, 50.83), leg(1, 5500, 50.83)]);
  assert.deepEqual(decideOnce(arb({ order_type: 'FAK' }), setup()), [leg(0, 5000, 50.83, 'FAK'), leg(1, 5500, 50.83, 'FAK')]);
});

test('size respects max_size, max_position and the minimum order size', () => {
  assert.deepEqual(decideOnce(arb({ max_size: 20 }), setup()), [leg(0, 4700, 20), leg(1, 5100, 20)]);
  const ctx = setup();
  ctx.positions[1] = 490 * UNIT;
  assert.deepEqual(decideOnce(arb({ max_position: 500 }), ctx), [leg(0, 4500, 10), leg(1, 5000, 10)], 'room for 10 more No');
  ctx.positions[1] = 496 * UNIT;
  assert.deepEqual(decideOnce(arb({ max_position: 500 }), ctx), [], '4 sets of room is below the 5-share minimum');
});

test('fires only when VWAP cost plus taker fees is below 1 − min_edge', () => {
  const yes: Level[] = [[0.49, 100]];
  const no: Level[] = [[0.5, 100]];
  assert.deepEqual(decideOnce(arb({ min_edge: 0.01 }), setup(yes, no)), [], '0.99 is not below 0.99');
  assert.deepEqual(decideOnce(arb({ min_edge: 0.005, max_size: 10 }), setup(yes, no)), [leg(0, 4900, 10), leg(1, 5000, 10)]);
  // rate 0.01, exponent 1: fees 0.01 × (0.49·0.51 + 0.5·0.5) ≈ 0.005 per set, total ≈ 0.995.
  const fee1 = { feeRate: 0.01, feeExponent: 1 };
  assert.deepEqual(decideOnce(arb({ min_edge: 0.004, max_size: 10 }), setup(yes, no, fee1)), [leg(0, 4900, 10), leg(1, 5000, 10)]);
  assert.deepEqual(decideOnce(arb({ min_edge: 0.006, max_size: 10 }), setup(yes, no, fee1)), []);
  // rate 0.03: ≈ 0.015 of fees per set, the set costs more than 1 even at min_edge 0.
  assert.deepEqual(decideOnce(arb({ min_edge: 0 }), setup(yes, no, { feeRate: 0.03, feeExponent: 1 })), []);
});

test('top-of-book mode takes only what both best asks hold', () => {
  assert.deepEqual(decideOnce(arb({ mode: 'top' }), setup()), [leg(0, 4500, 10), leg(1, 5000, 10)]);
  // 3 shares at the best Yes ask: below the minimum for top mode; depth mode walks on.
  const thinTop: Level[] = [[0.45, 3], [0.46, 100]];
  assert.deepEqual(decideOnce(arb({ mode: 'top' }), setup(thinTop, NO)), []);
  assert.deepEqual(decideOnce(arb({ mode: 'depth', max_size: 15 }), setup(thinTop, NO)), [leg(0, 4600, 15), leg(1, 5000, 15)]);
  // Sum of best asks 1.00: no trade in either mode.
  assert.deepEqual(decideOnce(arb({ mode: 'top', min_edge: 0 }), setup([[0.5, 10]], [[0.5, 10]])), []);
});

test('legs in flight are re-emitted, not fired again; merges see the complete sets held', () => {
  const ctx = setup();
  const s = arb();
  const legs = decideOnce(s, ctx);
  ctx.rest(legs);
  assert.deepEqual(decideOnce(s, ctx), [keepOrder(ctx.orders[0]![0]!), keepOrder(ctx.orders[1]![0]!)]);
  ctx.orders = [[], []];
  ctx.positions[0] = 30 * UNIT;
  ctx.positions[1] = 45 * UNIT;
  assert.equal(mergeableSets(ctx, 0), 30 * UNIT);
  assert.equal(mergeableSets(ctx, 7), 0);
});

test('a stale, resyncing or crossed book is not traded', () => {
  for (const flag of [BookFlag.Stale, BookFlag.Resyncing]) {
    const ctx = setup();
    ctx.writer.begin(1);
    ctx.writer.setStatus(1, flag);
    ctx.writer.end(1);
    assert.deepEqual(decideOnce(arb(), ctx), []);
  }
  const ctx = setup();
  ctx.setBook(0, [[0.46, 10]], YES);
  assert.deepEqual(decideOnce(arb(), ctx), []);
});

test('the size chosen clears the edge and one more lot does not (seeded ladders, with fees)', () => {
  const rng = new Prng(2024);
  let fired = 0;
  for (let i = 0; i < 300; i++) {
    const ladder = (base: number): Level[] => {
      const levels: Level[] = [];
      let p = base;
      for (let k = 0; k < 1 + rng.int(6); k++) {
        levels.push([p / 100, (1 + rng.int(4000)) / 100]);
        p += 1 + rng.int(3);
      }
      return levels;
    };
    const yesBase = 30 + rng.int(30);
    const yes = ladder(yesBase);
    const no = ladder(94 - yesBase + rng.int(9));
    const fee = { feeRate: rng.int(3) * 0.01, feeExponent: 1 + rng.int(2) };
    const params = { min_edge: rng.int(10) / 1000, max_size: 1000 };
    const out = decideOnce(arb(params), setup(yes, no, fee));
    const edge = (size: number) => ladderCost(yes, size, fee.feeRate, fee.feeExponent) + ladderCost(no, size, fee.feeRate, fee.feeExponent) < (size * (1 - params.min_edge) * UNIT) / UNIT;
    if (out.length === 0) {
      assert.equal(edge(5 * UNIT), false, `missed an opportunity: ${JSON.stringify({ yes, no, fee, params })}`);
      continue;
    }
    fired++;
    const size = out[0]!.size;
    assert.equal(out[1]!.size, size);
    assert.ok(edge(size), `fired without edge: ${JSON.stringify({ yes, no, fee, params, size })}`);
    assert.equal(edge(size + SIZE_LOT), false, `left size on the table: ${JSON.stringify({ yes, no, fee, params, size })}`);
  }
  assert.ok(fired > 30 && fired < 270, `${fired} of 300 fired: the sweep should see both outcomes`);
});
