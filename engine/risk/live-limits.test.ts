// The [live] caps of dry-run and live, as RiskGate applies them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validate } from '../config/schema.js';
import { PolyedgeError } from '../errors.js';
import { Side, type DesiredOrder } from '../trading/types.js';
import { liveLimitsSchema, RiskGate, riskParamsSchema, riskReasonName, unsetLiveLimits, type LiveLimits } from './gates.js';
import { pusd, shares, TestView } from './view.fixture.js';

const DAY_MS = 86_400_000;

function gate(live: Partial<LiveLimits>, openOrders: () => number = () => 0): RiskGate {
  const r = validate(riskParamsSchema, { max_orders_per_second: 1000, max_order_notional: 1000, max_gross_exposure: 100_000, max_position: 100_000, max_market_position: 200_000 });
  assert.ok(r.ok);
  const g = new RiskGate(r.value);
  const l = validate(liveLimitsSchema, live);
  assert.ok(l.ok, JSON.stringify(l));
  g.setLiveLimits(l.value, openOrders);
  return g;
}

/** 10 shares at 0.50: 5 pUSD. */
function order(over: Partial<DesiredOrder> = {}): DesiredOrder {
  return { token: 0, side: Side.Buy, price: 5000, size: shares(10), type: 'GTC', postOnly: true, expiresMs: NaN, reason: 'test', ...over };
}

test('the [live] table defaults to unset (0) for every limit, never to a number live would trade under', () => {
  const r = validate(liveLimitsSchema, {});
  assert.ok(r.ok);
  assert.deepEqual(r.value, { max_order_notional: 0, max_open_orders: 0, max_daily_notional: 0 });
  assert.deepEqual(unsetLiveLimits(r.value), ['max_order_notional', 'max_open_orders', 'max_daily_notional']);
  assert.deepEqual(unsetLiveLimits({ max_order_notional: 5, max_open_orders: 0, max_daily_notional: 9 }), ['max_open_orders']);
  assert.deepEqual(validate(liveLimitsSchema, { max_order_notional: 0.0000001 }), { ok: false, violations: [{ path: 'max_order_notional', message: 'must have at most 6 decimal places, got 1e-7' }] });
  assert.deepEqual(validate(liveLimitsSchema, { max_daily_notional: 1e8 }), { ok: false, violations: [{ path: 'max_daily_notional', message: 'must be <= 10000000' }] });
});

test('an order over max_order_notional is refused with its reason; one at it passes', () => {
  const v = new TestView();
  const g = gate({ max_order_notional: 5 });
  assert.equal(riskReasonName(g.check(order(), v)), 'pass');
  assert.equal(riskReasonName(g.check(order({ size: shares(10.02) }), v)), 'live_order_notional');
});

test('max_open_orders refuses the order that would exceed it, counting every strategy\'s live orders', () => {
  const v = new TestView();
  let live = 0;
  const g = gate({ max_open_orders: 2 }, () => live);
  for (; live < 2; live++) assert.equal(riskReasonName(g.check(order(), v)), 'pass');
  assert.equal(riskReasonName(g.check(order(), v)), 'live_open_orders');
  live = 1;
  assert.equal(riskReasonName(g.check(order(), v)), 'pass', 'room again once one is gone');
});

test('max_daily_notional counts the notional passed since the UTC day began, and a new day starts afresh', () => {
  const v = new TestView();
  v.nowMs = 20 * DAY_MS + 1_000;
  v.ctx.nowMs = v.nowMs;
  for (const t of v.tokens) v.ctx.setBook(t.index, [[0.49, 1000]], [[0.51, 1000]]);
  const g = gate({ max_daily_notional: 12.5 });
  assert.equal(riskReasonName(g.check(order(), v)), 'pass');
  assert.equal(riskReasonName(g.check(order(), v)), 'pass');
  assert.equal(g.dailyNotionalMicros, pusd(10));
  assert.equal(riskReasonName(g.check(order(), v)), 'live_daily_notional', '15 > 12.5');
  assert.equal(riskReasonName(g.check(order({ size: shares(5) }), v)), 'pass', 'a smaller order still fits: 12.5 = 12.5');
  assert.equal(riskReasonName(g.check(order({ size: shares(0.02) }), v)), 'size_min', 'other gates still apply first');
  assert.equal(g.dailyNotionalMicros, pusd(12.5), 'refused orders count nothing');
  v.nowMs = 21 * DAY_MS;
  v.ctx.nowMs = v.nowMs;
  for (const t of v.tokens) v.ctx.setBook(t.index, [[0.49, 1000]], [[0.51, 1000]]);
  assert.equal(riskReasonName(g.check(order(), v)), 'pass', 'midnight UTC resets the count');
  assert.equal(g.dailyNotionalMicros, pusd(5));
});

test('unset limits are not applied, and paper applies none', () => {
  const v = new TestView();
  const g = gate({ max_order_notional: 0, max_open_orders: 0, max_daily_notional: 0 }, () => 1e6);
  for (let i = 0; i < 50; i++) assert.equal(riskReasonName(g.check(order({ size: shares(100) }), v)), 'pass');
  assert.throws(() => g.setLiveLimits({ max_order_notional: 1e-9, max_open_orders: 0, max_daily_notional: 0 }, () => 0), (e: unknown) => e instanceof PolyedgeError && e.field === 'live.max_order_notional');
});
