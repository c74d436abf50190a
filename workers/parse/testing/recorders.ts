// Sinks that record every callback into a flat array, so the scanner's output
// and the JSON.parse reference's can be compared element by element.
import type { BinanceParser, BinanceSink } from '../../venues/binance/parse.js';
import type { DeribitSink } from '../../venues/deribit/parse.js';
import type { PolymarketSink } from '../../venues/polymarket/parse.js';
import type { RtdsParser, RtdsSink } from '../../venues/rtds/parse.js';
import { latin1 } from '../decimal.js';

export type Events = unknown[];

/** Element-wise Object.is comparison (NaN equals NaN, -0 differs from 0). Returns the first differing index or -1. */
export function firstDifference(a: Events, b: Events): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

export class PolyRecorder implements PolymarketSink {
  out: Events = [];
  onBookBegin(token: number, tsMs: number): void {
    this.out.push('book', token, tsMs);
  }
  onLevel(token: number, side: number, priceTicks: number, size: number): void {
    this.out.push('level', token, side, priceTicks, size);
  }
  onBookEnd(token: number): void {
    this.out.push('bookEnd', token);
  }
  onPriceChange(token: number, side: number, px: number, size: number, bb: number, ba: number, ts: number): void {
    this.out.push('pc', token, side, px, size, bb, ba, ts);
  }
  onTickSize(token: number, newTick: number, oldTick: number, ts: number): void {
    this.out.push('tick', token, newTick, oldTick, ts);
  }
  onTrade(token: number, side: number, px: number, size: number, ts: number): void {
    this.out.push('trade', token, side, px, size, ts);
  }
  onBestBidAsk(token: number, bb: number, ba: number, ts: number): void {
    this.out.push('bba', token, bb, ba, ts);
  }
  onMarketEvent(kind: number, json: string): void {
    // Canonical text so the reference (which only has the parsed object) can match it.
    this.out.push('market', kind, JSON.stringify(JSON.parse(json)));
  }
}

export class BinanceRecorder implements BinanceSink {
  out: Events = [];
  parser: BinanceParser | undefined;
  private t(k: number): string {
    return this.parser ? this.parser.textOf(k) : '';
  }
  onDepthBegin(sym: number, kind: number, e: number, t: number, first: number, last: number, prev: number): void {
    this.out.push('depth', sym, kind, e, t, first, last, prev);
  }
  onDepthLevel(sym: number, side: number, px: number, qty: number): void {
    this.out.push('dl', sym, side, px, qty, this.t(0), this.t(1));
  }
  onDepthEnd(sym: number): void {
    this.out.push('depthEnd', sym);
  }
  onBookTicker(sym: number, bid: number, bq: number, ask: number, aq: number, u: number, e: number, t: number): void {
    this.out.push('bt', sym, bid, bq, ask, aq, u, e, t, this.t(0), this.t(1), this.t(2), this.t(3));
  }
  onTrade(sym: number, px: number, qty: number, aggr: number, id: number, tMs: number, eMs: number): void {
    this.out.push('trade', sym, px, qty, aggr, id, tMs, eMs, this.t(0), this.t(1));
  }
  onAggTrade(sym: number, px: number, qty: number, aggr: number, id: number, f: number, l: number, tMs: number, eMs: number): void {
    this.out.push('agg', sym, px, qty, aggr, id, f, l, tMs, eMs, this.t(0), this.t(1));
  }
  onLiquidation(sym: number, side: number, px: number, ap: number, q: number, l: number, z: number, tMs: number, eMs: number): void {
    this.out.push('liq', sym, side, px, ap, q, l, z, tMs, eMs);
  }
}

export class RtdsRecorder implements RtdsSink {
  out: Events = [];
  parser: RtdsParser | undefined;
  onPrice(topic: number, sym: number, value: number, priceTs: number, sendTs: number): void {
    const p = this.parser;
    const fa = p && p.fullAccuracy[0]! >= 0 ? latin1(p.frame, p.fullAccuracy[0]!, p.fullAccuracy[1]!) : undefined;
    this.out.push('price', topic, sym, value, priceTs, sendTs, fa);
  }
  onHistory(topic: number, sym: number, value: number, priceTs: number): void {
    this.out.push('hist', topic, sym, value, priceTs);
  }
}

export class DeribitRecorder implements DeribitSink {
  out: Events = [];
  onVolatility(index: number, vol: number, ts: number): void {
    this.out.push('dvol', index, vol, ts);
  }
  onTestRequest(): void {
    this.out.push('test');
  }
  onRpcResult(id: number, json: string): void {
    this.out.push('result', id, JSON.stringify(JSON.parse(json)));
  }
  onRpcError(id: number, code: number, json: string): void {
    this.out.push('error', id, code, JSON.stringify(JSON.parse(json)));
  }
}
