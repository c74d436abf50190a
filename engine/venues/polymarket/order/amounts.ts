// Price and size to the signed makerAmount / takerAmount (protocols §7.5),
// following the official V2 TypeScript client step by step but in exact
// decimals. One deliberate difference: the client rounds (limit) or floors
// (market) a price with too many decimals onto the grid; we reject it, since
// a silently re-priced order is not the order the trader asked for. For
// prices on the grid the results are identical (checked against the
// official client in official-client.test.ts).

import { fieldError } from '../../../errors.js';
import {
  ceilTo,
  decimalsOf,
  divCeilTo,
  floorTo,
  formatDec,
  isMultipleOf,
  mul,
  parseDec,
  toUnits,
  type Dec,
} from './decimal.js';
import type { WireSide } from '../../../trading/types.js';

export type TickSize = '0.1' | '0.01' | '0.005' | '0.0025' | '0.001' | '0.0001';

interface Rounding {
  price: number;
  size: number;
  amount: number;
}

const ROUNDING: Record<TickSize, Rounding> = {
  '0.1': { price: 1, size: 2, amount: 3 },
  '0.01': { price: 2, size: 2, amount: 4 },
  '0.005': { price: 3, size: 2, amount: 5 },
  '0.0025': { price: 4, size: 2, amount: 6 },
  '0.001': { price: 3, size: 2, amount: 5 },
  '0.0001': { price: 4, size: 2, amount: 6 },
};

export const TICK_SIZES = Object.keys(ROUNDING) as TickSize[];

/** Collateral and outcome tokens both have 6 decimals. */
export const BASE_UNIT_DECIMALS = 6;
const ONE: Dec = 10n ** 18n;

export function isTickSize(text: string): text is TickSize {
  return Object.hasOwn(ROUNDING, text);
}

export function parseTick(text: string): TickSize {
  // Accept "0.010" and ".01" for the same tick.
  const value = parseDec(text);
  const tick = value === undefined ? undefined : TICK_SIZES.find((t) => parseDec(t) === value);
  if (!tick) throw fieldError('PE_ORDER_TICK', 'tick', `must be one of ${TICK_SIZES.join(', ')}, got ${JSON.stringify(text)}`);
  return tick;
}

export function parsePositiveDec(field: string, text: string): Dec {
  const v = parseDec(text.trim());
  if (v === undefined) throw fieldError('PE_ORDER_FIELD', field, `must be a plain decimal number, got ${JSON.stringify(text)}`);
  if (v <= 0n) throw fieldError('PE_ORDER_FIELD', field, 'must be > 0');
  return v;
}

export interface RawAmounts {
  /** Base units (10^-6), what the maker gives. */
  makerAmount: bigint;
  /** Base units (10^-6), what the maker receives. */
  takerAmount: bigint;
  /** The price as it will be signed (implied by the amounts up to truncation). */
  price: Dec;
}

function checkPrice(price: Dec, tick: TickSize): void {
  const t = parseDec(tick)!;
  if (price < t || price > ONE - t) {
    throw fieldError('PE_ORDER_PRICE_RANGE', 'price', `${formatDec(price)} is outside [${tick}, ${formatDec(ONE - t)}]`);
  }
  if (!isMultipleOf(price, t)) {
    throw fieldError('PE_ORDER_PRICE_TICK', 'price', `${formatDec(price)} is not a multiple of the tick ${tick}`);
  }
}

/**
 * The client's two-step clean-up of a collateral/share figure: ceil to
 * amount+4 decimals (removes float noise in the JS client; a no-op on exact
 * products), then floor to the amount decimals.
 */
function fitAmount(x: Dec, amountDecimals: number): Dec {
  if (decimalsOf(x) <= amountDecimals) return x;
  const cleaned = ceilTo(x, amountDecimals + 4);
  return decimalsOf(cleaned) > amountDecimals ? floorTo(cleaned, amountDecimals) : cleaned;
}

function checkMinimum(shares: Dec, minSize: Dec, field: string): void {
  if (shares <= 0n) throw fieldError('PE_ORDER_SIZE_MIN', field, 'rounds down to 0 at 2 decimals');
  if (shares < minSize) {
    throw fieldError('PE_ORDER_SIZE_MIN', field, `${formatDec(shares)} is below the market minimum of ${formatDec(minSize)}`);
  }
}

/** Limit order: `size` in shares. */
export function limitOrderAmounts(side: WireSide, price: Dec, size: Dec, tick: TickSize, minSize: Dec): RawAmounts {
  const r = ROUNDING[tick];
  checkPrice(price, tick);
  const p = price;
  const shares = floorTo(size, r.size);
  checkMinimum(shares, minSize, 'size');
  const usd = fitAmount(mul(shares, p), r.amount);
  const shareUnits = toUnits(shares, BASE_UNIT_DECIMALS);
  const usdUnits = toUnits(usd, BASE_UNIT_DECIMALS);
  return side === 'BUY'
    ? { makerAmount: usdUnits, takerAmount: shareUnits, price: p }
    : { makerAmount: shareUnits, takerAmount: usdUnits, price: p };
}

/**
 * Market (FOK/FAK) order at a worst acceptable price: BUY `amount` is
 * collateral in dollars, SELL `amount` is shares.
 */
export function marketOrderAmounts(side: WireSide, price: Dec, amount: Dec, tick: TickSize, minSize: Dec): RawAmounts {
  const r = ROUNDING[tick];
  checkPrice(price, tick);
  const p = price;
  if (side === 'BUY') {
    const usd = floorTo(amount, r.size);
    if (usd <= 0n) throw fieldError('PE_ORDER_SIZE_MIN', 'amount', 'rounds down to 0 at 2 decimals');
    const shares = fitAmount(divCeilTo(usd, p, r.amount + 4), r.amount);
    return {
      makerAmount: toUnits(usd, BASE_UNIT_DECIMALS),
      takerAmount: toUnits(shares, BASE_UNIT_DECIMALS),
      price: p,
    };
  }
  const shares = floorTo(amount, r.size);
  checkMinimum(shares, minSize, 'amount');
  const usd = fitAmount(mul(shares, p), r.amount);
  return {
    makerAmount: toUnits(shares, BASE_UNIT_DECIMALS),
    takerAmount: toUnits(usd, BASE_UNIT_DECIMALS),
    price: p,
  };
}

export function parseSide(text: string): WireSide {
  const s = text.toUpperCase();
  if (s !== 'BUY' && s !== 'SELL') throw fieldError('PE_ORDER_FIELD', 'side', `must be BUY or SELL, got ${JSON.stringify(text)}`);
  return s;
}
