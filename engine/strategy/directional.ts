// Directional taker for crypto Up/Down markets (5- and 15-minute windows).
//
// Fair P(Up) comes from the fused reference price S (Binance, Chainlink or
// the relay) against the window's opening price S0, the underlying's
// annualised volatility (DVOL, else realised) and the time left:
// P = Φ(ln(S/S0) / (σ√τ)) (pricing.probUp states the drift assumption).
// The edge of buying a token at its best ask is its probability minus the
// ask minus the taker fee per share; the better side trades when that edge
// beats `threshold`. Size follows fractional Kelly on `bankroll`: Kelly says
// how many shares to hold, the order buys the shortfall, capped by the size
// at the ask, max_size and max_position.

import { BookFlag } from '../../workers/shared-memory/book-layout.js';
import { TopOfBook } from '../../workers/shared-memory/book-reader.js';
import { number, object, oneOf, type Infer } from '../config/schema.js';
import { PRICE_SCALE, Side, UNIT, type DesiredOrder, type MarketInfo } from '../trading/types.js';
import { keepLiveOrders } from './desired.js';
import { feePerShare, floorToLot, kellyFraction, MS_PER_YEAR, probUp } from './pricing.js';
import type { Strategy, StrategyContext, StrategyFactory } from './types.js';

export const directionalParamsSchema = object({
  threshold: number({ min: 0, max: 1, default: 0.02, description: 'edge per share required beyond the taker fee, in price; at most 1 (no edge can exceed it)' }),
  kelly_fraction: number({ gt: 0, max: 1, default: 0.25, description: 'fraction of full Kelly; at most 1 (full Kelly)' }),
  bankroll: number({ min: 0.01, max: 10_000_000, decimals: 6, default: 100, description: 'pUSD the Kelly fraction applies to; from one cent to 10,000,000' }),
  max_size: number({ min: 0.01, max: 1_000_000, decimals: 2, default: 50, description: 'shares per order, on the 0.01 lot; at most 1,000,000 (beyond any Polymarket book)' }),
  max_position: number({ min: 0.01, max: 1_000_000, decimals: 2, default: 200, description: 'shares held per token; at most 1,000,000' }),
  order_type: oneOf(['FAK', 'FOK'] as const, { default: 'FAK' }),
  min_volatility: number({ min: 0, max: 10, default: 0.1, description: 'floor under the annualised volatility, so a quiet estimate cannot make P(Up) overconfident; at most 10 (1000 %, beyond any crypto DVOL)' }),
  max_reference_age_ms: number({ integer: true, min: 0, max: 600_000, default: 2_000, description: 'older reference prices are not traded on; at most 10 minutes' }),
  min_time_left_ms: number({ integer: true, min: 0, max: 86_400_000, default: 5_000, description: 'no new positions closer to the window end; at most 1 day (the longest Up/Down window)' }),
});

export type DirectionalParams = Infer<typeof directionalParamsSchema>;

const UNUSABLE = BookFlag.AskEmpty | BookFlag.Crossed | BookFlag.Stale | BookFlag.Resyncing;

class Directional implements Strategy<DirectionalParams> {
  readonly name = 'directional';
  private p: Readonly<DirectionalParams>;
  private readonly top = new TopOfBook();
  // The best candidate of the current decision.
  private bestToken = -1;
  private bestEdge = 0;
  private bestAsk = 0;
  private bestAskSize = 0;
  private bestProb = 0;
  private bestFee = 0;

  constructor(params: DirectionalParams) {
    this.p = Object.freeze({ ...params });
  }

  params(): Readonly<DirectionalParams> {
    return this.p;
  }

  setParams(params: DirectionalParams): void {
    this.p = Object.freeze({ ...params });
  }

  decide(ctx: StrategyContext, market: number, out: DesiredOrder[]): void {
    const m = ctx.markets[market];
    if (m === undefined || m.underlying === '') return;
    if (keepLiveOrders(ctx, m.tokens, out) > 0) return;
    const p = this.p;
    const now = ctx.nowMs;
    const left = m.endMs - now;
    if (!(now >= m.startMs) || !(left >= p.min_time_left_ms)) return;
    const ref = ctx.referencePrice(m.underlying);
    if (ref === undefined || now - ref.recvMs > p.max_reference_age_ms) return;
    const vol = ctx.volatility(m.underlying);
    if (!(vol > 0)) return;
    const up = probUp(ref.price, ctx.windowOpenPrice(market), Math.max(vol, p.min_volatility), left / MS_PER_YEAR);
    if (Number.isNaN(up)) return;

    this.bestToken = -1;
    this.bestEdge = p.threshold;
    this.consider(ctx, m, m.tokens[0], up);
    this.consider(ctx, m, m.tokens[1], 1 - up);
    if (this.bestToken < 0) return;

    const cost = this.bestAsk / PRICE_SCALE + this.bestFee;
    const targetShares = (p.kelly_fraction * kellyFraction(this.bestProb, cost) * p.bankroll) / cost;
    const held = ctx.position(this.bestToken);
    const want = Math.min(targetShares * UNIT - held, p.max_size * UNIT, p.max_position * UNIT - held, this.bestAskSize * UNIT);
    const size = floorToLot(want);
    if (size <= 0 || size < m.minSize) return;
    out.push({ token: this.bestToken, side: Side.Buy, price: this.bestAsk, size, type: p.order_type, postOnly: false, expiresMs: NaN, reason: 'edge' });
  }

  /** Records `token` as the best candidate if buying at its ask beats the best edge so far. */
  private consider(ctx: StrategyContext, m: MarketInfo, token: number, prob: number): void {
    const top = ctx.books.top(token, this.top);
    if ((top.flags & UNUSABLE) !== 0) return;
    const fee = feePerShare(top.askTick, m.feeRate, m.feeExponent);
    const edge = prob - top.askTick / PRICE_SCALE - fee;
    if (!(edge > this.bestEdge)) return;
    this.bestToken = token;
    this.bestEdge = edge;
    this.bestAsk = top.askTick;
    this.bestAskSize = top.askSize;
    this.bestProb = prob;
    this.bestFee = fee;
  }
}

export const directionalFactory: StrategyFactory<DirectionalParams> = {
  name: 'directional',
  paramsSchema: directionalParamsSchema,
  description: 'directional taker: buy the side the reference price favours, Kelly-sized',
  create: (params) => new Directional(params),
};
