// Drives a venue's event source on the wall clock: original relative pacing,
// a speed factor, as fast as the clients read, or by hand (tests).

/** A source of venue events with their original spacing. */
export interface Timeline<E> {
  /** Source-time gap (ms) before the next event; undefined once exhausted. */
  peekGapMs(): number | undefined;
  /** Produce the next event; `nowMs` is the wall clock at emission, for sources that stamp events live. */
  take(nowMs: number): E;
}

/**
 * `speed`: 1 = original pacing, 10 = ten times faster, Infinity = as fast as
 * possible (bounded by client backpressure). `manual` = nothing is emitted
 * until `advance()` is called.
 */
export type Pacing = { readonly mode: 'manual' } | { readonly mode: 'timed'; readonly speed: number };

export interface PacerHooks {
  /** True while some client's send buffer is too full; the pacer waits instead of piling on. */
  blocked?: () => boolean;
  /**
   * True while nobody is connected. Only consulted at max speed, where an
   * endless generator would otherwise spin a core for no audience (and a
   * replay would run out before the first client arrives).
   */
  idle?: () => boolean;
  onEnd?: () => void;
}

/** Per wake-up cap so a burst (or max speed) never starves the event loop. */
const MAX_BATCH = 256;
const BLOCKED_RETRY_MS = 2;
const IDLE_RETRY_MS = 20;

export class Pacer<E> {
  private startedAt = 0;
  private virtualMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private running = false;
  private ended = false;
  private count = 0;

  constructor(
    private readonly timeline: Timeline<E>,
    private readonly pacing: Pacing,
    private readonly emit: (event: E) => void,
    private readonly hooks: PacerHooks = {},
  ) {
    if (pacing.mode === 'timed' && !(pacing.speed > 0)) {
      throw new RangeError(`speed must be > 0 (Infinity for as fast as possible), got ${pacing.speed}`);
    }
  }

  get emitted(): number {
    return this.count;
  }

  get exhausted(): boolean {
    return this.ended;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.pacing.mode === 'manual') return;
    this.startedAt = performance.now();
    this.virtualMs = 0;
    this.schedule(0);
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  /** Emit up to `n` events now, ignoring pacing. Returns how many were emitted. */
  advance(n: number): number {
    let done = 0;
    while (done < n) {
      const gap = this.timeline.peekGapMs();
      if (gap === undefined) {
        this.finish();
        break;
      }
      this.virtualMs += gap;
      this.emitOne();
      done++;
    }
    return done;
  }

  private emitOne(): void {
    const event = this.timeline.take(Date.now());
    this.count++;
    this.emit(event);
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.stop();
    this.hooks.onEnd?.();
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (this.pacing.mode === 'timed' && this.pacing.speed === Infinity) {
      this.immediate = setImmediate(() => this.tick());
    } else {
      this.timer = setTimeout(() => this.tick(), Math.max(0, delayMs));
    }
  }

  private tick(): void {
    this.timer = undefined;
    this.immediate = undefined;
    if (!this.running || this.pacing.mode !== 'timed') return;
    const speed = this.pacing.speed;
    if (speed === Infinity && this.hooks.idle?.()) {
      this.timer = setTimeout(() => this.tick(), IDLE_RETRY_MS);
      return;
    }
    if (this.hooks.blocked?.()) {
      this.timer = setTimeout(() => this.tick(), BLOCKED_RETRY_MS);
      return;
    }
    const nowVirtual = speed === Infinity ? Infinity : (performance.now() - this.startedAt) * speed;
    for (let n = 0; n < MAX_BATCH; n++) {
      const gap = this.timeline.peekGapMs();
      if (gap === undefined) {
        this.finish();
        return;
      }
      if (this.virtualMs + gap > nowVirtual) {
        this.schedule((this.virtualMs + gap - nowVirtual) / speed);
        return;
      }
      this.virtualMs += gap;
      this.emitOne();
      if (!this.running) return;
      if (this.hooks.blocked?.()) break;
    }
    this.schedule(0);
  }
}
