// Where each drained event goes: the Polymarket market channel's trades and
// book changes to the venue's matching, the token's mark and its market's
// decision; reference prices (a feed's price, a venue book's mid) to fusion,
// to the engine clock and to the windows they settle; implied volatility to
// the references. What changed is marked dirty for the pass.

import { EventKind, Flag, type EventRecord } from '../../workers/shared-memory/event-layout.js';
import type { Clock } from '../clock/clock.js';
import type { MarketDataHub } from '../feeds/hub.js';
import type { ExecutionVenue } from '../execution/venue.js';
import { SlotPhase, type MarketSlots } from '../markets/slots.js';
import type { SourceSeries } from '../references/fusion.js';
import type { References } from '../references/references.js';
import { Side, UNIT, type MarketInfo, type TokenInfo } from '../trading/types.js';
import type { DirtySet } from './dirty.js';

export interface EventRouterOptions {
  /** Hub source of the Polymarket market channel. */
  polySource: number;
  tokens: readonly TokenInfo[];
  markets: MarketInfo[];
  /** SlotPhase per market slot. */
  phase: Uint8Array;
  venue: ExecutionVenue;
  dirty: DirtySet;
  references: References;
  slots: MarketSlots;
  clock: Clock;
  hub: MarketDataHub;
  /** A price stamped by the clock's own source arrived (the feed clock runs, or runs on). */
  onClockSource: () => void;
}

export class EventRouter {
  constructor(private readonly o: EventRouterOptions) {}

  apply(e: EventRecord, source: number): void {
    if (source === this.o.polySource) {
      const t = e.token;
      const info = this.o.tokens[t];
      // A settled market's marks are its settlement; a vacant slot has nothing to mark.
      if (!info || this.o.phase[info.market] !== SlotPhase.Active) return;
      const m = info.market;
      if (e.kind === EventKind.Trade) {
        // Trades before the book change that shows them: the queue model reads a drop without a trade as cancels.
        const size = Math.round(e.size * UNIT);
        if (size > 0) this.o.venue.onTrade(t, e.price, size, (e.flags & Flag.Ask) !== 0 ? Side.Sell : Side.Buy, this.o.clock.nowMs());
      } else if (e.kind === EventKind.TickSizeChange) {
        if (e.price > 0) this.o.markets[m]!.tickSize = e.price;
      } else if (e.kind !== EventKind.LevelUpdate && e.kind !== EventKind.BestBidAsk && e.kind !== EventKind.Resync) {
        return;
      }
      this.o.dirty.token[t] = 1;
      this.o.dirty.markMarket(m, e.recvNs, source);
      return;
    }
    if (e.kind === EventKind.BestBidAsk) {
      const ref = this.o.references.bookSeries(source, e.token);
      if (ref && e.price > 0 && e.price2 > e.price) this.onReference(ref.series, ((e.price + e.price2) / 2) * ref.tickSize, e, source);
      return;
    }
    if (e.kind === EventKind.ExternalPrice) {
      const series = this.o.references.priceSeries(source, e.token);
      if (!series) return;
      if ((e.flags & Flag.Snapshot) !== 0) {
        // The recent history a subscription replays: too old to price on, but each point is a stamped price a window may have opened or closed at.
        if (this.o.references.settlesWindows(series) && e.exchTsMs > 0) this.o.slots.observeResolution(series.underlying, (e.aux0 + e.aux1) / 2, e.exchTsMs);
        return;
      }
      this.onReference(series, (e.aux0 + e.aux1) / 2, e, source);
      return;
    }
    if (e.kind === EventKind.Volatility) {
      this.o.references.onVolatility(source, e.token, e.aux0, this.o.clock.nowMs());
    }
  }

  private onReference(series: SourceSeries, price: number, e: EventRecord, source: number): void {
    // On the feed clock the first price starts the session and hands over the audits that waited for the clock.
    if (this.o.clock.observe(source, e.exchTsMs)) this.o.onClockSource();
    const recvMs = this.o.clock.fromWall(this.o.hub.recvWallMs(e.recvNs));
    if (this.o.references.settlesWindows(series) && e.exchTsMs > 0) this.o.slots.observeResolution(series.underlying, price, e.exchTsMs);
    if (this.o.references.fusion.update(series, price, e.exchTsMs, recvMs)) {
      for (let m = 0; m < this.o.markets.length; m++) if (this.o.markets[m]!.underlying === series.underlying) this.o.dirty.markMarket(m, e.recvNs, source);
    }
  }
}
