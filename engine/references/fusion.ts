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
//
// Vouching. A source added with a band (the UDP relay: anyone who can reach
// its port can try to speak) is not believed on its own word. Its price must
// lie within band_bps of the median of the other fresh sources of its
// underlying (those without a band of their own). When none is fresh, it may
// only continue: within the band of its own last accepted price (younger than
// stale_ms) and of the last reference median that vouched for it. A first
// price, or one after a silence, that nobody can vouch for is refused
// ("unvouched"): a trader does not put money on a single unverified quote, and
// a relay that only ever moves within the band of a vouched anchor cannot walk
// the price away while the other feeds are down. Refused prices never touch
// the series (no update, no win, no decision).

import { number, object, oneOf, string, type Infer } from '../config/schema.js';
import { LatencyHistogram } from '../metrics/latency.js';
import type { Tunable } from '../tunables/tunable.js';

export const fusionParamsSchema = object({
  policy: oneOf(['first', 'prefer'] as const, { default: 'first', description: 'first arrival wins, or prefer one source while fresh' }),
  prefer: string({ pattern: /^[a-z0-9][a-z0-9-]{0,47}$/, hint: 'a source name such as relay or rtds-chainlink', default: 'relay', description: 'source name preferred under policy "prefer"' }),
  stale_ms: number({ integer: true, min: 1, max: 600_000, default: 2_000, description: 'a source silent for longer is not fresh, ms; at most 10 minutes' }),
});
export type FusionParams = Infer<typeof fusionParamsSchema>;

function within(price: number, ref: number, bps: number): boolean {
  return Math.abs(price - ref) <= (ref * bps) / 1e4;
}

export class SourceSeries {
  price = NaN;
  exchTsMs = NaN;
  recvMs = NaN;
  wins = 0;
  updates = 0;
  readonly lead = new LatencyHistogram();
  /** Prices refused for lying outside the band of their references (band sources only). */
  rejectedBand = 0;
  /** Prices refused because no fresh reference and no recent accepted price could vouch for them. */
  rejectedUnvouched = 0;
  /** The reference median that last vouched for this source. */
  anchor = NaN;

  constructor(
    readonly name: string,
    readonly underlying: string,
    /** Allowed deviation from the references in basis points; NaN: believed on its own word. */
    readonly bandBps = NaN,
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
  /** Scratch for the median of the vouching prices (one slot per series). */
  readonly refs: number[] = [];
  readonly fused: FusedPrice = { price: NaN, exchTsMs: NaN, recvMs: NaN, source: '' };
  winner: SourceSeries | undefined;
}

/** Fusion's policy as a tunable set: [fusion] in the file, /control/reload/fusion at run time. */
export const fusionTunable: Tunable<FusionParams, { readonly fusion: ReferenceFusion }> = {
  name: 'fusion',
  schema: fusionParamsSchema,
  config: 'fusion',
  description: 'reference price fusion: which source fair value uses, and when a source is stale',
  requote: true,
  bind: (host) => ({ get: () => host.fusion.getParams(), set: (p) => host.fusion.setParams(p) }),
};

export class ReferenceFusion {
  private params: FusionParams;
  private readonly byUnderlying = new Map<string, Underlying>();
  readonly sources: SourceSeries[] = [];

  constructor(params: FusionParams) {
    this.params = params;
  }

  /**
   * Declares a source series once at setup; returns its handle for update().
   * With `bandBps`, its prices must be vouched for (see the top of this file).
   */
  addSource(name: string, underlying: string, bandBps?: number): SourceSeries {
    if (bandBps !== undefined && !(bandBps > 0 && bandBps <= 10_000)) throw new RangeError(`ReferenceFusion: bandBps of ${name} must be in (0, 10000], got ${bandBps}`);
    const s = new SourceSeries(name, underlying, bandBps ?? NaN);
    this.sources.push(s);
    let u = this.byUnderlying.get(underlying);
    if (!u) this.byUnderlying.set(underlying, (u = new Underlying()));
    u.series.push(s);
    u.refs.push(NaN);
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
    const u = this.byUnderlying.get(s.underlying)!;
    if (s.bandBps > 0 && !this.vouched(u, s, price, recvMs)) return false;
    s.price = price;
    s.exchTsMs = exchTsMs;
    s.recvMs = recvMs;
    s.updates++;
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

  /** Whether `price` of band source `s` is vouched for; counts the refusal when not. */
  private vouched(u: Underlying, s: SourceSeries, price: number, recvMs: number): boolean {
    const stale = this.params.stale_ms;
    const refs = u.refs;
    let n = 0;
    for (const o of u.series) {
      if (o === s || o.bandBps > 0 || !(o.price > 0) || !(recvMs - o.recvMs <= stale)) continue;
      // Insertion sort: a handful of sources, no allocation.
      let i = n++;
      while (i > 0 && refs[i - 1]! > o.price) {
        refs[i] = refs[i - 1]!;
        i--;
      }
      refs[i] = o.price;
    }
    if (n > 0) {
      const median = n % 2 === 1 ? refs[n >> 1]! : (refs[(n >> 1) - 1]! + refs[n >> 1]!) / 2;
      if (!within(price, median, s.bandBps)) {
        s.rejectedBand++;
        return false;
      }
      s.anchor = median;
      return true;
    }
    if (!(s.anchor > 0 && s.price > 0 && recvMs - s.recvMs <= stale)) {
      s.rejectedUnvouched++;
      return false;
    }
    if (!(within(price, s.price, s.bandBps) && within(price, s.anchor, s.bandBps))) {
      s.rejectedBand++;
      return false;
    }
    return true;
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
