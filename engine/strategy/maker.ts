// Two-sided market making on a binary market.
//
// The quotes are expressed on the first token (Yes/Up): a bid at
// reservation − half spread and an ask at reservation + half spread, where
// the reservation price is the fair value (mid or microprice of the first
// token's book) shifted against inventory. Polymarket cannot short, so each
// side is placed on whichever token carries it without locking more
// collateral than needed:
//
//   bid (gain Yes exposure):  sell held No at 1 − bid, else buy Yes at bid
//   ask (shed Yes exposure):  sell held Yes at ask,    else buy No at 1 − ask
//
// Inventory is Yes − No shares: one No offsets one Yes (a complete set is
// worth 1 whatever happens). Quotes are post-only GTC; toxicity widens the
// spread and, past a threshold, pulls both sides. A live quote of the
// target's size, within min_requote_ticks of the target and younger than
// max_quote_age_ms, is re-emitted unchanged so the engine keeps it (no
// cancel/replace churn).

import { BookFlag } from '../../workers/shared-memory/book-layout.js';
import { TopOfBook } from '../../workers/shared-memory/book-reader.js';
import { number, object, oneOf, toUnits, type Infer } from '../config/schema.js';
import { fieldError } from '../errors.js';
import { PRICE_SCALE, Side, SIZE_LOT, UNIT, type DesiredOrder, type Order } from '../trading/types.js';
import { isLive, keepOrder } from './desired.js';
import { ceilToTick, floorToLot, floorToTick, microprice, mid } from './pricing.js';
import type { Strategy, StrategyContext, StrategyFactory } from './types.js';

export const makerParamsSchema = object({
  fair: oneOf(['mid', 'microprice'] as const, { default: 'microprice', description: 'fair value of the first token' }),
  half_spread: number({ min: 0, max: 0.5, decimals: 4, default: 0.01, description: 'price distance of each quote from the reservation price; at most 0.5 (the whole price range)' }),
  size: number({ min: 0.01, max: 1_000_000, decimals: 2, default: 10, description: 'shares per quote, on the 0.01 lot; at most 1,000,000 (beyond any Polymarket book)' }),
  max_position: number({ min: 0.01, max: 1_000_000, decimals: 2, default: 100, description: 'net inventory (Yes − No shares) at which skew is full and the adding side stops; at most 1,000,000' }),
  skew: number({ min: 0, max: 0.5, decimals: 4, default: 0.01, description: 'reservation shift in price at full inventory, away from the inventory; at most 0.5' }),
  price_floor: number({ min: 0, max: 0.49, decimals: 4, default: 0.02, description: 'quotes stay within [price_floor, 1 − price_floor]; at most 0.49 (leaves a price to quote)' }),
  min_requote_ticks: number({ integer: true, min: 1, max: 1_000, default: 2, description: 'market ticks a target must move before a live quote is replaced; at most 1,000 (the whole range at the finest tick)' }),
  max_quote_age_ms: number({ integer: true, min: 0, max: 3_600_000, default: 30_000, description: 'a live quote older than this is replaced even if unmoved; at most 1 hour' }),
  toxicity_widen: number({ min: 0, max: 100, default: 1, description: 'half spread × (1 + toxicity_widen × toxicity); at most 100 (already past any quotable price)' }),
  toxicity_pull: number({ min: 0, max: 1, default: 0.9, description: 'no quotes at or above this toxicity; at most 1 (the largest score)' }),
});

export type MakerParams = Infer<typeof makerParamsSchema>;

/** A book the maker cannot price from: a side missing, crossed, or its feed in doubt. */
const UNQUOTABLE = BookFlag.BidEmpty | BookFlag.AskEmpty | BookFlag.Crossed | BookFlag.Stale | BookFlag.Resyncing;

export class Maker implements Strategy<MakerParams> {
  readonly name = 'maker';
  private p: Readonly<MakerParams>;
  // Params in engine units: grid ticks and micro-shares.
  private halfSpread = 0;
  private skew = 0;
  private size = 0;
  private maxPosition = 0;
  private floor = 0;
  private readonly top = new TopOfBook();

  constructor(params: MakerParams) {
    this.p = params;
    this.setParams(params);
  }

  params(): Readonly<MakerParams> {
    return this.p;
  }

  setParams(params: MakerParams): void {
    const halfSpread = toUnits(params.half_spread, PRICE_SCALE, 'half_spread');
    const skew = toUnits(params.skew, PRICE_SCALE, 'skew');
    const size = toUnits(params.size, UNIT, 'size');
    const maxPosition = toUnits(params.max_position, UNIT, 'max_position');
    const floor = toUnits(params.price_floor, PRICE_SCALE, 'price_floor');
    if (!(size >= SIZE_LOT && size % SIZE_LOT === 0)) throw fieldError('PE_CONFIG_INVALID', 'size', `${params.size} is not a whole number of 0.01-share lots`);
    if (!(maxPosition > 0)) throw fieldError('PE_CONFIG_INVALID', 'max_position', 'must be > 0');
    this.p = Object.freeze({ ...params });
    this.halfSpread = halfSpread;
    this.skew = skew;
    this.size = size;
    this.maxPosition = maxPosition;
    this.floor = floor;
  }

  /** The parameters decide() applies, in engine units (ticks, micro-shares): what a reload changed. */
  unitsInForce(): { halfSpread: number; skew: number; size: number; maxPosition: number; floor: number } {
    return { halfSpread: this.halfSpread, skew: this.skew, size: this.size, maxPosition: this.maxPosition, floor: this.floor };
  }

  decide(ctx: StrategyContext, market: number, out: DesiredOrder[]): void {
    const m = ctx.markets[market];
    if (m === undefined) return;
    const [first, second] = m.tokens;
    const top = ctx.books.top(first, this.top);
    if ((top.flags & UNQUOTABLE) !== 0) return;
    const toxicity = ctx.toxicity(market);
    if (toxicity >= this.p.toxicity_pull) return;

    // Market table and book learn of a tick change separately; quoting on the
    // coarser grid is valid on both (Polymarket tick sizes divide each other).
    const tick = Math.max(m.tickSize, top.tickSize);
    const fair = this.p.fair === 'mid' ? mid(top.bidTick, top.askTick) : microprice(top.bidTick, top.bidSize, top.askTick, top.askSize);
    const inventory = ctx.position(first) - ctx.position(second);
    const lean = Math.max(-1, Math.min(1, inventory / this.maxPosition));
    const reservation = fair - this.skew * lean;
    const half = this.halfSpread * (1 + this.p.toxicity_widen * toxicity);

    let bid = floorToTick(reservation - half, tick);
    let ask = ceilToTick(reservation + half, tick);
    if (ask <= bid) ask = bid + tick;
    // A post-only order that would cross is rejected, not repriced (protocols §6.3): stay behind the touch.
    bid = Math.min(bid, floorToTick(top.askTick - 1, tick));
    ask = Math.max(ask, ceilToTick(top.bidTick + 1, tick));
    const lo = Math.max(tick, ceilToTick(this.floor, tick));
    const hi = Math.min(PRICE_SCALE - tick, floorToTick(PRICE_SCALE - this.floor, tick));

    const bidSize = floorToLot(Math.min(this.size, this.maxPosition - inventory));
    if (bid >= lo && bid <= hi && bidSize > 0 && bidSize >= m.minSize) {
      if (ctx.position(second) >= bidSize) this.quote(ctx, out, second, Side.Sell, PRICE_SCALE - bid, bidSize, tick, 'quote_bid');
      else this.quote(ctx, out, first, Side.Buy, bid, bidSize, tick, 'quote_bid');
    }
    const askSize = floorToLot(Math.min(this.size, this.maxPosition + inventory));
    if (ask >= lo && ask <= hi && askSize > 0 && askSize >= m.minSize) {
      if (ctx.position(first) >= askSize) this.quote(ctx, out, first, Side.Sell, ask, askSize, tick, 'quote_ask');
      else this.quote(ctx, out, second, Side.Buy, PRICE_SCALE - ask, askSize, tick, 'quote_ask');
    }
  }

  private quote(ctx: StrategyContext, out: DesiredOrder[], token: number, side: Side, price: number, size: number, tick: number, reason: string): void {
    const live = this.keepable(ctx, token, side, price, size, tick);
    if (live !== undefined) out.push(keepOrder(live));
    else out.push({ token, side, price, size, type: 'GTC', postOnly: true, expiresMs: NaN, reason });
  }

  /** A live quote close enough to the target, young enough and of the same size to stay as it is. */
  private keepable(ctx: StrategyContext, token: number, side: Side, price: number, size: number, tick: number): Order | undefined {
    const orders = ctx.openOrders(token);
    const near = this.p.min_requote_ticks * tick;
    for (let i = 0; i < orders.length; i++) {
      const o = orders[i]!;
      if (!isLive(o) || o.side !== side || o.size !== size || o.price % tick !== 0) continue;
      if (Math.abs(o.price - price) < near && ctx.nowMs - o.createdMs < this.p.max_quote_age_ms) return o;
    }
    return undefined;
  }
}

export const makerFactory: StrategyFactory<MakerParams> = {
  name: 'maker',
  paramsSchema: makerParamsSchema,
  description: 'two-sided quotes around fair value, skewed against inventory',
  create: (params) => new Maker(params),
};
