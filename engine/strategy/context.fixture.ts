// Test plumbing: real shared books written through the real writer, the
// market and token tables of a few binary markets, and a StrategyContext
// that is plain data around the real BookReader.

import { Side as BookSide } from '../../workers/shared-memory/book-layout.js';
import { createPolymarketBooks, polyTick, PolymarketBookWriter } from '../../workers/venues/polymarket/book.js';
import { BookReader } from '../../workers/shared-memory/book-reader.js';
import { vacantSlot, type DesiredOrder, type MarketInfo, type Order, type TokenInfo } from '../trading/types.js';
import type { ReferencePrice, StrategyContext } from './types.js';

/** [price as a decimal, size in shares] */
export type Level = [number, number];

/** Market slot `index` with a made-up identity and the vacant slot's terms (tick 0.01, 5 shares minimum, no fee, no window); `over` sets any field. */
export function binaryMarket(index: number, over: Partial<MarketInfo> = {}): MarketInfo {
  return {
    ...vacantSlot(index).info,
    conditionId: `0x${index.toString(16).padStart(64, '0')}`,
    slug: `market-${index}`,
    ...over,
  };
}

export function tokensOf(markets: readonly MarketInfo[]): TokenInfo[] {
  const tokens: TokenInfo[] = [];
  for (const m of markets) {
    const [a, b] = m.tokens;
    tokens[a] = { index: a, tokenId: String(1000 + a), market: m.index, outcome: m.underlying ? 'Up' : 'Yes', complement: b };
    tokens[b] = { index: b, tokenId: String(1000 + b), market: m.index, outcome: m.underlying ? 'Down' : 'No', complement: a };
  }
  return tokens;
}

export class TestContext implements StrategyContext {
  nowMs = 1_000_000;
  readonly markets: MarketInfo[];
  readonly tokens: TokenInfo[];
  readonly books: BookReader;
  readonly writer: PolymarketBookWriter;
  refs = new Map<string, ReferencePrice>();
  openPrices: number[] = [];
  vols = new Map<string, number>();
  positions: number[];
  orders: Order[][];
  tox: number[];
  private nextId = 1;

  constructor(markets: MarketInfo[]) {
    this.markets = markets;
    this.tokens = tokensOf(markets);
    const set = createPolymarketBooks(this.tokens.length);
    this.books = new BookReader(set);
    this.writer = new PolymarketBookWriter(set);
    this.positions = this.tokens.map(() => 0);
    this.orders = this.tokens.map(() => []);
    this.tox = markets.map(() => 0);
  }

  referencePrice(underlying: string): ReferencePrice | undefined {
    return this.refs.get(underlying);
  }
  windowOpenPrice(market: number): number {
    return this.openPrices[market] ?? NaN;
  }
  volatility(underlying: string): number {
    return this.vols.get(underlying) ?? NaN;
  }
  position(token: number): number {
    return this.positions[token] ?? 0;
  }
  openOrders(token: number): readonly Order[] {
    return this.orders[token] ?? [];
  }
  toxicity(market: number): number {
    return this.tox[market] ?? 0;
  }

  /** Replaces one token's book (a `book` snapshot), stamped with the context's clock. */
  setBook(token: number, bids: Level[], asks: Level[], tickSize = 100): void {
    const w = this.writer;
    w.begin(token);
    w.clear(token);
    w.setStatus(token, 0);
    w.setTickSize(token, tickSize);
    for (const [p, s] of bids) w.setLevel(token, BookSide.Bid, polyTick(p), s);
    for (const [p, s] of asks) w.setLevel(token, BookSide.Ask, polyTick(p), s);
    w.setTimes(token, 0, this.nowMs);
    w.end(token);
  }

  /** Writes a market's first-token book and the mirrored second-token book (p ↔ 1 − p, bid ↔ ask), as the venue shows them. */
  setMarketBook(market: number, bids: Level[], asks: Level[], tickSize = 100): void {
    const [a, b] = this.markets[market]!.tokens;
    const mirror = (levels: Level[]): Level[] => levels.map(([p, s]) => [Math.round((1 - p) * 1e4) / 1e4, s]);
    this.setBook(a, bids, asks, tickSize);
    this.setBook(b, mirror(asks), mirror(bids), tickSize);
  }

  /** Rests the desired orders as live orders created now (what the engine would do after sending them). */
  rest(desired: readonly DesiredOrder[]): void {
    for (const d of desired) {
      this.orders[d.token]!.push({
        ...d,
        id: `o${this.nextId++}`,
        strategy: 'test',
        filled: 0,
        status: 'open',
        createdMs: this.nowMs,
        ackMs: this.nowMs,
      });
    }
  }
}

/** Runs one decision and returns what the strategy asked for. */
export function decideOnce(strategy: { decide(ctx: StrategyContext, market: number, out: DesiredOrder[]): void }, ctx: StrategyContext, market = 0): DesiredOrder[] {
  const out: DesiredOrder[] = [];
  strategy.decide(ctx, market, out);
  return out;
}
