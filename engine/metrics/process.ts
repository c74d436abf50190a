// Process figures for /metrics: memory, main-thread event-loop lag, GC and
// uptime. Nothing here runs per market event: memory is read when scraped;
// the lag histograms are filled by libuv timers (no JavaScript); GC
// entries reach a PerformanceObserver callback in batches, after the
// collection; the lag window closes on an unref'd 10 s timer.
//
// One collector per process, shared by every registry (a process has one
// event loop and one main heap): sessions started one after another in the
// same process (tests) read the same figures, and nothing needs stopping.

import { constants, monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram, type PerformanceEntry } from 'node:perf_hooks';
import type { MetricsRegistry } from './registry.js';

/** Timer resolution of the lag monitor; a timer that fires on time reads as this much delay. */
export const LAG_RESOLUTION_MS = 10;
/** Length of one lag window. */
export const LAG_WINDOW_MS = 10_000;

export const GC_KINDS = ['minor', 'major', 'incremental', 'weakcb'] as const;
export type GcKind = (typeof GC_KINDS)[number];

const GC_KIND_OF: ReadonlyMap<number, GcKind> = new Map([
  [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
]);

/** Lag of one closed window, in seconds. */
export interface LagWindow {
  p50: number;
  p99: number;
  max: number;
}

/** Lag figures of a monitorEventLoopDelay histogram, in seconds; NaN while it has no sample. */
function lagOf(h: IntervalHistogram, out: LagWindow): LagWindow {
  const lag = (ns: number): number => Math.max(0, ns / 1e9 - LAG_RESOLUTION_MS / 1e3);
  const empty = h.count === 0;
  out.p50 = empty ? NaN : lag(h.percentile(50));
  out.p99 = empty ? NaN : lag(h.percentile(99));
  out.max = empty ? NaN : lag(h.max);
  return out;
}

export class ProcessCollector {
  /**
   * Two monitors, because reset() also forgets the monitor's previous tick:
   * the delay that spans a reset is never recorded. The windowed one is reset
   * every window (a stall across a window boundary is missing there); the
   * lifetime one never is, so its max is exact.
   */
  private readonly windowEld: IntervalHistogram;
  private readonly lifetimeEld: IntervalHistogram;
  private readonly gc: PerformanceObserver;
  private readonly timer: NodeJS.Timeout;
  /** The last closed window; NaN until one closes with samples. */
  readonly lastWindow: LagWindow = { p50: NaN, p99: NaN, max: NaN };
  private readonly lifetimeLag: LagWindow = { p50: NaN, p99: NaN, max: NaN };
  windows = 0;
  readonly gcCounts: Record<GcKind, number> = { minor: 0, major: 0, incremental: 0, weakcb: 0 };
  readonly gcPauseS: Record<GcKind, number> = { minor: 0, major: 0, incremental: 0, weakcb: 0 };

  constructor(windowMs = LAG_WINDOW_MS) {
    this.windowEld = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
    this.lifetimeEld = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
    this.windowEld.enable();
    this.lifetimeEld.enable();
    this.timer = setInterval(() => this.closeWindow(), windowMs);
    this.timer.unref();
    this.gc = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const kind = GC_KIND_OF.get((e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? -1);
        if (kind === undefined) continue;
        this.gcCounts[kind]++;
        this.gcPauseS[kind] += e.duration / 1e3;
      }
    });
    this.gc.observe({ entryTypes: ['gc'] });
  }

  /** Lag since the collector started, read now. */
  get lifetime(): LagWindow {
    return lagOf(this.lifetimeEld, this.lifetimeLag);
  }

  /** Closes the current lag window: its figures become `lastWindow`, the windowed histogram starts again. */
  closeWindow(): void {
    // A window without samples (the loop blocked throughout) keeps the previous figures; the lifetime ones show the block.
    if (this.windowEld.count > 0) lagOf(this.windowEld, this.lastWindow);
    this.windows++;
    this.windowEld.reset();
  }

  stop(): void {
    clearInterval(this.timer);
    this.windowEld.disable();
    this.lifetimeEld.disable();
    this.gc.disconnect();
  }
}

let shared: ProcessCollector | undefined;

/** The process's collector, started on first use. */
export function processCollector(): ProcessCollector {
  shared ??= new ProcessCollector();
  return shared;
}

export function registerProcessMetrics(r: MetricsRegistry, c: ProcessCollector = processCollector()): void {
  r.register('polyedge_process_resident_memory_bytes', {}, () => process.memoryUsage.rss());
  r.register('polyedge_process_heap_used_bytes', {}, () => process.memoryUsage().heapUsed);
  r.register('polyedge_process_heap_total_bytes', {}, () => process.memoryUsage().heapTotal);
  r.register('polyedge_process_external_memory_bytes', {}, () => process.memoryUsage().external);
  r.register('polyedge_process_array_buffers_bytes', {}, () => process.memoryUsage().arrayBuffers);
  r.register('polyedge_process_uptime_seconds', {}, () => process.uptime());
  r.register('polyedge_event_loop_lag_seconds', { stat: 'p50' }, () => c.lastWindow.p50);
  r.register('polyedge_event_loop_lag_seconds', { stat: 'p99' }, () => c.lastWindow.p99);
  r.register('polyedge_event_loop_lag_seconds', { stat: 'max' }, () => c.lastWindow.max);
  for (const stat of ['p50', 'p99', 'max'] as const) r.register('polyedge_event_loop_lag_lifetime_seconds', { stat }, () => c.lifetime[stat]);
  r.register('polyedge_event_loop_lag_windows_total', {}, () => c.windows);
  for (const kind of GC_KINDS) {
    r.register('polyedge_gc_total', { kind }, () => c.gcCounts[kind]);
    r.register('polyedge_gc_pause_seconds_total', { kind }, () => c.gcPauseS[kind]);
  }
}
