// The writing side of a BookSet, shared by every venue: level updates with
// incremental best bid / ask, side replacement from snapshots, metadata.
// One writer thread per set. Every mutation must sit inside begin(book) /
// end(book), which flips the book's seqlock so readers never keep a half
// applied batch; calls outside a batch throw rather than tear silently.
//
// Best price maintenance:
//   insert:  compare with the best, O(1)
//   remove:  only when the removed level was the best, scan away from it to
//            the next non-empty level, bounded by the side's extent
// so a steady stream of updates costs O(1) each, and a best-level removal
// costs the distance to the next level.
import {
  B_BEST_BID,
  B_EXT_HI,
  B_EXT_LO,
  B_LEVELS,
  B_SEQ,
  B_STATUS,
  B_TICK_SIZE,
  B_WIN_HI,
  B_WIN_LO,
  BF_DROPPED_LEVELS,
  BF_EXCH_TS_MS,
  BF_LAST_UPDATE_NS,
  BF_LEVELS,
  DERIVED_FLAGS_MASK,
  NO_TICK,
  Side,
  type BookSet,
} from './book-layout.js';
import { seqlockWriteBegin, seqlockWriteEnd, seqlockWriting } from './seqlock.js';

export class LadderWriter {
  readonly set: BookSet;
  protected readonly i32: Int32Array;
  protected readonly f64: Float64Array;
  protected readonly levels: number;
  protected readonly mask: number;

  constructor(set: BookSet) {
    this.set = set;
    this.i32 = set.i32;
    this.f64 = set.f64;
    this.levels = set.levels;
    this.mask = set.mask;
  }

  /** Opens a write batch on one book; readers retry until end(). */
  begin(book: number): void {
    this.set.checkBook(book);
    seqlockWriteBegin(this.i32, this.set.i32Base(book) + B_SEQ);
  }

  end(book: number): void {
    seqlockWriteEnd(this.i32, this.set.i32Base(book) + B_SEQ);
  }

  /** Absolute size at a level: size 0 removes it. Ticks outside the window go to outsideWindow(). */
  setLevel(book: number, side: Side, tick: number, size: number): void {
    const hb = this.writing(book);
    if (!(size >= 0 && size < Infinity)) throw new RangeError(`setLevel: size must be finite and >= 0, got ${size}`);
    if ((tick | 0) !== tick || tick < 0) throw new RangeError(`setLevel: tick must be a non-negative int32, got ${tick}`);
    if (tick < this.i32[hb + B_WIN_LO]! || tick > this.i32[hb + B_WIN_HI]!) this.outsideWindow(book, side, tick, size, false);
    else this.storeLevel(book, side, tick, size);
  }

  /** Empties both sides. */
  clear(book: number): void {
    this.writing(book);
    this.clearSide(book, Side.Bid);
    this.clearSide(book, Side.Ask);
  }

  /** Empties one side. */
  clearSide(book: number, side: Side): void {
    const hb = this.writing(book);
    const count = hb + B_LEVELS + side;
    if (this.i32[count]! > 0) {
      this.zeroTicks(this.sideBase(book, side), this.i32[hb + B_EXT_LO + 2 * side]!, this.i32[hb + B_EXT_HI + 2 * side]!);
    }
    this.i32[count] = 0;
    this.i32[hb + B_BEST_BID + side] = NO_TICK;
  }

  /** Replaces one side with the first n (tick, size) pairs of a snapshot; zero sizes are skipped. */
  replaceSide(book: number, side: Side, ticks: ArrayLike<number>, sizes: ArrayLike<number>, n: number): void {
    const hb = this.writing(book);
    if (n > ticks.length || n > sizes.length) throw new RangeError(`replaceSide: n = ${n} exceeds the ${ticks.length} ticks / ${sizes.length} sizes given`);
    this.clearSide(book, side);
    for (let i = 0; i < n; i++) {
      const tick = ticks[i]!;
      const size = sizes[i]!;
      if (!(size >= 0 && size < Infinity)) throw new RangeError(`replaceSide: size[${i}] must be finite and >= 0, got ${size}`);
      if ((tick | 0) !== tick || tick < 0) throw new RangeError(`replaceSide: tick[${i}] must be a non-negative int32, got ${tick}`);
      if (size === 0) continue;
      if (tick < this.i32[hb + B_WIN_LO]! || tick > this.i32[hb + B_WIN_HI]!) this.outsideWindow(book, side, tick, size, true);
      else this.storeLevel(book, side, tick, size);
    }
  }

  /** Replaces both sides (a full book snapshot). */
  applySnapshot(
    book: number,
    bidTicks: ArrayLike<number>,
    bidSizes: ArrayLike<number>,
    bids: number,
    askTicks: ArrayLike<number>,
    askSizes: ArrayLike<number>,
    asks: number,
  ): void {
    this.replaceSide(book, Side.Bid, bidTicks, bidSizes, bids);
    this.replaceSide(book, Side.Ask, askTicks, askSizes, asks);
  }

  /** Stamps the batch: local receive time (CLOCK_MONOTONIC ns) and venue time (Unix ms). */
  setTimes(book: number, lastUpdateNs: number, exchTsMs: number): void {
    this.writing(book);
    const fb = this.set.f64Base(book);
    this.f64[fb + BF_LAST_UPDATE_NS] = lastUpdateNs;
    this.f64[fb + BF_EXCH_TS_MS] = exchTsMs;
  }

  /** Tick size in grid ticks. Metadata only: levels stay indexed on the grid. */
  setTickSize(book: number, gridTicks: number): void {
    const hb = this.writing(book);
    if (!Number.isInteger(gridTicks) || gridTicks < 1) throw new RangeError(`setTickSize: must be a positive integer of grid ticks, got ${gridTicks}`);
    this.i32[hb + B_TICK_SIZE] = gridTicks;
  }

  /** Writer status bits (BookFlag.Stale, BookFlag.Resyncing, ...); the derived low byte is reserved. */
  setStatus(book: number, flags: number): void {
    const hb = this.writing(book);
    if ((flags & DERIVED_FLAGS_MASK) !== 0) throw new RangeError(`setStatus: bits 0-7 are derived by readers, got 0x${flags.toString(16)}`);
    this.i32[hb + B_STATUS] = flags;
  }

  /**
   * A non-empty level outside [winLo, winHi]. A fixed-window venue has no
   * such ticks, so this is a caller bug; moving-window venues override it.
   */
  protected outsideWindow(book: number, _side: Side, tick: number, _size: number, _fromSnapshot: boolean): void {
    const hb = this.set.i32Base(book);
    throw new RangeError(`book ${book}: tick ${tick} outside [${this.i32[hb + B_WIN_LO]}, ${this.i32[hb + B_WIN_HI]}]`);
  }

  /** Stores a level known to be inside the window and keeps count, extent and best right. */
  protected storeLevel(book: number, side: Side, tick: number, size: number): void {
    const hb = this.set.i32Base(book);
    const i32 = this.i32;
    const at = this.sideBase(book, side) + (tick & this.mask);
    const old = this.f64[at]!;
    this.f64[at] = size;
    const countAt = hb + B_LEVELS + side;
    const bestAt = hb + B_BEST_BID + side;
    if (size > 0) {
      if (old === 0) {
        const loAt = hb + B_EXT_LO + 2 * side;
        const count = i32[countAt]!;
        i32[countAt] = count + 1;
        if (count === 0) {
          i32[loAt] = tick;
          i32[loAt + 1] = tick;
        } else if (tick < i32[loAt]!) i32[loAt] = tick;
        else if (tick > i32[loAt + 1]!) i32[loAt + 1] = tick;
      }
      const best = i32[bestAt]!;
      if (best === NO_TICK || (side === Side.Bid ? tick > best : tick < best)) i32[bestAt] = tick;
    } else if (old > 0) {
      const count = i32[countAt]! - 1;
      i32[countAt] = count;
      if (count === 0) i32[bestAt] = NO_TICK;
      else if (i32[bestAt] === tick) i32[bestAt] = this.scanBest(book, side, tick);
    }
  }

  /** Next non-empty level strictly past `from`, away from the spread; the side must be non-empty. */
  protected scanBest(book: number, side: Side, from: number): number {
    const hb = this.set.i32Base(book);
    const base = this.sideBase(book, side);
    const f64 = this.f64;
    const mask = this.mask;
    if (side === Side.Bid) {
      const stop = this.i32[hb + B_EXT_LO]!;
      for (let t = from - 1; t >= stop; t--) if (f64[base + (t & mask)]! > 0) return t;
    } else {
      const stop = this.i32[hb + B_EXT_HI + 2]!;
      for (let t = from + 1; t <= stop; t++) if (f64[base + (t & mask)]! > 0) return t;
    }
    throw new Error(`book ${book}: level count says non-empty but no level found (corrupt book)`);
  }

  /** f64 index of level index 0 of a side. */
  protected sideBase(book: number, side: Side): number {
    return this.set.f64Base(book) + BF_LEVELS + side * this.levels;
  }

  /** Zeroes the levels of ticks [lo, hi] of one side, wrapping around the masked array. */
  protected zeroTicks(base: number, lo: number, hi: number): void {
    const n = hi - lo + 1;
    if (n <= 0) return;
    if (n >= this.levels) {
      this.f64.fill(0, base, base + this.levels);
      return;
    }
    const i0 = lo & this.mask;
    const i1 = i0 + n;
    if (i1 <= this.levels) {
      this.f64.fill(0, base + i0, base + i1);
    } else {
      this.f64.fill(0, base + i0, base + this.levels);
      this.f64.fill(0, base, base + i1 - this.levels);
    }
  }

  protected addDropped(book: number, n: number): void {
    const at = this.set.f64Base(book) + BF_DROPPED_LEVELS;
    this.f64[at] = this.f64[at]! + n;
  }

  /** Header base of a book that is inside a write batch. */
  protected writing(book: number): number {
    this.set.checkBook(book);
    const hb = this.set.i32Base(book);
    if (!seqlockWriting(this.i32, hb + B_SEQ)) throw new Error(`book ${book}: write outside begin()/end()`);
    return hb;
  }
}
