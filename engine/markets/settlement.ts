// When and how an Up/Down window resolves (protocols §5.3, §11.12): "Up" if
// the Chainlink price at the end of the window is greater than or equal to
// the price at its beginning. The engine settles paper positions by the same
// rule from the prices the resolution source reports, each stamped with the
// venue's own time:
//
//   open   the last price stamped at or before the window's start
//   close  the last price stamped at or before the window's end, known for
//          sure only once a price stamped after the end arrives
//
//   ──●────●──|start|──●───●───●──|end|──●──▶ exchange time
//        open ┘                 close ┘   └ settles here
//
// A session that joined after a window began (or restarted inside it) never
// saw the price at its start: it takes the first price after instead and
// the settlement says it was not exact. Likewise for a feed that was silent
// across the end.

/** The source whose prices decide Up/Down windows. */
export const RESOLUTION_SOURCE = 'rtds-chainlink';

export class WindowPrices {
  readonly open: Float64Array;
  readonly close: Float64Array;
  /** Stamps of the prices held in open and close: a point older than the one held (a subscription's history arriving late) does not replace it. */
  private readonly openTs: Float64Array;
  private readonly closeTs: Float64Array;
  /** Bit 0: open exact; bit 1: close exact. */
  private readonly exact: Uint8Array;

  constructor(slots: number) {
    this.open = new Float64Array(slots).fill(NaN);
    this.close = new Float64Array(slots).fill(NaN);
    this.openTs = new Float64Array(slots).fill(NaN);
    this.closeTs = new Float64Array(slots).fill(NaN);
    this.exact = new Uint8Array(slots);
  }

  reset(slot: number): void {
    this.open[slot] = NaN;
    this.close[slot] = NaN;
    this.openTs[slot] = NaN;
    this.closeTs[slot] = NaN;
    this.exact[slot] = 0;
  }

  /**
   * A resolution price stamped `tsMs` for the window [startMs, endMs] of
   * `slot`. Returns true when it settles the window: close is then final.
   */
  observe(slot: number, startMs: number, endMs: number, price: number, tsMs: number): boolean {
    this.track(slot, 1, startMs, price, tsMs, this.open, this.openTs);
    this.track(slot, 2, endMs, price, tsMs, this.close, this.closeTs);
    return !(tsMs <= endMs);
  }

  /**
   * One end of the window (`bit` of exact): the latest price stamped at or
   * before `boundaryMs`, which always beats a first-after one; until one
   * comes, the earliest price after it.
   */
  private track(slot: number, bit: number, boundaryMs: number, price: number, tsMs: number, value: Float64Array, stamp: Float64Array): void {
    const exact = (this.exact[slot]! & bit) !== 0;
    if (tsMs <= boundaryMs) {
      if (!exact || tsMs >= stamp[slot]!) {
        value[slot] = price;
        stamp[slot] = tsMs;
        this.exact[slot]! |= bit;
      }
    } else if (!exact && !(tsMs >= stamp[slot]!)) {
      value[slot] = price;
      stamp[slot] = tsMs;
    }
  }

  /** The open is the price at or before the start: final once anything stamped after the start has come. */
  isOpenExact(slot: number): boolean {
    return (this.exact[slot]! & 1) !== 0;
  }

  openTsMs(slot: number): number {
    return this.openTs[slot]!;
  }

  isExact(slot: number): boolean {
    return this.exact[slot] === 3;
  }

  /** 0 when the first outcome (Up) wins: ties go to Up. */
  winner(slot: number): 0 | 1 {
    return this.close[slot]! >= this.open[slot]! ? 0 : 1;
  }
}

/**
 * The latest resolution prices of one underlying, oldest first: a market
 * found after its window began (the current window at start-up) looks back
 * here for the price at its start instead of taking the next one.
 */
export class PriceHistory {
  private readonly ts: Float64Array;
  private readonly price: Float64Array;
  private next = 0;
  private size = 0;

  /** 4096 points: over an hour of Chainlink's roughly one-a-second stream. */
  constructor(capacity = 4096) {
    this.ts = new Float64Array(capacity);
    this.price = new Float64Array(capacity);
  }

  push(tsMs: number, price: number): void {
    this.ts[this.next] = tsMs;
    this.price[this.next] = price;
    this.next = (this.next + 1) % this.ts.length;
    if (this.size < this.ts.length) this.size++;
  }

  /** Calls f on every kept point, oldest first. */
  forEach(f: (tsMs: number, price: number) => void): void {
    const cap = this.ts.length;
    for (let i = 0, j = (this.next - this.size + cap) % cap; i < this.size; i++, j = (j + 1) % cap) f(this.ts[j]!, this.price[j]!);
  }
}
