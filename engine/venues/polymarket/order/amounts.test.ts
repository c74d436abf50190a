import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolyedgeError } from '../../../errors.js';
import { limitOrderAmounts, marketOrderAmounts, parseTick, TICK_SIZES, type TickSize } from './amounts.js';
import type { WireSide as Side } from '../../../trading/types.js';
import { ceilTo, decimalsOf, divCeilTo, floorTo, formatDec, parseDec, roundHalfUpTo, type Dec } from './decimal.js';

const d = (s: string): Dec => {
  const v = parseDec(s);
  assert.ok(v !== undefined, s);
  return v;
};
const FIVE = d('5');

test('decimal parsing treats "0.50", ".5" and "0.500" as the same value', () => {
  assert.equal(d('0.50'), d('.5'));
  assert.equal(d('0.500'), d('0.5'));
  assert.equal(formatDec(d('21.040')), '21.04');
  for (const bad of ['', '.', '1.2.3', '-1', '1e5', ' 1', '0x10', '1.0000000000000000001']) assert.equal(parseDec(bad), undefined, bad);
});

test('rounding helpers are exact', () => {
  assert.equal(formatDec(floorTo(d('11.78249'), 4)), '11.7824');
  assert.equal(formatDec(ceilTo(d('11.78241'), 4)), '11.7825');
  assert.equal(formatDec(roundHalfUpTo(d('0.565'), 2)), '0.57');
  assert.equal(formatDec(roundHalfUpTo(d('0.5649'), 2)), '0.56');
  assert.equal(formatDec(divCeilTo(d('100'), d('0.56'), 8)), '178.57142858');
  assert.equal(decimalsOf(d('1.2300')), 2);
});

// Worked values from the official client's test suite (protocols §7.5).
const WORKED: Array<[string, 'limit' | 'market', Side, string, string, TickSize, bigint, bigint]> = [
  ['limit BUY 21.04 @ 0.56', 'limit', 'BUY', '0.56', '21.04', '0.01', 11_782_400n, 21_040_000n],
  ['limit SELL 21.04 @ 0.56', 'limit', 'SELL', '0.56', '21.04', '0.01', 21_040_000n, 11_782_400n],
  ['limit BUY 21.04 @ 0.5', 'limit', 'BUY', '0.5', '21.04', '0.1', 10_520_000n, 21_040_000n],
  ['market BUY $100 @ 0.5', 'market', 'BUY', '0.5', '100', '0.1', 100_000_000n, 200_000_000n],
  ['market BUY $100 @ 0.56', 'market', 'BUY', '0.56', '100', '0.01', 100_000_000n, 178_571_400n],
  ['market SELL 100 sh @ 0.5', 'market', 'SELL', '0.5', '100', '0.1', 100_000_000n, 50_000_000n],
];

for (const [name, kind, side, price, qty, tick, maker, taker] of WORKED) {
  test(`worked amounts: ${name}`, () => {
    const f = kind === 'limit' ? limitOrderAmounts : marketOrderAmounts;
    const r = f(side, d(price), d(qty), tick, FIVE);
    assert.equal(r.makerAmount, maker);
    assert.equal(r.takerAmount, taker);
  });
}

test('sizes are truncated to 2 decimals and USD to the tick amount decimals', () => {
  // 19.999 shares → 19.99; 19.99 × 0.57 = 11.3943 (4 decimals fit tick 0.01).
  const r = limitOrderAmounts('BUY', d('0.57'), d('19.999'), '0.01', FIVE);
  assert.equal(r.takerAmount, 19_990_000n);
  assert.equal(r.makerAmount, 11_394_300n);
  // tick 0.1 keeps 3 amount decimals: 7.77 × 0.3 = 2.331.
  assert.equal(limitOrderAmounts('SELL', d('0.3'), d('7.77'), '0.1', FIVE).takerAmount, 2_331_000n);
  // tick 0.0025: 4 price decimals, 6 amount decimals.
  const fine = limitOrderAmounts('BUY', d('0.9975'), d('13.37'), '0.0025', FIVE);
  assert.equal(fine.makerAmount, 13_336_575n);
});

test('every tick size accepts its extreme prices and gives integer base units', () => {
  for (const tick of TICK_SIZES) {
    const t = d(tick);
    for (const p of [t, d('1') - t]) {
      const r = limitOrderAmounts('BUY', p, d('10'), tick, FIVE);
      assert.equal(r.takerAmount, 10_000_000n);
      assert.ok(r.makerAmount > 0n);
    }
  }
});

test('prices outside [tick, 1 - tick] and off-tick prices are rejected with their code', () => {
  const code = (fn: () => unknown, expected: string) =>
    assert.throws(fn, (e: unknown) => e instanceof PolyedgeError && e.code === expected && e.field === 'price');
  code(() => limitOrderAmounts('BUY', d('0.995'), d('10'), '0.01', FIVE), 'PE_ORDER_PRICE_RANGE');
  code(() => limitOrderAmounts('BUY', d('0.001'), d('10'), '0.01', FIVE), 'PE_ORDER_PRICE_RANGE');
  code(() => limitOrderAmounts('BUY', d('1'), d('10'), '0.1', FIVE), 'PE_ORDER_PRICE_RANGE');
  code(() => limitOrderAmounts('BUY', d('0.503'), d('10'), '0.005', FIVE), 'PE_ORDER_PRICE_TICK');
  code(() => limitOrderAmounts('SELL', d('0.5013'), d('10'), '0.0025', FIVE), 'PE_ORDER_PRICE_TICK');
  // Too many decimals is off-tick too: never silently re-priced.
  code(() => limitOrderAmounts('BUY', d('0.565'), d('10'), '0.01', FIVE), 'PE_ORDER_PRICE_TICK');
  code(() => marketOrderAmounts('SELL', d('0.5651'), d('10'), '0.001', FIVE), 'PE_ORDER_PRICE_TICK');
});

test('sizes below the minimum, or that truncate to zero, are rejected', () => {
  assert.throws(() => limitOrderAmounts('BUY', d('0.5'), d('4.99'), '0.01', FIVE), /PE_ORDER_SIZE_MIN|below the market minimum/);
  assert.throws(
    () => limitOrderAmounts('BUY', d('0.5'), d('0.004'), '0.01', d('0.001')),
    (e: unknown) => e instanceof PolyedgeError && e.code === 'PE_ORDER_SIZE_MIN' && /rounds down to 0/.test(e.message),
  );
  assert.throws(() => marketOrderAmounts('SELL', d('0.5'), d('1'), '0.1', FIVE), (e: unknown) => e instanceof PolyedgeError && e.field === 'amount');
});

test('tick sizes are parsed by value and unknown ticks are rejected', () => {
  assert.equal(parseTick('0.010'), '0.01');
  assert.equal(parseTick('.001'), '0.001');
  assert.throws(() => parseTick('0.02'), (e: unknown) => e instanceof PolyedgeError && e.code === 'PE_ORDER_TICK');
});
