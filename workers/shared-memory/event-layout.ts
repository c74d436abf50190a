// workers/shared-memory/ holds the contracts between threads (this ring, the
// event record, the book layout and its seqlock): feed workers, the main
// thread and the native relay thread (native/src/relay_recv.rs) all obey them,
// and engine/feeds/relay/ring-layout.test.ts checks the Rust side's compiled
// offsets against these definitions.
//
// The market-data event record: one fixed 64-byte slot per event, the unit
// that feed workers publish through a Ring to the main thread. Every byte
// offset is named here and nowhere else.
//
//  byte 0         8         16        24        32        40        48 49 50 51 52        56        60      64
//       | recvNs  | exchTsMs| seq     | size    | aux0    | aux1    |k |f |s |r | token   | price   | price2 |
//         f64       f64       f64       f64       f64       f64      u8 u8 u8 u8  i32       i32       i32
//
// r (byte 51) belongs to the ring: its per-slot publication stamp
// (workers/shared-memory/ring.ts). Record writers never touch it; s is the source index.
//
// 64 bytes is one cache line, so a record never straddles two lines and the
// consumer pulls exactly one line per event. Float64 fields come first so
// every field is naturally aligned for its view.
//
// Numbers and units:
// - recvNs: CLOCK_MONOTONIC ns when the bytes arrived (Number(native.nowNs())),
//   exact while below 2^53 ns (104 days of uptime).
// - exchTsMs: venue timestamp, Unix ms.
// - seq: venue sequence / update id (Binance `u`), exact below 2^53; NaN
//   when the venue sends none.
// - price, price2: integer ticks on the grid of (source, token); Polymarket
//   uses the 1e-4 grid (0..10 000). Int32 so every grid must fit 2^31 ticks.
// - size and aux*: per kind, see EventKind.

/** Bytes per record; a power of two so slot offsets are shifts. */
export const EVENT_BYTES = 64;

// Strides: how many elements of each view one record spans.
export const EVENT_F64_STRIDE = EVENT_BYTES / 8;
export const EVENT_I32_STRIDE = EVENT_BYTES / 4;
export const EVENT_U8_STRIDE = EVENT_BYTES;

// Field positions inside one record, in elements of the view that reads them
// (byte offset / element size).
export const F64_RECV_NS = 0; // byte 0
export const F64_EXCH_TS_MS = 1; // byte 8
export const F64_SEQ = 2; // byte 16
export const F64_SIZE = 3; // byte 24
export const F64_AUX0 = 4; // byte 32
export const F64_AUX1 = 5; // byte 40
export const U8_KIND = 48; // byte 48
export const U8_FLAGS = 49; // byte 49
export const U8_SOURCE = 50; // byte 50
/** The ring's stamp byte in an event record (see workers/shared-memory/ring.ts). */
export const EVENT_STAMP_BYTE = 51;
/** Source indices fit the one byte the record gives them. */
export const MAX_SOURCES = 256;
export const I32_TOKEN = 13; // byte 52
export const I32_PRICE = 14; // byte 56
export const I32_PRICE2 = 15; // byte 60

/** Why a feed resynced a book: aux0 of EventKind.Resync. */
export const ResyncReason = {
  /** The connection carrying the token dropped. */
  Down: 1,
  /** The book was crossed after a message. */
  Crossed: 2,
  /** The book's best bid / ask disagreed with the venue's. */
  Mismatch: 3,
  /** tick_size_change: the venue re-quotes the book on the new grid. */
  TickSize: 4,
  /** An update id chain broke (Binance U/u/pu): updates were lost. */
  Gap: 5,
  /** A token was assigned to the (Polymarket) book slot: the book is rebuilt for it. */
  Assigned: 6,
  /** The slot's token was released: the book stays empty and gated until the next assign. */
  Released: 7,
} as const;
export type ResyncReason = (typeof ResyncReason)[keyof typeof ResyncReason];

/**
 * What a record means, and what its payload fields hold. Fields not listed
 * for a kind are unspecified (writers leave whatever was in the slot).
 */
export const EventKind = {
  /** Never published; a zeroed slot. */
  None: 0,
  /** A full book follows as LevelUpdate records with Flag.Snapshot. seq = snapshot update id. */
  BookSnapshotBegin: 1,
  /** The snapshot started by the last BookSnapshotBegin of this token is complete. */
  BookSnapshotEnd: 2,
  /** price = level; size = absolute size at that level (shares / base qty), 0 removes; Flag.Ask for the ask side. */
  LevelUpdate: 3,
  /** price; size = traded qty; Flag.Ask when the aggressor sold. aux0 = venue trade id when numeric. */
  Trade: 4,
  /** price = best bid, price2 = best ask; size = bid size, aux0 = ask size. */
  BestBidAsk: 5,
  /** price = new tick size in grid ticks (100 = 0.01 on the 1e-4 grid), price2 = previous. */
  TickSizeChange: 6,
  /**
   * Reference price from another venue or oracle (RTDS, the UDP relay):
   * aux0 = bid, aux1 = ask as float64 in the quote currency (both equal the
   * one value when the source publishes a single price, so mid is always
   * (aux0 + aux1) / 2); token = the source's symbol index; seq = the source's
   * sequence number or NaN. Floats, not ticks: these are signals, never
   * amounts, and Chainlink prints more decimals than any int32 grid holds.
   * UDP relay records (engine/feeds/relay/source.ts) keep the packet's float64
   * bid/ask bit for bit and add: token = the frame's stream; seq NaN = a
   * legacy 24-byte packet; size = one-way latency ns (sender CLOCK_REALTIME
   * send stamp -> receiver CLOCK_REALTIME at receipt); price / price2 = the
   * send stamp, exact, as whole Unix seconds (u32: read with >>> 0) / the
   * nanoseconds past them. Other sources leave size, price, price2 unspecified.
   */
  ExternalPrice: 7,
  /** aux0 = annualised volatility as a fraction (0.6 = 60 %), aux1 = estimation horizon in seconds. */
  Volatility: 8,
  /** price; size = liquidated qty; Flag.Ask when the liquidated order sold. */
  Liquidation: 9,
  /** The token's book must be dropped and rebuilt from the next snapshot. aux0 = reason code. */
  Resync: 10,
  /** Sequence gap: seq = first missing id, aux0 = last id received before it. */
  Gap: 11,
  /** Feed status change: aux0 = status code of the source (connected, stale, ...). */
  Status: 12,
} as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

/** Bits of the flags byte. */
export const Flag = {
  /** Side: set = ask / sell, clear = bid / buy. */
  Ask: 1,
  /** The record is part of a snapshot (between Begin and End). */
  Snapshot: 2,
  /** Last record produced from one venue message: a natural batch boundary for the book writer. */
  LastInMessage: 4,
} as const;

/** A decoded record: the scratch object that read/write copy through. */
export interface EventRecord {
  kind: number;
  flags: number;
  source: number;
  token: number;
  recvNs: number;
  exchTsMs: number;
  seq: number;
  price: number;
  price2: number;
  size: number;
  aux0: number;
  aux1: number;
}

/** A zeroed scratch record; allocate once, reuse for every event. */
export function newEventRecord(): EventRecord {
  return { kind: 0, flags: 0, source: 0, token: 0, recvNs: 0, exchTsMs: 0, seq: 0, price: 0, price2: 0, size: 0, aux0: 0, aux1: 0 };
}

/**
 * Typed-array views over `records` consecutive event slots starting at
 * `byteOffset` of a buffer (a Ring's data region). Hot loops may index the
 * views directly: field F of slot s is `view[s * STRIDE + F]`.
 */
export class EventViews {
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
  readonly records: number;

  constructor(buffer: ArrayBufferLike, byteOffset: number, records: number) {
    if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset % 8 !== 0) {
      throw new RangeError(`EventViews: byteOffset must be a non-negative multiple of 8, got ${byteOffset}`);
    }
    if (!Number.isInteger(records) || records < 1 || byteOffset + records * EVENT_BYTES > buffer.byteLength) {
      throw new RangeError(`EventViews: ${records} records of ${EVENT_BYTES} B at ${byteOffset} do not fit a ${buffer.byteLength} B buffer`);
    }
    this.records = records;
    this.f64 = new Float64Array(buffer, byteOffset, records * EVENT_F64_STRIDE);
    this.i32 = new Int32Array(buffer, byteOffset, records * EVENT_I32_STRIDE);
    this.u8 = new Uint8Array(buffer, byteOffset, records * EVENT_U8_STRIDE);
  }

  /** Copies `e` into slot `slot`. Integer fields are truncated to their width. */
  write(slot: number, e: EventRecord): void {
    const f = slot * EVENT_F64_STRIDE;
    const i = slot * EVENT_I32_STRIDE;
    const b = slot * EVENT_U8_STRIDE;
    this.f64[f + F64_RECV_NS] = e.recvNs;
    this.f64[f + F64_EXCH_TS_MS] = e.exchTsMs;
    this.f64[f + F64_SEQ] = e.seq;
    this.f64[f + F64_SIZE] = e.size;
    this.f64[f + F64_AUX0] = e.aux0;
    this.f64[f + F64_AUX1] = e.aux1;
    this.u8[b + U8_KIND] = e.kind;
    this.u8[b + U8_FLAGS] = e.flags;
    this.u8[b + U8_SOURCE] = e.source;
    this.i32[i + I32_TOKEN] = e.token;
    this.i32[i + I32_PRICE] = e.price;
    this.i32[i + I32_PRICE2] = e.price2;
  }

  /** Copies slot `slot` into `out` and returns it. */
  read(slot: number, out: EventRecord): EventRecord {
    const f = slot * EVENT_F64_STRIDE;
    const i = slot * EVENT_I32_STRIDE;
    const b = slot * EVENT_U8_STRIDE;
    out.recvNs = this.f64[f + F64_RECV_NS]!;
    out.exchTsMs = this.f64[f + F64_EXCH_TS_MS]!;
    out.seq = this.f64[f + F64_SEQ]!;
    out.size = this.f64[f + F64_SIZE]!;
    out.aux0 = this.f64[f + F64_AUX0]!;
    out.aux1 = this.f64[f + F64_AUX1]!;
    out.kind = this.u8[b + U8_KIND]!;
    out.flags = this.u8[b + U8_FLAGS]!;
    out.source = this.u8[b + U8_SOURCE]!;
    out.token = this.i32[i + I32_TOKEN]!;
    out.price = this.i32[i + I32_PRICE]!;
    out.price2 = this.i32[i + I32_PRICE2]!;
    return out;
  }

  kind(slot: number): number {
    return this.u8[slot * EVENT_U8_STRIDE + U8_KIND]!;
  }

  seq(slot: number): number {
    return this.f64[slot * EVENT_F64_STRIDE + F64_SEQ]!;
  }
}
