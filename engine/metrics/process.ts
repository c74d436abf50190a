// Process figures for /metrics: memory, main-thread event-loop lag, GC and
// uptime. Nothing here runs per market event: memory is read when scraped;
// the lag histogram is filled by libuv's own timer (no JavaScript); GC
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

export class ProcessCollector {
  private readonly eld: IntervalHistogram;
  private readonly gc: PerformanceObserver;
  private readonly timer: NodeJS.Timeout;
  /** The last closed window; NaN until one closes. */
  readonly lastWindow: LagWindow = { p50: NaN, p99: NaN, max: NaN };
  lagMaxS = NaN;
  windows = 0;
  readonly gcCounts: Record<GcKind, number> = { minor: 0, major: 0, incremental: 0, weakcb: 0 };
  readonly gcPauseS: Record<GcKind, number> = { minor: 0, major: 0, incremental: 0, weakcb: 0 };

  constructor(windowMs = LAG_WINDOW_MS) {
    this.eld = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
    this.eld.enable();
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

  /** Closes the current lag window: its figures become `lastWindow`, the histogram starts again. */
  closeWindow(): void {
    const lag = (ns: number): number => Math.max(0, ns / 1e9 - LAG_RESOLUTION_MS / 1e3);
    // An empty window (the loop was blocked the whole time) has no samples; its lag shows in the next one.
    if (this.eld.count > 0) {
      this.lastWindow.p50 = lag(this.eld.percentile(50));
      this.lastWindow.p99 = lag(this.eld.percentile(99));
      this.lastWindow.max = lag(this.eld.max);
      this.lagMaxS = Number.isNaN(this.lagMaxS) ? this.lastWindow.max : Math.max(this.lagMaxS, this.lastWindow.max);
    }
    this.windows++;
    this.eld.reset();
  }

  stop(): void {
    clearInterval(this.timer);
    this.eld.disable();
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
  // One memoryUsage() per scrape serves the four heap figures: each getter reads it in turn, within one render.
  let mem: NodeJS.MemoryUsage | undefined;
  const read = (): NodeJS.MemoryUsage => (mem = process.memoryUsage());
  r.register('polyedge_process_heap_used_bytes', {}, () => read().heapUsed);
  r.register('polyedge_process_heap_total_bytes', {}, () => (mem ?? read()).heapTotal);
  r.register('polyedge_process_external_memory_bytes', {}, () => (mem ?? read()).external);
  r.register('polyedge_process_array_buffers_bytes', {}, () => (mem ?? read()).arrayBuffers);
  r.register('polyedge_process_uptime_seconds', {}, () => process.uptime());
  r.register('polyedge_event_loop_lag_seconds', { stat: 'p50' }, () => c.lastWindow.p50);
  r.register('polyedge_event_loop_lag_seconds', { stat: 'p99' }, () => c.lastWindow.p99);
  r.register('polyedge_event_loop_lag_seconds', { stat: 'max' }, () => c.lastWindow.max);
  r.register('polyedge_event_loop_lag_max_seconds', {}, () => c.lagMaxS);
  r.register('polyedge_event_loop_lag_windows_total', {}, () => c.windows);
  for (const kind of GC_KINDS) {
    r.register('polyedge_gc_total', { kind }, () => c.gcCounts[kind]);
    r.register('polyedge_gc_pause_seconds_total', { kind }, () => c.gcPauseS[kind]);
  }
}
