// Binance USD-M (and spot) market-stream frame parser (protocols.md §9).
//
// Same approach as the Polymarket parser: one validating scan per frame into
// typed arrays, events delivered only once the frame is known good. Level
// prices are kept as byte spans until the object closes because the tick grid
// depends on the symbol, and `s` is not guaranteed to come before `b`/`a`.
// The spans are also what the replay printer uses to print a price exactly as
// the venue wrote it ("61800.30", not 61800.3).
import { f64Out, latin1, parseFloat64, parseFloat64Into, parseTicks } from '../../parse/decimal.js';
import {
  frameOutcome,
  grown,
  IdTable,
  Status,
  T_ABSENT,
  T_ARRAY,
  T_FALSE,
  T_NUMBER,
  T_OBJECT,
  T_STRING,
  T_TRUE,
  forEachObject,
  scanOut,
  scanString,
  scanStringHash,
  skipValue,
  skipWs,
  valueType,
  worse,
} from '../../parse/json.js';
import { isPlainObject } from '../../guards.js';
import { Side as BookSide } from '../../shared-memory/book-layout.js';

/** Book sides (workers/shared-memory/book-layout.ts Side); also the aggressor side of a trade (BID = aggressive buy). */
export const BID = BookSide.Bid;
export const ASK = BookSide.Ask;

/** How a depth event applies to the local book. */
export const DepthKind = {
  /** `@depth` diff stream: absolute quantities per changed level, 0 removes; check `pu`. */
  DIFF: 0,
  /** `@depth<N>` partial stream: a complete top-N book, replace both sides. */
  PARTIAL: 1,
  /** REST `GET /depth` snapshot: replace the book; `u` is lastUpdateId. */
  SNAPSHOT: 2,
} as const;

/**
 * Receives parsed Binance events. sym = index given at registration; prices in
 * ticks of that symbol's grid; quantities float64 in base asset (BTC for
 * BTCUSDT); ids float64 (exact below 2^53); times Unix ms; NaN = absent.
 */
export interface BinanceSink {
  /** U/u/pu: first/final/previous-final update id; SNAPSHOT: u = lastUpdateId, U = pu = NaN. */
  onDepthBegin(sym: number, kind: number, eventMs: number, txMs: number, firstId: number, lastId: number, prevLastId: number): void;
  /** One level in wire order: bids, then asks. qty 0 removes the level (DIFF). */
  onDepthLevel(sym: number, side: number, priceTicks: number, qty: number): void;
  onDepthEnd(sym: number): void;
  onBookTicker(
    sym: number,
    bidTicks: number,
    bidQty: number,
    askTicks: number,
    askQty: number,
    updateId: number,
    eventMs: number,
    txMs: number,
  ): void;
  /** `trade`. aggressor = ASK when m (buyer is maker) is true, i.e. the taker sold. */
  onTrade(sym: number, priceTicks: number, qty: number, aggressor: number, tradeId: number, tradeMs: number, eventMs: number): void;
  onAggTrade(
    sym: number,
    priceTicks: number,
    qty: number,
    aggressor: number,
    aggId: number,
    firstId: number,
    lastId: number,
    tradeMs: number,
    eventMs: number,
  ): void;
  /**
   * `forceOrder`. side = the liquidation order's side (ASK = SELL = a long
   * liquidated). Prices are float64: the bankruptcy price need not be on the grid.
   */
  onLiquidation(
    sym: number,
    side: number,
    price: number,
    avgPrice: number,
    qty: number,
    lastFilledQty: number,
    filledQty: number,
    tradeMs: number,
    eventMs: number,
  ): void;
}

export interface BinanceCounters {
  frames: number;
  ok: number;
  empty: number;
  pong: number;
  malformed: number;
  badField: number;
  unknownEvent: number;
  unknownSymbol: number;
  /** Subscribe acks / errors (`{"result":…,"id":…}`). */
  control: number;
  depth: number;
  snapshots: number;
  levels: number;
  bookTickers: number;
  trades: number;
  aggTrades: number;
  liquidations: number;
}

export interface BinanceParserOptions {
  /** Kind of a depthUpdate that arrives without a combined-stream envelope (raw `/ws/<stream>`). */
  rawDepthKind?: number;
}

const K_STREAM = 0;
const K_DATA = 1;
const K_e = 2;
const K_E = 3;
const K_T = 4;
const K_s = 5;
const K_U = 6;
const K_u = 7;
const K_pu = 8;
const K_b = 9;
const K_a = 10;
const K_B = 11;
const K_A = 12;
const K_t = 13;
const K_p = 14;
const K_q = 15;
const K_m = 16;
const K_f = 17;
const K_l = 18;
const K_LAST_UPDATE_ID = 19;
const K_BIDS = 20;
const K_ASKS = 21;
const K_RESULT = 22;
const K_ID = 23;
const K_ERROR = 24;
const NK = 25;
const KEYS = new IdTable([
  'stream',
  'data',
  'e',
  'E',
  'T',
  's',
  'U',
  'u',
  'pu',
  'b',
  'a',
  'B',
  'A',
  't',
  'p',
  'q',
  'm',
  'f',
  'l',
  'lastUpdateId',
  'bids',
  'asks',
  'result',
  'id',
  'error',
]);

const E_DEPTH = 0;
const E_BOOK_TICKER = 1;
const E_TRADE = 2;
const E_AGG_TRADE = 3;
const E_FORCE_ORDER = 4;
const E_SNAPSHOT = 5;
const E_CONTROL = 6;
const E_UNKNOWN = 7;
const E_BAD = 8;
const E_UNKNOWN_SYMBOL = 9;
const EVENTS = new IdTable(['depthUpdate', 'bookTicker', 'trade', 'aggTrade', 'forceOrder']);

const DEPTH_MARK = [0x40, 0x64, 0x65, 0x70, 0x74, 0x68]; // "@depth"

/** True if the stream name is a partial-depth stream: "@depth" followed by a digit. */
function isPartialStream(b: Uint8Array, s: number, e: number): boolean {
  outer: for (let i = s; i + DEPTH_MARK.length < e; i++) {
    for (let k = 0; k < DEPTH_MARK.length; k++) if (b[i + k] !== DEPTH_MARK[k]) continue outer;
    const d = b[i + DEPTH_MARK.length]!;
    if (d >= 0x30 && d <= 0x39) return true;
  }
  return false;
}

interface ForceOrderJson {
  E?: unknown;
  o?: { s?: unknown; S?: unknown; q?: unknown; p?: unknown; ap?: unknown; l?: unknown; z?: unknown; T?: unknown };
}

const utf8 = new TextDecoder();

const utf8enc = new TextEncoder();

function decStr(v: unknown): number {
  if (typeof v !== 'string') return NaN;
  const bytes = utf8enc.encode(v);
  const x = parseFloat64(bytes, 0, bytes.length);
  return x >= 0 && x < Infinity ? x : NaN;
}

function msNum(v: unknown): number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : NaN;
}

/** One parser per connection. Not re-entrant: a sink must not call parse() from inside a callback. */
export class BinanceParser {
  readonly symbols = new IdTable();
  readonly counters: BinanceCounters = {
    frames: 0,
    ok: 0,
    empty: 0,
    pong: 0,
    malformed: 0,
    badField: 0,
    unknownEvent: 0,
    unknownSymbol: 0,
    control: 0,
    depth: 0,
    snapshots: 0,
    levels: 0,
    bookTickers: 0,
    trades: 0,
    aggTrades: 0,
    liquidations: 0,
  };
  /**
   * Byte offsets into `frame` of the decimal text behind the values of the
   * callback in progress (valid only during it): [0,1) price, [2,3) quantity
   * of a depth level or trade; for bookTicker [0..3] bid price/qty and
   * [4..7] ask price/qty. For the replay printer: see textOf().
   */
  readonly text = new Int32Array(8);
  /** Symbol a REST depth snapshot (which names none) is attributed to; -1 = none. */
  snapshotSymbol = -1;
  private readonly rawDepthKind: number;
  private symExp = new Int8Array(16);

  // Two field sets: 0 = the frame's object, 1 = its `data` (combined-stream envelope).
  private readonly fType = new Uint8Array(2 * NK);
  private readonly fStart = new Int32Array(2 * NK);
  private readonly fEnd = new Int32Array(2 * NK);
  private readonly fHash = new Int32Array(2 * NK);
  private readonly aStart = new Int32Array(2 * NK);
  private readonly aEnd = new Int32Array(2 * NK);
  private readonly aOk = new Uint8Array(2 * NK);

  // Level spans ([price, qty] string pairs) of the frame, and their values once the symbol is known.
  private nLv = 0;
  private lvPS = new Int32Array(1024);
  private lvPE = new Int32Array(1024);
  private lvQS = new Int32Array(1024);
  private lvQE = new Int32Array(1024);
  private lvPx = new Float64Array(1024);
  private lvQty = new Float64Array(1024);

  private nObj = 0;
  private oKind = new Int8Array(8);
  private oSym = new Int32Array(8);
  private oF = new Float64Array(8 * 8); // up to 8 numbers per event
  private oS = new Int32Array(8 * 8); // up to 8 text offsets per event
  private oL = new Int32Array(8 * 4); // bid range, ask range

  private buf: Uint8Array = new Uint8Array(0);

  private readonly scanTopFn: (b: Uint8Array, i: number, end: number) => number;

  constructor(
    private readonly sink: BinanceSink,
    opts: BinanceParserOptions = {},
  ) {
    this.rawDepthKind = opts.rawDepthKind ?? DepthKind.DIFF;
    this.scanTopFn = (b, i, end) => this.scanTop(b, i, end);
  }

  /** The frame being delivered (valid during callbacks), for `text` offsets. */
  get frame(): Uint8Array {
    return this.buf;
  }

  /** Venue text of text[2k..2k+1) during a callback, e.g. textOf(0) = "61800.30". Allocates: replay/debug only. */
  textOf(k: number): string {
    return latin1(this.buf, this.text[2 * k]!, this.text[2 * k + 1]!);
  }

  /**
   * Registers a symbol as the venue writes it in `s` ("BTCUSDT") with its
   * price grid 10^-tickExp (BTCUSDT futures: 1 → 0.1; spot: 2 → 0.01).
   */
  registerSymbol(symbol: string, tickExp: number, index?: number): number {
    if (!Number.isInteger(tickExp) || tickExp < 0 || tickExp > 15) throw new RangeError(`tickExp ${tickExp}`);
    const v = this.symbols.register(symbol, index);
    if (v >= this.symExp.length) {
      const x = new Int8Array(Math.max(v + 1, this.symExp.length * 2));
      x.set(this.symExp);
      this.symExp = x;
    }
    this.symExp[v] = tickExp;
    return v;
  }

  /** Parses one frame, delivers its events and returns a Status code. Never throws on bad input. */
  parse(frame: Uint8Array, start = 0, end = frame.length): number {
    const c = this.counters;
    c.frames++;
    if (!(start >= 0 && end <= frame.length && start <= end)) {
      c.malformed++;
      return Status.MALFORMED;
    }
    const b = frame;
    this.buf = b;
    this.nObj = 0;
    this.nLv = 0;
    const r = forEachObject(b, start, end, this.scanTopFn);
    const outcome = frameOutcome(r, c);
    if (outcome !== Status.OK) return outcome;
    const status = this.emit();
    if (status === Status.OK) c.ok++;
    return status;
  }

  private scanTop(b: Uint8Array, i: number, end: number): number {
    const objStart = i - 1;
    this.fType.fill(T_ABSENT, 0, NK);
    i = this.scanObject(b, i, end, 0);
    if (i >= 0) this.commit(b, objStart, i);
    return i;
  }

  /** i after '{'; scans into field set `set` (0 or 1). */
  private scanObject(b: Uint8Array, i: number, end: number, set: number): number {
    const base = set * NK;
    const fType = this.fType;
    i = skipWs(b, i, end);
    if (i < end && b[i] === 0x7d) return i + 1;
    for (;;) {
      if (i >= end || b[i] !== 0x22) return -1;
      const ks = i + 1;
      i = scanStringHash(b, ks, end);
      if (i < 0) return -1;
      const key = KEYS.lookup(b, ks, scanOut[0]!, scanOut[1]!);
      i = skipWs(b, i, end);
      if (i >= end || b[i] !== 0x3a) return -1;
      i = skipWs(b, i + 1, end);
      if (i >= end) return -1;
      if (key < 0) {
        i = skipValue(b, i, end, set + 1);
      } else {
        const slot = base + key;
        const t = valueType(b[i]!);
        fType[slot] = t;
        if (t === T_STRING) {
          const s = i + 1;
          i = scanStringHash(b, s, end);
          this.fStart[slot] = s;
          this.fEnd[slot] = scanOut[0]!;
          this.fHash[slot] = scanOut[1]!;
        } else if (t === T_ARRAY && (key === K_b || key === K_a || key === K_BIDS || key === K_ASKS)) {
          i = this.scanPairs(b, i + 1, end, slot, set + 2);
        } else if (t === T_OBJECT && key === K_DATA && set === 0) {
          const s = i;
          fType.fill(T_ABSENT, NK, 2 * NK);
          i = this.scanObject(b, i + 1, end, 1);
          this.fStart[slot] = s;
          this.fEnd[slot] = i;
        } else {
          const s = i;
          i = skipValue(b, i, end, set + 1);
          this.fStart[slot] = s;
          this.fEnd[slot] = i;
        }
      }
      if (i < 0) return -1;
      i = skipWs(b, i, end);
      if (i >= end) return -1;
      const d = b[i]!;
      if (d === 0x7d) return i + 1;
      if (d !== 0x2c) return -1;
      i = skipWs(b, i + 1, end);
    }
  }

  /** `[["price","qty"], ...]`, i after the outer '['. Spans only; values come in commit(). */
  private scanPairs(b: Uint8Array, i: number, end: number, slot: number, depth: number): number {
    this.aStart[slot] = this.nLv;
    let ok = 1;
    i = skipWs(b, i, end);
    if (i < end && b[i] === 0x5d) {
      i++;
    } else {
      for (;;) {
        if (i >= end) return -1;
        const el = i;
        let good = false;
        // Fast shape check for the only valid element form; anything else is
        // re-scanned generically so syntax errors are still caught.
        if (b[i] === 0x5b) {
          let j = skipWs(b, i + 1, end);
          if (j < end && b[j] === 0x22) {
            const ps = j + 1;
            j = scanString(b, ps, end);
            if (j >= 0) {
              const pe = scanOut[0]!;
              j = skipWs(b, j, end);
              if (j < end && b[j] === 0x2c) {
                j = skipWs(b, j + 1, end);
                if (j < end && b[j] === 0x22) {
                  const qs = j + 1;
                  j = scanString(b, qs, end);
                  if (j >= 0) {
                    const qe = scanOut[0]!;
                    j = skipWs(b, j, end);
                    if (j < end && b[j] === 0x5d) {
                      const n = this.nLv;
                      if (n === this.lvPS.length) this.growLevels();
                      this.lvPS[n] = ps;
                      this.lvPE[n] = pe;
                      this.lvQS[n] = qs;
                      this.lvQE[n] = qe;
                      this.nLv = n + 1;
                      i = j + 1;
                      good = true;
                    }
                  }
                }
              }
            }
          }
        }
        if (!good) {
          ok = 0;
          i = skipValue(b, el, end, depth);
          if (i < 0) return -1;
        }
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
    this.aEnd[slot] = this.nLv;
    this.aOk[slot] = ok;
    return i;
  }

  // Field converters write straight into the event record oF[at] and return
  // 1 (ok) or 0 (invalid): a float64 returned from a call V8 does not inline
  // is boxed on the heap, and these run several times per message.

  /** Required integer (update id, ms time): a safe non-negative JSON integer. */
  private intInto(b: Uint8Array, slot: number, at: number): number {
    if (this.fType[slot] === T_NUMBER && parseFloat64Into(b, this.fStart[slot]!, this.fEnd[slot]!) === 1) {
      const v = f64Out[0]!;
      if (Number.isSafeInteger(v) && v >= 0) {
        this.oF[at] = v;
        return 1;
      }
    }
    this.oF[at] = NaN;
    return 0;
  }

  /** Optional integer: absent is fine (NaN), present must be valid. */
  private optIntInto(b: Uint8Array, slot: number, at: number): number {
    if (this.fType[slot] !== T_ABSENT) return this.intInto(b, slot, at);
    this.oF[at] = NaN;
    return 1;
  }

  private ticksInto(b: Uint8Array, slot: number, exp: number, at: number): number {
    const t = this.fType[slot] === T_STRING ? parseTicks(b, this.fStart[slot]!, this.fEnd[slot]!, exp) : NaN;
    this.oF[at] = t >= 0 ? t : NaN;
    return t >= 0 ? 1 : 0;
  }

  private qtyInto(b: Uint8Array, slot: number, at: number): number {
    if (this.fType[slot] === T_STRING && parseFloat64Into(b, this.fStart[slot]!, this.fEnd[slot]!) === 1) {
      const v = f64Out[0]!;
      if (v >= 0 && v < Infinity) {
        this.oF[at] = v;
        return 1;
      }
    }
    this.oF[at] = NaN;
    return 0;
  }

  /** Converts a pair range to ticks/qty; false if any pair is not a valid level. */
  private levels(b: Uint8Array, slot: number, exp: number): boolean {
    if (this.fType[slot] !== T_ARRAY || this.aOk[slot] !== 1) return false;
    for (let k = this.aStart[slot]!, to = this.aEnd[slot]!; k < to; k++) {
      const px = parseTicks(b, this.lvPS[k]!, this.lvPE[k]!, exp);
      if (!(px >= 0) || parseFloat64Into(b, this.lvQS[k]!, this.lvQE[k]!) === 0) return false;
      const q = f64Out[0]!;
      if (!(q >= 0 && q < Infinity)) return false;
      this.lvPx[k] = px;
      this.lvQty[k] = q;
    }
    return true;
  }

  /** Symbol index from `s` in set base, -1 unknown, -2 absent / not a string. */
  private symField(b: Uint8Array, slot: number): number {
    if (this.fType[slot] !== T_STRING) return -2;
    return this.symbols.lookup(b, this.fStart[slot]!, this.fEnd[slot]!, this.fHash[slot]!);
  }

  private commit(b: Uint8Array, objStart: number, objEnd: number): void {
    const n = this.nObj;
    if (n === this.oKind.length) this.growObjects();
    this.nObj = n + 1;
    const fType = this.fType;
    let base = 0;
    let depthKind = this.rawDepthKind;
    let evStart = objStart;
    let evEnd = objEnd;
    if (fType[K_DATA] !== T_ABSENT) {
      const st = fType[K_STREAM]!;
      if (fType[K_DATA] !== T_OBJECT || (st !== T_ABSENT && st !== T_STRING)) {
        this.oKind[n] = E_BAD;
        return;
      }
      base = NK;
      evStart = this.fStart[K_DATA]!;
      evEnd = this.fEnd[K_DATA]!;
      if (st === T_STRING) {
        depthKind = isPartialStream(b, this.fStart[K_STREAM]!, this.fEnd[K_STREAM]!) ? DepthKind.PARTIAL : DepthKind.DIFF;
      }
    }
    let kind = E_UNKNOWN;
    const et = fType[base + K_e]!;
    if (et === T_STRING) {
      const ev = EVENTS.lookup(b, this.fStart[base + K_e]!, this.fEnd[base + K_e]!, this.fHash[base + K_e]!);
      if (ev >= 0) kind = ev;
    } else if (et === T_ABSENT) {
      if (fType[base + K_LAST_UPDATE_ID] !== T_ABSENT) kind = E_SNAPSHOT;
      else if (fType[base + K_ID] !== T_ABSENT && (fType[base + K_RESULT] !== T_ABSENT || fType[base + K_ERROR] !== T_ABSENT)) kind = E_CONTROL;
      else if (
        // Spot bookTicker carries no "e".
        fType[base + K_u] !== T_ABSENT &&
        fType[base + K_b] !== T_ABSENT &&
        fType[base + K_B] !== T_ABSENT &&
        fType[base + K_a] !== T_ABSENT &&
        fType[base + K_A] !== T_ABSENT
      )
        kind = E_BOOK_TICKER;
    }
    this.oKind[n] = kind;
    if (kind === E_UNKNOWN || kind === E_CONTROL) return;

    if (kind === E_FORCE_ORDER) {
      this.commitForceOrder(b, n, evStart, evEnd);
      return;
    }

    const sym = kind === E_SNAPSHOT && fType[base + K_s] === T_ABSENT ? this.snapshotSymbol : this.symField(b, base + K_s);
    if (sym === -2) {
      this.oKind[n] = E_BAD;
      return;
    }
    // Prices cannot be validated without the symbol's grid, so an unregistered
    // symbol is reported as such before any other field is looked at.
    if (sym < 0) {
      this.oKind[n] = E_UNKNOWN_SYMBOL;
      return;
    }
    this.oSym[n] = sym;
    const exp = this.symExp[sym]!;
    const f = n * 8;
    const oF = this.oF;
    let bad = false;
    switch (kind) {
      case E_DEPTH:
      case E_SNAPSHOT: {
        const isSnap = kind === E_SNAPSHOT;
        const bidSlot = base + (isSnap ? K_BIDS : K_b);
        const askSlot = base + (isSnap ? K_ASKS : K_a);
        oF[f] = isSnap ? DepthKind.SNAPSHOT : depthKind;
        let ok = isSnap ? this.optIntInto(b, base + K_E, f + 1) : this.intInto(b, base + K_E, f + 1);
        ok &= this.optIntInto(b, base + K_T, f + 2);
        if (isSnap) {
          oF[f + 3] = NaN;
          oF[f + 5] = NaN;
          ok &= this.intInto(b, base + K_LAST_UPDATE_ID, f + 4);
        } else {
          ok &= this.intInto(b, base + K_U, f + 3);
          ok &= this.intInto(b, base + K_u, f + 4);
          ok &= this.optIntInto(b, base + K_pu, f + 5);
        }
        if (ok === 0 || !this.levels(b, bidSlot, exp) || !this.levels(b, askSlot, exp)) bad = true;
        const l = n * 4;
        this.oL[l] = this.aStart[bidSlot]!;
        this.oL[l + 1] = this.aEnd[bidSlot]!;
        this.oL[l + 2] = this.aStart[askSlot]!;
        this.oL[l + 3] = this.aEnd[askSlot]!;
        break;
      }
      case E_BOOK_TICKER: {
        let ok = this.ticksInto(b, base + K_b, exp, f);
        ok &= this.qtyInto(b, base + K_B, f + 1);
        ok &= this.ticksInto(b, base + K_a, exp, f + 2);
        ok &= this.qtyInto(b, base + K_A, f + 3);
        ok &= this.intInto(b, base + K_u, f + 4);
        ok &= this.optIntInto(b, base + K_E, f + 5);
        ok &= this.optIntInto(b, base + K_T, f + 6);
        if (ok === 0) bad = true;
        this.spans(n, base + K_b, base + K_B, base + K_a, base + K_A);
        break;
      }
      case E_TRADE:
      case E_AGG_TRADE: {
        const agg = kind === E_AGG_TRADE;
        const mt = fType[base + K_m]!;
        let ok = this.ticksInto(b, base + K_p, exp, f);
        ok &= this.qtyInto(b, base + K_q, f + 1);
        oF[f + 2] = mt === T_TRUE ? ASK : BID;
        if (mt !== T_TRUE && mt !== T_FALSE) ok = 0;
        ok &= this.intInto(b, base + (agg ? K_a : K_t), f + 3);
        if (agg) {
          ok &= this.intInto(b, base + K_f, f + 4);
          ok &= this.intInto(b, base + K_l, f + 5);
        }
        ok &= this.intInto(b, base + K_T, f + 6);
        ok &= this.intInto(b, base + K_E, f + 7);
        if (ok === 0) bad = true;
        this.spans(n, base + K_p, base + K_q, base + K_p, base + K_q);
        break;
      }
      default:
        break;
    }
    if (bad) this.oKind[n] = E_BAD;
  }

  private spans(n: number, s0: number, s1: number, s2: number, s3: number): void {
    const o = n * 8;
    this.oS[o] = this.fStart[s0]!;
    this.oS[o + 1] = this.fEnd[s0]!;
    this.oS[o + 2] = this.fStart[s1]!;
    this.oS[o + 3] = this.fEnd[s1]!;
    this.oS[o + 4] = this.fStart[s2]!;
    this.oS[o + 5] = this.fEnd[s2]!;
    this.oS[o + 6] = this.fStart[s3]!;
    this.oS[o + 7] = this.fEnd[s3]!;
  }

  /** Liquidations are at most one per symbol per second: JSON.parse of the event slice is fine. */
  private commitForceOrder(b: Uint8Array, n: number, s: number, e: number): void {
    let ev: ForceOrderJson;
    try {
      // The slice was validated by the scan, so this cannot throw; kept
      // defensive because the parser must never throw on input.
      ev = JSON.parse(utf8.decode(b.subarray(s, e))) as ForceOrderJson;
    } catch {
      this.oKind[n] = E_BAD;
      return;
    }
    const o = ev.o;
    if (!isPlainObject(o) || typeof o.s !== 'string') {
      this.oKind[n] = E_BAD;
      return;
    }
    const sym = this.symbols.lookupString(o.s);
    if (sym < 0) {
      this.oKind[n] = E_UNKNOWN_SYMBOL;
      return;
    }
    this.oSym[n] = sym;
    const f = n * 8;
    const oF = this.oF;
    oF[f] = o.S === 'BUY' ? BID : o.S === 'SELL' ? ASK : NaN;
    oF[f + 1] = decStr(o.p);
    oF[f + 2] = decStr(o.ap);
    oF[f + 3] = decStr(o.q);
    oF[f + 4] = decStr(o.l);
    oF[f + 5] = decStr(o.z);
    oF[f + 6] = msNum(o.T);
    oF[f + 7] = msNum(ev.E);
    for (let k = 0; k < 8; k++) {
      if (oF[f + k] !== oF[f + k]) {
        this.oKind[n] = E_BAD;
        return;
      }
    }
  }

  private emit(): number {
    const sink = this.sink;
    const c = this.counters;
    const oF = this.oF;
    let status: number = Status.OK;
    for (let n = 0; n < this.nObj; n++) {
      const kind = this.oKind[n]!;
      const sym = this.oSym[n]!;
      const f = n * 8;
      switch (kind) {
        case E_BAD:
          c.badField++;
          status = worse(status, Status.BAD_FIELD);
          break;
        case E_UNKNOWN:
          c.unknownEvent++;
          status = worse(status, Status.UNKNOWN_EVENT);
          break;
        case E_UNKNOWN_SYMBOL:
          c.unknownSymbol++;
          status = worse(status, Status.UNKNOWN_ID);
          break;
        case E_CONTROL:
          c.control++;
          status = worse(status, Status.CONTROL);
          break;
        case E_DEPTH:
        case E_SNAPSHOT:
          this.emitDepth(n);
          break;
        case E_BOOK_TICKER:
          this.emitBookTicker(n);
          break;
        case E_TRADE:
          this.emitTrade(n);
          break;
        case E_AGG_TRADE:
          c.aggTrades++;
          this.copySpans(f);
          sink.onAggTrade(sym, oF[f]!, oF[f + 1]!, oF[f + 2]!, oF[f + 3]!, oF[f + 4]!, oF[f + 5]!, oF[f + 6]!, oF[f + 7]!);
          break;
        case E_FORCE_ORDER:
          c.liquidations++;
          sink.onLiquidation(sym, oF[f]!, oF[f + 1]!, oF[f + 2]!, oF[f + 3]!, oF[f + 4]!, oF[f + 5]!, oF[f + 6]!, oF[f + 7]!);
          break;
        default:
          break;
      }
    }
    return status;
  }

  // The frequent events are delivered from small methods of their own so V8
  // can inline the sink's callback there; inside the big emit() switch the
  // float64 arguments (quantities, ids, times) were boxed on every call.

  private emitDepth(n: number): void {
    const sink = this.sink;
    const oF = this.oF;
    const text = this.text;
    const f = n * 8;
    const sym = this.oSym[n]!;
    if (oF[f] === DepthKind.SNAPSHOT) this.counters.snapshots++;
    else this.counters.depth++;
    sink.onDepthBegin(sym, oF[f]!, oF[f + 1]!, oF[f + 2]!, oF[f + 3]!, oF[f + 4]!, oF[f + 5]!);
    const l = n * 4;
    for (let side = BID; side <= ASK; side++) {
      const to = this.oL[l + 2 * side + 1]!;
      for (let k = this.oL[l + 2 * side]!; k < to; k++) {
        text[0] = this.lvPS[k]!;
        text[1] = this.lvPE[k]!;
        text[2] = this.lvQS[k]!;
        text[3] = this.lvQE[k]!;
        sink.onDepthLevel(sym, side, this.lvPx[k]!, this.lvQty[k]!);
      }
      this.counters.levels += to - this.oL[l + 2 * side]!;
    }
    sink.onDepthEnd(sym);
  }

  private emitBookTicker(n: number): void {
    const oF = this.oF;
    const f = n * 8;
    this.counters.bookTickers++;
    this.copySpans(f);
    this.sink.onBookTicker(this.oSym[n]!, oF[f]!, oF[f + 1]!, oF[f + 2]!, oF[f + 3]!, oF[f + 4]!, oF[f + 5]!, oF[f + 6]!);
  }

  private emitTrade(n: number): void {
    const oF = this.oF;
    const f = n * 8;
    this.counters.trades++;
    this.copySpans(f);
    this.sink.onTrade(this.oSym[n]!, oF[f]!, oF[f + 1]!, oF[f + 2]!, oF[f + 3]!, oF[f + 6]!, oF[f + 7]!);
  }

  private copySpans(f: number): void {
    for (let k = 0; k < 8; k++) this.text[k] = this.oS[f + k]!;
  }

  private growLevels(): void {
    const cap = this.lvPS.length * 2;
    this.lvPS = grown(this.lvPS, cap);
    this.lvPE = grown(this.lvPE, cap);
    this.lvQS = grown(this.lvQS, cap);
    this.lvQE = grown(this.lvQE, cap);
    this.lvPx = new Float64Array(cap);
    this.lvQty = new Float64Array(cap);
  }

  private growObjects(): void {
    const cap = this.oKind.length * 2;
    this.oKind = grown(this.oKind, cap);
    this.oSym = grown(this.oSym, cap);
    this.oF = grown(this.oF, cap * 8);
    this.oS = grown(this.oS, cap * 8);
    this.oL = grown(this.oL, cap * 4);
  }
}

