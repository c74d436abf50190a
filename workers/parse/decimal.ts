// Decimal ASCII → integer ticks / float64, straight from frame bytes.
//
// Prices are compared and used as book keys, so they must be exact: "0.50",
// ".5" and "0.500" have to land on the same integer. Going through a float
// (parseFloat(x) * 1e4) rounds 0.29 to 2899.9999999999995, so ticks are built
// from the digits with integer arithmetic only. Sizes are float64; the fast
// path below gives the correctly rounded result, identical to Number(text).

/** Exact powers of ten as float64 (10^22 is the largest exactly representable). */
const POW10 = new Float64Array(23);
for (let k = 0, v = 1; k < 23; k++, v *= 10) POW10[k] = v;

/** Largest tick exponent accepted: the tick grid is 10^-exp, exp in [0, MAX_TICK_EXP]. */
export const MAX_TICK_EXP = 15;

/**
 * Parses a decimal in b[start, end) onto the grid 10^-exp and returns the
 * integer number of ticks, e.g. ("0.55", 4) → 5500, ("61800.30", 1) → 618003.
 *
 * Grammar: optional '-', digits, optional '.' followed by at least one digit,
 * at least one digit in all; a leading '.' is allowed (".48"), a trailing one
 * is not. Returns NaN if the text is not such a decimal, if it has a non-zero
 * digit finer than the grid (off-grid price), or if the result is not a safe
 * integer. Never throws, never allocates.
 */
export function parseTicks(b: Uint8Array, start: number, end: number, exp: number): number {
  let i = start;
  let neg = false;
  if (i < end && b[i] === 0x2d) {
    neg = true;
    i++;
  }
  let intPart = 0;
  let digits = 0;
  while (i < end) {
    const d = b[i]! - 0x30;
    if (d < 0 || d > 9) break;
    // Once this exceeds 2^53 it stops being exact, but then the final result
    // exceeds MAX_SAFE_INTEGER too and is rejected below.
    intPart = intPart * 10 + d;
    digits++;
    i++;
  }
  let frac = 0;
  let fracDigits = 0;
  if (i < end && b[i] === 0x2e) {
    i++;
    const first = i;
    while (i < end) {
      const d = b[i]! - 0x30;
      if (d < 0 || d > 9) break;
      if (fracDigits < exp) {
        frac = frac * 10 + d;
        fracDigits++;
      } else if (d !== 0) {
        return NaN; // finer than the grid: not a valid level on it
      }
      i++;
    }
    if (i === first) return NaN;
    digits += i - first;
  }
  if (i !== end || digits === 0 || exp < 0 || exp > MAX_TICK_EXP) return NaN;
  const ticks = intPart * POW10[exp]! + frac * POW10[exp - fracDigits]!;
  if (ticks > Number.MAX_SAFE_INTEGER) return NaN;
  return neg && ticks !== 0 ? -ticks : ticks;
}

/**
 * Parses a decimal (optionally with an exponent, as JSON numbers may carry)
 * in b[start, end) to the float64 that Number(text) would give.
 *
 * Fast path (Clinger): when the significant digits fit in 2^53 and the decimal
 * exponent is within ±22, one IEEE multiply or divide of two exact values is
 * correctly rounded. Trailing zeros are folded into the exponent, so 18-decimal
 * fixed-point strings such as Chainlink's also take the fast path. Anything
 * else decodes the (already validated) bytes and calls Number(): allocates, but
 * never happens for venue sizes. Returns NaN on malformed text.
 */
export function parseFloat64(b: Uint8Array, start: number, end: number): number {
  // Thin wrapper so it inlines into callers: a float64 returned from a call
  // that V8 does not inline is boxed on the heap, one allocation per number.
  return parseFloat64Into(b, start, end) === 1 ? f64Out[0]! : NaN;
}

/** Result slot of parseFloat64Into (a typed array, so results are never boxed). */
export const f64Out = new Float64Array(1);

/** parseFloat64 writing its result to f64Out[0]; returns 1, or 0 (and NaN there) if malformed. */
export function parseFloat64Into(b: Uint8Array, start: number, end: number): number {
  let i = start;
  let neg = false;
  if (i < end && b[i] === 0x2d) {
    neg = true;
    i++;
  }
  let mant = 0;
  let pendingZeros = 0;
  let exp10 = 0;
  let digits = 0;
  let exact = true;
  while (i < end) {
    const d = b[i]! - 0x30;
    if (d < 0 || d > 9) break;
    if (d === 0) pendingZeros++;
    else {
      while (pendingZeros > 0) {
        mant *= 10;
        pendingZeros--;
      }
      mant = mant * 10 + d;
      if (mant >= 9007199254740992) exact = false;
    }
    digits++;
    i++;
  }
  if (i < end && b[i] === 0x2e) {
    i++;
    const first = i;
    while (i < end) {
      const d = b[i]! - 0x30;
      if (d < 0 || d > 9) break;
      if (d === 0) pendingZeros++;
      else {
        while (pendingZeros > 0) {
          mant *= 10;
          pendingZeros--;
        }
        mant = mant * 10 + d;
        if (mant >= 9007199254740992) exact = false;
      }
      exp10--;
      i++;
    }
    if (i === first) return fail();
    digits += i - first;
  }
  if (digits === 0) return fail();
  if (i < end && (b[i] === 0x65 || b[i] === 0x45)) {
    i++;
    let eneg = false;
    if (i < end && (b[i] === 0x2b || b[i] === 0x2d)) {
      eneg = b[i] === 0x2d;
      i++;
    }
    const first = i;
    let e = 0;
    while (i < end) {
      const d = b[i]! - 0x30;
      if (d < 0 || d > 9) break;
      if (e < 100000) e = e * 10 + d;
      i++;
    }
    if (i === first) return fail();
    exp10 += eneg ? -e : e;
  }
  if (i !== end) return fail();
  exp10 += pendingZeros;
  let v: number;
  if (mant === 0) v = 0;
  else if (exact && exp10 >= -22 && exp10 <= 22) v = exp10 < 0 ? mant / POW10[-exp10]! : mant * POW10[exp10]!;
  else v = Math.abs(Number(latin1(b, start, end))); // rare: > 2^53 digits or |exponent| > 22
  f64Out[0] = neg ? -v : v;
  return 1;
}

/**
 * Parses an unsigned decimal integer (digits only, e.g. a millisecond
 * timestamp or an update id) in b[start, end). NaN if empty, not all digits,
 * or above Number.MAX_SAFE_INTEGER.
 */
export function parseUint(b: Uint8Array, start: number, end: number): number {
  return parseUintInto(b, start, end) === 1 ? f64Out[0]! : NaN;
}

/** parseUint writing its result to f64Out[0]; returns 1, or 0 if invalid. */
export function parseUintInto(b: Uint8Array, start: number, end: number): number {
  if (start >= end) return fail();
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = b[i]! - 0x30;
    if (d < 0 || d > 9) return fail();
    v = v * 10 + d;
  }
  if (v > Number.MAX_SAFE_INTEGER) return fail();
  f64Out[0] = v;
  return 1;
}

function fail(): number {
  f64Out[0] = NaN;
  return 0;
}

/** Decodes ASCII bytes to a string. Allocates: for cold paths (replay, errors). */
export function latin1(b: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(b[i]!);
  return s;
}

const scratch = new Uint8Array(64);

function toScratch(text: string): number {
  if (text.length > scratch.length) return -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return -1;
    scratch[i] = c;
  }
  return text.length;
}

/** parseTicks for a JS string (config, tests); NaN for non-ASCII or > 64 chars. */
export function ticksFromString(text: string, exp: number): number {
  const n = toScratch(text);
  return n < 0 ? NaN : parseTicks(scratch, 0, n, exp);
}

/** parseFloat64 for a JS string (config, tests). */
export function float64FromString(text: string): number {
  const n = toScratch(text);
  return n < 0 ? NaN : parseFloat64(scratch, 0, n);
}
