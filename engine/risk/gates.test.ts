import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BookFlag } from '../../workers/shared-memory/book-layout.js';
import { validate } from '../config/schema.js';
import { PolyedgeError } from '../errors.js';
import { Side, type DesiredOrder } from '../trading/types.js';
import { flattenOrders, RISK_REASON_NAMES, RiskGate, riskParamsSchema, RiskReason, riskReasonName, TokenBucket, type RiskParams } from './gates.js';
import { EngineState } from './state.js';
import { pusd, shares, TestView } from './view.fixture.js';

function gate(over: Partial<RiskParams> = {}): RiskGate {
  const r = validate(riskParamsSchema, { max_orders_per_second: 1000, ...over });
  assert.ok(r.ok);
  return new RiskGate(r.value);
}

function order(over: Partial<DesiredOrder> = {}): DesiredOrder {
  return { token: 0, side: Side.Buy, price: 5000, size: shares(10), type: 'GTC', postOnly: true, expiresMs: NaN, reason: 'test', ...over };
}

const name = (code: RiskReason) => riskReasonName(code);

test('reason codes are stable: code = index of its name', () => {
  assert.deepEqual(RISK_REASON_NAMES, [
    'pass', 'halted', 'paused', 'reduce_only', 'daily_loss', 'unknown_token', 'price_range', 'price_tick', 'size_lot', 'size_min',
    'order_notional', 'book_stale', 'book_crossed', 'sell_exceeds_position', 'token_position', 'market_position', 'gross_exposure',
    'rate_limit', 'no_bid', 'live_order_notional', 'live_open_orders', 'live_daily_notional',
  ]);
  assert.deepEqual(Object.values(RiskReason), RISK_REASON_NAMES.map((_, i) => i));
  for (const [key, code] of Object.entries(RiskReason)) assert.equal(RISK_REASON_NAMES[code].replaceAll('_', ''), key.toLowerCase());
});

test('the risk schema takes defaults and rejects unknown keys', () => {
  const r = validate(riskParamsSchema, {});
  assert.ok(r.ok);
  assert.deepEqual(r.value, {
    max_position: 500, max_market_position: 1000, max_order_notional: 100, max_gross_exposure: 2000,
    daily_loss_limit: 100, max_orders_per_second: 20, min_size: 5, stale_book_ms: 30_000,
  });
  assert.deepEqual(validate(riskParamsSchema, { max_postion: 1 }), { ok: false, violations: [{ path: 'max_postion', message: 'unknown key' }] });
});

test('engine state: PAUSED and HALTED block everything; RUNNING passes', () => {
  const v = new TestView();
  const g = gate();
  assert.equal(name(g.check(order(), v)), 'pass');
  v.engineState = EngineState.Paused;
  assert.equal(name(g.check(order(), v)), 'paused');
  v.engineState = EngineState.Halted;
  v.positions[0] = shares(100);
  assert.equal(name(g.check(order({ side: Side.Sell }), v)), 'halted', 'not even a reducing sell');
});

test('REDUCE_ONLY passes only sells of held inventory', () => {
  const v = new TestView();
  const g = gate();
  v.engineState = EngineState.ReduceOnly;
  v.positions[0] = shares(10);
  assert.equal(name(g.check(order(), v)), 'reduce_only', 'a buy adds');
  assert.equal(name(g.check(order({ side: Side.Sell, size: shares(10) }), v)), 'pass');
  assert.equal(name(g.check(order({ side: Side.Sell, size: shares(10.01) }), v)), 'reduce_only', 'more than held');
});

test('daily loss limit: at or beyond it nothing passes', () => {
  const v = new TestView();
  const g = gate({ daily_loss_limit: 100 });
  v.pnl = -pusd(99.99);
  assert.equal(name(g.check(order(), v)), 'pass');
  v.pnl = -pusd(100);
  assert.equal(name(g.check(order(), v)), 'daily_loss');
  assert.equal(g.dailyLossLimitMicros, pusd(100));
});

test('unknown token', () => {
  const v = new TestView();
  assert.equal(name(gate().check(order({ token: 9 }), v)), 'unknown_token');
  assert.equal(name(gate().check(order({ token: 3 }), v)), 'pass');
});

test('price within [tick, 1 − tick] and on the tick of both the market table and the book', () => {
  const v = new TestView();
  const g = gate({ max_order_notional: 10_000 });
  assert.equal(name(g.check(order({ price: 100 }), v)), 'pass');
  assert.equal(name(g.check(order({ price: 9900, size: shares(5) }), v)), 'pass');
  assert.equal(name(g.check(order({ price: 0 }), v)), 'price_range');
  assert.equal(name(g.check(order({ price: 10_000 }), v)), 'price_range');
  assert.equal(name(g.check(order({ price: 50.5 }), v)), 'price_range');
  assert.equal(name(g.check(order({ price: 5050 }), v)), 'price_tick');
  // The book moved to 0.001 ticks before the market table heard of it: 0.505 is still off the table's grid.
  v.ctx.setBook(0, [[0.49, 1000]], [[0.51, 1000]], 10);
  assert.equal(name(g.check(order({ price: 5050 }), v)), 'price_tick');
  v.markets[0]!.tickSize = 10;
  assert.equal(name(g.check(order({ price: 5050 }), v)), 'pass');
  assert.equal(name(g.check(order({ price: 9950, size: shares(5) }), v)), 'pass', '0.995 is inside [0.001, 0.999]');
  // And the other way round: the book is back on 0.01 first.
  v.ctx.setBook(0, [[0.49, 1000]], [[0.51, 1000]], 100);
  assert.equal(name(g.check(order({ price: 5050 }), v)), 'price_tick');
});

test('size on the 0.01-share lot and at least max(market minimum, min_size)', () => {
  const v = new TestView();
  assert.equal(name(gate().check(order({ size: shares(10.005) }), v)), 'size_lot');
  assert.equal(name(gate().check(order({ size: 0 }), v)), 'size_lot');
  assert.equal(name(gate().check(order({ size: shares(4.99) }), v)), 'size_min');
  assert.equal(name(gate().check(order({ size: shares(5) }), v)), 'pass');
  assert.equal(name(gate({ min_size: 8 }).check(order({ size: shares(6) }), v)), 'size_min');
  assert.equal(name(gate({ min_size: 8 }).check(order({ size: shares(8) }), v)), 'pass');
  assert.equal(name(gate({ min_size: 0 }).check(order({ size: shares(4) }), v)), 'size_min', 'the market minimum still applies');
  // The rest of a partly filled order (a restart putting it back): the minimum applies to the size it was placed with.
  assert.equal(name(gate().check(order({ size: shares(2.08) }), v, shares(10))), 'pass');
  assert.equal(name(gate().check(order({ size: shares(2.08) }), v, shares(4))), 'size_min');
  assert.equal(name(gate().check(order({ size: shares(2.085) }), v, shares(10))), 'size_lot', 'the lot applies to what is placed');
});

test('maximum order notional', () => {
  const v = new TestView();
  const g = gate({ max_order_notional: 100 });
  assert.equal(name(g.check(order({ size: shares(200) }), v)), 'pass', '200 × 0.50 = 100');
  assert.equal(name(g.check(order({ size: shares(200.02) }), v)), 'order_notional');
  v.positions[0] = shares(300);
  assert.equal(name(g.check(order({ side: Side.Sell, size: shares(200.02) }), v)), 'order_notional', 'sells too');
});

test('stale or crossed books block', () => {
  const v = new TestView();
  const g = gate({ stale_book_ms: 5_000 });
  v.nowMs += 5_000;
  assert.equal(name(g.check(order(), v)), 'pass', 'exactly stale_book_ms old');
  v.nowMs += 1;
  assert.equal(name(g.check(order(), v)), 'book_stale');
  v.nowMs = v.ctx.nowMs;
  for (const flag of [BookFlag.Stale, BookFlag.Resyncing]) {
    v.ctx.writer.begin(0);
    v.ctx.writer.setStatus(0, flag);
    v.ctx.writer.end(0);
    assert.equal(name(g.check(order(), v)), 'book_stale');
  }
  v.ctx.setBook(0, [[0.52, 10]], [[0.51, 10]]);
  assert.equal(name(g.check(order(), v)), 'book_crossed');
  v.ctx.setBook(0, [[0.5, 10]], [[0.51, 10]]);
  assert.equal(name(g.check(order(), v)), 'pass');
});

test('a sell cannot exceed the position', () => {
  const v = new TestView();
  v.positions[0] = shares(9.99);
  assert.equal(name(gate().check(order({ side: Side.Sell }), v)), 'sell_exceeds_position');
  v.positions[0] = shares(10);
  assert.equal(name(gate().check(order({ side: Side.Sell }), v)), 'pass');
});

test('maximum position per token and per market apply to buys', () => {
  const v = new TestView();
  const g = gate({ max_position: 500, max_market_position: 1000 });
  v.positions[0] = shares(490);
  assert.equal(name(g.check(order({ size: shares(10) }), v)), 'pass');
  assert.equal(name(g.check(order({ size: shares(10.01) }), v)), 'token_position');
  v.positions[1] = shares(500);
  assert.equal(name(g.check(order({ size: shares(10) }), v)), 'pass', '490 + 500 + 10 = 1000 in the market');
  v.positions[1] = shares(500.01);
  assert.equal(name(g.check(order({ size: shares(10) }), v)), 'market_position');
  assert.equal(name(g.check(order({ token: 2, size: shares(10) }), v)), 'pass', 'the other market is empty');
  assert.equal(name(g.check(order({ side: Side.Sell, size: shares(10) }), v)), 'pass', 'a sell reduces');
});

test('maximum gross exposure applies to buys', () => {
  const v = new TestView();
  const g = gate({ max_gross_exposure: 2000 });
  v.gross = pusd(1995);
  assert.equal(name(g.check(order({ size: shares(10) }), v)), 'pass', '+5 pUSD');
  assert.equal(name(g.check(order({ size: shares(10.02) }), v)), 'gross_exposure');
  v.positions[0] = shares(20);
  assert.equal(name(g.check(order({ side: Side.Sell, size: shares(20) }), v)), 'pass');
});

test('order rate limit: a burst of one second, refilled on the engine clock; blocked orders take no token', () => {
  const v = new TestView();
  const g = gate({ max_orders_per_second: 5 });
  for (let i = 0; i < 5; i++) assert.equal(name(g.check(order(), v)), 'pass');
  assert.equal(name(g.check(order(), v)), 'rate_limit');
  v.nowMs += 199;
  assert.equal(name(g.check(order(), v)), 'rate_limit', '0.995 of a token');
  v.nowMs += 1;
  assert.equal(name(g.check(order({ price: 5050 }), v)), 'price_tick');
  assert.equal(name(g.check(order(), v)), 'pass', 'the price-blocked order left the token');
  assert.equal(name(g.check(order(), v)), 'rate_limit');
  // A reload to a higher rate refills at the new rate from here on.
  g.setParams({ ...g.params(), max_orders_per_second: 50 });
  v.nowMs += 20;
  assert.equal(name(g.check(order(), v)), 'pass');
  assert.equal(name(g.check(order(), v)), 'rate_limit');
});

test('token bucket: capacity, fractional rates, a clock stepping back', () => {
  const b = new TokenBucket(0.5);
  assert.equal(b.take(0), true);
  assert.equal(b.take(1_999), false);
  assert.equal(b.take(2_000), true);
  assert.equal(b.take(1_000), false, 'a clock stepping back refills nothing');
  assert.equal(b.take(3_999), false);
  assert.equal(b.take(4_000), true);
  const big = new TokenBucket(3);
  assert.equal(big.take(0) && big.take(0) && big.take(0), true);
  assert.equal(big.take(0), false);
  assert.equal(big.take(1_000_000) && big.take(1_000_000) && big.take(1_000_000), true, 'no more than capacity after a long idle');
  assert.equal(big.take(1_000_000), false);
});

test('flattenOrders: FAK sells at the best bid for every position, whatever the engine state, not past price or size sanity', () => {
  const v = new TestView();
  v.engineState = EngineState.Halted;
  v.ctx.setBook(3, [], [[0.51, 10]]);
  const positions = [shares(12.345), 0, shares(3), shares(20)];
  const r = flattenOrders(v, positions);
  assert.deepEqual(r.orders, [{ token: 0, side: Side.Sell, price: 4900, size: shares(12.34), type: 'FAK', postOnly: false, expiresMs: NaN, reason: 'flatten' }]);
  assert.deepEqual(r.blocked.map((b) => [b.token, name(b.reason)]), [[2, 'size_min'], [3, 'no_bid']]);
  // The bid sits off the market's grid (the book went to 0.001 before the table did): blocked, not sent.
  v.ctx.setBook(0, [[0.495, 10]], [[0.51, 10]], 10);
  assert.deepEqual(flattenOrders(v, [shares(10)]).blocked.map((b) => name(b.reason)), ['price_tick']);
  assert.deepEqual(flattenOrders(v, [0, 0, 0, 0, shares(10)]).blocked, [{ token: 4, reason: RiskReason.UnknownToken }]);
});

test('setParams refuses a limit its engine units cannot hold (never 0, never Infinity), naming the field, and keeps the limits in force whole', () => {
  const g = gate();
  const before = g.limitsInForce();
  for (const [field, value] of [['daily_loss_limit', 1e-7], ['max_position', 1e303], ['max_order_notional', Infinity], ['min_size', Number.NaN]] as const) {
    assert.throws(() => g.setParams({ ...g.params(), [field]: value }), (e: unknown) => e instanceof PolyedgeError && e.field === field && e.code === 'PE_CONFIG_INVALID', field);
    assert.deepEqual(g.limitsInForce(), before, `${field}: nothing changed`);
  }
  g.setParams({ ...g.params(), daily_loss_limit: 0.01 });
  assert.equal(g.dailyLossLimitMicros, 10_000);
});
