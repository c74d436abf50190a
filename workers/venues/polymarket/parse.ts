// Polymarket CLOB market-channel frame parser (protocols.md §2).
//
// Bytes in, numeric callbacks out, no JSON.parse and no per-message
// allocation on the book path. A frame is scanned once: field spans and parsed
// levels go into preallocated typed arrays, and events are delivered only
// after the whole frame has been validated, so a corrupt frame never leaves a
// half-applied book behind. Buffering is also what lets `timestamp` come after
// the level arrays, as it does on the wire.
import { f64Out, parseFloat64Into, parseTicks, parseUintInto } from '../../parse/decimal.js';
import {
  frameOutcome,
  grown,
  IdTable,
  Status,
  T_ABSENT,
  T_ARRAY,
  T_NULL,
  T_NUMBER,
  T_STRING,
  forEachObject,
  scanOut,
  scanString,
  scanStringHash,
  scanStringSwar,
  skipValue,
  skipWs,
  valueType,
  worse,
} from '../../parse/json.js';
import { Side as BookSide } from '../../shared-memory/book-layout.js';
import { PRICE_SCALE } from '../../../engine/trading/types.js';

/** Prices leave the parser as integer ticks on the 10^-PRICE_EXP grid: 0.55 → 5500. */
export const PRICE_EXP = 4;
/** Price 1.0 in ticks (the trading grid, 10^PRICE_EXP); prices outside [0, MAX_PRICE_TICKS] are rejected. */
export const MAX_PRICE_TICKS = PRICE_SCALE;

/** Book side codes (workers/shared-memory/book-layout.ts Side): BUY levels are bids, SELL levels are asks. */
export const BID = BookSide.Bid;
export const ASK = BookSide.Ask;
/** Trade side when the venue omitted it. */
export const NO_SIDE = -1;

export const MarketEventKind = { NEW_MARKET: 0, MARKET_RESOLVED: 1 } as const;

/**
 * Receives parsed market-channel events. All numbers: token = index given at
 * registration, side = BID/ASK, prices in ticks (NaN when the venue left the
 * field out or empty), sizes in shares (float64), times in Unix ms.
 */
export interface PolymarketSink {
  /** A `book` snapshot starts: drop both sides of this token's book. */
  onBookBegin(token: number, tsMs: number): void;
  /** One level of the snapshot (size 0 possible), in wire order: all bids, then all asks. */
  onLevel(token: number, side: number, priceTicks: number, size: number): void;
  onBookEnd(token: number): void;
  /** New absolute size at one level (0 = remove), and the venue's best bid/ask after it. */
  onPriceChange(
    token: number,
    side: number,
    priceTicks: number,
    size: number,
    bestBidTicks: number,
    bestAskTicks: number,
    tsMs: number,
  ): void;
  onTickSize(token: number, newTickTicks: number, oldTickTicks: number, tsMs: number): void;
  /** `last_trade_price`; side is BID (BUY), ASK (SELL) or NO_SIDE, size NaN if absent. */
  onTrade(token: number, side: number, priceTicks: number, size: number, tsMs: number): void;
  onBestBidAsk(token: number, bestBidTicks: number, bestAskTicks: number, tsMs: number): void;
  /** Rare control-plane events (`new_market`, `market_resolved`) as their JSON text. */
  onMarketEvent(kind: number, json: string): void;
}

export interface PolymarketCounters {
  frames: number;
  /** Frames whose status was OK. */
  ok: number;
  empty: number;
  pong: number;
  malformed: number;
  /** Events dropped for a missing / mistyped / unparsable field. */
  badField: number;
  unknownEvent: number;
  /** Events or price_change entries dropped because the token was not registered. */
  unknownToken: number;
  books: number;
  levels: number;
  priceChanges: number;
  tickSizes: number;
  trades: number;
  bestBidAsks: number;
  marketEvents: number;
}

// Keys the parser looks at; everything else is validated and skipped.
const K_EVENT_TYPE = 0;
const K_ASSET_ID = 1;
const K_TIMESTAMP = 2;
const K_PRICE = 3;
const K_SIZE = 4;
const K_SIDE = 5;
const K_BEST_BID = 6;
const K_BEST_ASK = 7;
const K_BIDS = 8;
const K_ASKS = 9;
const K_PRICE_CHANGES = 10;
const K_CHANGES = 11;
const K_NEW_TICK = 12;
const K_OLD_TICK = 13;
const K_TICK_SIZE = 14;
const NK = 15;
// Keys after the first NK are known only so that the key predictor can match
// them without hashing; their values are skipped.
const KEYS = new IdTable([
  'event_type',
  'asset_id',
  'timestamp',
  'price',
  'size',
  'side',
  'best_bid',
  'best_ask',
  'bids',
  'asks',
  'price_changes',
  'changes',
  'new_tick_size',
  'old_tick_size',
  'tick_size',
  'market',
  'hash',
  'fee_rate_bps',
  'last_trade_price',
  'spread',
  'transaction_hash',
]);
const NKEYS = KEYS.size;

/** Key id decoded by keyAt(); a module slot rather than a returned pair, so nothing is allocated. */
let keyOut = -1;

/**
 * Reads the key whose opening quote is at b[i] and returns the index after
 * its closing quote (keyOut = key id, -1 if not in KEYS), or -1 if invalid.
 * Objects of one kind repeat their key order, so pred[prev + 1] remembers
 * which key followed `prev` last time; confirming that guess is one byte
 * compare per character, with no hashing and no table probe.
 */
function keyAt(b: Uint8Array, dv: DataView, i: number, end: number, pred: Int8Array, prev: number): number {
  const guess = pred[prev + 1]!;
  const j = KEYS.matchSwar(b, dv, i + 1, end, guess);
  if (j >= 0) {
    keyOut = guess;
    return j;
  }
  const k = scanStringHash(b, i + 1, end);
  if (k < 0) return -1;
  keyOut = KEYS.find(b, i + 1, scanOut[0]!, scanOut[1]!);
  pred[prev + 1] = keyOut;
  return k;
}

// Object kinds in the per-frame queue.
const E_BOOK = 0;
const E_PRICE_CHANGE = 1;
const E_TICK = 2;
const E_TRADE = 3;
const E_BBA = 4;
const E_NEW_MARKET = 5;
const E_RESOLVED = 6;
const E_UNKNOWN = 7;
const E_BAD = 8;
const EVENTS = new IdTable([
  'book',
  'price_change',
  'tick_size_change',
  'last_trade_price',
  'best_bid_ask',
  'new_market',
  'market_resolved',
]);

/** Token index of an entry that carries no asset_id of its own (2025 `changes[]` shape). */
const INHERIT = -2;

const utf8 = new TextDecoder();

/** 1 = BUY, 2 = SELL, 0 = anything else. */
function sideCode(b: Uint8Array, s: number, e: number): number {
  if (e - s === 3 && b[s] === 0x42 && b[s + 1] === 0x55 && b[s + 2] === 0x59) return 1;
  if (e - s === 4 && b[s] === 0x53 && b[s + 1] === 0x45 && b[s + 2] === 0x4c && b[s + 3] === 0x4c) return 2;
  return 0;
}

const FRAC_SCALE = [0, 0, 0, 1000, 100, 10, 1];

function priceAt(b: Uint8Array, s: number, e: number): number {
  // The venue writes almost every price as "0.d" … "0.dddd": take those
  // without the general grammar walk (same result, a third of the work).
  const n = e - s;
  if (n >= 3 && n <= 6 && b[s] === 0x30 && b[s + 1] === 0x2e) {
    let v = 0;
    for (let i = s + 2; i < e; i++) {
      const d = b[i]! - 0x30;
      if (d < 0 || d > 9) return NaN;
      v = v * 10 + d;
    }
    return v * FRAC_SCALE[n]!;
  }
  const t = parseTicks(b, s, e, PRICE_EXP);
  return t >= 0 && t <= MAX_PRICE_TICKS ? t : NaN;
}

/**
 * 1 if b[s, e) is a valid size (finite, >= 0), left in f64Out[0]; else 0.
 * Through a typed array, not a return value: a float64 returned from a call
 * V8 does not inline is boxed, and that was the parser's last allocation.
 */
function sizeOk(b: Uint8Array, s: number, e: number): number {
  if (parseFloat64Into(b, s, e) === 0) return 0;
  const v = f64Out[0]!;
  return v >= 0 && v < Infinity ? 1 : 0;
}

/** Optional price: absent, null or "" → NaN (not an error); -1 if present but invalid. */
function optPrice(b: Uint8Array, type: number, s: number, e: number): number {
  if (type === T_ABSENT || type === T_NULL || (type === T_STRING && s === e)) return NaN;
  if (type !== T_STRING) return -1;
  const t = priceAt(b, s, e);
  return t === t ? t : -1;
}

/**
 * One parser per connection (the key and token predictors learn that
 * connection's message shapes). Not re-entrant: a sink must not call parse()
 * from inside a callback.
 */
export class PolymarketParser {
  readonly tokens: IdTable;
  /**
   * Snapshot mode when >= 0: the frame must be one `GET /book` response body
   * (protocols.md §6.1: no event_type) for this token index. It is delivered
   * as a book (onBookBegin, onLevel..., onBookEnd); an asset_id in the body
   * must name the same token, and anything else (an event, an array, an
   * invalid tick_size) makes it BAD_FIELD with nothing delivered.
   * -1 (default): market-channel frames.
   */
  snapshotToken = -1;
  /**
   * `tick_size` of the book being delivered, in ticks (100 = 0.01), NaN when
   * absent; valid from onBookBegin to onBookEnd. On a market-channel `book`
   * an unparsable tick_size only reads as NaN: it is metadata, and the levels
   * are still good.
   */
  bookTickTicks = NaN;
  readonly counters: PolymarketCounters = {
    frames: 0,
    ok: 0,
    empty: 0,
    pong: 0,
    malformed: 0,
    badField: 0,
    unknownEvent: 0,
    unknownToken: 0,
    books: 0,
    levels: 0,
    priceChanges: 0,
    tickSizes: 0,
    trades: 0,
    bestBidAsks: 0,
    marketEvents: 0,
  };

  // Top-level fields of the object being scanned.
  private readonly tType = new Uint8Array(NK);
  private readonly tStart = new Int32Array(NK);
  private readonly tEnd = new Int32Array(NK);
  private readonly aStart = new Int32Array(NK);
  private readonly aEnd = new Int32Array(NK);
  private readonly aOk = new Uint8Array(NK);

  // Levels and price_change entries of the whole frame.
  private nLv = 0;
  private lvTok = new Int32Array(256);
  private lvSide = new Int8Array(256);
  private lvPx = new Float64Array(256);
  private lvSz = new Float64Array(256);
  private lvBb = new Float64Array(256);
  private lvBa = new Float64Array(256);

  // One record per object of the frame, delivered after the frame validates.
  private nObj = 0;
  private oKind = new Int8Array(16);
  private oTok = new Int32Array(16);
  private oTs = new Float64Array(16);
  private oA = new Float64Array(16);
  private oB = new Float64Array(16);
  private oC = new Float64Array(16);
  private oL0 = new Int32Array(16);
  private oL1 = new Int32Array(16);
  private oL2 = new Int32Array(16);
  private oL3 = new Int32Array(16);

  private buf: Uint8Array = new Uint8Array(0);
  // Frames are copied here first (one memcpy, ~30 ns for a price_change) so
  // the scanner can read four bytes at a time through a DataView it owns,
  // instead of creating a view per frame.
  private scratch = new Uint8Array(4096);
  private dv = new DataView(this.scratch.buffer);

  // Key-order predictors (see keyAt) for event objects, level objects and price_change entries.
  private readonly predTop = new Int8Array(NKEYS + 1).fill(-1);
  private readonly predLevel = new Int8Array(NKEYS + 1).fill(-1);
  private readonly predEntry = new Int8Array(NKEYS + 1).fill(-1);
  // Token predictor: slot 0 for the event's asset_id, 1 + (entry & 7) for price_change entries.
  private readonly predTok = new Int32Array(9).fill(-1);
  /** Token index decoded by tokenAt(). */
  private tokOut = -1;
  /** Token of the current event object's asset_id (when it is a string). */
  private topTok = -1;
  /** EVENTS entry of the current object's event_type (-1 unknown), and the last one seen. */
  private evOut = -1;
  private predEvent = -1;

  private readonly scanTopFn: (b: Uint8Array, i: number, end: number) => number;

  constructor(
    private readonly sink: PolymarketSink,
    tokens?: IdTable,
  ) {
    this.tokens = tokens ?? new IdTable();
    this.scanTopFn = (b, i, end) => this.scanTop(b, i, end);
  }

  /** Maps a token id (decimal string) to `index` (or the next free one); call at subscription. */
  registerToken(assetId: string, index?: number): number {
    return this.tokens.register(assetId, index);
  }

  unregisterToken(assetId: string): boolean {
    return this.tokens.unregister(assetId);
  }

  /** Parses one frame, delivers its events to the sink and returns a Status code. Never throws on bad input. */
  parse(frame: Uint8Array, start = 0, end = frame.length): number {
    const c = this.counters;
    c.frames++;
    if (!(start >= 0 && end <= frame.length && start <= end)) {
      c.malformed++;
      return Status.MALFORMED;
    }
    const n = end - start;
    if (n > this.scratch.length) {
      let cap = this.scratch.length;
      while (cap < n) cap *= 2;
      this.scratch = new Uint8Array(cap);
      this.dv = new DataView(this.scratch.buffer);
    }
    const b = this.scratch;
    b.set(start === 0 && end === frame.length ? frame : frame.subarray(start, end));
    start = 0;
    end = n;
    this.buf = b;
    this.nObj = 0;
    this.nLv = 0;
    const r = forEachObject(b, start, end, this.scanTopFn);
    const outcome = frameOutcome(r, c);
    if (outcome !== Status.OK) return outcome;
    if (this.snapshotToken >= 0 && (r !== 1 || b[skipWs(b, start, end)] !== 0x7b || this.oKind[0] !== E_BOOK)) {
      c.badField++;
      return Status.BAD_FIELD;
    }
    const status = this.emit();
    if (status === Status.OK) c.ok++;
    return status;
  }

  /** i after '{' of a top-level event object; returns the index after '}' or -1. */
  private scanTop(b: Uint8Array, i: number, end: number): number {
    const objStart = i - 1;
    const tType = this.tType;
    for (let k = 0; k < NK; k++) tType[k] = T_ABSENT;
    let key = -1;
    i = skipWs(b, i, end);
    if (i < end && b[i] === 0x7d) {
      i++;
    } else {
      for (;;) {
        if (i >= end || b[i] !== 0x22) return -1;
        i = keyAt(b, this.dv, i, end, this.predTop, key);
        if (i < 0) return -1;
        key = keyOut;
        i = skipWs(b, i, end);
        if (i >= end || b[i] !== 0x3a) return -1;
        i = skipWs(b, i + 1, end);
        if (i >= end) return -1;
        if (key < 0 || key >= NK) {
          i = b[i] === 0x22 ? scanStringSwar(b, this.dv, i + 1, end) : skipValue(b, i, end, 1);
        } else {
          const t = valueType(b[i]!);
          tType[key] = t;
          if (t === T_STRING) {
            const s = i + 1;
            if (key === K_ASSET_ID) {
              i = this.tokenAt(b, s, end, 0);
              this.topTok = this.tokOut;
            } else if (key === K_EVENT_TYPE) {
              // Like keys, event types repeat: confirm last frame's before hashing.
              const j = EVENTS.matchSwar(b, this.dv, s, end, this.predEvent);
              if (j >= 0) {
                i = j;
                scanOut[0] = j - 1;
                this.evOut = this.predEvent;
              } else {
                i = scanStringHash(b, s, end);
                this.evOut = i < 0 ? -1 : EVENTS.find(b, s, scanOut[0]!, scanOut[1]!);
                if (this.evOut >= 0) this.predEvent = this.evOut;
              }
            } else {
              i = scanStringSwar(b, this.dv, s, end);
            }
            this.tStart[key] = s;
            this.tEnd[key] = scanOut[0]!;
          } else if (t === T_ARRAY && (key === K_BIDS || key === K_ASKS)) {
            i = this.scanLevels(b, i + 1, end, key, key === K_BIDS ? BID : ASK);
          } else if (t === T_ARRAY && (key === K_PRICE_CHANGES || key === K_CHANGES)) {
            i = this.scanEntries(b, i + 1, end, key);
          } else {
            const s = i;
            i = skipValue(b, i, end, 1);
            this.tStart[key] = s;
            this.tEnd[key] = i;
          }
        }
        if (i < 0) return -1;
        i = skipWs(b, i, end);
        if (i >= end) return -1;
        const d = b[i]!;
        if (d === 0x7d) {
          i++;
          break;
        }
        if (d !== 0x2c) return -1;
        i = skipWs(b, i + 1, end);
      }
    }
    this.commit(b, objStart, i);
    return i;
  }

  /** `bids`/`asks`: [{price, size}, ...]. i after '['. */
  private scanLevels(b: Uint8Array, i: number, end: number, key: number, side: number): number {
    this.aStart[key] = this.nLv;
    let ok = 1;
    i = skipWs(b, i, end);
    if (i < end && b[i] === 0x5d) {
      i++;
    } else {
      for (;;) {
        if (i >= end) return -1;
        if (b[i] !== 0x7b) {
          ok = 0;
          i = skipValue(b, i, end, 2);
        } else {
          i = skipWs(b, i + 1, end);
          let pT = T_ABSENT;
          let pS = 0;
          let pE = 0;
          let sT = T_ABSENT;
          let sS = 0;
          let sE = 0;
          let k = -1;
          if (i < end && b[i] === 0x7d) {
            i++;
          } else {
            for (;;) {
              if (i >= end || b[i] !== 0x22) return -1;
              i = keyAt(b, this.dv, i, end, this.predLevel, k);
              if (i < 0) return -1;
              k = keyOut;
              i = skipWs(b, i, end);
              if (i >= end || b[i] !== 0x3a) return -1;
              i = skipWs(b, i + 1, end);
              if (i >= end) return -1;
              const vt = valueType(b[i]!);
              if ((k === K_PRICE || k === K_SIZE) && vt === T_STRING) {
                const s = i + 1;
                i = scanString(b, s, end);
                if (k === K_PRICE) {
                  pT = vt;
                  pS = s;
                  pE = scanOut[0]!;
                } else {
                  sT = vt;
                  sS = s;
                  sE = scanOut[0]!;
                }
              } else {
                if (k === K_PRICE) pT = vt;
                else if (k === K_SIZE) sT = vt;
                i = skipValue(b, i, end, 3);
              }
              if (i < 0) return -1;
              i = skipWs(b, i, end);
              if (i >= end) return -1;
              const d = b[i]!;
              if (d === 0x7d) {
                i++;
                break;
              }
              if (d !== 0x2c) return -1;
              i = skipWs(b, i + 1, end);
            }
          }
          const px = pT === T_STRING ? priceAt(b, pS, pE) : NaN;
          if (px === px && sT === T_STRING && sizeOk(b, sS, sE) === 1) {
            const n = this.nLv;
            if (n === this.lvPx.length) this.growLevels();
            this.lvSide[n] = side;
            this.lvPx[n] = px;
            this.lvSz[n] = f64Out[0]!;
            this.nLv = n + 1;
          } else {
            ok = 0;
          }
        }
        if (i < 0) return -1;
        i = skipWs(b, i, end);
        if (i >= end) return -1;
        const d = b[i]!;
        if (d === 0x5d) {
          i++;
          break;
        }
        if (d !== 0x2c) return -1;
        i = skipWs(b, i + 1, end);
      }
    }
    this.aEnd[key] = this.nLv;
    this.aOk[key] = ok;
    return i;
  }

  /** `price_changes` / `changes`: [{asset_id?, price, size, side, best_bid?, best_ask?, ...}]. i after '['. */
  private scanEntries(b: Uint8Array, i: number, end: number, key: number): number {
    this.aStart[key] = this.nLv;
    let ok = 1;
    let entry = 0;
    i = skipWs(b, i, end);
    if (i < end && b[i] === 0x5d) {
      i++;
    } else {
      for (;; entry++) {
        if (i >= end) return -1;
        if (b[i] !== 0x7b) {
          ok = 0;
          i = skipValue(b, i, end, 2);
        } else {
          i = skipWs(b, i + 1, end);
          let aT = T_ABSENT;
          let pT = T_ABSENT;
          let pS = 0;
          let pE = 0;
          let sT = T_ABSENT;
          let sS = 0;
          let sE = 0;
          let dT = T_ABSENT;
          let dS = 0;
          let dE = 0;
          let bbT = T_ABSENT;
          let bbS = 0;
          let bbE = 0;
          let baT = T_ABSENT;
          let baS = 0;
          let baE = 0;
          let k = -1;
          let entTok = -1;
          if (i < end && b[i] === 0x7d) {
            i++;
          } else {
            for (;;) {
              if (i >= end || b[i] !== 0x22) return -1;
              i = keyAt(b, this.dv, i, end, this.predEntry, k);
              if (i < 0) return -1;
              k = keyOut;
              i = skipWs(b, i, end);
              if (i >= end || b[i] !== 0x3a) return -1;
              i = skipWs(b, i + 1, end);
              if (i >= end) return -1;
              const vt = valueType(b[i]!);
              let s = 0;
              let e = 0;
              if (vt === T_STRING) {
                s = i + 1;
                if (k === K_ASSET_ID) {
                  i = this.tokenAt(b, s, end, 1 + (entry & 7));
                  entTok = this.tokOut;
                } else {
                  i = scanStringSwar(b, this.dv, s, end);
                }
                e = scanOut[0]!;
              } else {
                i = skipValue(b, i, end, 3);
              }
              if (i < 0) return -1;
              switch (k) {
                case K_ASSET_ID:
                  aT = vt;
                  break;
                case K_PRICE:
                  pT = vt;
                  pS = s;
                  pE = e;
                  break;
                case K_SIZE:
                  sT = vt;
                  sS = s;
                  sE = e;
                  break;
                case K_SIDE:
                  dT = vt;
                  dS = s;
                  dE = e;
                  break;
                case K_BEST_BID:
                  bbT = vt;
                  bbS = s;
                  bbE = e;
                  break;
                case K_BEST_ASK:
                  baT = vt;
                  baS = s;
                  baE = e;
                  break;
                default:
                  break;
              }
              i = skipWs(b, i, end);
              if (i >= end) return -1;
              const d = b[i]!;
              if (d === 0x7d) {
                i++;
                break;
              }
              if (d !== 0x2c) return -1;
              i = skipWs(b, i + 1, end);
            }
          }
          const px = pT === T_STRING ? priceAt(b, pS, pE) : NaN;
          const sd = dT === T_STRING ? sideCode(b, dS, dE) : 0;
          const bb = optPrice(b, bbT, bbS, bbE);
          const ba = optPrice(b, baT, baS, baE);
          const tok = aT === T_STRING ? entTok : INHERIT;
          const szOk = sT === T_STRING ? sizeOk(b, sS, sE) : 0;
          if (px === px && szOk === 1 && sd !== 0 && bb !== -1 && ba !== -1 && (aT === T_ABSENT || aT === T_STRING)) {
            const n = this.nLv;
            if (n === this.lvPx.length) this.growLevels();
            this.lvTok[n] = tok;
            this.lvSide[n] = sd === 1 ? BID : ASK;
            this.lvPx[n] = px;
            this.lvSz[n] = f64Out[0]!;
            this.lvBb[n] = bb;
            this.lvBa[n] = ba;
            this.nLv = n + 1;
          } else {
            ok = 0;
          }
        }
        if (i < 0) return -1;
        i = skipWs(b, i, end);
        if (i >= end) return -1;
        const d = b[i]!;
        if (d === 0x5d) {
          i++;
          break;
        }
        if (d !== 0x2c) return -1;
        i = skipWs(b, i + 1, end);
      }
    }
    this.aEnd[key] = this.nLv;
    this.aOk[key] = ok;
    return i;
  }

  /**
   * Scans the token id string at b[s] (after the opening quote) and resolves
   * it: tokOut = token index or -1. Returns the index after the closing quote
   * (scanOut[0] = quote index) or -1. A price_change names the same tokens in
   * the same slots frame after frame, so the id registered at that slot last
   * time is tried first with one compare pass; only a miss hashes the bytes.
   */
  private tokenAt(b: Uint8Array, s: number, end: number, slot: number): number {
    const tokens = this.tokens;
    const guess = this.predTok[slot]!;
    const j = tokens.matchSwar(b, this.dv, s, end, guess);
    if (j >= 0) {
      scanOut[0] = j - 1;
      this.tokOut = tokens.valueAt(guess);
      return j;
    }
    const i = scanStringHash(b, s, end);
    if (i < 0) return -1;
    const k = tokens.find(b, s, scanOut[0]!, scanOut[1]!);
    if (k >= 0) this.predTok[slot] = k;
    this.tokOut = k >= 0 ? tokens.valueAt(k) : -1;
    return i;
  }

  /** Writes the event's timestamp (ms) to oTs[n]; returns 0 if absent or invalid. */
  private tsInto(b: Uint8Array, n: number): number {
    const t = this.tType[K_TIMESTAMP]!;
    const s = this.tStart[K_TIMESTAMP]!;
    const e = this.tEnd[K_TIMESTAMP]!;
    let ok = 0;
    if (t === T_STRING) ok = parseUintInto(b, s, e);
    else if (t === T_NUMBER && parseFloat64Into(b, s, e) === 1) {
      const v = f64Out[0]!;
      ok = Number.isSafeInteger(v) && v >= 0 ? 1 : 0;
    }
    this.oTs[n] = ok === 1 ? f64Out[0]! : NaN;
    return ok;
  }

  private tokenField(): number {
    return this.tType[K_ASSET_ID] === T_STRING ? this.topTok : INHERIT;
  }

  /** The array under key if it is a present, fully valid array; else false. */
  private arrayOk(key: number): boolean {
    return this.tType[key] === T_ARRAY && this.aOk[key] === 1;
  }

  /** Validates the object just scanned and queues it. Never emits. */
  private commit(b: Uint8Array, objStart: number, objEnd: number): void {
    const n = this.nObj;
    if (n === this.oKind.length) this.growObjects();
    this.nObj = n + 1;
    const tType = this.tType;
    const tStart = this.tStart;
    const tEnd = this.tEnd;
    const snap = this.snapshotToken >= 0;
    let kind = E_UNKNOWN;
    if (snap) kind = tType[K_EVENT_TYPE] === T_ABSENT ? E_BOOK : E_BAD;
    else if (tType[K_EVENT_TYPE] === T_STRING && this.evOut >= 0) kind = EVENTS.valueAt(this.evOut);
    this.oKind[n] = kind;
    if (kind === E_UNKNOWN || kind === E_BAD) return;
    if (kind === E_NEW_MARKET || kind === E_RESOLVED) {
      this.oL0[n] = objStart;
      this.oL1[n] = objEnd;
      return;
    }
    let tok = this.tokenField();
    let bad = false;
    if (snap) {
      // The REST body names its token, if at all, only to confirm the one asked for.
      if (tType[K_ASSET_ID] !== T_ABSENT && tok !== this.snapshotToken) bad = true;
      tok = this.snapshotToken;
    }
    this.oTok[n] = tok;
    if (this.tsInto(b, n) === 0) bad = true;
    switch (kind) {
      case E_BOOK: {
        if (tok === INHERIT || !this.arrayOk(K_BIDS) || !this.arrayOk(K_ASKS)) bad = true;
        this.oL0[n] = this.aStart[K_BIDS]!;
        this.oL1[n] = this.aEnd[K_BIDS]!;
        this.oL2[n] = this.aStart[K_ASKS]!;
        this.oL3[n] = this.aEnd[K_ASKS]!;
        const tick = optPrice(b, tType[K_TICK_SIZE]!, tStart[K_TICK_SIZE]!, tEnd[K_TICK_SIZE]!);
        const tickOk = tick !== -1 && tick !== 0;
        if (snap && !tickOk) bad = true;
        this.oC[n] = tickOk ? tick : NaN;
        break;
      }
      case E_PRICE_CHANGE: {
        const listKey =
          tType[K_PRICE_CHANGES] !== T_ABSENT ? K_PRICE_CHANGES : tType[K_CHANGES] !== T_ABSENT ? K_CHANGES : -1;
        if (listKey >= 0) {
          if (!this.arrayOk(listKey)) {
            bad = true;
            break;
          }
          const from = this.aStart[listKey]!;
          const to = this.aEnd[listKey]!;
          for (let k = from; k < to; k++) {
            if (this.lvTok[k] === INHERIT) {
              if (tok === INHERIT) bad = true;
              this.lvTok[k] = tok;
            }
          }
          this.oL0[n] = from;
          this.oL1[n] = to;
        } else {
          // Oldest shape: one change flattened into the event object.
          const px = tType[K_PRICE] === T_STRING ? priceAt(b, tStart[K_PRICE]!, tEnd[K_PRICE]!) : NaN;
          const sz = tType[K_SIZE] === T_STRING && sizeOk(b, tStart[K_SIZE]!, tEnd[K_SIZE]!) === 1 ? f64Out[0]! : NaN;
          const sd = tType[K_SIDE] === T_STRING ? sideCode(b, tStart[K_SIDE]!, tEnd[K_SIDE]!) : 0;
          const bb = optPrice(b, tType[K_BEST_BID]!, tStart[K_BEST_BID]!, tEnd[K_BEST_BID]!);
          const ba = optPrice(b, tType[K_BEST_ASK]!, tStart[K_BEST_ASK]!, tEnd[K_BEST_ASK]!);
          if (px !== px || sz !== sz || sd === 0 || bb === -1 || ba === -1 || tok === INHERIT) {
            bad = true;
            break;
          }
          const k = this.nLv;
          if (k === this.lvPx.length) this.growLevels();
          this.lvTok[k] = tok;
          this.lvSide[k] = sd === 1 ? BID : ASK;
          this.lvPx[k] = px;
          this.lvSz[k] = sz;
          this.lvBb[k] = bb;
          this.lvBa[k] = ba;
          this.nLv = k + 1;
          this.oL0[n] = k;
          this.oL1[n] = k + 1;
        }
        break;
      }
      case E_TICK: {
        const nt = tType[K_NEW_TICK] === T_STRING ? priceAt(b, tStart[K_NEW_TICK]!, tEnd[K_NEW_TICK]!) : NaN;
        const ot = optPrice(b, tType[K_OLD_TICK]!, tStart[K_OLD_TICK]!, tEnd[K_OLD_TICK]!);
        if (!(nt > 0) || ot === -1 || tok === INHERIT) bad = true;
        this.oA[n] = nt;
        this.oB[n] = ot;
        break;
      }
      case E_TRADE: {
        const px = tType[K_PRICE] === T_STRING ? priceAt(b, tStart[K_PRICE]!, tEnd[K_PRICE]!) : NaN;
        const st = tType[K_SIDE]!;
        let side = NO_SIDE;
        if (st === T_STRING && tEnd[K_SIDE]! > tStart[K_SIDE]!) {
          const sd = sideCode(b, tStart[K_SIDE]!, tEnd[K_SIDE]!);
          if (sd === 0) bad = true;
          side = sd === 1 ? BID : ASK;
        } else if (st !== T_ABSENT && st !== T_NULL && st !== T_STRING) {
          bad = true;
        }
        const zt = tType[K_SIZE]!;
        let sz = NaN;
        if (zt === T_STRING && tEnd[K_SIZE]! > tStart[K_SIZE]!) {
          if (sizeOk(b, tStart[K_SIZE]!, tEnd[K_SIZE]!) === 1) sz = f64Out[0]!;
          else bad = true;
        } else if (zt !== T_ABSENT && zt !== T_NULL && zt !== T_STRING) {
          bad = true;
        }
        if (px !== px || tok === INHERIT) bad = true;
        this.oA[n] = px;
        this.oB[n] = sz;
        this.oC[n] = side;
        break;
      }
      case E_BBA: {
        const bb = optPrice(b, tType[K_BEST_BID]!, tStart[K_BEST_BID]!, tEnd[K_BEST_BID]!);
        const ba = optPrice(b, tType[K_BEST_ASK]!, tStart[K_BEST_ASK]!, tEnd[K_BEST_ASK]!);
        if (bb === -1 || ba === -1 || tok === INHERIT) bad = true;
        this.oA[n] = bb;
        this.oB[n] = ba;
        break;
      }
      default:
        break;
    }
    if (bad) this.oKind[n] = E_BAD;
  }

  /** Delivers the queued events of a validated frame; returns the frame status. */
  private emit(): number {
    const sink = this.sink;
    const c = this.counters;
    let status: number = Status.OK;
    for (let n = 0; n < this.nObj; n++) {
      const kind = this.oKind[n]!;
      if (kind === E_BAD) {
        c.badField++;
        status = worse(status, Status.BAD_FIELD);
        continue;
      }
      if (kind === E_UNKNOWN) {
        c.unknownEvent++;
        status = worse(status, Status.UNKNOWN_EVENT);
        continue;
      }
      if (kind === E_NEW_MARKET || kind === E_RESOLVED) {
        c.marketEvents++;
        const json = utf8.decode(this.buf.subarray(this.oL0[n]!, this.oL1[n]!));
        sink.onMarketEvent(kind === E_NEW_MARKET ? MarketEventKind.NEW_MARKET : MarketEventKind.MARKET_RESOLVED, json);
        continue;
      }
      const ts = this.oTs[n]!;
      if (kind === E_PRICE_CHANGE) {
        if (this.emitPriceChanges(n) !== 0) status = worse(status, Status.UNKNOWN_ID);
        continue;
      }
      const tok = this.oTok[n]!;
      if (tok < 0) {
        c.unknownToken++;
        status = worse(status, Status.UNKNOWN_ID);
        continue;
      }
      switch (kind) {
        case E_BOOK: {
          c.books++;
          this.bookTickTicks = this.oC[n]!;
          sink.onBookBegin(tok, ts);
          const side = this.lvSide;
          const px = this.lvPx;
          const sz = this.lvSz;
          for (let k = this.oL0[n]!, to = this.oL1[n]!; k < to; k++) sink.onLevel(tok, side[k]!, px[k]!, sz[k]!);
          for (let k = this.oL2[n]!, to = this.oL3[n]!; k < to; k++) sink.onLevel(tok, side[k]!, px[k]!, sz[k]!);
          c.levels += this.oL1[n]! - this.oL0[n]! + this.oL3[n]! - this.oL2[n]!;
          sink.onBookEnd(tok);
          break;
        }
        case E_TICK:
          c.tickSizes++;
          sink.onTickSize(tok, this.oA[n]!, this.oB[n]!, ts);
          break;
        case E_TRADE:
          c.trades++;
          sink.onTrade(tok, this.oC[n]!, this.oA[n]!, this.oB[n]!, ts);
          break;
        case E_BBA:
          c.bestBidAsks++;
          sink.onBestBidAsk(tok, this.oA[n]!, this.oB[n]!, ts);
          break;
        default:
          break;
      }
    }
    return status;
  }

  /**
   * The hot event, in a method of its own: small enough for V8 to inline the
   * sink's onPriceChange into it, which keeps the float64 arguments (size,
   * timestamp) unboxed. Inside the big emit() they were boxed: ~60 B/frame.
   * Returns the number of entries dropped for an unregistered token.
   */
  private emitPriceChanges(n: number): number {
    const sink = this.sink;
    const ts = this.oTs[n]!;
    const to = this.oL1[n]!;
    let unknown = 0;
    for (let k = this.oL0[n]!; k < to; k++) {
      const tok = this.lvTok[k]!;
      if (tok < 0) {
        unknown++;
        continue;
      }
      sink.onPriceChange(tok, this.lvSide[k]!, this.lvPx[k]!, this.lvSz[k]!, this.lvBb[k]!, this.lvBa[k]!, ts);
    }
    this.counters.unknownToken += unknown;
    this.counters.priceChanges += to - this.oL0[n]! - unknown;
    return unknown;
  }

  private growLevels(): void {
    const cap = this.lvPx.length * 2;
    this.lvTok = grown(this.lvTok, cap);
    this.lvSide = grown(this.lvSide, cap);
    this.lvPx = grown(this.lvPx, cap);
    this.lvSz = grown(this.lvSz, cap);
    this.lvBb = grown(this.lvBb, cap);
    this.lvBa = grown(this.lvBa, cap);
  }

  private growObjects(): void {
    const cap = this.oKind.length * 2;
    this.oKind = grown(this.oKind, cap);
    this.oTok = grown(this.oTok, cap);
    this.oTs = grown(this.oTs, cap);
    this.oA = grown(this.oA, cap);
    this.oB = grown(this.oB, cap);
    this.oC = grown(this.oC, cap);
    this.oL0 = grown(this.oL0, cap);
    this.oL1 = grown(this.oL1, cap);
    this.oL2 = grown(this.oL2, cap);
    this.oL3 = grown(this.oL3, cap);
  }
}
