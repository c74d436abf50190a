import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isGridTickSize, PRICE_SCALE, Side, sideOfWire, wireSide } from './types.js';
import { POLY_DEFAULT_TICK_SIZE, POLY_LEVELS } from '../../workers/venues/polymarket/book.js';
import { PRICE_EXP } from '../../workers/venues/polymarket/parse.js';

test('grid: every Polymarket tick size is a grid tick size; nothing that does not divide 1.0 is', () => {
  for (const t of [1_000, 100, 10, 1, 25, 50]) assert.ok(isGridTickSize(t), String(t));
  for (const t of [0, -100, 3, 7, 1.5, NaN, Infinity, 2 * PRICE_SCALE]) assert.ok(!isGridTickSize(t), String(t));
  // The books sit on the same grid as order prices.
  assert.equal(POLY_LEVELS, PRICE_SCALE + 1);
  assert.equal(POLY_DEFAULT_TICK_SIZE * 100, PRICE_SCALE);
  // The parser writes ticks with PRICE_EXP decimals: the same grid.
  assert.equal(10 ** PRICE_EXP, PRICE_SCALE);
});

test('sides: wire spelling round-trips, and Side values are the signed order side (0 BUY, 1 SELL)', () => {
  assert.equal(wireSide(Side.Buy), 'BUY');
  assert.equal(wireSide(Side.Sell), 'SELL');
  assert.equal(sideOfWire('BUY'), 0);
  assert.equal(sideOfWire('SELL'), 1);
  for (const s of [Side.Buy, Side.Sell]) assert.equal(sideOfWire(wireSide(s)), s);
});
