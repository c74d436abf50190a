// Test plumbing: a RiskView that is plain data around real shared books.

import { binaryMarket, TestContext } from '../strategy/context.fixture.js';
import type { BookReader } from '../../workers/shared-memory/book-reader.js';
import { UNIT, type MarketInfo, type TokenInfo } from '../trading/types.js';
import type { RiskView } from './gates.js';
import { EngineState } from './state.js';

export class TestView implements RiskView {
  nowMs: number;
  engineState: EngineState = EngineState.Running;
  readonly books: BookReader;
  readonly tokens: TokenInfo[];
  readonly markets: MarketInfo[];
  positions: number[];
  /** micro-pUSD */
  gross = 0;
  pnl = 0;
  /** The books live here; write them through ctx.setBook / ctx.writer. */
  readonly ctx: TestContext;

  constructor(markets = [binaryMarket(0), binaryMarket(1)]) {
    this.ctx = new TestContext(markets);
    this.nowMs = this.ctx.nowMs;
    this.books = this.ctx.books;
    this.tokens = this.ctx.tokens;
    this.markets = this.ctx.markets;
    this.positions = this.tokens.map(() => 0);
    // Every book two-sided around 0.50 and fresh at nowMs.
    for (const t of this.tokens) this.ctx.setBook(t.index, [[0.49, 1000]], [[0.51, 1000]]);
  }

  position(token: number): number {
    return this.positions[token] ?? 0;
  }
  marketPosition(market: number): number {
    const m = this.markets[market];
    return m === undefined ? 0 : this.position(m.tokens[0]) + this.position(m.tokens[1]);
  }
  grossExposure(): number {
    return this.gross;
  }
  dailyPnl(): number {
    return this.pnl;
  }
}

export const shares = (n: number): number => Math.round(n * UNIT);
export const pusd = shares;
