// Binance USD-M local order book procedure (protocols §9.3), as a state
// machine that only judges update ids; the feed adapter owns parsing, the
// REST call and the book.
//
//   need-snapshot ──snapshot(L)──▶ bridging ──first event U ≤ L ≤ u (or pu = L)──▶ live
//        ▲   events are buffered        │ events with u < L are stale           │ u < L: stale
//        │                              │ first event with U > L, pu ≠ L: gap   │ pu ≠ previous u: gap
//        └──────────────────────────────┴───────────────────────────────────────┘
//
// Futures diffs chain by `pu` (the previous event's `u`); `U` is not
// previous u + 1 there, so only pu is checked once live.

export type SyncState = 'need-snapshot' | 'bridging' | 'live';

export const enum Verdict {
  /** Keep the event until a snapshot arrives. */
  Buffer = 0,
  /** Older than the snapshot: ignore. */
  Stale = 1,
  /** Apply to the book. */
  Apply = 2,
  /** Sequence broken: the book is invalid, fetch a new snapshot. */
  Gap = 3,
}

export class DepthSync {
  state: SyncState = 'need-snapshot';
  snapshotId = 0;
  /** `u` of the last applied event (or the snapshot id right after a snapshot). */
  lastU = 0;
  gaps = 0;

  onSnapshot(lastUpdateId: number): void {
    this.snapshotId = lastUpdateId;
    this.lastU = lastUpdateId;
    this.state = 'bridging';
  }

  /** Judges one diff event by its first (U), final (u) and previous-final (pu) ids. */
  onEvent(U: number, u: number, pu: number): Verdict {
    switch (this.state) {
      case 'need-snapshot':
        return Verdict.Buffer;
      case 'bridging':
        if (u < this.snapshotId) return Verdict.Stale;
        // pu = L: the event right after the snapshot. The one ending at L went
        // out before this connection existed (a reconnect, or a snapshot
        // fetched before the first event arrived); nothing is missing.
        if (U <= this.snapshotId || pu === this.snapshotId) {
          this.state = 'live';
          this.lastU = u;
          return Verdict.Apply;
        }
        return this.gap();
      case 'live':
        // Step 3 for a frame buffered behind the one that bridged (it arrived
        // out of order): the snapshot already holds it.
        if (u < this.snapshotId) return Verdict.Stale;
        if (pu !== this.lastU) return this.gap();
        this.lastU = u;
        return Verdict.Apply;
    }
  }

  /** Forget the book (reconnect, stall): wait for a new snapshot. */
  reset(): void {
    this.state = 'need-snapshot';
  }

  private gap(): Verdict {
    this.gaps++;
    this.state = 'need-snapshot';
    return Verdict.Gap;
  }
}
