// Deribit JSON-RPC frame parser for the DVOL feed (protocols.md §10).
//
// Handles `deribit_volatility_index.*` subscription notifications, the
// heartbeat `test_request` (which the worker must answer with `public/test`
// or Deribit closes the connection), and RPC results / errors (subscribe
// acks). DVOL ticks about once a second; a generic field walk suffices.
import { parseFloat64 } from '../../parse/decimal.js';
import {
  frameOutcome,
  grown,
  IdTable,
  Slots,
  Status,
  T_ABSENT,
  T_NUMBER,
  T_OBJECT,
  T_STRING,
  forEachObject,
  worse,
} from '../../parse/json.js';

export const DVOL_CHANNEL_PREFIX = 'deribit_volatility_index.';

export interface DeribitSink {
  /** DVOL tick: index = registered index, volatility in index points (annualised %), tsMs Unix ms. */
  onVolatility(index: number, volatility: number, tsMs: number): void;
  /** Heartbeat `test_request`: answer with `public/test` now, or the connection is closed. */
  onTestRequest(): void;
  /** Reply to a request of ours; id NaN if it was not a number. `result` as JSON text (rare). */
  onRpcResult(id: number, resultJson: string): void;
  /** Error reply; code NaN if absent. `error` as JSON text. */
  onRpcError(id: number, code: number, errorJson: string): void;
}

export interface DeribitCounters {
  frames: number;
  ok: number;
  empty: number;
  pong: number;
  malformed: number;
  badField: number;
  unknownEvent: number;
  unknownIndex: number;
  /** Heartbeats, test requests, RPC results and errors. */
  control: number;
  volatility: number;
  testRequests: number;
}

const K_METHOD = 0;
const K_PARAMS = 1;
const K_CHANNEL = 2;
const K_DATA = 3;
const K_VOLATILITY = 4;
const K_TIMESTAMP = 5;
const K_TYPE = 6;
const K_ID = 7;
const K_RESULT = 8;
const K_ERROR = 9;
const K_CODE = 10;
const KEYS = new IdTable([
  'method',
  'params',
  'channel',
  'data',
  'volatility',
  'timestamp',
  'type',
  'id',
  'result',
  'error',
  'code',
]);
const NK = KEYS.size;
// Field sets: 0 = message, 1 = params, 2 = params.data, 3 = error.
const PARAMS = NK;
const DATA = 2 * NK;
const ERR = 3 * NK;
const CHILD = new Int8Array(4 * NK).fill(-1);
CHILD[K_PARAMS] = 1;
CHILD[PARAMS + K_DATA] = 2;
CHILD[K_ERROR] = 3;

const METHODS = new IdTable(['subscription', 'heartbeat']);
const TEST_REQUEST = new IdTable(['test_request']);
const PREFIX = new TextEncoder().encode(DVOL_CHANNEL_PREFIX);

const O_VOL = 0;
const O_TEST = 1;
const O_HEARTBEAT = 2;
const O_RESULT = 3;
const O_ERROR = 4;
const O_UNKNOWN = 5;
const O_UNKNOWN_INDEX = 6;
const O_BAD = 7;

const utf8 = new TextDecoder();

function hasPrefix(b: Uint8Array, s: number, e: number): boolean {
  if (e - s < PREFIX.length) return false;
  for (let k = 0; k < PREFIX.length; k++) if (b[s + k] !== PREFIX[k]) return false;
  return true;
}

export class DeribitParser {
  /** Full channel names ("deribit_volatility_index.btc_usd") → index. */
  readonly channels = new IdTable();
  readonly counters: DeribitCounters = {
    frames: 0,
    ok: 0,
    empty: 0,
    pong: 0,
    malformed: 0,
    badField: 0,
    unknownEvent: 0,
    unknownIndex: 0,
    control: 0,
    volatility: 0,
    testRequests: 0,
  };
  private readonly slots = new Slots(KEYS, 4, CHILD);
  private readonly scanObj: (b: Uint8Array, i: number, end: number) => number;
  private buf: Uint8Array = new Uint8Array(0);

  private nObj = 0;
  private oKind = new Int8Array(8);
  private oF = new Float64Array(8 * 3);
  private oS = new Int32Array(8 * 2);

  constructor(private readonly sink: DeribitSink) {
    this.scanObj = (b, i, end) => this.scanObject(b, i, end);
  }

  /** Registers a DVOL index by name ("btc_usd"); returns its index. */
  registerIndex(indexName: string, index?: number): number {
    return this.channels.register(DVOL_CHANNEL_PREFIX + indexName, index);
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

  private num(b: Uint8Array, slot: number): number {
    const s = this.slots;
    return s.type[slot] === T_NUMBER ? parseFloat64(b, s.start[slot]!, s.end[slot]!) : NaN;
  }

  private commit(b: Uint8Array, n: number): number {
    const s = this.slots;
    const ty = s.type;
    if (ty[K_METHOD] === T_STRING) {
      const m = METHODS.lookup(b, s.start[K_METHOD]!, s.end[K_METHOD]!, s.hash[K_METHOD]!);
      if (m < 0) return O_UNKNOWN;
      if (ty[K_PARAMS] !== T_OBJECT) return O_BAD;
      if (m === 1) {
        if (ty[PARAMS + K_TYPE] !== T_STRING) return O_BAD;
        const t = PARAMS + K_TYPE;
        return TEST_REQUEST.lookup(b, s.start[t]!, s.end[t]!, s.hash[t]!) === 0 ? O_TEST : O_HEARTBEAT;
      }
      const ch = PARAMS + K_CHANNEL;
      if (ty[ch] !== T_STRING) return O_BAD;
      const idx = this.channels.lookup(b, s.start[ch]!, s.end[ch]!, s.hash[ch]!);
      if (idx < 0) return hasPrefix(b, s.start[ch]!, s.end[ch]!) ? O_UNKNOWN_INDEX : O_UNKNOWN;
      if (ty[PARAMS + K_DATA] !== T_OBJECT) return O_BAD;
      const vol = this.num(b, DATA + K_VOLATILITY);
      const ts = this.num(b, DATA + K_TIMESTAMP);
      if (!Number.isFinite(vol) || !Number.isSafeInteger(ts) || ts < 0) return O_BAD;
      this.oF[3 * n] = idx;
      this.oF[3 * n + 1] = vol;
      this.oF[3 * n + 2] = ts;
      return O_VOL;
    }
    if (ty[K_METHOD] === T_ABSENT && ty[K_ID] !== T_ABSENT) {
      const id = this.num(b, K_ID);
      if (ty[K_ERROR] !== T_ABSENT) {
        this.oF[3 * n] = id;
        this.oF[3 * n + 1] = ty[K_ERROR] === T_OBJECT ? this.num(b, ERR + K_CODE) : NaN;
        this.valueSpan(n, K_ERROR);
        return O_ERROR;
      }
      if (ty[K_RESULT] !== T_ABSENT) {
        this.oF[3 * n] = id;
        this.valueSpan(n, K_RESULT);
        return O_RESULT;
      }
    }
    return O_UNKNOWN;
  }

  /** Span of a field's whole JSON text (a string's span includes its quotes). */
  private valueSpan(n: number, slot: number): void {
    const s = this.slots;
    const q = s.type[slot] === T_STRING ? 1 : 0;
    this.oS[2 * n] = s.start[slot]! - q;
    this.oS[2 * n + 1] = s.end[slot]! + q;
  }

  private emit(): number {
    const c = this.counters;
    const sink = this.sink;
    let status: number = Status.OK;
    for (let n = 0; n < this.nObj; n++) {
      switch (this.oKind[n]) {
        case O_VOL:
          c.volatility++;
          sink.onVolatility(this.oF[3 * n]!, this.oF[3 * n + 1]!, this.oF[3 * n + 2]!);
          break;
        case O_TEST:
          c.testRequests++;
          c.control++;
          status = worse(status, Status.CONTROL);
          sink.onTestRequest();
          break;
        case O_HEARTBEAT:
          c.control++;
          status = worse(status, Status.CONTROL);
          break;
        case O_RESULT:
          c.control++;
          status = worse(status, Status.CONTROL);
          sink.onRpcResult(this.oF[3 * n]!, utf8.decode(this.buf.subarray(this.oS[2 * n]!, this.oS[2 * n + 1]!)));
          break;
        case O_ERROR:
          c.control++;
          status = worse(status, Status.CONTROL);
          sink.onRpcError(
            this.oF[3 * n]!,
            this.oF[3 * n + 1]!,
            utf8.decode(this.buf.subarray(this.oS[2 * n]!, this.oS[2 * n + 1]!)),
          );
          break;
        case O_UNKNOWN:
          c.unknownEvent++;
          status = worse(status, Status.UNKNOWN_EVENT);
          break;
        case O_UNKNOWN_INDEX:
          c.unknownIndex++;
          status = worse(status, Status.UNKNOWN_ID);
          break;
        default:
          c.badField++;
          status = worse(status, Status.BAD_FIELD);
          break;
      }
    }
    return status;
  }

  private growObjects(): void {
    const cap = this.oKind.length * 2;
    this.oKind = grown(this.oKind, cap);
    this.oF = grown(this.oF, cap * 3);
    this.oS = grown(this.oS, cap * 2);
  }
}
