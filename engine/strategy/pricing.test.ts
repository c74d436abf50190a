import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Prng } from '../../workers/prng.js';
import { ceilToTick, feePerShare, floorToLot, floorToTick, isValidPrice, kellyFraction, microprice, MS_PER_YEAR, normCdf, probUp, sharesToMicros } from './pricing.js';

// Φ(x) to 16 significant digits (0.5·erfc(−x/√2), as tabulated; e.g.
// Φ(1.96) = 0.9750021048517795, the 95 % two-sided quantile).
const PHI: [number, number][] = [
  [0, 0.5],
  [0.1, 0.539827837277029],
  [0.5, 0.6914624612740131],
  [1, 0.8413447460685429],
  [-1, 0.15865525393145707],
  [1.96, 0.9750021048517795],
  [-1.96, 0.024997895148220435],
  [2, 0.9772498680518208],
  [3, 0.9986501019683699],
  [-3, 0.0013498980316300957],
  [6, 0.9999999990134123],
];

// Lower tail, where relative accuracy is what matters: [x, Φ(x), relative tolerance].
const PHI_TAIL: [number, number, number][] = [
  [-5, 2.866515718791946e-7, 1e-10],
  [-7, 1.279812543885835e-12, 2e-8],
  [-7.5, 3.19089167291092e-14, 2e-8],
  [-8, 6.220960574271819e-16, 2e-8],
  [-10, 7.619853024160593e-24, 2e-8],
  [-20, 2.7536241186063314e-89, 2e-8],
];

test('normCdf matches tabulated values to double precision', () => {
  for (const [x, want] of PHI) assert.ok(Math.abs(normCdf(x) - want) < 1e-14, `Φ(${x}) = ${normCdf(x)}, want ${want}`);
  for (const [x, want, tol] of PHI_TAIL) assert.ok(Math.abs(normCdf(x) / want - 1) < tol, `Φ(${x}) = ${normCdf(x)}, want ${want}`);
  assert.equal(normCdf(40), 1);
  assert.equal(normCdf(-40), 0);
  assert.equal(normCdf(Infinity), 1);
  assert.equal(normCdf(-Infinity), 0);
  assert.ok(Number.isNaN(normCdf(NaN)));
});

test('normCdf is symmetric and monotone (seeded sweep)', () => {
  const rng = new Prng(7);
  let prev = 0;
  for (let x = -9; x <= 9; x += 0.01) {
    const v = normCdf(x);
    assert.ok(v >= prev, `not monotone at ${x}`);
    prev = v;
  }
  for (let i = 0; i < 1000; i++) {
    const x = (rng.next() - 0.5) * 16;
    assert.ok(Math.abs(normCdf(x) + normCdf(-x) - 1) < 1e-15);
  }
});

test('probUp: 0.5 at the open, monotone in S/S0, sharper as the window closes', () => {
  const sigma = 0.6;
  const fiveMin = (5 * 60_000) / MS_PER_YEAR;
  assert.equal(probUp(100_000, 100_000, sigma, fiveMin), 0.5);
  let prev = 0;
  for (let s = 99_000; s <= 101_000; s += 50) {
    const p = probUp(s, 100_000, sigma, fiveMin);
    assert.ok(p > prev, `P(Up) must grow with S (S = ${s})`);
    prev = p;
  }
  // 0.1 % above the open: one standard deviation is σ√τ ≈ 0.45 % over 5 min, ≈ 0.064 % over 6 s.
  const above = (tauMs: number) => probUp(100_100, 100_000, sigma, tauMs / MS_PER_YEAR);
  assert.ok(above(300_000) < above(60_000) && above(60_000) < above(6_000) && above(6_000) < above(100));
  const z = Math.log(1.001) / (sigma * Math.sqrt(fiveMin));
  assert.equal(above(300_000), normCdf(z));
  assert.ok(above(100) > 0.999);
  // Window over: the outcome is known, ties resolve Up (protocols §11.12).
  assert.equal(probUp(100_000, 100_000, sigma, 0), 1);
  assert.equal(probUp(99_999, 100_000, sigma, 0), 0);
  assert.ok(Number.isNaN(probUp(100_000, NaN, sigma, fiveMin)));
  assert.ok(Number.isNaN(probUp(100_000, 100_000, 0, fiveMin)));
});

test('kellyFraction for a binary contract', () => {
  // Pays 1 at cost 0.5 with p = 0.6: even odds, f* = 2p − 1 = 0.2.
  assert.ok(Math.abs(kellyFraction(0.6, 0.5) - 0.2) < 1e-15);
  // Cost 0.4, p = 0.5: b = 1.5, f* = p − (1 − p)/b = 0.5 − 1/3 = 1/6.
  assert.ok(Math.abs(kellyFraction(0.5, 0.4) - 1 / 6) < 1e-15);
  assert.equal(kellyFraction(0.5, 0.5), 0, 'no edge');
  assert.equal(kellyFraction(0.4, 0.5), 0, 'negative edge');
  assert.equal(kellyFraction(1, 0.9), 1, 'a sure thing takes everything');
  assert.equal(kellyFraction(0.5, 0), 0);
  assert.equal(kellyFraction(0.5, 1), 0);
});

test('fees, tick rounding and sizes', () => {
  // rate 0.25, exponent 2 at p = 0.5: 0.25 × 0.25² = 0.015625 per share.
  assert.equal(feePerShare(5000, 0.25, 2), 0.015625);
  assert.equal(feePerShare(5000, 0, 1), 0);
  assert.equal(floorToTick(5049.7, 100), 5000);
  assert.equal(ceilToTick(5000.3, 100), 5100);
  assert.equal(floorToTick(5000, 100), 5000);
  assert.equal(ceilToTick(5000, 100), 5000);
  assert.equal(floorToTick(4999.9999999999, 100), 5000, 'float noise on a tick stays on it');
  assert.equal(ceilToTick(5000.0000000001, 100), 5000);
  assert.equal(isValidPrice(100, 100), true);
  assert.equal(isValidPrice(9900, 100), true);
  assert.equal(isValidPrice(0, 100), false);
  assert.equal(isValidPrice(9950, 100), false);
  assert.equal(isValidPrice(9950, 10), true);
  assert.equal(floorToLot(1_234_567), 1_230_000);
  assert.equal(floorToLot(-5), 0);
  assert.equal(sharesToMicros(12.345), 12_340_000);
  assert.equal(sharesToMicros(0.29), 290_000, '0.29 × 1e6 is 289999.99… in floats');
});

test('microprice leans toward the thin side', () => {
  assert.equal(microprice(4900, 100, 5100, 100), 5000);
  // Little on the ask: the next trade likely lifts it, fair sits near the ask.
  assert.equal(microprice(4900, 300, 5100, 100), 5050);
  assert.equal(microprice(4900, 100, 5100, 300), 4950);
  assert.equal(microprice(4900, 0, 5100, 0), 5000);
});
