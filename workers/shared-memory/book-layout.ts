// Shared-memory layout of a set of ladder books: many books (one per token or
// instrument) in one SharedArrayBuffer, each a dense array of level sizes per
// side indexed by integer tick. One writer thread (a feed worker) updates
// them; any thread reads them through the seqlock in the book header.
//
//   byte 0            | set header: magic version venue books levels mask regionBytes
//   byte 64           | book 0 region
//   64 + regionBytes  | book 1 region ...
//
// Byte offsets are from the set's start, which is a cache line of memory
// (workers/line-aligned.ts), so each book's seqlock word and best prices
// share the line a reader pulls and no line spans two books.
//
// One book region (regionBytes, a multiple of 64):
//
//   +0    Int32  seq bestBid bestAsk winLo winHi tickSize status
//                bidLevels askLevels bidExtLo bidExtHi askExtLo askExtHi
//   +64   Float64 lastUpdateNs exchTsMs tickValue droppedLevels recenters
//   +128  Float64 bids[levels]
//   ...   Float64 asks[levels]
//
// Level of tick t lives at index (t & mask) of its side. Polymarket: 10 001
// levels, ticks 0..10 000 on the 1e-4 grid, mask 16 383 so the index is the
// tick itself and the window never moves. Binance: 2^k levels, mask 2^k - 1,
// so the window [winLo, winHi] can slide over absolute ticks without moving
// any stored level (see binance-book.ts).
//
// Extents [extLo, extHi] per side bound every non-empty level (they grow on
// insert and are not shrunk on removal), so clears and best-price scans touch
// only the part of the ladder that was ever used.

import { contentOffsetOf, createLineAligned, LEAD_BYTES } from '../line-aligned.js';

export const Side = { Bid: 0, Ask: 1 } as const;
export type Side = (typeof Side)[keyof typeof Side];

/** bestBid / bestAsk of an empty side, and any "no level" tick. */
export const NO_TICK = -1;

/**
 * Flags of a book as readers see them: the low byte is derived at read time,
 * the rest is status the writer sets (BookWriter.setStatus).
 */
export const BookFlag = {
  BidEmpty: 1,
  AskEmpty: 2,
  /** Best bid >= best ask. */
  Crossed: 4,
  /** Writer: the feed behind this book is stale (no update within its deadline). */
  Stale: 1 << 8,
  /** Writer: a gap was detected; the book waits for a snapshot. */
  Resyncing: 1 << 9,
} as const;
export const DERIVED_FLAGS_MASK = 0xff;

export const Venue = { Polymarket: 1, Binance: 2 } as const;
export type Venue = (typeof Venue)[keyof typeof Venue];

const MAGIC = 0x424f4f4b; // "BOOK"
const VERSION = 2;
const SET_HEADER_BYTES = 64;
const S_MAGIC = 0;
const S_VERSION = 1;
const S_VENUE = 2;
const S_BOOKS = 3;
const S_LEVELS = 4;
const S_MASK = 5;
const S_REGION_BYTES = 6;

// Book header, Int32 offsets from the book's i32 base.
export const B_SEQ = 0;
export const B_BEST_BID = 1;
export const B_BEST_ASK = 2;
export const B_WIN_LO = 3;
export const B_WIN_HI = 4;
/** Tick size in grid ticks: the venue's current price increment. */
export const B_TICK_SIZE = 5;
export const B_STATUS = 6;
/** Non-empty level count, + side. */
export const B_LEVELS = 7;
/** Extent low / high, + 2 * side. */
export const B_EXT_LO = 9;
export const B_EXT_HI = 10;

// Book metadata, Float64 offsets from the book's f64 base.
/** CLOCK_MONOTONIC ns of the last applied update. */
export const BF_LAST_UPDATE_NS = 8;
/** Venue timestamp (Unix ms) of the last applied update. */
export const BF_EXCH_TS_MS = 9;
/** Price of one grid tick in quote units (1e-4 for Polymarket). */
export const BF_TICK_VALUE = 10;
/** Non-empty levels discarded because they fell outside the window. */
export const BF_DROPPED_LEVELS = 11;
export const BF_RECENTERS = 12;
/** First bid level; asks follow `levels` later. */
export const BF_LEVELS = 16;

export interface BookSetShape {
  venue: Venue;
  books: number;
  levels: number;
  /** index = tick & mask; mask + 1 is a power of two >= levels. */
  mask: number;
}

export class BookSet {
  readonly sab: SharedArrayBuffer;
  /** Views from the set's start; book fields are at i32Base(b) + B_* and f64Base(b) + BF_*. */
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly venue: Venue;
  readonly books: number;
  readonly levels: number;
  readonly mask: number;
  readonly regionBytes: number;

  static byteLength(books: number, levels: number): number {
    return LEAD_BYTES + SET_HEADER_BYTES + books * regionBytesFor(levels);
  }

  /** A zeroed set: every book empty, window and tick metadata left to the venue module. */
  static create(shape: BookSetShape): BookSet {
    const { venue, books, levels, mask } = shape;
    if (!Number.isInteger(books) || books < 1) throw new RangeError(`BookSet: books must be a positive integer, got ${books}`);
    if (!Number.isInteger(levels) || levels < 2) throw new RangeError(`BookSet: levels must be an integer >= 2, got ${levels}`);
    if (!Number.isInteger(mask) || ((mask + 1) & mask) !== 0 || mask + 1 < levels) {
      throw new RangeError(`BookSet: mask + 1 must be a power of two >= levels, got mask ${mask} for ${levels} levels`);
    }
    const { sab, contentAt } = createLineAligned(SET_HEADER_BYTES + books * regionBytesFor(levels));
    const h = new Int32Array(sab, contentAt, SET_HEADER_BYTES / 4);
    h[S_VERSION] = VERSION;
    h[S_VENUE] = venue;
    h[S_BOOKS] = books;
    h[S_LEVELS] = levels;
    h[S_MASK] = mask;
    h[S_REGION_BYTES] = regionBytesFor(levels);
    Atomics.store(h, S_MAGIC, MAGIC);
    const set = new BookSet(sab, venue);
    for (let b = 0; b < books; b++) {
      set.i32[set.i32Base(b) + B_BEST_BID] = NO_TICK;
      set.i32[set.i32Base(b) + B_BEST_ASK] = NO_TICK;
    }
    return set;
  }

  /** Opens a set created on another thread; `venue` guards against mixing up buffers. */
  static attach(sab: SharedArrayBuffer, venue: Venue): BookSet {
    if (!(sab instanceof SharedArrayBuffer)) throw new TypeError('BookSet.attach: expected a SharedArrayBuffer');
    return new BookSet(sab, venue);
  }

  private constructor(sab: SharedArrayBuffer, venue: Venue) {
    if (sab.byteLength < LEAD_BYTES + SET_HEADER_BYTES) throw new RangeError(`BookSet.attach: buffer of ${sab.byteLength} B is too small`);
    const at = contentOffsetOf(sab);
    if (at === undefined) throw new Error('BookSet.attach: buffer is not a book set (bad set offset)');
    const h = new Int32Array(sab, at, SET_HEADER_BYTES / 4);
    if (Atomics.load(h, S_MAGIC) !== MAGIC) throw new Error('BookSet.attach: buffer is not a book set (bad magic)');
    if (h[S_VERSION] !== VERSION) throw new Error(`BookSet.attach: layout version ${h[S_VERSION]}, this build reads ${VERSION}`);
    if (h[S_VENUE] !== venue) throw new Error(`BookSet.attach: buffer holds venue ${h[S_VENUE]} books, expected ${venue}`);
    this.books = h[S_BOOKS]!;
    this.levels = h[S_LEVELS]!;
    this.mask = h[S_MASK]!;
    this.regionBytes = h[S_REGION_BYTES]!;
    if (this.regionBytes !== regionBytesFor(this.levels) || sab.byteLength !== BookSet.byteLength(this.books, this.levels)) {
      throw new Error(`BookSet.attach: header says ${this.books} books x ${this.levels} levels but the buffer is ${sab.byteLength} B`);
    }
    this.sab = sab;
    this.venue = venue;
    this.i32 = new Int32Array(sab, at);
    this.f64 = new Float64Array(sab, at);
  }

  /** Index of book b's Int32 header in `i32`. */
  i32Base(book: number): number {
    return (SET_HEADER_BYTES + book * this.regionBytes) / 4;
  }

  /** Index of book b's Float64 region start in `f64`. */
  f64Base(book: number): number {
    return (SET_HEADER_BYTES + book * this.regionBytes) / 8;
  }

  checkBook(book: number): void {
    if (!(book >= 0 && book < this.books) || (book | 0) !== book) throw new RangeError(`book index ${book} outside [0, ${this.books})`);
  }
}

function regionBytesFor(levels: number): number {
  return Math.ceil((BF_LEVELS * 8 + 2 * levels * 8) / 64) * 64;
}
