// What the next pass has to redo: tokens whose book changed (their mark and
// the venue's matching), and markets to decide again, with the oldest
// receive stamp and source of the events that made each dirty (the start of
// tick_to_decision). Only an active slot is ever dirty.

import { SlotPhase } from '../markets/slots.js';

export class DirtySet {
  readonly market: Uint8Array;
  /** Oldest receive stamp (monotonic ns) of the events that made each market dirty. */
  readonly sinceNs: Float64Array;
  /** Hub source of that oldest event. */
  readonly source: Int32Array;
  readonly token: Uint8Array;

  /** `phase`: SlotPhase per market slot (the slots' own array). */
  constructor(private readonly phase: Uint8Array) {
    const markets = phase.length;
    this.market = new Uint8Array(markets);
    this.sinceNs = new Float64Array(markets).fill(Infinity);
    this.source = new Int32Array(markets);
    this.token = new Uint8Array(2 * markets);
  }

  /** Market m has something new, from an event received at `recvNs` from hub `source`. */
  markMarket(m: number, recvNs: number, source: number): void {
    if (this.phase[m] !== SlotPhase.Active) return;
    this.market[m] = 1;
    if (recvNs < this.sinceNs[m]!) {
      this.sinceNs[m] = recvNs;
      this.source[m] = source;
    }
  }

  /** Market m has nothing left to decide. */
  clean(m: number): void {
    this.market[m] = 0;
    this.sinceNs[m] = Infinity;
  }

  /** Market m closed (settled): nothing there to mark or decide. */
  close(m: number): void {
    this.clean(m);
    this.token[2 * m] = 0;
    this.token[2 * m + 1] = 0;
  }

  /** Every active market decides again on the next pass (a parameter changed), even in a quiet market. */
  touchAll(): void {
    for (let m = 0; m < this.market.length; m++) if (this.phase[m] === SlotPhase.Active) this.market[m] = 1;
  }
}
