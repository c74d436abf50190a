// Polymarket RTDS (real-time data socket) crypto-price parser (protocols.md §4).
//
// `crypto_prices_chainlink` is the settlement source of the Up/Down markets and
// `crypto_prices` (Binance) the leading signal; both arrive as
// {topic, type, timestamp, payload:{symbol, timestamp, value, full_accuracy_value?}}.
// ~1 message per symbol per second, so a generic field walk is plenty; still
// no JSON.parse per update. The history batch sent on subscribe is rare and
// is decoded with JSON.parse.
import { parseFloat64 } from '../../parse/decimal.js';
import {
  frameOutcome,
  grown,
  IdTable,
  Slots,
  Status,
  T_ARRAY,
  T_ABSENT,
  T_NUMBER,
  T_OBJECT,
  T_STRING,
  forEachObject,
  worse,
} from '../../parse/json.js';
import { isPlainObject } from '../../guards.js';

export const RtdsTopic = {
  /** `crypto_prices`: Binance-sourced, symbols like "btcusdt". */
  BINANCE: 0,
  /** `crypto_prices_chainlink`: Chainlink data streams, symbols like "btc/usd"; resolves the markets. */
  CHAINLINK: 1,
} as const;

export interface RtdsSink {
  /**
   * A price update. value = the JSON number the venue sent (USD or USDT per
   * unit), priceTsMs = payload.timestamp (the price's own time), sendTsMs =
   * top-level timestamp (RTDS send time). The exact decimal text, when the
   * venue sent `full_accuracy_value`, is at parser.fullAccuracy during the call.
   */
  onPrice(topic: number, sym: number, value: number, priceTsMs: number, sendTsMs: number): void;
  /** One point of the history batch RTDS sends on subscribe (`type: "subscribe"`), oldest first. */
  onHistory(topic: number, sym: number, value: number, priceTsMs: number): void;
}

export interface RtdsCounters {
  frames: number;
  ok: number;
  empty: number;
  pong: number;
  malformed: number;
  badField: number;
  unknownEvent: number;
  unknownSymbol: number;
  prices: number;
  historyPoints: number;
}

const K_TOPIC = 0;
const K_TYPE = 1;
const K_TIMESTAMP = 2;
const K_PAYLOAD = 3;
const K_SYMBOL = 4;
const K_VALUE = 5;
const K_FULL = 6;
const K_DATA = 7;
const KEYS = new IdTable(['topic', 'type', 'timestamp', 'payload', 'symbol', 'value', 'full_accuracy_value', 'data']);
const NK = KEYS.size;
const P = NK; // base of the payload set
const CHILD = new Int8Array(2 * NK).fill(-1);
CHILD[K_PAYLOAD] = 1;

const TOPICS = new IdTable(['crypto_prices', 'crypto_prices_chainlink']);
const TYPES = new IdTable(['update', 'subscribe']);

const O_PRICE = 0;
const O_HISTORY = 1;
const O_UNKNOWN = 2;
const O_BAD = 3;
const O_UNKNOWN_SYMBOL = 4;

const utf8 = new TextDecoder();

function safeMs(v: number): number {
  return Number.isSafeInteger(v) && v >= 0 ? v : NaN;
}

interface HistoryJson {
  data?: unknown;
}

export class RtdsParser {
  /** Symbol text as RTDS writes it ("btcusdt", "btc/usd") → index; two names may share an index. */
  readonly symbols = new IdTable();
  readonly counters: RtdsCounters = {
    frames: 0,
    ok: 0,
    empty: 0,
    pong: 0,
    malformed: 0,
    badField: 0,
    unknownEvent: 0,
    unknownSymbol: 0,
    prices: 0,
    historyPoints: 0,
  };
  /** Byte offsets [start, end) of full_accuracy_value in `frame` during onPrice; -1 when absent. */
  readonly fullAccuracy = new Int32Array(2);
  private readonly slots = new Slots(KEYS, 2, CHILD);
  private readonly scanObj: (b: Uint8Array, i: number, end: number) => number;
  private buf: Uint8Array = new Uint8Array(0);

  private nObj = 0;
  private oKind = new Int8Array(8);
  private oTopic = new Int8Array(8);
  private oSym = new Int32Array(8);
  private oF = new Float64Array(8 * 3);
  private oFa = new Int32Array(8 * 2);
  private history: number[][] = [];

  constructor(private readonly sink: RtdsSink) {
    this.scanObj = (b, i, end) => this.scanObject(b, i, end);
  }

  get frame(): Uint8Array {
    return this.buf;
  }

  registerSymbol(symbol: string, index?: number): number {
    return this.symbols.register(symbol, index);
  }

  parse(frame: Uint8Array, start = 0, end = frame.length): number {
    const c = this.counters;
    c.frames++;
    if (!(start >= 0 && end <= frame.length && start <= end)) {
      c.malformed++;
      return Status.MALFORMED;
    }
    this.buf = frame;
    this.nObj = 0;
    const r = forEachObject(frame, start, end, this.scanObj);
    const outcome = frameOutcome(r, c);
    if (outcome !== Status.OK) return outcome;
    const status = this.emit();
    if (status === Status.OK) c.ok++;
    return status;
  }

  private scanObject(b: Uint8Array, i: number, end: number): number {
    const s = this.slots;
    s.reset(0);
    i = s.scan(b, i, end, 0, 1);
    if (i < 0) return -1;
    const n = this.nObj;
    if (n === this.oKind.length) this.growObjects();
    this.nObj = n + 1;
    this.oKind[n] = this.commit(b, n);
    return i;
  }

  private commit(b: Uint8Array, n: number): number {
    const s = this.slots;
    const ty = s.type;
    if (ty[K_TOPIC] !== T_STRING || ty[K_TYPE] !== T_STRING) return O_UNKNOWN;
    const topic = TOPICS.lookup(b, s.start[K_TOPIC]!, s.end[K_TOPIC]!, s.hash[K_TOPIC]!);
    const type = TYPES.lookup(b, s.start[K_TYPE]!, s.end[K_TYPE]!, s.hash[K_TYPE]!);
    if (topic < 0 || type < 0) return O_UNKNOWN;
    this.oTopic[n] = topic;
    if (ty[K_PAYLOAD] !== T_OBJECT || ty[P + K_SYMBOL] !== T_STRING) return O_BAD;
    const sym = this.symbols.lookup(b, s.start[P + K_SYMBOL]!, s.end[P + K_SYMBOL]!, s.hash[P + K_SYMBOL]!);
    if (sym < 0) return O_UNKNOWN_SYMBOL;
    this.oSym[n] = sym;
    const sendTs = ty[K_TIMESTAMP] === T_NUMBER ? safeMs(parseFloat64(b, s.start[K_TIMESTAMP]!, s.end[K_TIMESTAMP]!)) : NaN;
    if (sendTs !== sendTs) return O_BAD;
    if (type === 1) return this.commitHistory(b, n);
    const value = ty[P + K_VALUE] === T_NUMBER ? parseFloat64(b, s.start[P + K_VALUE]!, s.end[P + K_VALUE]!) : NaN;
    const priceTs = ty[P + K_TIMESTAMP] === T_NUMBER ? safeMs(parseFloat64(b, s.start[P + K_TIMESTAMP]!, s.end[P + K_TIMESTAMP]!)) : NaN;
    if (!Number.isFinite(value) || priceTs !== priceTs) return O_BAD;
    const ft = ty[P + K_FULL]!;
    if (ft === T_ABSENT) {
      this.oFa[2 * n] = -1;
      this.oFa[2 * n + 1] = -1;
    } else {
      if (ft !== T_STRING) return O_BAD;
      const fs = s.start[P + K_FULL]!;
      const fe = s.end[P + K_FULL]!;
      if (parseFloat64(b, fs, fe) !== parseFloat64(b, fs, fe)) return O_BAD;
      this.oFa[2 * n] = fs;
      this.oFa[2 * n + 1] = fe;
    }
    this.oF[3 * n] = value;
    this.oF[3 * n + 1] = priceTs;
    this.oF[3 * n + 2] = sendTs;
    return O_PRICE;
  }

  /** `type: "subscribe"` history batch: rare, decoded with JSON.parse. */
  private commitHistory(b: Uint8Array, n: number): number {
    const s = this.slots;
    if (s.type[P + K_DATA] !== T_ARRAY) return O_BAD;
    let payload: HistoryJson;
    try {
      payload = JSON.parse(utf8.decode(b.subarray(s.start[K_PAYLOAD]!, s.end[K_PAYLOAD]!))) as HistoryJson;
    } catch {
      return O_BAD;
    }
    const data = payload.data;
    if (!Array.isArray(data)) return O_BAD;
    const points: number[] = [];
    for (const p of data as unknown[]) {
      if (!isPlainObject(p)) return O_BAD;
      const { timestamp, value } = p;
      if (typeof timestamp !== 'number' || typeof value !== 'number') return O_BAD;
      if (!Number.isFinite(value) || safeMs(timestamp) !== timestamp) return O_BAD;
      points.push(value, timestamp);
    }
    this.oF[3 * n] = this.history.length;
    this.history.push(points);
    return O_HISTORY;
  }

  private emit(): number {
    const c = this.counters;
    let status: number = Status.OK;
    for (let n = 0; n < this.nObj; n++) {
      switch (this.oKind[n]) {
        case O_PRICE:
          c.prices++;
          this.fullAccuracy[0] = this.oFa[2 * n]!;
          this.fullAccuracy[1] = this.oFa[2 * n + 1]!;
          this.sink.onPrice(this.oTopic[n]!, this.oSym[n]!, this.oF[3 * n]!, this.oF[3 * n + 1]!, this.oF[3 * n + 2]!);
          break;
        case O_HISTORY: {
          const pts = this.history[this.oF[3 * n]!]!;
          for (let k = 0; k < pts.length; k += 2) {
            c.historyPoints++;
            this.sink.onHistory(this.oTopic[n]!, this.oSym[n]!, pts[k]!, pts[k + 1]!);
          }
          break;
        }
        case O_UNKNOWN:
          c.unknownEvent++;
          status = worse(status, Status.UNKNOWN_EVENT);
          break;
        case O_UNKNOWN_SYMBOL:
          c.unknownSymbol++;
          status = worse(status, Status.UNKNOWN_ID);
          break;
        default:
          c.badField++;
          status = worse(status, Status.BAD_FIELD);
          break;
      }
    }
    if (this.history.length > 0) this.history = [];
    return status;
  }

  private growObjects(): void {
    const cap = this.oKind.length * 2;
    this.oKind = grown(this.oKind, cap);
    this.oTopic = grown(this.oTopic, cap);
    this.oSym = grown(this.oSym, cap);
    this.oF = grown(this.oF, cap * 3);
    this.oFa = grown(this.oFa, cap * 2);
  }
}
