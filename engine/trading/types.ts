// The trading domain shared by strategies, risk, executors, positions and the
// journal. Units are fixed here and nowhere else:
//
//   price   integer ticks on Polymarket's finest grid, 1e-4: 0.55 → 5 500,
//           the same grid as the shared books (workers/venues/polymarket/book).
//   size    integer micro-shares (10^-6 share, the CTF token's base unit).
//           Orders carry sizes that are multiples of SIZE_LOT (0.01 share),
//           as the venue truncates sizes to 2 decimals (protocols §7.5).
//   money   integer micro-pUSD (10^-6, the collateral's base unit).
//
// With sizes on SIZE_LOT, price × size / PRICE_SCALE is an exact integer
// number of micro-pUSD, so notionals and cash flows never round. Fees are the
// one place a fraction appears; feeMicros() states how it rounds.

/** Grid ticks per 1.0 of price. */
export const PRICE_SCALE = 10_000;
/** Base units per share / per pUSD. */
export const UNIT = 1_000_000;
/** Smallest order size step: 0.01 share in micro-shares. */
export const SIZE_LOT = 10_000;

/** A tick size in grid ticks the venue can use: a whole number of ticks dividing 1.0 (1000, 100, 10, 1, ...). */
export function isGridTickSize(ticks: number): boolean {
  return Number.isInteger(ticks) && ticks >= 1 && PRICE_SCALE % ticks === 0;
}

/** The side of an order or fill; the values are also the side field of a signed CTF order (0 BUY, 1 SELL). */
export const Side = { Buy: 0, Sell: 1 } as const;
export type Side = (typeof Side)[keyof typeof Side];

/** A side as Polymarket spells it on the wire: order bodies, the market channel, REST books. */
export type WireSide = 'BUY' | 'SELL';

/** Wire spelling of a side. */
export function wireSide(side: Side): WireSide {
  return side === Side.Buy ? 'BUY' : 'SELL';
}

/** Side of a wire spelling. */
export function sideOfWire(side: WireSide): Side {
  return side === 'BUY' ? Side.Buy : Side.Sell;
}

export type OrderType = 'GTC' | 'GTD' | 'FOK' | 'FAK';

/** Notional of `size` micro-shares at `price` ticks, in micro-pUSD (exact for lot sizes). */
export function notionalMicros(price: number, size: number): number {
  return Math.round((price * size) / PRICE_SCALE);
}

/** One outcome token the engine knows, by dense index. */
export interface TokenInfo {
  /** Dense index: book index in the shared Polymarket book set. */
  index: number;
  /** Venue token id (decimal string of a uint256). */
  tokenId: string;
  /** Dense index of its market. */
  market: number;
  /** Outcome label as Gamma lists it: "Yes"/"No", "Up"/"Down". */
  outcome: string;
  /** The other token of the same binary market. */
  complement: number;
}

/** What a binary market is and how it trades, whichever slot it sits in: shared by MarketInfo and MarketDescriptor. */
export interface MarketTerms {
  conditionId: string;
  slug: string;
  /** Current tick size in grid ticks (100 = 0.01). Changes on tick_size_change. */
  tickSize: number;
  /** Minimum order size in micro-shares. */
  minSize: number;
  /** V2 fee parameters (protocols §7.8): fee = shares × rate × (p(1−p))^exponent, takers only. */
  feeRate: number;
  feeExponent: number;
  negRisk: boolean;
  /** Window of a crypto Up/Down market (Unix ms); NaN for other markets. */
  startMs: number;
  endMs: number;
  /** Underlying of an Up/Down market ("btc", "eth", ...); "" otherwise. */
  underlying: string;
}

/** One binary market: two complementary tokens. */
export interface MarketInfo extends MarketTerms {
  index: number;
  /** [first outcome (Yes/Up), second outcome (No/Down)] token indices. */
  tokens: readonly [number, number];
}

/** What a strategy wants resting (or sent) on one token right now. */
export interface DesiredOrder {
  token: number;
  side: Side;
  /** Ticks on the 1e-4 grid; must be on the market's tick (risk checks). */
  price: number;
  /** Micro-shares, a multiple of SIZE_LOT. */
  size: number;
  type: OrderType;
  postOnly: boolean;
  /** GTD expiry, Unix ms; NaN otherwise. */
  expiresMs: number;
  /** Short machine-readable reason ("quote_bid", "arb_leg", "edge"), journaled with the order. */
  reason: string;
}

export type OrderStatus = 'pending' | 'open' | 'filled' | 'cancelled' | 'rejected' | 'expired';

/** An order the executor knows about. */
export interface Order {
  id: string;
  strategy: string;
  token: number;
  side: Side;
  price: number;
  /** Original size, micro-shares. */
  size: number;
  /** Filled so far, micro-shares. */
  filled: number;
  type: OrderType;
  postOnly: boolean;
  expiresMs: number;
  reason: string;
  status: OrderStatus;
  /** Engine time the strategy asked for it, and the time the venue (or paper model) acknowledged it; NaN until then. */
  createdMs: number;
  ackMs: number;
}

export type Liquidity = 'maker' | 'taker';

export interface Fill {
  orderId: string;
  strategy: string;
  token: number;
  side: Side;
  price: number;
  /** Micro-shares. */
  size: number;
  /** Micro-pUSD charged (takers only under V2). */
  fee: number;
  liquidity: Liquidity;
  tsMs: number;
  /** Fill id, unique per session: replaying a journal must not count a fill twice. */
  fillId: string;
}

/**
 * V2 taker fee in micro-pUSD: shares × rate × (p·(1−p))^exponent, rounded up
 * to the next micro (a fee estimate must never be optimistic).
 */
export function feeMicros(price: number, size: number, rate: number, exponent: number): number {
  if (rate <= 0 || size <= 0) return 0;
  const p = price / PRICE_SCALE;
  const shares = size / UNIT;
  const fee = shares * rate * (p * (1 - p)) ** exponent;
  return Math.ceil(fee * UNIT - 1e-9);
}

/**
 * Why an order was refused, by the venue or the paper model. Codes are
 * stable: the journal and reports match on them.
 *
 *   invalid_order    price off the tick grid or outside [tick, 1 − tick], size
 *                    not a lot multiple or below the market minimum, post-only
 *                    on FOK/FAK, GTD without an expiry, or an order that is not
 *                    fresh (status other than pending, or already filled)
 *   unknown_token    token index the executor has no market for
 *   duplicate_id     an order with this id is still known to the executor
 *   expired          GTD whose expiry is at or before its arrival
 *   post_only_cross  post-only order that would have taken liquidity
 *   fok_unfilled     FOK that could not fill completely on arrival
 */
export type RejectReason = 'invalid_order' | 'unknown_token' | 'duplicate_id' | 'expired' | 'post_only_cross' | 'fok_unfilled';

/**
 * What an executor (paper or live) tells the engine, in the order the venue
 * reported it. Before each call the executor has updated the order's status,
 * filled and ackMs fields to what the report says.
 */
export interface ExecutionListener {
  /** The venue accepted the order (it may fill at once: fills follow). */
  onAck(order: Order): void;
  onReject(order: Order, reason: RejectReason): void;
  onFill(fill: Fill): void;
  /** Removed by our cancel, or the unfilled rest of a FAK. */
  onCancel(order: Order): void;
  /** A GTD reached its expiry. */
  onExpire(order: Order): void;
}

// ---- market slots --------------------------------------------------------
//
// Up/Down markets roll every 5 or 15 minutes (protocols §11.11), so the
// engine's universe is a fixed number of market slots that markets occupy in
// turn: market slot m owns token slots 2m and 2m + 1, which are also book
// indices in the shared Polymarket book set. A slot is reused only once its
// market has settled and holds no order, so at any point in the journal an
// index names exactly one market: the last `market` record for that slot.

/** What the journal stores about the market occupying a slot: enough to rebuild its MarketInfo and TokenInfo. */
export interface MarketDescriptor extends MarketTerms {
  /** [first outcome (Up/Yes), second outcome (Down/No)] venue token ids. */
  tokenIds: [string, string];
  outcomes: [string, string];
}

/** A market's resolution applied to positions: the winning token pays 1 pUSD per share, the other 0 (protocols §8 redeem). */
export interface Settlement {
  /** Unique per settlement (the conditionId in paper): replay must not apply one twice. */
  settleId: string;
  conditionId: string;
  market: number;
  tokens: [number, number];
  /** Index into `tokens` of the winning outcome. */
  winner: 0 | 1;
  /** Reference prices the outcome was decided on (Up iff close ≥ open, §11.12). */
  open: number;
  close: number;
  /** False when the engine did not see a price at or before the window's start or end and used the nearest one after it. */
  exact: boolean;
  /**
   * What every strategy held of `tokens` as it settled, micro-shares: what a
   * later correction to the venue's verdict moves. Absent from journals
   * written before it was kept.
   */
  holdings?: Holding[];
  /** Present once the venue resolved the market the other way: the engine's own winner; `winner` is then the venue's. */
  engineWinner?: 0 | 1;
}

/** One strategy's positions in a market's two tokens, micro-shares. */
export interface Holding {
  strategy: string;
  positions: [number, number];
}

/**
 * The venue resolved a settled market the other way: each strategy's money
 * moves by (shares of `winner` − shares of `engineWinner`) × 1 pUSD.
 */
export interface Resolution {
  /** Unique per correction (the conditionId): replay must not apply one twice. */
  resolutionId: string;
  conditionId: string;
  market: number;
  tokens: [number, number];
  /** Index into `tokens` of the venue's winner. */
  winner: 0 | 1;
  /** Index into `tokens` of the winner the engine settled on. */
  engineWinner: 0 | 1;
  /** The settlement's holdings, copied so the record is whole even once the slot's market is retired. */
  holdings: Holding[];
}

/** MarketInfo and TokenInfo of `d` in market slot `slot`. */
export function marketInSlot(slot: number, d: MarketDescriptor): { info: MarketInfo; tokens: [TokenInfo, TokenInfo] } {
  const a = 2 * slot;
  const b = a + 1;
  return {
    info: {
      index: slot,
      conditionId: d.conditionId,
      slug: d.slug,
      tokens: [a, b],
      tickSize: d.tickSize,
      minSize: d.minSize,
      feeRate: d.feeRate,
      feeExponent: d.feeExponent,
      negRisk: d.negRisk,
      startMs: d.startMs,
      endMs: d.endMs,
      underlying: d.underlying,
    },
    tokens: [
      { index: a, tokenId: d.tokenIds[0], market: slot, outcome: d.outcomes[0], complement: b },
      { index: b, tokenId: d.tokenIds[1], market: slot, outcome: d.outcomes[1], complement: a },
    ],
  };
}

/** A slot no market occupies: empty ids, no window; nothing trades on it. */
export function vacantSlot(slot: number): { info: MarketInfo; tokens: [TokenInfo, TokenInfo] } {
  return marketInSlot(slot, {
    conditionId: '',
    slug: '',
    tokenIds: ['', ''],
    outcomes: ['', ''],
    tickSize: 100,
    minSize: 5 * UNIT,
    feeRate: 0,
    feeExponent: 1,
    negRisk: false,
    startMs: NaN,
    endMs: NaN,
    underlying: '',
  });
}

export function isVacant(m: MarketInfo): boolean {
  return m.conditionId === '';
}
