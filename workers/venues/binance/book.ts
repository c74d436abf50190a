// Binance books over a moving price window. Absolute prices are unbounded, so
// each instrument keeps a dense ladder of W = 2^k levels covering the ticks
// [winLo, winLo + W), stored at index tick & (W - 1): sliding the window
// re-labels slots instead of moving them.
//
//        winLo                    center                     winHi
//   .....[=========|==============bid|ask==============|=========].....
//         <margin>                                      <margin>
//
// Recentering: when best bid or best ask comes within W/8 of an edge, the
// window is moved so the mid sits at its center. Only the levels that leave
// the window are touched (O(shift), not O(W)).
//
// Levels outside the window are dropped and counted in the book's
// droppedLevels: deep levels on recenter, and updates that land outside and
// would not become the best of their side. An update outside that would
// become the best (a fast move) recenters first, provided the other side's
// best still fits in the new window. The book is exact within ~W/2 ticks of
// the mid; depth and VWAP beyond that are not available.
//
// Sizes are in base-asset quantity; ticks are integer multiples of the
// instrument's tick value (0.01 for BTCUSDT spot).
import { LadderWriter } from '../../shared-memory/ladder-writer.js';
import {
  B_BEST_ASK,
  B_BEST_BID,
  B_EXT_HI,
  B_EXT_LO,
  B_LEVELS,
  B_TICK_SIZE,
  B_WIN_HI,
  B_WIN_LO,
  BF_RECENTERS,
  BF_TICK_VALUE,
  BookSet,
  NO_TICK,
  Side,
  Venue,
} from '../../shared-memory/book-layout.js';

export interface BinanceInstrument {
  /** Price of one tick in quote currency, e.g. 0.01. */
  tickValue: number;
}

/** One book per instrument, each a window of 2^windowLog2 ticks (default 2^16: 1 MB per book). */
export function createBinanceBooks(instruments: readonly BinanceInstrument[], windowLog2 = 16): BookSet {
  if (!Number.isInteger(windowLog2) || windowLog2 < 4 || windowLog2 > 24) {
    throw new RangeError(`createBinanceBooks: windowLog2 must be an integer in [4, 24], got ${windowLog2}`);
  }
  const w = 2 ** windowLog2;
  const set = BookSet.create({ venue: Venue.Binance, books: instruments.length, levels: w, mask: w - 1 });
  instruments.forEach((inst, b) => {
    if (!(inst.tickValue > 0 && inst.tickValue < Infinity)) throw new RangeError(`createBinanceBooks: instrument ${b} tickValue must be > 0, got ${inst.tickValue}`);
    const hb = set.i32Base(b);
    set.i32[hb + B_WIN_LO] = 0;
    set.i32[hb + B_WIN_HI] = w - 1;
    set.i32[hb + B_TICK_SIZE] = 1;
    set.f64[set.f64Base(b) + BF_TICK_VALUE] = inst.tickValue;
  });
  return set;
}

export function attachBinanceBooks(sab: SharedArrayBuffer): BookSet {
  return BookSet.attach(sab, Venue.Binance);
}

export class BinanceBookWriter extends LadderWriter {
  private readonly margin: number;
  private readonly half: number;

  constructor(set: BookSet) {
    if (set.venue !== Venue.Binance) throw new Error('BinanceBookWriter: not a Binance book set');
    super(set);
    this.margin = set.levels >> 3;
    this.half = set.levels >> 1;
  }

  override setLevel(book: number, side: Side, tick: number, size: number): void {
    super.setLevel(book, side, tick, size);
    this.followMid(book);
  }

  /** Centers the window on the snapshot's mid, then loads it; levels outside are dropped and counted. */
  override applySnapshot(
    book: number,
    bidTicks: ArrayLike<number>,
    bidSizes: ArrayLike<number>,
    bids: number,
    askTicks: ArrayLike<number>,
    askSizes: ArrayLike<number>,
    asks: number,
  ): void {
    this.clear(book);
    let bestBid = NO_TICK;
    let bestAsk = NO_TICK;
    for (let i = 0; i < bids; i++) if (bidSizes[i]! > 0 && bidTicks[i]! > bestBid) bestBid = bidTicks[i]!;
    for (let i = 0; i < asks; i++) if (askSizes[i]! > 0 && (bestAsk === NO_TICK || askTicks[i]! < bestAsk)) bestAsk = askTicks[i]!;
    const center = bestBid === NO_TICK ? bestAsk : bestAsk === NO_TICK ? bestBid : Math.floor((bestBid + bestAsk) / 2);
    if (center !== NO_TICK) this.recenter(book, center);
    super.applySnapshot(book, bidTicks, bidSizes, bids, askTicks, askSizes, asks);
  }

  /**
   * Moves the window so `center` sits in its middle (clamped at tick 0).
   * Levels leaving the window are zeroed and counted as dropped.
   */
  recenter(book: number, center: number): void {
    const hb = this.writing(book);
    const i32 = this.i32;
    const oldLo = i32[hb + B_WIN_LO]!;
    const oldHi = i32[hb + B_WIN_HI]!;
    const lo = Math.max(0, center - this.half);
    const hi = lo + this.levels - 1;
    if (lo === oldLo) return;
    // Ticks in the old window but not in the new one.
    const goneLo = lo > oldLo ? oldLo : Math.max(oldLo, hi + 1);
    const goneHi = lo > oldLo ? Math.min(oldHi, lo - 1) : oldHi;
    i32[hb + B_WIN_LO] = lo;
    i32[hb + B_WIN_HI] = hi;
    this.dropSide(book, Side.Bid, goneLo, goneHi, lo, hi);
    this.dropSide(book, Side.Ask, goneLo, goneHi, lo, hi);
    const at = this.set.f64Base(book) + BF_RECENTERS;
    this.f64[at] = this.f64[at]! + 1;
  }

  /**
   * An update outside the window: kept (after recentering) only if it becomes
   * the best of its side while the other side's best still fits; else dropped.
   */
  protected override outsideWindow(book: number, side: Side, tick: number, size: number, fromSnapshot: boolean): void {
    if (size === 0) return; // nothing is stored outside the window, so nothing to remove
    const hb = this.set.i32Base(book);
    if (!fromSnapshot) {
      const best = this.i32[hb + B_BEST_BID + side]!;
      const other = this.i32[hb + B_BEST_BID + (1 - side)]!;
      const becomesBest = best === NO_TICK || (side === Side.Bid ? tick > best : tick < best);
      const center = other === NO_TICK ? tick : Math.floor((tick + other) / 2);
      const fits = other === NO_TICK || Math.abs(tick - other) < this.levels - 2 * this.margin;
      if (becomesBest && fits) {
        this.recenter(book, center);
        this.storeLevel(book, side, tick, size);
        return;
      }
    }
    this.addDropped(book, 1);
  }

  /** Recenters when a best price is within the margin of an edge and the mid has moved by a margin. */
  private followMid(book: number): void {
    const hb = this.set.i32Base(book);
    const bid = this.i32[hb + B_BEST_BID]!;
    const ask = this.i32[hb + B_BEST_ASK]!;
    const lo = this.i32[hb + B_WIN_LO]! + this.margin;
    const hi = this.i32[hb + B_WIN_HI]! - this.margin;
    const nearEdge = (bid !== NO_TICK && (bid < lo || bid > hi)) || (ask !== NO_TICK && (ask < lo || ask > hi));
    if (!nearEdge) return;
    const mid = bid === NO_TICK ? ask : ask === NO_TICK ? bid : Math.floor((bid + ask) / 2);
    // A spread wider than the window cannot be centered; without this check
    // every update would recenter again.
    if (Math.abs(mid - (this.i32[hb + B_WIN_LO]! + this.half)) >= this.margin) this.recenter(book, mid);
  }

  /** Zeroes and counts one side's levels in [goneLo, goneHi]; clamps extent and best to [lo, hi]. */
  private dropSide(book: number, side: Side, goneLo: number, goneHi: number, lo: number, hi: number): void {
    const hb = this.set.i32Base(book);
    const i32 = this.i32;
    const countAt = hb + B_LEVELS + side;
    if (i32[countAt] === 0) return;
    const extLoAt = hb + B_EXT_LO + 2 * side;
    const extHiAt = hb + B_EXT_HI + 2 * side;
    // Only the extent can hold levels: scan its overlap with the gone range.
    const from = Math.max(goneLo, i32[extLoAt]!);
    const to = Math.min(goneHi, i32[extHiAt]!);
    const base = this.sideBase(book, side);
    let dropped = 0;
    for (let t = from; t <= to; t++) {
      const at = base + (t & this.mask);
      if (this.f64[at]! > 0) {
        this.f64[at] = 0;
        dropped++;
      }
    }
    if (dropped > 0) this.addDropped(book, dropped);
    const left = (i32[countAt] = i32[countAt]! - dropped);
    const bestAt = hb + B_BEST_BID + side;
    if (left === 0) {
      i32[bestAt] = NO_TICK;
      return;
    }
    i32[extLoAt] = Math.max(lo, i32[extLoAt]!);
    i32[extHiAt] = Math.min(hi, i32[extHiAt]!);
    const best = i32[bestAt]!;
    if (best < lo || best > hi) {
      // The best left the window: the new best is the nearest level inside it.
      i32[bestAt] = side === Side.Bid ? this.scanBest(book, side, i32[extHiAt]! + 1) : this.scanBest(book, side, i32[extLoAt]! - 1);
    }
  }
}
