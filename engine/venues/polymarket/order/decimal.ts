// Exact decimal arithmetic for order amounts: a value is a bigint count of
// 10^-18 units. Order math needs at most 10 decimals (amount decimals + 4),
// so 18 leaves every intermediate product exact and no float ever touches
// money.

export const SCALE_DIGITS = 18;
const SCALE = 10n ** 18n;
const POW10: bigint[] = Array.from({ length: 37 }, (_, i) => 10n ** BigInt(i));

export type Dec = bigint;

const DECIMAL_RE = /^(\d*)(?:\.(\d*))?$/;

/** Parses "0.56", ".48", "21", "21.040"; undefined for anything else. */
export function parseDec(text: string): Dec | undefined {
  const m = DECIMAL_RE.exec(text);
  if (!m) return undefined;
  const whole = m[1] ?? '';
  const frac = m[2] ?? '';
  if (whole === '' && frac === '') return undefined;
  if (frac.length > SCALE_DIGITS) return undefined;
  return BigInt(whole || '0') * SCALE + BigInt((frac || '0').padEnd(SCALE_DIGITS, '0'));
}

export function decFromInt(n: number | bigint): Dec {
  return BigInt(n) * SCALE;
}

/** Number of decimals needed to write the value exactly. */
export function decimalsOf(x: Dec): number {
  let r = (x < 0n ? -x : x) % SCALE;
  if (r === 0n) return 0;
  let d = SCALE_DIGITS;
  while (r % 10n === 0n) {
    r /= 10n;
    d--;
  }
  return d;
}

function unit(decimals: number): bigint {
  return POW10[SCALE_DIGITS - decimals]!;
}

export function floorTo(x: Dec, decimals: number): Dec {
  const u = unit(decimals);
  const r = ((x % u) + u) % u;
  return x - r;
}

export function ceilTo(x: Dec, decimals: number): Dec {
  const f = floorTo(x, decimals);
  return f === x ? x : f + unit(decimals);
}

export function roundHalfUpTo(x: Dec, decimals: number): Dec {
  const u = unit(decimals);
  return floorTo(x + u / 2n, decimals);
}

/** Exact product; exact as long as the two operands' decimals sum to <= 18. */
export function mul(a: Dec, b: Dec): Dec {
  return (a * b) / SCALE;
}

/** a / b rounded up to `decimals` places, computed exactly. */
export function divCeilTo(a: Dec, b: Dec, decimals: number): Dec {
  // Units of 10^-decimals: ceil(a * 10^decimals / b).
  const num = a * POW10[decimals]!;
  const q = num / b + (num % b === 0n ? 0n : 1n);
  return q * unit(decimals);
}

/** Integer count of 10^-decimals units (e.g. 6 → pUSD base units); value must fit exactly. */
export function toUnits(x: Dec, decimals: number): bigint {
  const u = unit(decimals);
  if (x % u !== 0n) throw new RangeError(`value has more than ${decimals} decimals`);
  return x / u;
}

export function formatDec(x: Dec): string {
  const neg = x < 0n;
  const abs = neg ? -x : x;
  const whole = abs / SCALE;
  const frac = (abs % SCALE).toString().padStart(SCALE_DIGITS, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}

export function isMultipleOf(x: Dec, step: Dec): boolean {
  return step !== 0n && x % step === 0n;
}
