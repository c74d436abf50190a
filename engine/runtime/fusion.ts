// Reference-price fusion: several sources quote the same underlying (RTDS's
// Binance and Chainlink topics, the Binance futures book, the UDP relay);
// fair value needs one number. Two policies, switchable at runtime:
//
//   first   the most recent update from any fresh source wins: whoever
//           delivered the newest price first
//   prefer  the preferred source while its last update is younger than
//           stale_ms; otherwise the freshest other source
//
// Per source we count wins and, when a source takes over from another, how
// far ahead it was: the lead is how much earlier (by receive time) its
// update arrived than the next source's update of a comparable price, which
// is what "the relay beats the websocket by N µs" means operationally.

import { number, object, oneOf, string, type Infer } from '../config/schema.js';
import { LatencyHistogram } from '../metrics/latency.js';

export const fusionParamsSchema = object({
  policy: oneOf(['first', 'prefer'] as const, { default: 'first', description: 'first arrival wins, or prefer one source while fresh' }),
  prefer: string({ pattern: /^[a-z0-9][a-z0-9-]{0,47}$/, hint: 'a source name such as relay or rtds-chainlink', default: 'relay', description: 'source name preferred under policy "prefer"' }),
  stale_ms: number({ integer: true, min: 1, max: 600_000, default: 2_000, description: 'a source silent for longer is not fresh, ms; at most 10 minutes' }),
});
export type FusionParams = Infer<typeof fusionParamsSchema>;

export class SourceSeries {
  price = NaN;
  exchTsMs = NaN;
  recvMs = NaN;
  wins = 0;
  updates = 0;
  readonly lead = new LatencyHistogram();

  constructor(
    readonly name: string,
    readonly underlying: string,
  ) {}
}

export interface FusedPrice {
  price: number;
  exchTsMs: number;
  recvMs: number;
  source: string;
}

class Underlying {
  readonly series: SourceSeries[] = [];
  readonly fused: FusedPrice = { price: NaN, exchTsMs: NaN, recvMs: NaN, source: '' };
  winner: SourceSeries | undefined;
}

export class ReferenceFusion {
  private params: FusionParams;
  private readonly byUnderlying = new Map<string, Underlying>();
  readonly sources: SourceSeries[] = [];

  constructor(params: FusionParams) {
    this.params = params;
  }

  /** Declares a source series once at setup; returns its handle for update(). */
  addSource(name: string, underlying: string): SourceSeries {
    const s = new SourceSeries(name, underlying);
    this.sources.push(s);
    let u = this.byUnderlying.get(underlying);
    if (!u) this.byUnderlying.set(underlying, (u = new Underlying()));
    u.series.push(s);
    return s;
  }

  getParams(): Readonly<FusionParams> {
    return this.params;
  }

  setParams(p: FusionParams): void {
    this.params = p;
  }

  /** A new price from a source; returns true when the fused price of its underlying changed. */
  update(s: SourceSeries, price: number, exchTsMs: number, recvMs: number): boolean {
    if (!(price > 0)) return false;
    s.price = price;
    s.exchTsMs = exchTsMs;
    s.recvMs = recvMs;
    s.updates++;
    const u = this.byUnderlying.get(s.underlying)!;
    const w = this.pick(u, recvMs);
    if (!w) return false;
    if (w !== u.winner && u.winner && w === s) {
      // Taking over: how much earlier than the previous winner did this source see the market?
      const behind = u.winner.recvMs;
      if (behind < recvMs) w.lead.recordNs(0);
      else w.lead.recordNs((behind - recvMs) * 1e6);
    }
    u.winner = w;
    w.wins += w === s ? 1 : 0;
    const f = u.fused;
    const changed = f.price !== w.price || f.source !== w.name;
    f.price = w.price;
    f.exchTsMs = w.exchTsMs;
    f.recvMs = w.recvMs;
    f.source = w.name;
    return changed;
  }

  /** The fused price of an underlying, or undefined when no source is fresh at nowMs (receive clock). */
  price(underlying: string, nowRecvMs: number): FusedPrice | undefined {
    const u = this.byUnderlying.get(underlying);
    if (!u?.winner || !(nowRecvMs - u.fused.recvMs <= this.params.stale_ms)) return undefined;
    return u.fused;
  }

  private pick(u: Underlying, nowMs: number): SourceSeries | undefined {
    const stale = this.params.stale_ms;
    const prefer = this.params.policy === 'prefer' ? this.params.prefer : undefined;
    let best: SourceSeries | undefined;
    for (const s of u.series) {
      if (!(nowMs - s.recvMs <= stale)) continue;
      if (s.name === prefer) return s;
      if (!best || s.recvMs > best.recvMs) best = s;
    }
    return best;
  }

  report(): Array<{ source: string; underlying: string; wins: number; updates: number; leadP50Ms: number; leadP99Ms: number }> {
    return this.sources.map((s) => {
      const l = s.lead.summary();
      return { source: s.name, underlying: s.underlying, wins: s.wins, updates: s.updates, leadP50Ms: l.p50Ns / 1e6, leadP99Ms: l.p99Ns / 1e6 };
    });
  }
}
