// The decision path's latency histograms: tick → decision (lifetime, per
// metrics window, per triggering source, and since the last status line),
// the decision's own compute, and the wait between an event's receipt and
// its decision. Recording allocates nothing.

import { LatencyHistogram, LatencyWindow } from '../metrics/latency.js';

export class DecisionLatency {
  readonly tickToDecision = new LatencyHistogram();
  readonly decisionCompute = new LatencyHistogram();
  readonly decisionQueueWait = new LatencyHistogram();
  /**
   * tick_to_decision per window of perf.metrics_window_ms (what /metrics
   * publishes beside the lifetime one, so a storm or a reload is compared
   * with the window before rather than diluted in the whole run).
   */
  readonly tickToDecisionWindow = new LatencyWindow();
  /** tick_to_decision by the hub source of the triggering event (the relay: relay receive → decision). */
  readonly sourceToDecision: LatencyHistogram[];
  /** tick_to_decision since the last status line (closed by rotateRecent()). */
  private readonly statusWindow = new LatencyWindow();
  private windowEnd = 0;

  constructor(sources: number) {
    this.sourceToDecision = Array.from({ length: sources }, () => new LatencyHistogram());
  }

  /** One strategy's decision: started at monotonic `t0Ns`, done at `t1Ns`, for events received since `sinceNs` (Infinity: none, a touch) from hub `source`. */
  record(t0Ns: number, t1Ns: number, sinceNs: number, source: number): void {
    this.decisionCompute.recordNs(t1Ns - t0Ns);
    if (!Number.isFinite(sinceNs)) return;
    this.decisionQueueWait.recordNs(t0Ns - sinceNs);
    this.tickToDecision.recordNs(t1Ns - sinceNs);
    this.statusWindow.recordNs(t1Ns - sinceNs);
    this.tickToDecisionWindow.recordNs(t1Ns - sinceNs);
    this.sourceToDecision[source]?.recordNs(t1Ns - sinceNs);
  }

  /** Closes the metrics window when wall time `wallMs` reached its end and starts one of `windowMs`; O(1) plus one histogram reset. */
  rotateIfDue(wallMs: number, windowMs: number): void {
    if (wallMs < this.windowEnd) return;
    this.tickToDecisionWindow.close();
    this.windowEnd = wallMs + windowMs;
  }

  /** Starts the metrics window at wall time `wallMs`. */
  startWindow(wallMs: number, windowMs: number): void {
    this.windowEnd = wallMs + windowMs;
  }

  /** A new window length: a shorter one also cuts the current window short, so the new length holds from now. */
  setWindowMs(wallMs: number, windowMs: number): void {
    this.windowEnd = Math.min(this.windowEnd, wallMs + windowMs);
  }

  /** Wall-clock ms at which the current tick_to_decision window closes. */
  get windowEndMs(): number {
    return this.windowEnd;
  }

  /** Closes the status line's window and returns it (valid until the next call). */
  rotateRecent(): LatencyHistogram {
    return this.statusWindow.close();
  }
}
