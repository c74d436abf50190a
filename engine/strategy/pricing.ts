// Math shared by the strategies: the normal CDF behind the Up/Down fair
// probability, Kelly sizing for a binary contract, tick rounding on the 1e-4
// grid, and book-derived fair values. Pure functions of numbers; nothing here
// allocates.

import { PRICE_SCALE, SIZE_LOT, UNIT } from '../trading/types.js';

/**
 * Standard normal CDF Φ(x) to double precision: absolute error below
 * 1e-14 everywhere. The small side is computed directly, never as
 * 1 − something, so the lower tail keeps relative accuracy too: below 1e-10 to
 * x = −5, below 2e-8 everywhere.
 *
 * Hart (1968), "Computer Approximations", algorithm 5666, as given by
 * G. West, "Better approximations to cumulative normal functions",
 * Wilmott Magazine (2005), pp. 70–76: a rational approximation of
 * e^{x²/2}·Φ(−|x|) for |x| < 10/√2, and a continued fraction beyond it.
 */
export function normCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const z = Math.abs(x);
  let tail: number;
  if (z > 37) {
    tail = 0;
  } else {
    const e = Math.exp(-0.5 * z * z);
    if (z < 7.07106781186547) {
      let num = 3.52624965998911e-2 * z + 0.700383064443688;
      num = num * z + 6.37396220353165;
      num = num * z + 33.912866078383;
      num = num * z + 112.079291497871;
      num = num * z + 221.213596169931;
      num = num * z + 220.206867912376;
      let den = 8.83883476483184e-2 * z + 1.75566716318264;
      den = den * z + 16.064177579207;
      den = den * z + 86.7807322029461;
      den = den * z + 296.564248779674;
      den = den * z + 637.333633378831;
      den = den * z + 793.826512519948;
      den = den * z + 440.413735824752;
      tail = (e * num) / den;
    } else {
      let cf = z + 0.65;
      cf = z + 4 / cf;
      cf = z + 3 / cf;
      cf = z + 2 / cf;
      cf = z + 1 / cf;
      tail = e / cf / 2.506628274631;
    }
  }
  return x > 0 ? 1 - tail : tail;
}

/** Milliseconds in the 365-day year that DVOL and Deribit annualise with. */
export const MS_PER_YEAR = 365 * 86_400_000;

/**
 * P(Up) of an Up/Down window: the chance the underlying ends at or above the
 * window's opening price `open`, given it is at `spot` now, with annualised
 * volatility `sigma` and `tauYears` left.
 *
 * Drift assumption: the log price is driftless over the window, so
 * P = Φ(ln(S/S0) / (σ√τ)). The lognormal (martingale) correction would
 * subtract σ√τ/2 from the z-score: 0.0008 standard deviations for a
 * 5-minute window at σ = 0.5, far below the error of any σ estimate.
 * At τ ≤ 0 the outcome is known: ties go to Up (protocols §11.12).
 */
export function probUp(spot: number, open: number, sigma: number, tauYears: number): number {
  if (!(spot > 0 && open > 0)) return NaN;
  if (!(tauYears > 0)) return spot >= open ? 1 : 0;
  if (!(sigma > 0)) return NaN;
  return normCdf(Math.log(spot / open) / (sigma * Math.sqrt(tauYears)));
}

/**
 * Full-Kelly fraction of bankroll to spend on a binary contract that pays 1
 * with probability `p` and costs `cost` per share (price plus fees, as a
 * fraction of 1). Net odds b = (1 − c)/c give f* = p − (1 − p)/b
 * = (p − c)/(1 − c); 0 when there is no edge.
 */
export function kellyFraction(p: number, cost: number): number {
  if (!(cost > 0 && cost < 1) || !(p >= 0 && p <= 1) || p <= cost) return 0;
  return (p - cost) / (1 - cost);
}

/** V2 taker fee per share as a fraction of 1 (protocols §7.8), unrounded: for comparing with edges. */
export function feePerShare(priceTicks: number, rate: number, exponent: number): number {
  if (rate <= 0) return 0;
  const p = priceTicks / PRICE_SCALE;
  return rate * (p * (1 - p)) ** exponent;
}

/** Largest multiple of `tick` at or below `ticks` (a fractional grid position is fine). */
export function floorToTick(ticks: number, tick: number): number {
  return Math.floor(ticks / tick + 1e-9) * tick;
}

/** Smallest multiple of `tick` at or above `ticks`. */
export function ceilToTick(ticks: number, tick: number): number {
  return Math.ceil(ticks / tick - 1e-9) * tick;
}

/** The venue accepts prices in [tick, 1 − tick] on the tick grid (protocols §7.5, §11.8). */
export function isValidPrice(price: number, tick: number): boolean {
  return Number.isInteger(price) && price >= tick && price <= PRICE_SCALE - tick && price % tick === 0;
}

/** Size in micro-shares, floored to the order lot. */
export function floorToLot(microShares: number): number {
  return microShares > 0 ? Math.floor(microShares / SIZE_LOT + 1e-9) * SIZE_LOT : 0;
}

/** Shares (a config number) to micro-shares on the order lot. */
export function sharesToMicros(shares: number): number {
  return floorToLot(Math.round(shares * UNIT));
}

export function mid(bidTick: number, askTick: number): number {
  return (bidTick + askTick) / 2;
}

/**
 * Imbalance-weighted mid of the touch, commonly called the microprice: it
 * leans toward the side with less size, which the next trade is more likely
 * to clear. Falls back to the mid when both sizes are 0.
 */
export function microprice(bidTick: number, bidSize: number, askTick: number, askSize: number): number {
  const total = bidSize + askSize;
  if (!(total > 0)) return mid(bidTick, askTick);
  return (bidTick * askSize + askTick * bidSize) / total;
}
