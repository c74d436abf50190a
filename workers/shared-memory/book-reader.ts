// Consistent reads of shared ladder books from any thread (normally the main
// thread), for every venue. Each query copies what it needs inside a seqlock
// read and retries when a write batch overlapped it, so a result always
// describes one state the writer published between two end() calls.
// Queries write into caller-owned, preallocated outputs and never allocate.
//
// While the writer is inside a batch a reader spins on the sequence word only
// (reading levels then would pull cache lines away from the writer and make
// the batch, and the wait, longer). A writer descheduled mid-batch stalls
// readers for up to its time slice; one that keeps the batch open longer
// than maxWaitMs (crashed, descheduled on an overloaded machine, or
// rewriting the book back to back) makes the query throw BookBusyError
// rather than hang the main thread; the engine defers the work that met it
// to its next pass (Engine.pass) and the data hub skips the event whose
// handling met it (engine/feeds/hub.ts). Pin feed workers to their own cores
// to keep that window small.
import {
  B_BEST_ASK,
  B_BEST_BID,
  B_EXT_HI,
  B_EXT_LO,
  B_SEQ,
  B_STATUS,
  B_TICK_SIZE,
  B_WIN_HI,
  B_WIN_LO,
  BF_DROPPED_LEVELS,
  BF_EXCH_TS_MS,
  BF_LAST_UPDATE_NS,
  BF_LEVELS,
  BF_TICK_VALUE,
  BookFlag,
  NO_TICK,
  Side,
  type BookSet,
} from './book-layout.js';
import { seqlockReadOk } from './seqlock.js';

/** Best levels and metadata of one book at one instant. */
export class TopOfBook {
  bidTick = NO_TICK;
  bidSize = 0;
  askTick = NO_TICK;
  askSize = 0;
  /** BookFlag bits: derived BidEmpty / AskEmpty / Crossed plus writer status. */
  flags = 0;
  /** Seqlock version the copy was taken at; changes with every write batch. */
  version = 0;
  lastUpdateNs = 0;
  exchTsMs = 0;
  /** Current venue tick size, in grid ticks. */
  tickSize = 0;
  /** Price of one grid tick. */
  tickValue = 0;
  droppedLevels = 0;
  /** Ticks the book can hold right now (moves for Binance books). */
  windowLo = 0;
  windowHi = 0;
}

/** Cost of taking `size` from one side of a book. */
export class VwapResult {
  /** Size-weighted mean tick of what could be filled; NaN when nothing could. */
  avgTick = NaN;
  filled = 0;
  /** The book had at least the requested size. */
  complete = false;
  /** Furthest level touched; NO_TICK when none. */
  worstTick = NO_TICK;
  levels = 0;
}

export class BookReader {
  /** Reads thrown away because a write batch overlapped them (diagnostics). */
  retries = 0;
  private readonly set: BookSet;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly levels: number;
  private readonly mask: number;
  private readonly maxWaitMs: number;
  private giveUpAt = 0;

  constructor(set: BookSet, opts: { maxWaitMs?: number } = {}) {
    this.set = set;
    this.i32 = set.i32;
    this.f64 = set.f64;
    this.levels = set.levels;
    this.mask = set.mask;
    this.maxWaitMs = opts.maxWaitMs ?? 100;
  }

  top(book: number, out: TopOfBook): TopOfBook {
    this.set.checkBook(book);
    const hb = this.set.i32Base(book);
    const fb = this.set.f64Base(book);
    const i32 = this.i32;
    const f64 = this.f64;
    const bids = fb + BF_LEVELS;
    const asks = bids + this.levels;
    for (let attempt = 0; ; attempt++) {
      const v = this.stableVersion(hb, book);
      const bid = i32[hb + B_BEST_BID]!;
      const ask = i32[hb + B_BEST_ASK]!;
      out.bidTick = bid;
      out.askTick = ask;
      out.bidSize = bid === NO_TICK ? 0 : f64[bids + (bid & this.mask)]!;
      out.askSize = ask === NO_TICK ? 0 : f64[asks + (ask & this.mask)]!;
      out.flags = i32[hb + B_STATUS]! | deriveFlags(bid, ask);
      out.lastUpdateNs = f64[fb + BF_LAST_UPDATE_NS]!;
      out.exchTsMs = f64[fb + BF_EXCH_TS_MS]!;
      out.tickSize = i32[hb + B_TICK_SIZE]!;
      out.tickValue = f64[fb + BF_TICK_VALUE]!;
      out.droppedLevels = f64[fb + BF_DROPPED_LEVELS]!;
      out.windowLo = i32[hb + B_WIN_LO]!;
      out.windowHi = i32[hb + B_WIN_HI]!;
      if (seqlockReadOk(i32, hb + B_SEQ, v)) {
        out.version = v;
        return out;
      }
      this.retried(book, attempt);
    }
  }

  /**
   * Copies up to `max` non-empty levels of one side, best first, into
   * outTicks / outSizes (max is capped by their lengths). Returns the count.
   */
  depth(book: number, side: Side, max: number, outTicks: Int32Array, outSizes: Float64Array): number {
    this.set.checkBook(book);
    const hb = this.set.i32Base(book);
    const base = this.set.f64Base(book) + BF_LEVELS + side * this.levels;
    const cap = Math.min(max, outTicks.length, outSizes.length);
    const i32 = this.i32;
    const f64 = this.f64;
    const mask = this.mask;
    const step = side === Side.Bid ? -1 : 1;
    for (let attempt = 0; ; attempt++) {
      const v = this.stableVersion(hb, book);
      const best = i32[hb + B_BEST_BID + side]!;
      const stop = this.scanLimit(hb, side);
      let n = 0;
      // `k` bounds the scan by the ladder length even if a torn read handed us nonsense limits.
      for (let t = best, k = 0; best !== NO_TICK && n < cap && t !== stop && k < this.levels; t += step, k++) {
        const size = f64[base + (t & mask)]!;
        if (size > 0) {
          outTicks[n] = t;
          outSizes[n] = size;
          n++;
        }
      }
      if (seqlockReadOk(i32, hb + B_SEQ, v)) return n;
      this.retried(book, attempt);
    }
  }

  /**
   * Walks one side from its best level taking `size` (side Ask = the cost of
   * buying, Bid = the proceeds of selling). Fills `out`; returns out.complete.
   */
  vwap(book: number, side: Side, size: number, out: VwapResult): boolean {
    this.set.checkBook(book);
    if (!(size > 0 && size < Infinity)) throw new RangeError(`vwap: size must be finite and > 0, got ${size}`);
    const hb = this.set.i32Base(book);
    const base = this.set.f64Base(book) + BF_LEVELS + side * this.levels;
    const i32 = this.i32;
    const f64 = this.f64;
    const mask = this.mask;
    const step = side === Side.Bid ? -1 : 1;
    for (let attempt = 0; ; attempt++) {
      const v = this.stableVersion(hb, book);
      const best = i32[hb + B_BEST_BID + side]!;
      const stop = this.scanLimit(hb, side);
      let left = size;
      let notional = 0;
      let worst = NO_TICK;
      let levels = 0;
      for (let t = best, k = 0; best !== NO_TICK && left > 0 && t !== stop && k < this.levels; t += step, k++) {
        const avail = f64[base + (t & mask)]!;
        if (avail > 0) {
          const take = avail < left ? avail : left;
          notional += take * t;
          left -= take;
          worst = t;
          levels++;
        }
      }
      if (seqlockReadOk(i32, hb + B_SEQ, v)) {
        const filled = size - left;
        out.filled = filled;
        out.avgTick = filled > 0 ? notional / filled : NaN;
        out.complete = left <= 0;
        out.worstTick = worst;
        out.levels = levels;
        return out.complete;
      }
      this.retried(book, attempt);
    }
  }

  /** Size resting at one tick; 0 for an empty level or a tick outside the book's window. */
  sizeAt(book: number, side: Side, tick: number): number {
    this.set.checkBook(book);
    const hb = this.set.i32Base(book);
    const base = this.set.f64Base(book) + BF_LEVELS + side * this.levels;
    const i32 = this.i32;
    for (let attempt = 0; ; attempt++) {
      const v = this.stableVersion(hb, book);
      const inside = tick >= i32[hb + B_WIN_LO]! && tick <= i32[hb + B_WIN_HI]! && (tick | 0) === tick;
      const size = inside ? this.f64[base + (tick & this.mask)]! : 0;
      if (seqlockReadOk(i32, hb + B_SEQ, v)) return size;
      this.retried(book, attempt);
    }
  }

  /** First tick past the last level a scan from the best may visit. */
  private scanLimit(hb: number, side: Side): number {
    const i32 = this.i32;
    return side === Side.Bid
      ? Math.max(i32[hb + B_EXT_LO]!, i32[hb + B_WIN_LO]!) - 1
      : Math.min(i32[hb + B_EXT_HI + 2]!, i32[hb + B_WIN_HI]!) + 1;
  }

  /** Waits (spinning on the sequence word alone) until no batch is open; returns that version. */
  private stableVersion(hb: number, book: number): number {
    const at = hb + B_SEQ;
    let v = Atomics.load(this.i32, at);
    if ((v & 1) === 0) return v;
    const giveUpAt = performance.now() + this.maxWaitMs;
    for (let spin = 1; ; spin++) {
      v = Atomics.load(this.i32, at);
      if ((v & 1) === 0) return v;
      // performance.now() costs ~50 ns: look at the clock every 1024 spins only.
      if ((spin & 1023) === 0 && performance.now() > giveUpAt) this.stuck(book);
    }
  }

  /** A batch landed during the read; budget the retries of one query by time. */
  private retried(book: number, attempt: number): void {
    this.retries++;
    if (attempt === 0) this.giveUpAt = performance.now() + this.maxWaitMs;
    else if ((attempt & 63) === 0 && performance.now() > this.giveUpAt) this.stuck(book);
  }

  private stuck(book: number): never {
    throw new BookBusyError(book, this.maxWaitMs);
  }
}

/** No consistent read of a book within the reader's budget: the writer held a batch open throughout. */
export class BookBusyError extends Error {
  constructor(
    readonly book: number,
    readonly waitedMs: number,
  ) {
    super(`book ${book}: no consistent read within ${waitedMs} ms; the writer is stuck inside a batch or never leaves a gap`);
    this.name = 'BookBusyError';
  }
}

function deriveFlags(bid: number, ask: number): number {
  if (bid === NO_TICK) return ask === NO_TICK ? BookFlag.BidEmpty | BookFlag.AskEmpty : BookFlag.BidEmpty;
  if (ask === NO_TICK) return BookFlag.AskEmpty;
  return bid >= ask ? BookFlag.Crossed : 0;
}
