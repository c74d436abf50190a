import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Side, UNIT, type DesiredOrder } from '../trading/types.js';
import { binaryMarket, decideOnce, TestContext } from './context.fixture.js';
import { keepOrder } from './desired.js';
import type { DirectionalParams } from './directional.js';
import { feePerShare, floorToLot, kellyFraction, MS_PER_YEAR, probUp } from './pricing.js';
import { createStrategy } from './registry.js';
import type { Strategy } from './types.js';

const START = 1_776_244_200_000; // btc-updown-5m-1776244200
const END = START + 300_000;
const OPEN = 100_000;
const SIGMA = 0.5;

function directional(over: Partial<DirectionalParams> = {}): Strategy<unknown> {
  return createStrategy('directional', { threshold: 0.02, kelly_fraction: 0.25, bankroll: 100, max_size: 50, ...over });
}

function setup(spot: number, over: Parameters<typeof binaryMarket>[1] = {}): TestContext {
  const ctx = new TestContext([binaryMarket(0, { underlying: 'btc', startMs: START, endMs: END, ...over })]);
  ctx.nowMs = START + 150_000;
  ctx.openPrices[0] = OPEN;
  ctx.vols.set('btc', SIGMA);
  ctx.refs.set('btc', { price: spot, exchTsMs: ctx.nowMs, recvMs: ctx.nowMs, source: 'binance' });
  // Up 0.48 / 0.50; the mirrored Down book is 0.50 / 0.52.
  ctx.setMarketBook(0, [[0.48, 1000]], [[0.5, 1000]]);
  return ctx;
}

function pUp(ctx: TestContext, spot: number): number {
  return probUp(spot, OPEN, SIGMA, (END - ctx.nowMs) / MS_PER_YEAR);
}

/** Fractional Kelly shares to hold, in micro-shares on the lot. */
function kellySize(prob: number, askTicks: number, fraction = 0.25, bankroll = 100, rate = 0, exponent = 1): number {
  const cost = askTicks / 1e4 + feePerShare(askTicks, rate, exponent);
  return floorToLot((fraction * kellyFraction(prob, cost) * bankroll * UNIT) / cost);
}

function buy(token: number, price: number, size: number, type = 'FAK'): DesiredOrder {
  return { token, side: Side.Buy, price, size, type: type as 'FAK', postOnly: false, expiresMs: NaN, reason: 'edge' };
}

test('spot at the open: P(Up) = 0.5, no edge against 0.50 / 0.52 asks, no trade', () => {
  const ctx = setup(OPEN);
  assert.equal(pUp(ctx, OPEN), 0.5);
  assert.deepEqual(decideOnce(directional(), ctx), []);
});

test('spot above the open buys Up, below buys Down, sized by fractional Kelly', () => {
  let ctx = setup(100_100);
  const up = pUp(ctx, 100_100);
  assert.ok(up > 0.8 && up < 0.85, `P(Up) = ${up}`);
  // Edge 0.32 at 0.50: full Kelly 0.64 of the bankroll, a quarter of it is 16 pUSD, 32 shares.
  assert.deepEqual(decideOnce(directional(), ctx), [buy(0, 5000, kellySize(up, 5000))]);
  assert.ok(Math.abs(kellySize(up, 5000) / UNIT - 32.07) < 0.1);

  ctx = setup(99_900);
  const down = 1 - pUp(ctx, 99_900);
  assert.deepEqual(decideOnce(directional({ order_type: 'FOK' }), ctx), [buy(1, 5200, kellySize(down, 5200), 'FOK')]);
});

test('no trade when the edge does not beat the taker fee plus the threshold', () => {
  const spot = 100_100;
  let ctx = setup(spot);
  ctx.setMarketBook(0, [[0.78, 1000]], [[0.8, 1000]]);
  const edge = pUp(ctx, spot) - 0.8; // ≈ 0.02
  assert.ok(edge > 0.015 && edge < 0.025, `edge ${edge}`);
  // A thin edge makes a small Kelly stake: a larger bankroll keeps it above the 5-share minimum.
  const threshold = edge - 0.005;
  assert.equal(decideOnce(directional({ threshold, bankroll: 1000 }), ctx).length, 1, 'edge beats the threshold without fees');
  assert.deepEqual(decideOnce(directional({ threshold: edge + 0.001, bankroll: 1000 }), ctx), [], 'edge below the threshold');
  // rate 0.1, exponent 1: 0.1 × 0.8 × 0.2 = 0.016 per share eats it.
  ctx = setup(spot, { feeRate: 0.1, feeExponent: 1 });
  ctx.setMarketBook(0, [[0.78, 1000]], [[0.8, 1000]]);
  assert.deepEqual(decideOnce(directional({ threshold, bankroll: 1000 }), ctx), []);
});

/** Up book bid / ask; the Down book mirrors it. */
function setupAt(spot: number, bid: number, ask: number): TestContext {
  const ctx = setup(spot);
  ctx.setMarketBook(0, [[bid, 1000]], [[ask, 1000]]);
  return ctx;
}

test('the same move is worth more as the window closes', () => {
  const spot = 100_030; // 0.03 % above the open
  const ctx = setupAt(spot, 0.58, 0.7);
  assert.ok(pUp(ctx, spot) < 0.7, 'with 2.5 minutes left, P(Up) ≈ 0.61 is below the 0.70 ask (and P(Down) below the 0.42 Down ask)');
  assert.deepEqual(decideOnce(directional(), ctx), []);
  ctx.nowMs = END - 6_000;
  ctx.refs.set('btc', { price: spot, exchTsMs: ctx.nowMs, recvMs: ctx.nowMs, source: 'chainlink' });
  const late = pUp(ctx, spot);
  assert.ok(late > 0.75, `with 6 s left, P(Up) = ${late}`);
  assert.deepEqual(decideOnce(directional(), ctx), [buy(0, 7000, kellySize(late, 7000))]);
});

test('Kelly sizing: scales with the fraction, buys only the shortfall, and respects every cap', () => {
  const spot = 100_100;
  const ctx = setup(spot);
  const up = pUp(ctx, spot);
  const full = kellySize(up, 5000, 0.25);
  assert.deepEqual(decideOnce(directional({ kelly_fraction: 0.125 }), ctx), [buy(0, 5000, kellySize(up, 5000, 0.125))]);
  assert.deepEqual(decideOnce(directional({ bankroll: 50 }), ctx), [buy(0, 5000, kellySize(up, 5000, 0.25, 50))]);
  ctx.positions[0] = 20 * UNIT;
  assert.deepEqual(decideOnce(directional(), ctx), [buy(0, 5000, full - 20 * UNIT)], 'already holds 20 of the target');
  ctx.positions[0] = 30 * UNIT;
  assert.deepEqual(decideOnce(directional(), ctx), [], 'shortfall below the 5-share minimum');
  ctx.positions[0] = 0;
  assert.deepEqual(decideOnce(directional({ max_size: 10 }), ctx), [buy(0, 5000, 10 * UNIT)]);
  assert.deepEqual(decideOnce(directional({ max_position: 12.5 }), ctx), [buy(0, 5000, 12.5 * UNIT)]);
  ctx.setMarketBook(0, [[0.48, 1000]], [[0.5, 7.77]]);
  assert.deepEqual(decideOnce(directional(), ctx), [buy(0, 5000, 7.77 * UNIT)], 'no more than the best ask holds');
});

test('no trade without fresh inputs, outside the window, or on a market that is not Up/Down', () => {
  const spot = 100_100;
  const s = directional({ max_reference_age_ms: 2_000, min_time_left_ms: 5_000 });
  let ctx = setup(spot);
  ctx.refs.set('btc', { price: spot, exchTsMs: ctx.nowMs - 2_001, recvMs: ctx.nowMs - 2_001, source: 'binance' });
  assert.deepEqual(decideOnce(s, ctx), [], 'stale reference price');
  ctx = setup(spot);
  ctx.vols.delete('btc');
  assert.deepEqual(decideOnce(s, ctx), [], 'no volatility');
  ctx = setup(spot);
  ctx.openPrices[0] = NaN;
  assert.deepEqual(decideOnce(s, ctx), [], 'opening price unknown');
  ctx = setup(spot);
  ctx.nowMs = START - 1;
  ctx.refs.set('btc', { price: spot, exchTsMs: ctx.nowMs, recvMs: ctx.nowMs, source: 'binance' });
  assert.deepEqual(decideOnce(s, ctx), [], 'window not open');
  ctx.nowMs = END - 4_999;
  ctx.refs.set('btc', { price: spot, exchTsMs: ctx.nowMs, recvMs: ctx.nowMs, source: 'binance' });
  assert.deepEqual(decideOnce(s, ctx), [], 'too close to the end');
  ctx.nowMs = END - 5_000;
  assert.equal(decideOnce(s, ctx).length, 1);
  ctx = setup(spot, { underlying: '' });
  assert.deepEqual(decideOnce(s, ctx), [], 'not an Up/Down market');
});

test('a low volatility estimate is floored, and an order in flight is re-emitted rather than doubled', () => {
  const spot = 100_020;
  const ctx = setupAt(spot, 0.56, 0.7);
  ctx.vols.set('btc', 0.01); // would put P(Up) near 1
  assert.deepEqual(decideOnce(directional({ min_volatility: 0.5 }), ctx), [], 'σ floored at 0.5: no edge at 0.70');
  assert.equal(decideOnce(directional({ min_volatility: 0 }), ctx).length, 1);

  const s = directional({ min_volatility: 0 });
  ctx.rest(decideOnce(s, ctx));
  assert.deepEqual(decideOnce(s, ctx), [keepOrder(ctx.orders[0]![0]!)]);
});
