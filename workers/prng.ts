// The one seeded pseudo-random generator of the project: tests, fixtures,
// benchmarks, the paper executor's latency jitter and every random choice of
// the venue simulator. The same seed gives the same stream on every thread
// and every run, so a failure can be replayed and a worker can regenerate
// exactly what the main thread expects.
// mulberry32: 32-bit state, good enough statistically for test data and
// simulated markets, and it never allocates.

/** 32-bit FNV-1a, used to turn labels into independent seeds. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class Prng {
  private state: number;

  /** A number seeds the state directly; a string is hashed (FNV-1a) to one. */
  constructor(seed: number | string) {
    this.state = typeof seed === 'number' ? seed >>> 0 : fnv1a(seed);
  }

  /** An independent generator for a named sub-stream of the same seed. */
  static derive(seed: number, ...labels: Array<string | number>): Prng {
    return new Prng(`${seed >>> 0}/${labels.join('/')}`);
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform integer in [lo, hi] inclusive. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.int(items.length)] as T;
  }

  /** Standard normal via Box–Muller. */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** `chars` lowercase hex digits. */
  hex(chars: number): string {
    let out = '';
    while (out.length < chars) out += this.nextU32().toString(16).padStart(8, '0');
    return out.slice(0, chars);
  }

  /** A decimal string of exactly `digits` digits without a leading zero. */
  decimalDigits(digits: number): string {
    let out = String(this.range(1, 9));
    while (out.length < digits) out += String(this.int(10));
    return out;
  }
}

/**
 * Stateless 32-bit mix of (seed, index): random access into a reproducible
 * stream, so a consumer that sees only some indices (a dropping ring) can
 * still check each payload it received.
 */
export function hash32(seed: number, index: number): number {
  let h = Math.imul((seed ^ 0x9e3779b9) >>> 0, 0x85ebca6b) ^ Math.imul(index >>> 0, 0xc2b2ae35);
  h ^= Math.floor(index / 4294967296);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}
