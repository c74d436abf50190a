// Latency distributions in nanoseconds, kept in hdr-histograms: constant
// memory, O(1) record, percentiles to 3 significant digits. Values outside
// the trackable range are clamped (and counted) rather than thrown, because a
// clock step or a paused process must never take the engine down.
import * as hdr from 'hdr-histogram-js';

/** 1 ns .. 60 s. */
const HIGHEST_NS = 60_000_000_000;

export interface LatencySummary {
  count: number;
  p50Ns: number;
  p90Ns: number;
  p99Ns: number;
  p999Ns: number;
  maxNs: number;
  /** Samples clamped into range (negative or beyond 60 s). */
  clamped: number;
}

export class LatencyHistogram {
  private h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_NS, numberOfSignificantValueDigits: 3 });
  private clampedCount = 0;

  recordNs(ns: number): void {
    let v = Math.round(ns);
    if (!(v >= 1)) {
      // Negative (clock skew between venue and us) or NaN: keep the count honest.
      this.clampedCount++;
      v = 1;
    } else if (v > HIGHEST_NS) {
      this.clampedCount++;
      v = HIGHEST_NS;
    }
    this.h.recordValue(v);
  }

  get count(): number {
    return this.h.totalCount;
  }

  get clamped(): number {
    return this.clampedCount;
  }

  percentileNs(p: number): number {
    return this.h.totalCount === 0 ? NaN : this.h.getValueAtPercentile(p);
  }

  summary(): LatencySummary {
    const empty = this.h.totalCount === 0;
    return {
      count: this.h.totalCount,
      p50Ns: empty ? NaN : this.h.getValueAtPercentile(50),
      p90Ns: empty ? NaN : this.h.getValueAtPercentile(90),
      p99Ns: empty ? NaN : this.h.getValueAtPercentile(99),
      p999Ns: empty ? NaN : this.h.getValueAtPercentile(99.9),
      maxNs: empty ? NaN : this.h.maxValue,
      clamped: this.clampedCount,
    };
  }

  reset(): void {
    this.h.reset();
    this.clampedCount = 0;
  }

  /** Exchanges contents with `other` in O(1): how a window is closed without copying its counts. */
  swapWith(other: LatencyHistogram): void {
    const h = this.h;
    this.h = other.h;
    other.h = h;
    const c = this.clampedCount;
    this.clampedCount = other.clampedCount;
    other.clampedCount = c;
  }
}

/**
 * Latency per window: samples go into the open histogram; close() publishes
 * it as `closed` and opens the next by swapping the two (O(1) plus one reset,
 * no allocation), so the last complete window is always readable whole.
 */
export class LatencyWindow {
  private readonly open = new LatencyHistogram();
  /** The last complete window; empty before the first close(). */
  readonly closed = new LatencyHistogram();
  /** Windows closed so far. */
  closes = 0;

  recordNs(ns: number): void {
    this.open.recordNs(ns);
  }

  close(): LatencyHistogram {
    this.closed.swapWith(this.open);
    this.open.reset();
    this.closes++;
    return this.closed;
  }
}
