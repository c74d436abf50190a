// The obvious, slow book the ladder books are checked against in tests: a Map
// per side, sorted on demand. Its VWAP walks levels in the same order and
// with the same arithmetic as BookReader, so results must match exactly.
import { NO_TICK, Side } from './book-layout.js';

export class ModelBook {
  readonly sides: [Map<number, number>, Map<number, number>] = [new Map(), new Map()];

  set(side: Side, tick: number, size: number): void {
    if (size > 0) this.sides[side].set(tick, size);
    else this.sides[side].delete(tick);
  }

  clearSide(side: Side): void {
    this.sides[side].clear();
  }

  best(side: Side): number {
    let best = NO_TICK;
    for (const t of this.sides[side].keys()) {
      if (best === NO_TICK || (side === Side.Bid ? t > best : t < best)) best = t;
    }
    return best;
  }

  /** Levels best first. */
  levels(side: Side): [number, number][] {
    return [...this.sides[side].entries()].sort((a, b) => (side === Side.Bid ? b[0] - a[0] : a[0] - b[0]));
  }

  vwap(side: Side, size: number): { avgTick: number; filled: number; complete: boolean; worstTick: number; levels: number } {
    let left = size;
    let notional = 0;
    let worstTick = NO_TICK;
    let levels = 0;
    for (const [t, avail] of this.levels(side)) {
      if (left <= 0) break;
      const take = avail < left ? avail : left;
      notional += take * t;
      left -= take;
      worstTick = t;
      levels++;
    }
    const filled = size - left;
    return { avgTick: filled > 0 ? notional / filled : NaN, filled, complete: left <= 0, worstTick, levels };
  }

  /** Deletes levels outside [lo, hi]; returns how many. */
  dropOutside(lo: number, hi: number): number {
    let n = 0;
    for (const side of this.sides) {
      for (const t of [...side.keys()]) {
        if (t < lo || t > hi) {
          side.delete(t);
          n++;
        }
      }
    }
    return n;
  }
}
