// What a strategy sees and what it returns. The same strategy object runs in
// replay, paper and live: everything it may read comes through
// StrategyContext (read-only), and everything it wants comes back as
// DesiredOrder records. Strategies never place or cancel orders themselves;
// the engine reconciles desired against open orders, and risk sees every
// order that would be sent.

import type { BookReader } from '../../workers/shared-memory/book-reader.js';
import type { Schema } from '../config/schema.js';
import type { DesiredOrder, MarketInfo, Order, TokenInfo } from '../trading/types.js';

/** A reference price from outside Polymarket (Binance, Chainlink, the UDP relay), after fusion. */
export interface ReferencePrice {
  /** Price in USD as a float (reference prices are signals, never amounts). */
  price: number;
  /** Venue timestamp, Unix ms. */
  exchTsMs: number;
  /** Engine receive time, Unix ms. */
  recvMs: number;
  /** Which source won fusion ("binance", "chainlink", "relay"). */
  source: string;
}

export interface StrategyContext {
  /** Engine clock, Unix ms (recorded time in replay). */
  readonly nowMs: number;
  readonly markets: readonly MarketInfo[];
  readonly tokens: readonly TokenInfo[];
  /** Shared Polymarket books; book index = token index. Queries never allocate. */
  readonly books: BookReader;
  /** Latest fused reference price of an underlying ("btc"), or undefined when none is fresh. */
  referencePrice(underlying: string): ReferencePrice | undefined;
  /** Reference price at the start of an Up/Down market's window; NaN when not yet known. */
  windowOpenPrice(market: number): number;
  /** Annualised volatility of an underlying as a fraction (0.55 = 55 %): DVOL when fresh, else realised; NaN when neither. */
  volatility(underlying: string): number;
  /** This strategy's position in a token, micro-shares (negative never happens on Polymarket: sells need inventory). */
  position(token: number): number;
  /** This strategy's live (pending or open) orders on a token. */
  openOrders(token: number): readonly Order[];
  /** Toxicity score of a market in [0, 1]: 0 benign flow, 1 fills are reliably adverse. */
  toxicity(market: number): number;
}

/**
 * A strategy decides per market. `decide` fills `out` with the complete set
 * of orders it wants on the market's tokens after this event; an empty `out`
 * means "nothing resting". It must not keep references to `ctx` results.
 */
export interface Strategy<P = unknown> {
  readonly name: string;
  /** Parameters in force. */
  params(): Readonly<P>;
  decide(ctx: StrategyContext, market: number, out: DesiredOrder[]): void;
  /** Applies new parameters; they were validated against `paramsSchema` by the caller. */
  setParams(params: P): void;
}

export interface StrategyFactory<P> {
  readonly name: string;
  /** Rejects unknown keys; absent keys take defaults. */
  readonly paramsSchema: Schema<P>;
  /** One line on what the parameters steer: the summary of its reload route. */
  readonly description?: string;
  create(params: P): Strategy<P>;
}
