// Allocation-free JSON scanning primitives shared by the frame parsers.
//
// The scanners validate as strictly as JSON.parse does (string escapes,
// control characters, number grammar, literals, commas) so that a frame the
// parsers accept is exactly a frame JSON.parse accepts; the differential test
// relies on that. What they do not do is build values: they report byte spans
// and let each parser convert only the fields it needs.

/** Per-frame result codes shared by every parser in this folder. */
export const Status = {
  /** Frame parsed; every event in it was delivered. */
  OK: 0,
  /** Empty or whitespace-only frame (keep-alive); nothing delivered. */
  EMPTY: 1,
  /** Text keep-alive reply `PONG` / `pong`. */
  PONG: 2,
  /** Protocol control message (subscribe ack, RPC result, heartbeat). */
  CONTROL: 3,
  /** Well-formed but of an event type this parser does not handle; ignored. */
  UNKNOWN_EVENT: 4,
  /** Refers to a token / symbol / index that was not registered; that part dropped. */
  UNKNOWN_ID: 5,
  /** Not JSON (or not an object / array of objects): whole frame dropped, nothing delivered. */
  MALFORMED: -1,
  /** Valid JSON but a required field is missing, of the wrong type or not a valid number: that event dropped. */
  BAD_FIELD: -2,
} as const;
export type StatusCode = (typeof Status)[keyof typeof Status];

/**
 * Orders statuses by how much a caller should care, so a frame holding
 * several events reports its worst one.
 */
export function worse(a: number, b: number): number {
  return rank(b) > rank(a) ? b : a;
}
function rank(s: number): number {
  switch (s) {
    case Status.MALFORMED:
      return 6;
    case Status.BAD_FIELD:
      return 5;
    case Status.UNKNOWN_ID:
      return 4;
    case Status.UNKNOWN_EVENT:
      return 3;
    case Status.CONTROL:
      return 2;
    case Status.PONG:
    case Status.EMPTY:
      return 1;
    default:
      return 0;
  }
}

// Value types reported for a scanned field.
export const T_ABSENT = 0;
export const T_STRING = 1;
export const T_NUMBER = 2;
export const T_TRUE = 3;
export const T_FALSE = 4;
export const T_NULL = 5;
export const T_OBJECT = 6;
export const T_ARRAY = 7;

/** Nesting beyond this is reported malformed rather than risking stack overflow. */
export const MAX_DEPTH = 256;

/**
 * Side outputs of the string scanners: [0] index of the closing quote,
 * [1] FNV-1a hash of the raw content bytes, [2] 1 if the string had an escape.
 * A typed array rather than return tuples so nothing is allocated.
 */
export const scanOut = new Int32Array(3);

export const FNV_SEED = -2128831035; // 0x811c9dc5 as int32

/** FNV-1a over b[start, end); the same hash the string scanner computes. */
export function hashBytes(b: Uint8Array, start: number, end: number): number {
  let h = FNV_SEED;
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i]!, 16777619);
  return h;
}

export function skipWs(b: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const c = b[i]!;
    // Venue JSON is compact: almost always one compare and out.
    if (c > 0x20 || (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09)) break;
    i++;
  }
  return i;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** i at the byte after a backslash; returns the index after the escape or -1. */
function scanEscape(b: Uint8Array, i: number, end: number): number {
  if (i >= end) return -1;
  switch (b[i]!) {
    case 0x22: // "
    case 0x5c: // \
    case 0x2f: // /
    case 0x62: // b
    case 0x66: // f
    case 0x6e: // n
    case 0x72: // r
    case 0x74: // t
      return i + 1;
    case 0x75: // u
      if (i + 4 >= end) return -1;
      if (!isHex(b[i + 1]!) || !isHex(b[i + 2]!) || !isHex(b[i + 3]!) || !isHex(b[i + 4]!)) return -1;
      return i + 5;
    default:
      return -1;
  }
}

/** 1 for the bytes that end the fast run of a string: '"', '\\' and control characters. */
const STR_STOP = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) STR_STOP[c] = 1;
STR_STOP[0x22] = 1;
STR_STOP[0x5c] = 1;

/**
 * i at the byte after the opening quote. Returns the index after the closing
 * quote, or -1 if the string is unterminated or invalid. scanOut[0] = closing
 * quote index, scanOut[2] = had escape.
 */
export function scanString(b: Uint8Array, i: number, end: number): number {
  let esc = 0;
  while (i < end) {
    // One table test per ordinary byte instead of three comparisons.
    if (STR_STOP[b[i]!] === 0) {
      i++;
      continue;
    }
    const c = b[i]!;
    if (c === 0x22) {
      scanOut[0] = i;
      scanOut[2] = esc;
      return i + 1;
    }
    if (c === 0x5c) {
      esc = 1;
      i = scanEscape(b, i + 1, end);
      if (i < 0) return -1;
      continue;
    }
    if (c < 0x20) return -1;
    i++;
  }
  return -1;
}

/**
 * scanString for long opaque strings (hashes, condition ids): tests four
 * bytes per step for a quote, backslash or control byte (the classic
 * "has byte less than / equal to" bit tricks; a hit may only be a false
 * positive in bytes after a true one, so a hit always means "look closer"),
 * then finishes byte by byte from the word that hit. dv must view the same
 * bytes as b at the same offsets.
 */
export function scanStringSwar(b: Uint8Array, dv: DataView, i: number, end: number): number {
  const last = end - 4;
  while (i <= last) {
    const x = dv.getUint32(i, true);
    const q = x ^ 0x22222222;
    const s = x ^ 0x5c5c5c5c;
    if (((((q - 0x01010101) & ~q) | ((s - 0x01010101) & ~s) | ((x - 0x20202020) & ~x)) & 0x80808080) !== 0) break;
    i += 4;
  }
  return scanString(b, i, end);
}

/** scanString that also leaves the FNV-1a hash of the raw content in scanOut[1]. */
export function scanStringHash(b: Uint8Array, i: number, end: number): number {
  let h = FNV_SEED;
  let esc = 0;
  while (i < end) {
    const c = b[i]!;
    if (c === 0x22) {
      scanOut[0] = i;
      scanOut[1] = h;
      scanOut[2] = esc;
      return i + 1;
    }
    if (c === 0x5c) {
      esc = 1;
      const j = scanEscape(b, i + 1, end);
      if (j < 0) return -1;
      for (; i < j; i++) h = Math.imul(h ^ b[i]!, 16777619);
      continue;
    }
    if (c < 0x20) return -1;
    h = Math.imul(h ^ c, 16777619);
    i++;
  }
  return -1;
}

/** JSON number grammar from i; returns the index after it or -1. */
export function scanNumber(b: Uint8Array, i: number, end: number): number {
  if (i < end && b[i] === 0x2d) i++;
  if (i >= end) return -1;
  let c = b[i]!;
  if (c === 0x30) {
    i++;
  } else if (c >= 0x31 && c <= 0x39) {
    i++;
    while (i < end && (c = b[i]!) >= 0x30 && c <= 0x39) i++;
  } else {
    return -1;
  }
  if (i < end && b[i] === 0x2e) {
    i++;
    const first = i;
    while (i < end && (c = b[i]!) >= 0x30 && c <= 0x39) i++;
    if (i === first) return -1;
  }
  if (i < end && (b[i] === 0x65 || b[i] === 0x45)) {
    i++;
    if (i < end && (b[i] === 0x2b || b[i] === 0x2d)) i++;
    const first = i;
    while (i < end && (c = b[i]!) >= 0x30 && c <= 0x39) i++;
    if (i === first) return -1;
  }
  return i;
}

function scanLiteral(b: Uint8Array, i: number, end: number): number {
  const c = b[i]!;
  if (c === 0x74) {
    return i + 3 < end && b[i + 1] === 0x72 && b[i + 2] === 0x75 && b[i + 3] === 0x65 ? i + 4 : -1;
  }
  if (c === 0x66) {
    return i + 4 < end && b[i + 1] === 0x61 && b[i + 2] === 0x6c && b[i + 3] === 0x73 && b[i + 4] === 0x65
      ? i + 5
      : -1;
  }
  if (c === 0x6e) {
    return i + 3 < end && b[i + 1] === 0x75 && b[i + 2] === 0x6c && b[i + 3] === 0x6c ? i + 4 : -1;
  }
  return -1;
}

/** Type code of the value starting at b[i] (first byte only; not validated). */
export function valueType(c: number): number {
  switch (c) {
    case 0x22:
      return T_STRING;
    case 0x7b:
      return T_OBJECT;
    case 0x5b:
      return T_ARRAY;
    case 0x74:
      return T_TRUE;
    case 0x66:
      return T_FALSE;
    case 0x6e:
      return T_NULL;
    default:
      return T_NUMBER;
  }
}

/** Validates and skips any JSON value starting at b[i] (no leading whitespace). */
export function skipValue(b: Uint8Array, i: number, end: number, depth: number): number {
  if (i >= end) return -1;
  const c = b[i]!;
  if (c === 0x22) return scanString(b, i + 1, end);
  if (c === 0x7b) return skipObject(b, i + 1, end, depth + 1);
  if (c === 0x5b) return skipArray(b, i + 1, end, depth + 1);
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return scanNumber(b, i, end);
  return scanLiteral(b, i, end);
}

/** i after '{'; returns the index after the matching '}' or -1. */
export function skipObject(b: Uint8Array, i: number, end: number, depth: number): number {
  if (depth > MAX_DEPTH) return -1;
  i = skipWs(b, i, end);
  if (i < end && b[i] === 0x7d) return i + 1;
  for (;;) {
    if (i >= end || b[i] !== 0x22) return -1;
    i = scanString(b, i + 1, end);
    if (i < 0) return -1;
    i = skipWs(b, i, end);
    if (i >= end || b[i] !== 0x3a) return -1;
    i = skipWs(b, i + 1, end);
    i = skipValue(b, i, end, depth);
    if (i < 0) return -1;
    i = skipWs(b, i, end);
    if (i >= end) return -1;
    const c = b[i]!;
    if (c === 0x7d) return i + 1;
    if (c !== 0x2c) return -1;
    i = skipWs(b, i + 1, end);
  }
}

/** i after '['; returns the index after the matching ']' or -1. */
export function skipArray(b: Uint8Array, i: number, end: number, depth: number): number {
  if (depth > MAX_DEPTH) return -1;
  i = skipWs(b, i, end);
  if (i < end && b[i] === 0x5d) return i + 1;
  for (;;) {
    i = skipValue(b, i, end, depth);
    if (i < 0) return -1;
    i = skipWs(b, i, end);
    if (i >= end) return -1;
    const c = b[i]!;
    if (c === 0x5d) return i + 1;
    if (c !== 0x2c) return -1;
    i = skipWs(b, i + 1, end);
  }
}

/**
 * First step of every frame: returns FRAME_EMPTY, FRAME_PONG, or the index of
 * the first non-whitespace byte (the caller checks it is '{' or '[').
 */
export const FRAME_EMPTY = -1;
export const FRAME_PONG = -2;
export function classifyFrame(b: Uint8Array, start: number, end: number): number {
  const i = skipWs(b, start, end);
  if (i >= end) return FRAME_EMPTY;
  const c = b[i]!;
  if ((c === 0x50 || c === 0x70) && i + 3 < end) {
    const up = c === 0x50;
    if (
      b[i + 1] === (up ? 0x4f : 0x6f) &&
      b[i + 2] === (up ? 0x4e : 0x6e) &&
      b[i + 3] === (up ? 0x47 : 0x67) &&
      skipWs(b, i + 4, end) === end
    ) {
      return FRAME_PONG;
    }
  }
  return i;
}

/**
 * Maps byte strings (keys, enum values, token ids, symbols) to small integers
 * without building a string: the scanner hashes the bytes while looking for
 * the closing quote, the table is probed with that hash and the bytes are
 * compared once to rule out collisions. Open addressing, linear probing.
 */
export class IdTable {
  private names: string[] = [];
  private values: number[] = [];
  private pool = new Uint8Array(0);
  private poolDv = new DataView(new ArrayBuffer(0));
  private offs = new Int32Array(0);
  private lens = new Int32Array(0);
  private hashes = new Int32Array(0);
  private plain = new Uint8Array(0);
  private vals = new Int32Array(0);
  private table = new Int32Array(0);
  private mask = 0;
  private nextValue = 0;

  constructor(names: readonly string[] = []) {
    for (const n of names) this.register(n);
  }

  get size(): number {
    return this.names.length;
  }

  /**
   * Adds name (idempotent) and returns its value: `value` if given, else the
   * next unused integer. Cold path: rebuilds the table.
   */
  register(name: string, value?: number): number {
    const at = this.names.indexOf(name);
    if (at >= 0) {
      if (value !== undefined && value !== this.values[at]) {
        this.values[at] = value;
        this.rebuild();
      }
      return this.values[at]!;
    }
    const v = value ?? this.nextValue;
    if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) throw new RangeError(`IdTable value ${v}`);
    this.nextValue = Math.max(this.nextValue, v + 1);
    this.names.push(name);
    this.values.push(v);
    this.rebuild();
    return v;
  }

  /** Removes name; returns false if it was not there. Cold path. */
  unregister(name: string): boolean {
    const at = this.names.indexOf(name);
    if (at < 0) return false;
    this.names.splice(at, 1);
    this.values.splice(at, 1);
    this.rebuild();
    return true;
  }

  private rebuild(): void {
    const enc = new TextEncoder();
    const bytes = this.names.map((n) => enc.encode(n));
    const total = bytes.reduce((s, x) => s + x.length, 0);
    const n = bytes.length;
    this.pool = new Uint8Array(total);
    this.poolDv = new DataView(this.pool.buffer);
    this.offs = new Int32Array(n);
    this.lens = new Int32Array(n);
    this.hashes = new Int32Array(n);
    this.plain = new Uint8Array(n);
    this.vals = new Int32Array(this.values);
    let size = 8;
    while (size < n * 4) size <<= 1;
    this.table = new Int32Array(size).fill(-1);
    this.mask = size - 1;
    let off = 0;
    for (let k = 0; k < n; k++) {
      const x = bytes[k]!;
      this.pool.set(x, off);
      this.offs[k] = off;
      this.lens[k] = x.length;
      const h = hashBytes(x, 0, x.length);
      this.hashes[k] = h;
      this.plain[k] = x.every((c) => STR_STOP[c] === 0) ? 1 : 0;
      let slot = h & this.mask;
      while (this.table[slot] !== -1) slot = (slot + 1) & this.mask;
      this.table[slot] = k;
      off += x.length;
    }
  }

  /** Value for the bytes b[start, end) whose FNV-1a hash is h, or -1. */
  lookup(b: Uint8Array, start: number, end: number, h: number): number {
    const len = end - start;
    const table = this.table;
    const mask = this.mask;
    let slot = h & mask;
    for (;;) {
      const k = table[slot]!;
      if (k < 0) return -1;
      if (this.hashes[k] === h && this.lens[k] === len) {
        const pool = this.pool;
        let p = this.offs[k]!;
        let i = start;
        while (i < end && pool[p] === b[i]) {
          i++;
          p++;
        }
        if (i === end) return this.vals[k]!;
      }
      slot = (slot + 1) & mask;
    }
  }

  /** Internal entry number of the bytes b[start, end) with hash h, or -1 (for match()). */
  find(b: Uint8Array, start: number, end: number, h: number): number {
    const len = end - start;
    const table = this.table;
    const mask = this.mask;
    let slot = h & mask;
    for (;;) {
      const k = table[slot]!;
      if (k < 0) return -1;
      if (this.hashes[k] === h && this.lens[k] === len) {
        const pool = this.pool;
        let p = this.offs[k]!;
        let i = start;
        while (i < end && pool[p] === b[i]) {
          i++;
          p++;
        }
        if (i === end) return k;
      }
      slot = (slot + 1) & mask;
    }
  }

  /** Value of entry k (from find()). */
  valueAt(k: number): number {
    return this.vals[k]!;
  }

  /**
   * If b at i holds entry k's name followed by a closing quote, returns the
   * index after that quote, else -1. One pass, no hashing: used to confirm a
   * predicted key or token id. Only names without '"', '\\' or control
   * bytes take part, so a match is also a valid JSON string.
   */
  match(b: Uint8Array, i: number, end: number, k: number): number {
    if (k < 0 || k >= this.lens.length || this.plain[k] === 0) return -1;
    const len = this.lens[k]!;
    if (i + len >= end) return -1;
    const pool = this.pool;
    let p = this.offs[k]!;
    const stop = p + len;
    while (p < stop) {
      if (pool[p] !== b[i]) return -1;
      p++;
      i++;
    }
    return b[i] === 0x22 ? i + 1 : -1;
  }

  /** match() comparing four bytes per step; dv views b's bytes at the same offsets. For long ids. */
  matchSwar(b: Uint8Array, dv: DataView, i: number, end: number, k: number): number {
    if (k < 0 || k >= this.lens.length || this.plain[k] === 0) return -1;
    const len = this.lens[k]!;
    if (i + len >= end) return -1;
    const p = this.offs[k]!;
    const pdv = this.poolDv;
    let n = 0;
    for (; n + 4 <= len; n += 4) if (dv.getUint32(i + n, true) !== pdv.getUint32(p + n, true)) return -1;
    const pool = this.pool;
    for (; n < len; n++) if (b[i + n] !== pool[p + n]) return -1;
    return b[i + len] === 0x22 ? i + len + 1 : -1;
  }

  /** lookup() for a JS string (cold paths, tests). */
  lookupString(name: string): number {
    const at = this.names.indexOf(name);
    return at < 0 ? -1 : this.values[at]!;
  }

  /** The registered name for a value, or undefined (cold paths, logs). */
  nameOf(value: number): string | undefined {
    const at = this.values.indexOf(value);
    return at < 0 ? undefined : this.names[at];
  }
}

/**
 * Field spans of a small, fixed set of keys across nested objects ("sets"),
 * for the low-rate feeds (RTDS, Deribit) where a generic walk is fast enough.
 * child[set * nKeys + key] names the set an object value of that key is
 * scanned into, or -1 to just record its span.
 */
export class Slots {
  readonly nKeys: number;
  readonly type: Uint8Array;
  readonly start: Int32Array;
  readonly end: Int32Array;
  readonly hash: Int32Array;
  readonly esc: Uint8Array;

  constructor(
    readonly keys: IdTable,
    readonly nSets: number,
    readonly child: Int8Array,
  ) {
    this.nKeys = keys.size;
    const n = this.nKeys * nSets;
    this.type = new Uint8Array(n);
    this.start = new Int32Array(n);
    this.end = new Int32Array(n);
    this.hash = new Int32Array(n);
    this.esc = new Uint8Array(n);
  }

  /** Clears a set and every set nested under it. */
  reset(set: number): void {
    const base = set * this.nKeys;
    for (let k = 0; k < this.nKeys; k++) {
      this.type[base + k] = T_ABSENT;
      const c = this.child[base + k]!;
      if (c >= 0) this.reset(c);
    }
  }

  /** i after '{'; scans the object into `set`; returns the index after '}' or -1. */
  scan(b: Uint8Array, i: number, end: number, set: number, depth: number): number {
    if (depth > MAX_DEPTH) return -1;
    const base = set * this.nKeys;
    i = skipWs(b, i, end);
    if (i < end && b[i] === 0x7d) return i + 1;
    for (;;) {
      if (i >= end || b[i] !== 0x22) return -1;
      const ks = i + 1;
      i = scanStringHash(b, ks, end);
      if (i < 0) return -1;
      const key = this.keys.lookup(b, ks, scanOut[0]!, scanOut[1]!);
      i = skipWs(b, i, end);
      if (i >= end || b[i] !== 0x3a) return -1;
      i = skipWs(b, i + 1, end);
      if (i >= end) return -1;
      const c = b[i]!;
      if (key < 0) {
        i = skipValue(b, i, end, depth);
      } else {
        const slot = base + key;
        const t = valueType(c);
        this.type[slot] = t;
        if (t === T_STRING) {
          const s = i + 1;
          i = scanStringHash(b, s, end);
          this.start[slot] = s;
          this.end[slot] = scanOut[0]!;
          this.hash[slot] = scanOut[1]!;
          this.esc[slot] = scanOut[2]!;
        } else {
          const s = i;
          const sub = this.child[slot]!;
          if (t === T_OBJECT && sub >= 0) {
            this.reset(sub);
            i = this.scan(b, i + 1, end, sub, depth + 1);
          } else {
            i = skipValue(b, i, end, depth);
          }
          this.start[slot] = s;
          this.end[slot] = i;
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
}

/**
 * A copy of `a` in a new array of `length` elements, the rest zero: how a
 * parser's per-frame scratch grows, rarely, when a frame holds more objects
 * or levels than any before it.
 */
export function grown(a: Int8Array, length: number): Int8Array<ArrayBuffer>;
export function grown(a: Int32Array, length: number): Int32Array<ArrayBuffer>;
export function grown(a: Float64Array, length: number): Float64Array<ArrayBuffer>;
export function grown(a: Int8Array | Int32Array | Float64Array, length: number): Int8Array<ArrayBuffer> | Int32Array<ArrayBuffer> | Float64Array<ArrayBuffer> {
  const out = a instanceof Int8Array ? new Int8Array(length) : a instanceof Int32Array ? new Int32Array(length) : new Float64Array(length);
  out.set(a);
  return out;
}

/** Frame-level outcome of forEachObject besides an object count. */
export const FRAME_MALFORMED = -3;

/** Frame-level outcomes every parser counts alike. */
export interface FrameCounters {
  empty: number;
  pong: number;
  malformed: number;
}

/**
 * Counts a forEachObject result that ends the frame (empty, PONG, malformed)
 * and returns its Status; OK means objects were scanned and parsing goes on.
 */
export function frameOutcome(r: number, c: FrameCounters): number {
  if (r === FRAME_EMPTY) {
    c.empty++;
    return Status.EMPTY;
  }
  if (r === FRAME_PONG) {
    c.pong++;
    return Status.PONG;
  }
  if (r === FRAME_MALFORMED) {
    c.malformed++;
    return Status.MALFORMED;
  }
  return Status.OK;
}

/**
 * Walks a frame that is one object or an array of objects, calling scanObj
 * with the index after each '{' (it returns the index after the matching
 * '}' or -1). Returns FRAME_EMPTY, FRAME_PONG, FRAME_MALFORMED or the number
 * of objects scanned.
 */
export function forEachObject(
  b: Uint8Array,
  start: number,
  end: number,
  scanObj: (b: Uint8Array, i: number, end: number) => number,
): number {
  let i = classifyFrame(b, start, end);
  if (i < 0) return i;
  let n = 0;
  if (b[i] === 0x7b) {
    i = scanObj(b, i + 1, end);
    n = 1;
  } else if (b[i] === 0x5b) {
    i = skipWs(b, i + 1, end);
    if (i < end && b[i] === 0x5d) i++;
    else {
      for (;;) {
        if (i >= end || b[i] !== 0x7b) return FRAME_MALFORMED;
        i = scanObj(b, i + 1, end);
        if (i < 0) return FRAME_MALFORMED;
        n++;
        i = skipWs(b, i, end);
        if (i >= end) return FRAME_MALFORMED;
        if (b[i] === 0x5d) {
          i++;
          break;
        }
        if (b[i] !== 0x2c) return FRAME_MALFORMED;
        i = skipWs(b, i + 1, end);
      }
    }
  } else {
    return FRAME_MALFORMED;
  }
  if (i < 0 || skipWs(b, i, end) !== end) return FRAME_MALFORMED;
  return n;
}
