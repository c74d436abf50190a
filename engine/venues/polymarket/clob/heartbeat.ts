// The engine's side of the CLOB's dead-man switch (protocols.md §6.2): while
// POST /v1/heartbeats keeps arriving the venue keeps our orders; when they
// stop, it cancels every one of them after a timeout it does not document.
//
// The engine cannot know when that happened, only how long it has been
// since a heartbeat last got through. Past [live] heartbeat_fail_after_ms it
// assumes the worst: the live venue lists what is still open and reads the
// trades before it reports anything cancelled, and a persistent fault trips
// the kill switch (HALTED, cancel everything). A process that was stopped
// (SIGSTOP, a swapped-out VM, a debugger) sees the same gap when it wakes.
//
// Time is monotonic: a stopped process's gap counts, a wall-clock step does
// not. A heartbeat counts from when it was sent, not answered: an answer that
// comes late does not prove the venue heard from us recently.

import { number, type Rule } from '../../../config/schema.js';
import { PolyedgeError } from '../../../errors.js';
import type { ClobClient } from './client.js';

/** The [live] heartbeat keys (config.ts puts them beside the limits). */
export const heartbeatFields = {
  heartbeat_interval_ms: number({ integer: true, min: 100, max: 60_000, default: 5_000, description: 'POST /v1/heartbeats this often in live mode; from 100 ms to 1 minute' }),
  heartbeat_fail_after_ms: number({
    integer: true,
    min: 200,
    max: 600_000,
    default: 15_000,
    description: 'no heartbeat through for this long: the venue may have cancelled every order, the engine halts and reconciles; above heartbeat_interval_ms, at most 10 minutes',
  }),
};

export const heartbeatRules: readonly Rule<{ [K in keyof typeof heartbeatFields]: number }>[] = [
  {
    field: 'heartbeat_fail_after_ms',
    message: 'must be > heartbeat_interval_ms (a single heartbeat on time would already count as lost)',
    holds: (l) => l.heartbeat_fail_after_ms > l.heartbeat_interval_ms,
  },
];

export interface HeartbeatOptions {
  client: Pick<ClobClient, 'heartbeat'>;
  intervalMs: number;
  failAfterMs: number;
  /** What happens when the heartbeats are lost: the live venue reconciles, then the kill switch trips. Called once per loss. */
  onLost: (err: PolyedgeError) => void;
  /** A heartbeat got through again after a loss. */
  onRestored: () => void;
  /** A heartbeat failed (after the client's retries): logged, not yet a loss. */
  onFailure: (err: unknown) => void;
  /** Monotonic ms; default performance.now. */
  clockMs?: () => number;
}

export class Heartbeat {
  private readonly o: HeartbeatOptions;
  private readonly clock: () => number;
  /** When the last heartbeat the venue answered was sent. */
  private lastOkMs = NaN;
  private nextId = '';
  private timer: NodeJS.Timeout | undefined;
  private inflight = false;
  private lost = false;
  /** When the loss was declared: only a heartbeat sent after it proves the venue hears us again. */
  private lostAtMs = NaN;
  private checkQueued = false;
  private stopped = true;
  readonly counts = { sent: 0, ok: 0, failed: 0, losses: 0 };

  constructor(o: HeartbeatOptions) {
    this.o = o;
    this.clock = o.clockMs ?? (() => performance.now());
  }

  /** Sends the first heartbeat now (which arms the venue's switch) and one every interval after. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.lastOkMs = this.clock();
    this.timer = setInterval(() => this.tick(), this.o.intervalMs);
    this.timer.unref?.();
    this.tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Whether the venue may have cancelled our orders by now. Cheap enough
   * for every order: an order is not sent while this holds. A loss first
   * seen here is reported on the next microtask, outside the caller.
   */
  stale(): boolean {
    if (this.lost) return true;
    if (this.stopped || !(this.clock() - this.lastOkMs > this.o.failAfterMs)) return false;
    if (!this.checkQueued) {
      this.checkQueued = true;
      queueMicrotask(() => {
        this.checkQueued = false;
        this.check();
      });
    }
    return true;
  }

  private tick(): void {
    if (this.stopped) return;
    // Before sending: on waking from a stop, the gap is seen before a fresh heartbeat hides it.
    this.check();
    if (this.inflight) return;
    this.inflight = true;
    this.counts.sent++;
    const sentAt = this.clock();
    this.o.client.heartbeat(this.nextId).then(
      (id) => {
        this.inflight = false;
        this.counts.ok++;
        this.nextId = id;
        if (!(sentAt <= this.lastOkMs)) this.lastOkMs = sentAt;
        if (this.lost && sentAt > this.lostAtMs && !this.stopped) {
          this.lost = false;
          this.o.onRestored();
        }
      },
      (err: unknown) => {
        this.inflight = false;
        this.counts.failed++;
        // The venue's chain of ids may be broken: start a new one.
        this.nextId = '';
        if (!this.stopped) this.o.onFailure(err);
        this.check();
      },
    );
  }

  private check(): void {
    if (this.stopped || this.lost) return;
    const gap = this.clock() - this.lastOkMs;
    if (!(gap > this.o.failAfterMs)) return;
    this.lost = true;
    this.lostAtMs = this.clock();
    this.counts.losses++;
    this.o.onLost(
      new PolyedgeError(
        'PE_CLOB_HEARTBEAT_LOST',
        `no heartbeat reached the CLOB for ${Math.round(gap)} ms (heartbeat_fail_after_ms ${this.o.failAfterMs}): the venue may have cancelled every open order`,
        'live.heartbeat_fail_after_ms',
      ),
    );
  }
}
