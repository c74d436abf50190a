// Binance USD-M stream names, routing and the book the simulator keeps to
// answer `GET /fapi/v1/depth` and build the throttled depth streams.
import type { DepthSnapshot, DepthUpdate, PriceLevel, TradeEvent, AggTrade } from './binance-types.js';
import type { Parsed } from './faults.js';

export type StreamSpec =
  | { readonly name: string; readonly symbol: string; readonly kind: 'diff'; readonly intervalMs: 0 | 100 | 250 | 500 }
  | { readonly name: string; readonly symbol: string; readonly kind: 'partial'; readonly levels: 5 | 10 | 20; readonly intervalMs: 100 | 250 | 500 }
  | { readonly name: string; readonly symbol: string; readonly kind: 'bookTicker' | 'aggTrade' | 'trade' | 'forceOrder' };

export type StreamRoute = 'public' | 'market';

export const MAX_STREAMS_PER_CONNECTION = 200;

const STREAM_RE = /^([a-z0-9]{2,30})@(?:(depth)(5|10|20)?(?:@(0|100|500)ms)?|(bookTicker|aggTrade|trade|forceOrder))$/;

export function parseStreamName(name: string): Parsed<StreamSpec> {
  const m = STREAM_RE.exec(name);
  if (!m) {
    return {
      ok: false,
      error: `invalid stream name ${JSON.stringify(name)} (expected <symbol>@depth[@0ms|@100ms|@500ms], <symbol>@depth<5|10|20>[@100ms|@500ms], <symbol>@bookTicker, @aggTrade, @trade or @forceOrder, lower-case symbol)`,
    };
  }
  const symbol = m[1] as string;
  if (m[2] === 'depth') {
    const interval = m[4] === undefined ? 250 : Number(m[4]);
    if (m[3] !== undefined) {
      if (interval === 0) return { ok: false, error: `invalid stream name ${JSON.stringify(name)}: partial depth has no @0ms variant` };
      return { ok: true, value: { name, symbol, kind: 'partial', levels: Number(m[3]) as 5 | 10 | 20, intervalMs: interval as 100 | 250 | 500 } };
    }
    return { ok: true, value: { name, symbol, kind: 'diff', intervalMs: interval as 0 | 100 | 250 | 500 } };
  }
  return { ok: true, value: { name, symbol, kind: m[5] as 'bookTicker' | 'aggTrade' | 'trade' | 'forceOrder' } };
}

/** Routed endpoints (protocols.md §9.1): book data on /public, trades and liquidations on /market. */
export function streamRoute(spec: StreamSpec): StreamRoute {
  return spec.kind === 'diff' || spec.kind === 'partial' || spec.kind === 'bookTicker' ? 'public' : 'market';
}

export function parseStreamList(names: readonly string[]): Parsed<StreamSpec[]> {
  if (names.length > MAX_STREAMS_PER_CONNECTION) {
    return { ok: false, error: `too many streams: ${names.length} (max ${MAX_STREAMS_PER_CONNECTION} per connection)` };
  }
  const out: StreamSpec[] = [];
  for (const n of names) {
    const p = parseStreamName(n);
    if (!p.ok) return p;
    out.push(p.value);
  }
  return { ok: true, value: out };
}

const byPrice = (a: string, b: string): number => Number(a) - Number(b);

/** Aggregated price levels keyed by the exchange's price string. */
export class PriceBook {
  private readonly bids = new Map<string, string>();
  private readonly asks = new Map<string, string>();

  static from(snapshot: DepthSnapshot): PriceBook {
    const book = new PriceBook();
    book.apply(snapshot.bids, snapshot.asks);
    return book;
  }

  /** Absolute quantities; zero removes the level (removing an unknown level is normal). */
  apply(bids: readonly PriceLevel[], asks: readonly PriceLevel[]): void {
    for (const [p, q] of bids) {
      if (Number(q) === 0) this.bids.delete(p);
      else this.bids.set(p, q);
    }
    for (const [p, q] of asks) {
      if (Number(q) === 0) this.asks.delete(p);
      else this.asks.set(p, q);
    }
  }

  top(side: 'bids' | 'asks', n: number): PriceLevel[] {
    const map = side === 'bids' ? this.bids : this.asks;
    const keys = [...map.keys()].sort(byPrice);
    if (side === 'bids') keys.reverse();
    return keys.slice(0, n).map((p) => [p, map.get(p) as string]);
  }
}

/**
 * Merges unthrottled diffs into the @100ms/@250ms/@500ms streams: one event
 * per window of exchange time, U from the first diff, u from the last, pu
 * from the first, so the pu chain of the merged stream stays intact.
 */
export class DepthAggregator {
  private window = -1;
  private U = 0;
  private u = 0;
  private pu = 0;
  private E = 0;
  private T = 0;
  private symbol = '';
  private readonly b = new Map<string, string>();
  private readonly a = new Map<string, string>();

  constructor(
    readonly intervalMs: number,
    private readonly onFlush: (merged: DepthUpdate) => void,
  ) {}

  add(d: DepthUpdate): void {
    const w = Math.floor(d.E / this.intervalMs);
    if (this.window >= 0 && w !== this.window) this.flush();
    if (this.window < 0) {
      this.window = w;
      this.U = d.U;
      this.pu = d.pu;
      this.symbol = d.s;
    }
    this.u = d.u;
    this.E = d.E;
    this.T = d.T;
    for (const [p, q] of d.b) this.b.set(p, q);
    for (const [p, q] of d.a) this.a.set(p, q);
  }

  private flush(): void {
    const merged: DepthUpdate = {
      e: 'depthUpdate',
      E: this.E,
      T: this.T,
      s: this.symbol,
      U: this.U,
      u: this.u,
      pu: this.pu,
      b: [...this.b.entries()],
      a: [...this.a.entries()],
    };
    this.window = -1;
    this.b.clear();
    this.a.clear();
    this.onFlush(merged);
  }
}

function addDecimals(x: string, y: string): string {
  const scale = Math.max(x.split('.')[1]?.length ?? 0, y.split('.')[1]?.length ?? 0);
  const toInt = (s: string): bigint => {
    const [i, f = ''] = s.split('.');
    return BigInt(`${i}${f.padEnd(scale, '0')}`);
  };
  const sum = (toInt(x) + toInt(y)).toString().padStart(scale + 1, '0');
  return scale === 0 ? sum : `${sum.slice(0, -scale)}.${sum.slice(-scale)}`;
}

/**
 * Builds `aggTrade` from individual trades: consecutive fills with the same
 * trade time, price and taker side come from one taker order at one price.
 */
export class AggTradeBuilder {
  private first: TradeEvent | undefined;
  private last: TradeEvent | undefined;
  private qty = '0';

  constructor(private nextId: number) {}

  /** Returns the aggregate this trade closed, if any. */
  add(t: TradeEvent): AggTrade | undefined {
    if (this.last && t.T === this.last.T && t.p === this.last.p && t.m === this.last.m) {
      this.last = t;
      this.qty = addDecimals(this.qty, t.q);
      return undefined;
    }
    const done = this.flush();
    this.first = t;
    this.last = t;
    this.qty = t.q;
    return done;
  }

  flush(): AggTrade | undefined {
    const first = this.first;
    const last = this.last;
    if (!first || !last) return undefined;
    this.first = undefined;
    this.last = undefined;
    return { e: 'aggTrade', E: last.E, s: first.s, a: this.nextId++, p: first.p, q: this.qty, nq: this.qty, f: first.t, l: last.t, T: first.T, m: first.m };
  }
}
