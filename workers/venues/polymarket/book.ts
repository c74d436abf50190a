// Polymarket books: prices live in [0, 1], so one fixed ladder per side on the
// finest grid Polymarket uses (1e-4) holds every possible level: 10 001
// levels, tick t = price t / 10 000. A tick_size_change (0.01 -> 0.001, ...)
// is metadata only; no level is ever re-indexed. Sizes are float64 shares.
// Memory: 160 KB per token (2 sides x 10 001 x 8 B).
import { LadderWriter } from '../../shared-memory/ladder-writer.js';
import { B_TICK_SIZE, B_WIN_HI, B_WIN_LO, BF_TICK_VALUE, BookSet, Venue } from '../../shared-memory/book-layout.js';
import { isGridTickSize, PRICE_SCALE } from '../../../engine/trading/types.js';

// The grid is the trading domain's price unit (PRICE_SCALE ticks per 1.0),
// defined once in engine/trading/types.ts: book ticks are order prices.
export const POLY_LEVELS = PRICE_SCALE + 1;
export const POLY_TICK_VALUE = 1 / PRICE_SCALE;
/** 0.01, Polymarket's default tick size, in grid ticks. */
export const POLY_DEFAULT_TICK_SIZE = PRICE_SCALE / 100;

/** One book per token; book index = the token's index in the caller's token table. */
export function createPolymarketBooks(tokens: number): BookSet {
  const set = BookSet.create({ venue: Venue.Polymarket, books: tokens, levels: POLY_LEVELS, mask: 16_383 });
  for (let b = 0; b < tokens; b++) {
    const hb = set.i32Base(b);
    set.i32[hb + B_WIN_LO] = 0;
    set.i32[hb + B_WIN_HI] = PRICE_SCALE;
    set.i32[hb + B_TICK_SIZE] = POLY_DEFAULT_TICK_SIZE;
    set.f64[set.f64Base(b) + BF_TICK_VALUE] = POLY_TICK_VALUE;
  }
  return set;
}

export function attachPolymarketBooks(sab: SharedArrayBuffer): BookSet {
  return BookSet.attach(sab, Venue.Polymarket);
}

/** Nearest grid tick of a decimal price (for parsers; the book itself only sees ticks). */
export function polyTick(price: number): number {
  return Math.round(price * PRICE_SCALE);
}

export class PolymarketBookWriter extends LadderWriter {
  constructor(set: BookSet) {
    if (set.venue !== Venue.Polymarket) throw new Error('PolymarketBookWriter: not a Polymarket book set');
    super(set);
  }

  /** Polymarket tick sizes (0.1, 0.01, 0.001, 0.0001) are 1000, 100, 10, 1 grid ticks. */
  override setTickSize(book: number, gridTicks: number): void {
    if (!isGridTickSize(gridTicks)) {
      throw new RangeError(`setTickSize: ${gridTicks} grid ticks does not divide 1.0 on the 1e-4 grid`);
    }
    super.setTickSize(book, gridTicks);
  }
}
