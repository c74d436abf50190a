// Timers for what the engine does every N ms of market time (discovery
// polls, the settlement audit's polls): on a replayed session the engine's
// clock is the recording's, which may run far faster than the wall, and a
// poll on the wall's setTimeout would see the markets minutes late. Genuinely
// wall-time waits (HTTP timeouts, reconnect backoff, the status line) stay on
// the wall's own timers.

import type { Clock } from './clock.js';

/** Node's timers hold a delay of at most 2^31 − 1 ms; a larger one fires after 1 ms. */
const MAX_WALL_DELAY_MS = 2 ** 31 - 1;

/** What a timer started with `after` answers, to cancel it. */
export interface TimerHandle {
  readonly __timer: unique symbol;
}

/** Runs a callback once a delay has passed, on some clock. */
export interface Timers {
  /** Runs `fn` once, `delayMs` from now (a negative or NaN delay: as soon as possible). */
  after(delayMs: number, fn: () => void): TimerHandle;
  /** A timer not run yet is not run; a handle already run or cancelled is ignored. */
  cancel(handle: TimerHandle): void;
}

/** The wall's setTimeout. */
export const wallTimers: Timers = {
  after(delayMs, fn) {
    const ms = delayMs > 0 ? Math.min(delayMs, MAX_WALL_DELAY_MS) : 0;
    return setTimeout(fn, ms) as unknown as TimerHandle;
  },
  cancel(handle) {
    clearTimeout(handle as unknown as NodeJS.Timeout);
  },
};

interface Entry {
  dueMs: number;
  /** Start order, so timers due at the same instant run in the order they were set. */
  order: number;
  fn: () => void;
}

/**
 * Timers due at engine time (`clock.nowMs()`), run by whoever drives the
 * engine (its loop calls run() every turn). The clock may go back once: a
 * feed clock reads the wall until its first stamp, then jumps to the
 * recording's time; timers set before keep their remaining delay.
 */
export class ClockTimers implements Timers {
  private readonly entries: Entry[] = [];
  private nextDue = Infinity;
  private lastNow: number;
  private started = 0;

  constructor(
    private readonly clock: Clock,
    /** A callback that threw: the others still run. */
    private readonly onError: (err: unknown) => void,
  ) {
    this.lastNow = clock.nowMs();
  }

  /** Engine time of the earliest timer; Infinity when none is set. */
  get nextDueMs(): number {
    return this.nextDue;
  }

  /** Timers set and not yet run or cancelled. */
  get pending(): number {
    return this.entries.length;
  }

  after(delayMs: number, fn: () => void): TimerHandle {
    const now = this.observeNow();
    const entry: Entry = { dueMs: now + (delayMs > 0 ? delayMs : 0), order: this.started++, fn };
    this.entries.push(entry);
    if (entry.dueMs < this.nextDue) this.nextDue = entry.dueMs;
    return entry as unknown as TimerHandle;
  }

  cancel(handle: TimerHandle): void {
    const i = this.entries.indexOf(handle as unknown as Entry);
    if (i < 0) return;
    this.entries.splice(i, 1);
    this.recompute();
  }

  /** Runs every timer due by engine time now, earliest first; returns how many ran. Allocates nothing when none is due. */
  run(): number {
    const now = this.observeNow();
    if (now < this.nextDue) return 0;
    let ran = 0;
    // A callback may set a timer due at once: it runs on the next call, never in this loop.
    const limit = this.started;
    for (;;) {
      let at = -1;
      for (let i = 0; i < this.entries.length; i++) {
        const e = this.entries[i]!;
        if (e.dueMs > now || e.order >= limit) continue;
        if (at < 0 || e.dueMs < this.entries[at]!.dueMs || (e.dueMs === this.entries[at]!.dueMs && e.order < this.entries[at]!.order)) at = i;
      }
      if (at < 0) break;
      const [e] = this.entries.splice(at, 1);
      ran++;
      try {
        e!.fn();
      } catch (err) {
        this.onError(err);
      }
    }
    this.recompute();
    return ran;
  }

  /** Engine time now; when the clock went back, every due time moves back with it. */
  private observeNow(): number {
    const now = this.clock.nowMs();
    if (now < this.lastNow) {
      const shift = now - this.lastNow;
      for (const e of this.entries) e.dueMs += shift;
      this.nextDue += shift;
    }
    this.lastNow = now;
    return now;
  }

  private recompute(): void {
    let next = Infinity;
    for (const e of this.entries) if (e.dueMs < next) next = e.dueMs;
    this.nextDue = next;
  }
}
