// Pre-trade risk: every order the engine would send passes RiskGate.check
// first. A check returns a stable reason code (0 = pass) so blocked orders
// can be counted per reason and journaled without building strings.
//
// Gates, in the order they are checked (the first that fails is reported):
//   engine state    PAUSED / HALTED block all; REDUCE_ONLY passes only sells
//                   of held inventory (Polymarket cannot short, so a sell of
//                   at most the position is the one way to shrink it)
//   daily loss      PnL at or below −daily_loss_limit blocks everything
//   price           on the market's tick and the book's, within [tick, 1 − tick]
//   size            on the 0.01-share lot, at least max(market min, min_size)
//   notional        price × size ≤ max_order_notional
//   book            not flagged stale/resyncing, not older than stale_book_ms
//                   (venue time against the engine clock), not crossed
//   position        a sell cannot exceed the position; a buy keeps the token
//                   within max_position, the market (both tokens) within
//                   max_market_position and gross exposure within
//                   max_gross_exposure
//   live limits     dry-run and live only ([live]): price × size ≤
//                   max_order_notional, fewer than max_open_orders orders
//                   live, and the notional passed since the UTC day began
//                   plus this order ≤ max_daily_notional
//   rate            a token bucket of max_orders_per_second, one second of
//                   burst; only an order that passed everything else takes
//                   a token (and counts towards the daily notional)
// Limits count filled positions; the engine's reconcile decides which resting
// orders are replaced, so counting them here would double-count a requote.
//
// flattenOrders is the exit path: it ignores the engine state (it is how a
// HALTED engine closes out) but not price or size sanity.

import { BookFlag, NO_TICK } from '../../workers/shared-memory/book-layout.js';
import { TopOfBook, type BookReader } from '../../workers/shared-memory/book-reader.js';
import { number, object, toUnits, type Infer, type Rule } from '../config/schema.js';
import { notionalMicros, PRICE_SCALE, Side, SIZE_LOT, UNIT, type DesiredOrder, type MarketInfo, type TokenInfo } from '../trading/types.js';
import { fieldError } from '../errors.js';
import type { Tunable } from '../tunables/tunable.js';
import { EngineState } from './state.js';

// Maxima sit far above any book Polymarket lists (a few 100k shares on the
// deepest markets) yet low enough that every limit stays an exact safe
// integer in engine units: a limit must never round to 0 or to Infinity.
const MAX_SHARES = 1_000_000;
const MAX_PUSD = 10_000_000;
const HOUR_MS = 3_600_000;

export const riskParamsSchema = object(
  {
    max_position: number({ gt: 0, max: MAX_SHARES, decimals: 2, default: 500, description: 'shares per token; at most 1,000,000 (beyond any Polymarket book)' }),
    max_market_position: number({ gt: 0, max: 2 * MAX_SHARES, decimals: 2, default: 1_000, description: 'shares per market, both tokens together; at most 2,000,000 (two tokens at the per-token maximum)' }),
    max_order_notional: number({ min: 0.01, max: MAX_PUSD, decimals: 6, default: 100, description: 'pUSD per order; from one cent to 10,000,000' }),
    max_gross_exposure: number({ min: 0.01, max: MAX_PUSD, decimals: 6, default: 2_000, description: 'pUSD across all positions; from one cent to 10,000,000' }),
    daily_loss_limit: number({ min: 0.01, max: MAX_PUSD, decimals: 6, default: 100, description: 'pUSD; breaching it trips the kill switch; from one cent to 10,000,000' }),
    max_orders_per_second: number({ min: 0.01, max: 1_000, default: 20, description: 'orders sent per second, one second of burst; from one per 100 s to 1,000 (above the venue\'s own rate limits)' }),
    min_size: number({ min: 0, max: MAX_SHARES, decimals: 2, default: 5, description: 'shares; orders below max(this, market minimum) are blocked; at most max_position' }),
    stale_book_ms: number({ integer: true, min: 100, max: HOUR_MS, default: 30_000, description: 'a book whose last venue update is older than this is stale; 100 ms to 1 hour' }),
  },
  {
    rules: [
      { field: 'max_position', message: 'must be <= max_market_position (a market position includes each token\'s)', holds: (p) => p.max_position <= p.max_market_position },
      { field: 'min_size', message: 'must be <= max_position (no buy of the minimum size could pass)', holds: (p) => p.min_size <= p.max_position },
    ],
  },
);

export type RiskParams = Infer<typeof riskParamsSchema>;

const DAY_MS = 86_400_000;
const MAX_OPEN_ORDERS = 10_000;

/**
 * The [live] table: hard caps on what dry-run and live may send, on top of
 * [risk]. 0 means "not set" (there is deliberately no default a live engine
 * could run on unlimited): live refuses to start until each is set; dry-run
 * applies the ones that are.
 */
export const liveLimitFields = {
  max_order_notional: number({ min: 0, max: MAX_PUSD, decimals: 6, default: 0, description: 'pUSD per order (price × size); 0 = not set, which live refuses; at most 10,000,000' }),
  max_open_orders: number({ integer: true, min: 0, max: MAX_OPEN_ORDERS, default: 0, description: 'orders live at once across all strategies; 0 = not set, which live refuses; at most 10,000' }),
  max_daily_notional: number({ min: 0, max: MAX_PUSD, decimals: 6, default: 0, description: 'pUSD of orders sent per UTC day (price × size, whatever fills); 0 = not set, which live refuses; at most 10,000,000' }),
};

export const liveLimitRules: readonly Rule<{ [K in keyof typeof liveLimitFields]: number }>[] = [
  {
    field: 'max_order_notional',
    message: 'must be <= max_daily_notional (no order of the maximum notional could pass)',
    holds: (l) => l.max_order_notional === 0 || l.max_daily_notional === 0 || l.max_order_notional <= l.max_daily_notional,
  },
];

/** The limits of the [live] table (config.ts adds the heartbeat keys beside them). */
export const liveLimitsSchema = object(liveLimitFields, { rules: liveLimitRules });

export type LiveLimits = Infer<typeof liveLimitsSchema>;
export const LIVE_LIMIT_KEYS = ['max_order_notional', 'max_open_orders', 'max_daily_notional'] as const satisfies readonly (keyof LiveLimits)[];

/** The [live] keys still at 0 (not set), in table order. */
export function unsetLiveLimits(limits: LiveLimits): (keyof LiveLimits)[] {
  return LIVE_LIMIT_KEYS.filter((k) => limits[k] === 0);
}

/** Stable reason codes: never renumbered or reused (metrics labels and journals key on them). */
export const RiskReason = {
  Pass: 0,
  Halted: 1,
  Paused: 2,
  ReduceOnly: 3,
  DailyLoss: 4,
  UnknownToken: 5,
  PriceRange: 6,
  PriceTick: 7,
  SizeLot: 8,
  SizeMin: 9,
  OrderNotional: 10,
  BookStale: 11,
  BookCrossed: 12,
  SellExceedsPosition: 13,
  TokenPosition: 14,
  MarketPosition: 15,
  GrossExposure: 16,
  RateLimit: 17,
  NoBid: 18,
  LiveOrderNotional: 19,
  LiveOpenOrders: 20,
  LiveDailyNotional: 21,
} as const;
export type RiskReason = (typeof RiskReason)[keyof typeof RiskReason];

/** Label of each reason; index = code. */
export const RISK_REASON_NAMES = [
  'pass',
  'halted',
  'paused',
  'reduce_only',
  'daily_loss',
  'unknown_token',
  'price_range',
  'price_tick',
  'size_lot',
  'size_min',
  'order_notional',
  'book_stale',
  'book_crossed',
  'sell_exceeds_position',
  'token_position',
  'market_position',
  'gross_exposure',
  'rate_limit',
  'no_bid',
  'live_order_notional',
  'live_open_orders',
  'live_daily_notional',
] as const;

export function riskReasonName(code: RiskReason): (typeof RISK_REASON_NAMES)[number] {
  return RISK_REASON_NAMES[code];
}

/** What the gates read. Amounts in engine units: micro-shares, micro-pUSD. */
export interface RiskView {
  /** Engine clock, Unix ms (recorded time in replay). */
  readonly nowMs: number;
  readonly engineState: EngineState;
  readonly books: BookReader;
  /** Dense tables; book index = token index. */
  readonly tokens: readonly TokenInfo[];
  readonly markets: readonly MarketInfo[];
  /** Filled position in a token, micro-shares (never negative on Polymarket). */
  position(token: number): number;
  /** Position across both tokens of a market, micro-shares. */
  marketPosition(market: number): number;
  /** Value of all positions, micro-pUSD. */
  grossExposure(): number;
  /** PnL since the start of the trading day (realised + marked), micro-pUSD. */
  dailyPnl(): number;
}

/** Order rate limit on the engine clock; refills continuously, never allocates. */
export class TokenBucket {
  private capacity = 1;
  private perMs = 0;
  private perSecond = 0;
  private tokens = 1;
  private lastMs = NaN;

  constructor(perSecond: number) {
    this.setRate(perSecond);
    this.tokens = this.capacity;
  }

  /** New rate; the burst is one second of it (at least one order). Tokens held are kept up to the new capacity. */
  setRate(perSecond: number): void {
    this.capacity = Math.max(1, perSecond);
    this.perSecond = perSecond;
    this.perMs = perSecond / 1000;
    if (this.tokens > this.capacity) this.tokens = this.capacity;
  }

  get ratePerSecond(): number {
    return this.perSecond;
  }

  /** Takes one token if there is one. */
  take(nowMs: number): boolean {
    // A clock that steps back (replay restart) refills nothing rather than going negative.
    if (nowMs > this.lastMs) this.tokens = Math.min(this.capacity, this.tokens + (nowMs - this.lastMs) * this.perMs);
    if (!(nowMs <= this.lastMs)) this.lastMs = nowMs;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** The limits as a tunable set: [risk] in the file, /control/reload/risk at run time (no requote: a gate checks each order as it is sent). */
export const riskTunable: Tunable<RiskParams, { readonly risk: RiskGate }> = {
  name: 'risk',
  schema: riskParamsSchema,
  config: 'risk',
  description: 'pre-trade risk limits: positions, notional, gross exposure, daily loss, order rate, stale books',
  requote: false,
  bind: (host) => ({ get: () => host.risk.params(), set: (p) => host.risk.setParams(p) }),
};

export class RiskGate {
  private p: Readonly<RiskParams>;
  // Limits in engine units.
  private maxPosition = 0;
  private maxMarketPosition = 0;
  private maxOrderNotional = 0;
  private maxGrossExposure = 0;
  private dailyLossLimit = 0;
  private minSize = 0;
  private readonly bucket: TokenBucket;
  private readonly top = new TopOfBook();
  // [live] caps in engine units; Infinity where not set (paper: all of them).
  private liveOrderNotional = Infinity;
  private liveOpenOrders = Infinity;
  private liveDailyNotional = Infinity;
  private openOrders: () => number = () => 0;
  /** Notional passed during UTC day `day` (engine clock), micro-pUSD. */
  private dayNotional = 0;
  private day = NaN;

  constructor(params: RiskParams) {
    this.p = params;
    this.bucket = new TokenBucket(params.max_orders_per_second);
    this.setParams(params);
  }

  params(): Readonly<RiskParams> {
    return this.p;
  }

  setParams(params: RiskParams): void {
    // Every conversion is checked before anything changes: a refused set leaves the limits in force whole.
    const maxPosition = toUnits(params.max_position, UNIT, 'max_position');
    const maxMarketPosition = toUnits(params.max_market_position, UNIT, 'max_market_position');
    const maxOrderNotional = toUnits(params.max_order_notional, UNIT, 'max_order_notional');
    const maxGrossExposure = toUnits(params.max_gross_exposure, UNIT, 'max_gross_exposure');
    const dailyLossLimit = toUnits(params.daily_loss_limit, UNIT, 'daily_loss_limit');
    const minSize = toUnits(params.min_size, UNIT, 'min_size');
    if (!(params.max_orders_per_second > 0 && params.max_orders_per_second <= 1_000)) throw fieldError('PE_CONFIG_INVALID', 'max_orders_per_second', `${params.max_orders_per_second} is outside (0, 1000]`);
    if (!(dailyLossLimit > 0)) throw fieldError('PE_CONFIG_INVALID', 'daily_loss_limit', 'must be > 0 (0 would halt on any loss)');
    this.p = Object.freeze({ ...params });
    this.maxPosition = maxPosition;
    this.maxMarketPosition = maxMarketPosition;
    this.maxOrderNotional = maxOrderNotional;
    this.maxGrossExposure = maxGrossExposure;
    this.dailyLossLimit = dailyLossLimit;
    this.minSize = minSize;
    this.bucket.setRate(params.max_orders_per_second);
  }

  /**
   * Applies the [live] caps (dry-run and live); `openOrders` counts the orders
   * live at the venue across all strategies. A limit of 0 is not set and not
   * applied (live refuses to start with one unset, see cli/run.ts).
   */
  setLiveLimits(limits: LiveLimits, openOrders: () => number): void {
    const cap = (v: number, field: string): number => (v === 0 ? Infinity : toUnits(v, UNIT, `live.${field}`));
    const orderNotional = cap(limits.max_order_notional, 'max_order_notional');
    const dailyNotional = cap(limits.max_daily_notional, 'max_daily_notional');
    if (!(Number.isSafeInteger(limits.max_open_orders) && limits.max_open_orders >= 0)) throw fieldError('PE_CONFIG_INVALID', 'live.max_open_orders', `${limits.max_open_orders} is not a count`);
    this.liveOrderNotional = orderNotional;
    this.liveDailyNotional = dailyNotional;
    this.liveOpenOrders = limits.max_open_orders === 0 ? Infinity : limits.max_open_orders;
    this.openOrders = openOrders;
  }

  /** Notional of the orders passed since the current UTC day began (engine clock), micro-pUSD. */
  get dailyNotionalMicros(): number {
    return this.dayNotional;
  }

  /** The limits check() applies, in engine units (micro-shares, micro-pUSD), as /control/reload/risk leaves them. */
  limitsInForce(): { maxPosition: number; maxMarketPosition: number; maxOrderNotional: number; maxGrossExposure: number; dailyLossLimit: number; minSize: number; ordersPerSecond: number; staleBookMs: number } {
    return {
      maxPosition: this.maxPosition,
      maxMarketPosition: this.maxMarketPosition,
      maxOrderNotional: this.maxOrderNotional,
      maxGrossExposure: this.maxGrossExposure,
      dailyLossLimit: this.dailyLossLimit,
      minSize: this.minSize,
      ordersPerSecond: this.bucket.ratePerSecond,
      staleBookMs: this.p.stale_book_ms,
    };
  }

  /** The book top the latest check() read (the order token's; valid on a pass, until the next check): the engine journals it with the order. */
  get lastTop(): Readonly<TopOfBook> {
    return this.top;
  }

  /** The daily loss limit in micro-pUSD, for EngineStateMachine.checkDailyLoss. */
  get dailyLossLimitMicros(): number {
    return this.dailyLossLimit;
  }

  /**
   * First gate `order` fails, or RiskReason.Pass; a pass consumes one rate-limit token. `placedSize`: the
   * order is the unfilled rest of one the venue accepted at that size (a restart putting it back), so the
   * minimum-size rule applies to that size, as the venue applied it; every other gate sees the rest.
   */
  check(order: DesiredOrder, view: RiskView, placedSize = order.size): RiskReason {
    const token = order.token;
    const reducing = order.side === Side.Sell && order.size <= view.position(token);
    switch (view.engineState) {
      case EngineState.Halted:
        return RiskReason.Halted;
      case EngineState.Paused:
        return RiskReason.Paused;
      case EngineState.ReduceOnly:
        if (!reducing) return RiskReason.ReduceOnly;
        break;
    }
    if (view.dailyPnl() <= -this.dailyLossLimit) return RiskReason.DailyLoss;

    const info = view.tokens[token];
    const market = info === undefined ? undefined : view.markets[info.market];
    if (info === undefined || market === undefined || info.index !== token) return RiskReason.UnknownToken;
    const top = view.books.top(token, this.top);
    const priceReason = checkPrice(order.price, market, top);
    if (priceReason !== RiskReason.Pass) return priceReason;
    let sizeReason = checkSize(order.size, 0);
    if (sizeReason === RiskReason.Pass && Math.max(placedSize, order.size) < Math.max(market.minSize, this.minSize)) sizeReason = RiskReason.SizeMin;
    if (sizeReason !== RiskReason.Pass) return sizeReason;
    const notional = notionalMicros(order.price, order.size);
    if (notional > this.maxOrderNotional) return RiskReason.OrderNotional;

    if ((top.flags & (BookFlag.Stale | BookFlag.Resyncing)) !== 0 || view.nowMs - top.exchTsMs > this.p.stale_book_ms) return RiskReason.BookStale;
    if ((top.flags & BookFlag.Crossed) !== 0) return RiskReason.BookCrossed;

    if (order.side === Side.Sell) {
      if (!reducing) return RiskReason.SellExceedsPosition;
    } else {
      if (view.position(token) + order.size > this.maxPosition) return RiskReason.TokenPosition;
      if (view.marketPosition(info.market) + order.size > this.maxMarketPosition) return RiskReason.MarketPosition;
      if (view.grossExposure() + notional > this.maxGrossExposure) return RiskReason.GrossExposure;
    }
    if (notional > this.liveOrderNotional) return RiskReason.LiveOrderNotional;
    if (this.openOrders() >= this.liveOpenOrders) return RiskReason.LiveOpenOrders;
    const day = Math.floor(view.nowMs / DAY_MS);
    // A clock stepping back a day (a replay restarting) starts the count afresh, as a new day does.
    if (day !== this.day) {
      this.day = day;
      this.dayNotional = 0;
    }
    if (this.dayNotional + notional > this.liveDailyNotional) return RiskReason.LiveDailyNotional;
    if (!this.bucket.take(view.nowMs)) return RiskReason.RateLimit;
    this.dayNotional += notional;
    return RiskReason.Pass;
  }
}

export interface FlattenResult {
  /** FAK sells at the best bid, one per token with a sellable position. */
  orders: DesiredOrder[];
  /** Positions that cannot be sold now, and why (no bid, dust below the minimum, bad price). */
  blocked: { token: number; reason: RiskReason }[];
}

/**
 * Orders that close every position in `positions` (micro-shares by token
 * index): FAK sells of the lot-floored position at the best bid. Bypasses
 * the engine state and limits (it is the way out of HALTED), not price and
 * size sanity. Rare path: allocates its result.
 */
export function flattenOrders(view: RiskView, positions: ArrayLike<number>): FlattenResult {
  const result: FlattenResult = { orders: [], blocked: [] };
  const top = new TopOfBook();
  for (let token = 0; token < positions.length; token++) {
    const held = positions[token]!;
    if (!(held > 0)) continue;
    const info = view.tokens[token];
    const market = info === undefined ? undefined : view.markets[info.market];
    if (info === undefined || market === undefined) {
      result.blocked.push({ token, reason: RiskReason.UnknownToken });
      continue;
    }
    view.books.top(token, top);
    const size = Math.floor(held / SIZE_LOT) * SIZE_LOT;
    let reason: RiskReason = top.bidTick === NO_TICK ? RiskReason.NoBid : checkPrice(top.bidTick, market, top);
    if (reason === RiskReason.Pass) reason = checkSize(size, market.minSize);
    if (reason !== RiskReason.Pass) {
      result.blocked.push({ token, reason });
      continue;
    }
    result.orders.push({ token, side: Side.Sell, price: top.bidTick, size, type: 'FAK', postOnly: false, expiresMs: NaN, reason: 'flatten' });
  }
  return result;
}

/**
 * The venue accepts tick ≤ price ≤ 1 − tick on the tick grid (protocols
 * §7.5, §11.8). The market table and the book each learn of a tick change on
 * their own; a price must suit both.
 */
function checkPrice(price: number, market: MarketInfo, top: TopOfBook): RiskReason {
  const tick = Math.max(market.tickSize, top.tickSize);
  if (!Number.isInteger(price) || price < tick || price > PRICE_SCALE - tick) return RiskReason.PriceRange;
  if (price % market.tickSize !== 0 || (top.tickSize > 0 && price % top.tickSize !== 0)) return RiskReason.PriceTick;
  return RiskReason.Pass;
}

function checkSize(size: number, minSize: number): RiskReason {
  if (!Number.isInteger(size) || size <= 0 || size % SIZE_LOT !== 0) return RiskReason.SizeLot;
  if (size < minSize) return RiskReason.SizeMin;
  return RiskReason.Pass;
}
