// Reference prices: which hub series (source, token) carries which named
// reference of an underlying, their fusion into one price per underlying,
// the series whose prices settle market windows, and implied volatility.

import { RESOLUTION_SOURCE } from '../markets/settlement.js';
import { ReferenceFusion, type FusionParams, type SourceSeries } from './fusion.js';

/**
 * A hub price series that feeds fusion: (source, token) → named reference of
 * an underlying. ExternalPrice events by default; with `tickSize`, the
 * source's BestBidAsk events (a venue book: mid of price/price2 ticks × tickSize).
 */
export interface ReferenceInput {
  source: number;
  token: number;
  name: string;
  underlying: string;
  tickSize?: number;
  /** Its prices must lie within this many basis points of the other references (fusion.ts vouching). */
  bandBps?: number;
}

export interface VolatilityInput {
  source: number;
  token: number;
  underlying: string;
}

/** A venue book whose mid is a reference: the series it feeds and its tick size. */
export interface BookReference {
  series: SourceSeries;
  tickSize: number;
}

/** (source, token) as one map key: a hub has far fewer than 65,536 tokens per source. */
const key = (source: number, token: number): number => source * 65_536 + token;

export class References {
  readonly fusion: ReferenceFusion;
  private readonly priceBySourceToken = new Map<number, SourceSeries>();
  private readonly bookBySourceToken = new Map<number, BookReference>();
  private readonly volBySourceToken = new Map<number, { underlying: string }>();
  /** The series whose prices settle windows: the resolution source per underlying, or every series of an underlying that has none. */
  private readonly resolutionSeries = new Set<SourceSeries>();
  private readonly vols = new Map<string, { value: number; recvMs: number }>();

  constructor(params: FusionParams, references: readonly ReferenceInput[], volatilities: readonly VolatilityInput[], log: (line: string) => void) {
    this.fusion = new ReferenceFusion(params);
    for (const r of references) {
      const series = this.fusion.addSource(r.name, r.underlying, r.bandBps);
      if (r.tickSize !== undefined) this.bookBySourceToken.set(key(r.source, r.token), { series, tickSize: r.tickSize });
      else this.priceBySourceToken.set(key(r.source, r.token), series);
    }
    for (const u of new Set(this.fusion.sources.map((x) => x.underlying))) {
      const of = this.fusion.sources.filter((x) => x.underlying === u);
      const chosen = of.filter((x) => x.name === RESOLUTION_SOURCE);
      for (const x of chosen.length > 0 ? chosen : of) this.resolutionSeries.add(x);
      if (chosen.length === 0) log(`settlement: no ${RESOLUTION_SOURCE} reference for ${u}; its windows settle on ${of.map((x) => x.name).join(', ')}, not the venue's resolution source`);
    }
    for (const v of volatilities) this.volBySourceToken.set(key(v.source, v.token), { underlying: v.underlying });
  }

  /** The series an ExternalPrice event of (source, token) feeds, if any. */
  priceSeries(source: number, token: number): SourceSeries | undefined {
    return this.priceBySourceToken.get(key(source, token));
  }

  /** The book reference a BestBidAsk event of (source, token) feeds, if any. */
  bookSeries(source: number, token: number): BookReference | undefined {
    return this.bookBySourceToken.get(key(source, token));
  }

  /** Whether `series`' prices settle market windows. */
  settlesWindows(series: SourceSeries): boolean {
    return this.resolutionSeries.has(series);
  }

  /** A volatility event of (source, token); ignored when no underlying is mapped to it. */
  onVolatility(source: number, token: number, value: number, recvMs: number): void {
    const v = this.volBySourceToken.get(key(source, token));
    if (v) this.vols.set(v.underlying, { value, recvMs });
  }

  /** The latest implied volatility of `underlying`; NaN when none came. */
  volatility(underlying: string): number {
    return this.vols.get(underlying)?.value ?? NaN;
  }
}
