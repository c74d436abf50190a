// Complete-set arbitrage: one Yes plus one No is worth exactly 1 pUSD (merge
// before resolution, or one of them pays 1 after it, protocols §8). When the
// asks of both books, walked for a size s, cost less than s × (1 − min_edge)
// including taker fees, buying s of each locks in the difference.
//
// Depth mode walks the ask ladders and takes the largest lot size that still
// clears the edge; top mode only takes what both best asks hold. The legs are
// FOK (or FAK) buys limited at the furthest level the walk touched. While a
// leg is in flight the strategy re-emits it and fires nothing new. The engine
// merges held sets back into collateral (paper: mergeableSets).

import { BookFlag, Side as BookSide } from '../../workers/shared-memory/book-layout.js';
import { TopOfBook } from '../../workers/shared-memory/book-reader.js';
import { number, object, oneOf, toUnits, type Infer } from '../config/schema.js';
import { feeMicros, PRICE_SCALE, Side, SIZE_LOT, UNIT, type DesiredOrder } from '../trading/types.js';
import { keepLiveOrders } from './desired.js';
import { feePerShare } from './pricing.js';
import type { Strategy, StrategyContext, StrategyFactory } from './types.js';

export const completeSetParamsSchema = object({
  mode: oneOf(['depth', 'top'] as const, { default: 'depth', description: 'walk the ask ladders, or take the best asks only' }),
  order_type: oneOf(['FOK', 'FAK'] as const, { default: 'FOK', description: 'FOK avoids a lone leg when depth vanishes; FAK takes what is left' }),
  min_edge: number({ min: 0, max: 0.5, decimals: 4, default: 0.005, description: 'required profit per set after fees, in price; at most 0.5 (a set costs at least 0.5 at any real book)' }),
  max_size: number({ min: 0.01, max: 1_000_000, decimals: 2, default: 100, description: 'sets per attempt, on the 0.01 lot; at most 1,000,000 (beyond any Polymarket book)' }),
  max_position: number({ min: 0.01, max: 1_000_000, decimals: 2, default: 500, description: 'shares held per token, merges aside; at most 1,000,000' }),
  max_levels: number({ integer: true, min: 1, max: 10_001, default: 50, description: 'ask levels walked per book in depth mode; at most 10,001 (every tick of the finest grid)' }),
});

export type CompleteSetParams = Infer<typeof completeSetParamsSchema>;

const UNUSABLE = BookFlag.AskEmpty | BookFlag.Crossed | BookFlag.Stale | BookFlag.Resyncing;

/** Complete sets held in a market (micro-shares): what a merge can turn back into collateral. */
export function mergeableSets(ctx: StrategyContext, market: number): number {
  const m = ctx.markets[market];
  if (m === undefined) return 0;
  return Math.min(ctx.position(m.tokens[0]), ctx.position(m.tokens[1]));
}

/** One book's ask ladder copied once per decision, so every size tried sees the same state. */
class AskLadder {
  ticks: Int32Array;
  sizes: Float64Array;
  n = 0;
  /** Micro-shares across the copied levels. */
  total = 0;
  /** Furthest level the last cost() walk took from. */
  worstTick = 0;

  constructor(levels: number) {
    this.ticks = new Int32Array(levels);
    this.sizes = new Float64Array(levels);
  }

  load(ctx: StrategyContext, book: number, levels: number): void {
    this.n = ctx.books.depth(book, BookSide.Ask, levels, this.ticks, this.sizes);
    let total = 0;
    for (let i = 0; i < this.n; i++) total += Math.round(this.sizes[i]! * UNIT);
    this.total = total;
  }

  /** Micro-pUSD to buy `size` micro-shares, taker fees per level included; NaN when the ladder is too thin. */
  cost(size: number, feeRate: number, feeExponent: number): number {
    let left = size;
    let cost = 0;
    for (let i = 0; i < this.n && left > 0; i++) {
      const avail = Math.round(this.sizes[i]! * UNIT);
      const take = avail < left ? avail : left;
      const tick = this.ticks[i]!;
      cost += (tick * take) / PRICE_SCALE + feeMicros(tick, take, feeRate, feeExponent);
      left -= take;
      this.worstTick = tick;
    }
    return left > 0 ? NaN : cost;
  }
}

export class CompleteSet implements Strategy<CompleteSetParams> {
  readonly name = 'complete_set';
  private p: Readonly<CompleteSetParams>;
  private minEdge = 0;
  private maxSize = 0;
  private maxPosition = 0;
  private first: AskLadder;
  private second: AskLadder;
  private readonly topA = new TopOfBook();
  private readonly topB = new TopOfBook();

  constructor(params: CompleteSetParams) {
    this.p = params;
    this.first = new AskLadder(params.max_levels);
    this.second = new AskLadder(params.max_levels);
    this.setParams(params);
  }

  params(): Readonly<CompleteSetParams> {
    return this.p;
  }

  setParams(params: CompleteSetParams): void {
    if (params.max_levels !== this.first.ticks.length) {
      this.first = new AskLadder(params.max_levels);
      this.second = new AskLadder(params.max_levels);
    }
    const minEdge = toUnits(params.min_edge, PRICE_SCALE, 'min_edge');
    const maxSize = toUnits(params.max_size, UNIT, 'max_size');
    const maxPosition = toUnits(params.max_position, UNIT, 'max_position');
    this.p = Object.freeze({ ...params });
    this.minEdge = minEdge;
    this.maxSize = maxSize;
    this.maxPosition = maxPosition;
  }

  /** The parameters decide() applies, in engine units (ticks, micro-shares, ladder levels): what a reload changed. */
  unitsInForce(): { minEdge: number; maxSize: number; maxPosition: number; ladderLevels: number } {
    return { minEdge: this.minEdge, maxSize: this.maxSize, maxPosition: this.maxPosition, ladderLevels: this.first.ticks.length };
  }

  decide(ctx: StrategyContext, market: number, out: DesiredOrder[]): void {
    const m = ctx.markets[market];
    if (m === undefined) return;
    if (keepLiveOrders(ctx, m.tokens, out) > 0) return;
    const [a, b] = m.tokens;
    const ta = ctx.books.top(a, this.topA);
    const tb = ctx.books.top(b, this.topB);
    if (((ta.flags | tb.flags) & UNUSABLE) !== 0) return;
    // The best asks are the cheapest shares there are: if a set bought there
    // does not clear, no size does, and the ladders need not be copied.
    const bestSet = (ta.askTick + tb.askTick) / PRICE_SCALE + feePerShare(ta.askTick, m.feeRate, m.feeExponent) + feePerShare(tb.askTick, m.feeRate, m.feeExponent);
    if (!(bestSet < (PRICE_SCALE - this.minEdge) / PRICE_SCALE)) return;

    const levels = this.p.mode === 'top' ? 1 : this.p.max_levels;
    this.first.load(ctx, a, levels);
    this.second.load(ctx, b, levels);
    const room = this.maxPosition - Math.max(ctx.position(a), ctx.position(b));
    const cap = Math.min(this.maxSize, room, this.first.total, this.second.total);
    let hiLots = Math.floor(cap / SIZE_LOT);
    let loLots = Math.max(1, Math.ceil(m.minSize / SIZE_LOT));
    if (hiLots < loLots || !this.clears(loLots * SIZE_LOT, m.feeRate, m.feeExponent)) return;
    // Per-share cost grows with size (asks are walked upward, and price plus
    // fee rises with price at any realistic fee rate), so the sizes that
    // clear form a prefix: binary search. Every size returned was tested.
    while (loLots < hiLots) {
      const mid = (loLots + hiLots + 1) >>> 1;
      if (this.clears(mid * SIZE_LOT, m.feeRate, m.feeExponent)) loLots = mid;
      else hiLots = mid - 1;
    }
    const size = loLots * SIZE_LOT;
    this.clears(size, m.feeRate, m.feeExponent); // leaves each ladder's worstTick at this size
    out.push(leg(a, this.first.worstTick, size, this.p.order_type));
    out.push(leg(b, this.second.worstTick, size, this.p.order_type));
  }

  /** Both legs of `size` sets cost strictly less than size × (1 − min_edge). */
  private clears(size: number, feeRate: number, feeExponent: number): boolean {
    const cost = this.first.cost(size, feeRate, feeExponent) + this.second.cost(size, feeRate, feeExponent);
    return cost < (size * (PRICE_SCALE - this.minEdge)) / PRICE_SCALE;
  }
}

function leg(token: number, price: number, size: number, type: 'FOK' | 'FAK'): DesiredOrder {
  return { token, side: Side.Buy, price, size, type, postOnly: false, expiresMs: NaN, reason: 'arb_leg' };
}

export const completeSetFactory: StrategyFactory<CompleteSetParams> = {
  name: 'complete_set',
  paramsSchema: completeSetParamsSchema,
  description: 'complete-set arbitrage: buy both sides when they cost less than 1 after fees',
  create: (params) => new CompleteSet(params),
};
