// Engine time. Every decision, journal stamp, expiry and market window reads
// one Clock, injected, so the same engine runs on the wall (live), on a
// recorded feed's own clock (a replayed session), or on a clock a driver
// moves (a backtest). The monotonic ns clock (native.nowNs) stays for
// latency measurement only.

export interface Clock {
  /** Engine time, Unix ms. */
  nowMs(): number;
  /** Real time, Unix ms, for liveness (how long to wait for a venue, when a metrics window closes, unique ids); a virtual clock answers its own time. */
  wallMs(): number;
  /** Engine time of the wall instant `wallMs` (a receive stamp). */
  fromWall(wallMs: number): number;
  /** Whether engine time is known yet (a feed clock's is not before its first stamp). */
  readonly known: boolean;
  /**
   * An exchange stamp `exchTsMs` of a price from hub `source`; true when the
   * clock runs on that source (it may have just adopted it), so the caller
   * knows engine time now follows it.
   */
  observe(source: number, exchTsMs: number): boolean;
}

/** The wall: live trading. */
export class WallClock implements Clock {
  readonly known = true;

  nowMs(): number {
    return Date.now();
  }

  wallMs(): number {
    return Date.now();
  }

  fromWall(wallMs: number): number {
    return wallMs;
  }

  observe(): boolean {
    return false;
  }
}

/**
 * The clock of the reference feed that delivered the first price: engine
 * time is that feed's newest stamp, running on with the wall in between. It
 * never goes back, and a session replayed faster than real time (--speed)
 * carries it along. One feed only: another on a different clock (a relay
 * stamping the wall beside a recorded session) must not drag it. Until the
 * first stamp it reads the wall and is not `known`.
 */
export class FeedClock implements Clock {
  private offsetMs = 0;
  /** Hub source whose stamps drive the clock; -1 until the first. */
  private source = -1;

  get known(): boolean {
    return this.source >= 0;
  }

  nowMs(): number {
    return Date.now() + this.offsetMs;
  }

  wallMs(): number {
    return Date.now();
  }

  fromWall(wallMs: number): number {
    return wallMs + this.offsetMs;
  }

  observe(source: number, exchTsMs: number): boolean {
    if (!(exchTsMs > 0) || (this.source >= 0 && source !== this.source)) return false;
    const offset = exchTsMs - Date.now();
    if (this.source < 0 || offset > this.offsetMs) {
      this.offsetMs = offset;
      this.source = source;
    }
    return true;
  }
}

/** A clock its driver sets (a backtest): nothing moves it but set() and advance(), never backwards. */
export class VirtualClock implements Clock {
  readonly known = true;

  constructor(private t: number) {}

  nowMs(): number {
    return this.t;
  }

  wallMs(): number {
    return this.t;
  }

  /** Events replay at the virtual now: their receive instant is the clock's. */
  fromWall(): number {
    return this.t;
  }

  observe(): boolean {
    return false;
  }

  /** Moves the clock to `ms`; a time before the current one is refused (RangeError). */
  set(ms: number): void {
    if (!(ms >= this.t)) throw new RangeError(`a virtual clock does not go back (at ${this.t}, asked ${ms})`);
    this.t = ms;
  }

  advance(ms: number): void {
    this.set(this.t + ms);
  }
}
