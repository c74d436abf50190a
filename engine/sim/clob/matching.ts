// Matching for the simulated CLOB. Every market is matched in the YES
// token's view: a NO order at price p is the YES order on the other side at
// 1 − p, so BUY NO meets BUY YES as the venue's mint match does. Liquidity is
// the simulator's generated book (the one the market channel publishes) and
// the resting orders of every key, in price-time priority; at one price the
// generated level, being older, fills first. Fills against the generated
// book are kept in an overlay (the published book is not changed), reset
// whenever the model changes that level. Quantities are base units (10⁻⁶
// share) in multiples of 10⁴ (the venue's 2-decimal sizes), prices are
// thousandths, so every fill's collateral is an exact integer.
import { createHash } from 'node:crypto';
import type { WireSide } from '../../trading/types.js';
import type { PmMarketState } from '../scenario.js';
import type { ClobOrderType } from './order.js';

export const ONE = 1000;
/** Base units of one hundredth of a share: the smallest size step. */
export const LOT = 10_000;
/** The generated book's sizes are in hundredths of a share. */
const MODEL_LOT = LOT;
export const SIM_BOOK_OWNER = 'sim-book';
export const SIM_FLOW_OWNER = 'sim-flow';
const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000';

export type OrderStatus = 'LIVE' | 'MATCHED' | 'CANCELED';

export interface SimOrder {
  readonly id: string;
  readonly owner: string;
  readonly makerAddress: string;
  readonly market: number;
  readonly tokenId: string;
  readonly yes: boolean;
  /** Token side and price (thousandths). */
  readonly side: WireSide;
  readonly price: number;
  readonly yesSide: WireSide;
  readonly yesPrice: number;
  /** Shares in base units. */
  readonly originalSize: number;
  matched: number;
  status: OrderStatus;
  readonly orderType: ClobOrderType;
  readonly expiration: number;
  readonly createdAt: number;
  readonly seq: number;
  readonly trades: string[];
}

export interface MakerFill {
  readonly order_id: string;
  readonly owner: string;
  readonly maker_address: string;
  readonly matched_amount: string;
  readonly price: string;
  readonly fee_rate_bps: string;
  readonly asset_id: string;
  readonly outcome: string;
  readonly side: WireSide;
}

/** A trade as `/data/trades` lists it (protocols.md §3.1, §6.2), before the viewer's `trader_side`. */
export interface SimTrade {
  readonly id: string;
  readonly taker_order_id: string;
  readonly market: string;
  readonly asset_id: string;
  readonly side: WireSide;
  readonly size: string;
  readonly fee_rate_bps: string;
  readonly price: string;
  readonly status: string;
  readonly match_time: string;
  readonly last_update: string;
  readonly outcome: string;
  readonly bucket_index: number;
  readonly owner: string;
  readonly maker_address: string;
  readonly maker_orders: readonly MakerFill[];
  readonly transaction_hash: string;
}

export interface MarketView {
  readonly state: PmMarketState;
  readonly index: number;
}

export interface TakerRequest {
  readonly id: string;
  readonly owner: string;
  readonly makerAddress: string;
  readonly market: MarketView;
  readonly tokenId: string;
  readonly yes: boolean;
  readonly side: WireSide;
  readonly price: number;
  /** Shares to trade (base units), or for a market BUY the collateral budget. */
  readonly shares: number;
  readonly budget: number | undefined;
  readonly orderType: ClobOrderType;
  readonly postOnly: boolean;
  readonly expiration: number;
}

export type TakerOutcome =
  | { readonly ok: false; readonly error: 'postOnlyCrosses' | 'fokNotFilled' | 'fakNoMatch' }
  | {
      readonly ok: true;
      readonly status: 'live' | 'matched';
      /** Collateral (BUY) or shares (SELL) given, base units. */
      readonly making: number;
      readonly taking: number;
      readonly tradeIds: readonly string[];
      readonly order: SimOrder;
    };

interface Fill {
  readonly yesPrice: number;
  readonly qty: number;
  /** undefined: the generated book's level. */
  readonly maker: SimOrder | undefined;
}

const flip = (s: WireSide): WireSide => (s === 'BUY' ? 'SELL' : 'BUY');
const tokenPrice = (yes: boolean, yesPrice: number): number => (yes ? yesPrice : ONE - yesPrice);
/** Collateral of `qty` base-unit shares at `price` thousandths: exact for qty in LOTs. */
const usdOf = (qty: number, price: number): number => (qty / 1000) * price;

export function fmtUnits(units: number): string {
  const whole = Math.floor(units / 1e6);
  const frac = String(units % 1e6).padStart(6, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : String(whole);
}

export const fmtPrice = (thousandths: number): string => fmtUnits(thousandths * 1000);

export class MatchingEngine {
  readonly orders = new Map<string, SimOrder>();
  readonly trades: SimTrade[] = [];
  private readonly used = new Map<string, { modelSize: number; used: number }>();
  private seq = 0;
  private tradeSeq = 0;

  constructor(
    private readonly seed: number,
    private readonly nowSeconds: () => number,
    /** Called for every fill: owner, token, side of that owner, shares and collateral in base units. */
    private readonly onFill: (owner: string, tokenId: string, side: WireSide, qty: number, usd: number) => void,
  ) {}

  private modelAvailable(m: PmMarketState, book: 'bids' | 'asks', price: number): number {
    const size = m[book].get(price);
    if (size === undefined) return 0;
    const k = `${m.conditionId}|${book}|${price}`;
    const u = this.used.get(k);
    if (!u || u.modelSize !== size) return size * MODEL_LOT;
    return Math.max(0, size * MODEL_LOT - u.used);
  }

  private useModel(m: PmMarketState, book: 'bids' | 'asks', price: number, qty: number): void {
    const size = m[book].get(price) ?? 0;
    const k = `${m.conditionId}|${book}|${price}`;
    const u = this.used.get(k);
    if (!u || u.modelSize !== size) this.used.set(k, { modelSize: size, used: qty });
    else u.used += qty;
  }

  /** Resting orders on the YES-view side `yesSide` of market `index`, best first, then oldest. */
  private resting(index: number, yesSide: WireSide): SimOrder[] {
    const out: SimOrder[] = [];
    for (const o of this.orders.values()) if (o.status === 'LIVE' && o.market === index && o.yesSide === yesSide) out.push(o);
    return out.sort((a, b) => (yesSide === 'BUY' ? b.yesPrice - a.yesPrice : a.yesPrice - b.yesPrice) || a.seq - b.seq);
  }

  /** Plans the fills of a taker on YES-view side `yesSide` up to `limit`; nothing is changed. */
  private plan(market: MarketView, yesSide: WireSide, limit: number, yes: boolean, shares: number, budget: number | undefined): Fill[] {
    const m = market.state;
    const book = yesSide === 'BUY' ? 'asks' : 'bids';
    const better = (p: number): boolean => (yesSide === 'BUY' ? p <= limit : p >= limit);
    const makers = this.resting(market.index, flip(yesSide)).filter((o) => better(o.yesPrice));
    const prices = new Set<number>([...m[book].keys()].filter(better));
    for (const o of makers) prices.add(o.yesPrice);
    const ordered = [...prices].sort((a, b) => (yesSide === 'BUY' ? a - b : b - a));
    const fills: Fill[] = [];
    let left = shares;
    let money = budget;
    const take = (yesPrice: number, avail: number, maker: SimOrder | undefined): void => {
      let qty = Math.min(avail, left);
      if (money !== undefined) {
        const perLot = usdOf(LOT, tokenPrice(yes, yesPrice));
        qty = Math.min(avail, Math.floor(money / perLot) * LOT);
      }
      qty -= qty % LOT;
      if (qty <= 0) return;
      fills.push({ yesPrice, qty, maker });
      left -= qty;
      if (money !== undefined) money -= usdOf(qty, tokenPrice(yes, yesPrice));
    };
    for (const p of ordered) {
      if (this.done(left, money, yes, p)) break;
      take(p, this.modelAvailable(m, book, p), undefined);
      for (const o of makers) {
        if (o.yesPrice !== p || this.done(left, money, yes, p)) continue;
        take(p, o.originalSize - o.matched, o);
      }
    }
    return fills;
  }

  private done(left: number, money: number | undefined, yes: boolean, yesPrice: number): boolean {
    return money !== undefined ? money < usdOf(LOT, tokenPrice(yes, yesPrice)) : left < LOT;
  }

  /** True when a taker would trade at once: what a post-only order must not do. */
  private crosses(market: MarketView, yesSide: WireSide, limit: number): boolean {
    return this.plan(market, yesSide, limit, true, LOT, undefined).length > 0;
  }

  place(req: TakerRequest): TakerOutcome {
    this.expire();
    const yesSide = req.yes ? req.side : flip(req.side);
    const yesLimit = req.yes ? req.price : ONE - req.price;
    const market = req.market;
    if (req.postOnly && this.crosses(market, yesSide, yesLimit)) return { ok: false, error: 'postOnlyCrosses' };
    const fills = this.plan(market, yesSide, yesLimit, req.yes, req.shares, req.budget);
    const filled = fills.reduce((n, f) => n + f.qty, 0);
    if (req.orderType === 'FOK') {
      const last = fills[fills.length - 1];
      const spent = fills.reduce((n, f) => n + usdOf(f.qty, tokenPrice(req.yes, f.yesPrice)), 0);
      const complete =
        req.budget !== undefined ? last !== undefined && req.budget - spent < usdOf(LOT, tokenPrice(req.yes, last.yesPrice)) : req.shares - filled < LOT;
      if (!complete) return { ok: false, error: 'fokNotFilled' };
    }
    if (req.orderType === 'FAK' && filled === 0) return { ok: false, error: 'fakNoMatch' };
    const resting = req.orderType === 'GTC' || req.orderType === 'GTD';
    const order: SimOrder = {
      id: req.id,
      owner: req.owner,
      makerAddress: req.makerAddress,
      market: market.index,
      tokenId: req.tokenId,
      yes: req.yes,
      side: req.side,
      price: req.price,
      yesSide,
      yesPrice: yesLimit,
      originalSize: req.budget !== undefined ? filled : req.shares - (req.shares % LOT),
      matched: 0,
      status: 'LIVE',
      orderType: req.orderType,
      expiration: req.expiration,
      createdAt: this.nowSeconds(),
      seq: ++this.seq,
      trades: [],
    };
    this.orders.set(order.id, order);
    let making = 0;
    let taking = 0;
    const tradeIds: string[] = [];
    if (fills.length > 0) {
      const trade = this.execute(market, order, fills);
      tradeIds.push(trade.id);
      for (const f of fills) {
        const usd = usdOf(f.qty, tokenPrice(req.yes, f.yesPrice));
        making += req.side === 'BUY' ? usd : f.qty;
        taking += req.side === 'BUY' ? f.qty : usd;
      }
    }
    if (order.originalSize - order.matched < LOT) order.status = 'MATCHED';
    else if (!resting) order.status = 'CANCELED';
    return { ok: true, status: order.status === 'LIVE' && order.matched === 0 ? 'live' : 'matched', making, taking, tradeIds, order };
  }

  /** Applies fills of taker `order`; one trade object per taker match, as the venue reports it. */
  private execute(market: MarketView, taker: SimOrder | undefined, fills: readonly Fill[], flow?: { side: WireSide; price: number }): SimTrade {
    const m = market.state;
    const makers: MakerFill[] = [];
    let total = 0;
    const id = this.nextId('trade');
    for (const f of fills) {
      total += f.qty;
      if (f.maker) {
        const mk = f.maker;
        mk.matched += f.qty;
        if (mk.originalSize - mk.matched < LOT) mk.status = 'MATCHED';
        mk.trades.push(id);
        this.onFill(mk.owner, mk.tokenId, mk.side, f.qty, usdOf(f.qty, tokenPrice(mk.yes, f.yesPrice)));
        makers.push(this.makerFill(m, mk.id, mk.owner, mk.makerAddress, mk.yes, mk.side, f.qty, f.yesPrice));
      } else if (taker) {
        const book = taker.yesSide === 'BUY' ? 'asks' : 'bids';
        this.useModel(m, book, f.yesPrice, f.qty);
        const levelId = `0x${createHash('sha256').update(`${m.conditionId}|${book}|${f.yesPrice}`).digest('hex')}`;
        makers.push(this.makerFill(m, levelId, SIM_BOOK_OWNER, ZERO_ADDRESS, true, taker.yesSide === 'BUY' ? 'SELL' : 'BUY', f.qty, f.yesPrice));
      }
      if (taker) this.onFill(taker.owner, taker.tokenId, taker.side, f.qty, usdOf(f.qty, tokenPrice(taker.yes, f.yesPrice)));
    }
    if (taker) {
      taker.matched += total;
      taker.trades.push(id);
    }
    const now = String(this.nowSeconds());
    const yes = taker ? taker.yes : true;
    const trade: SimTrade = {
      id,
      taker_order_id: taker ? taker.id : this.nextId('flow'),
      market: m.conditionId,
      asset_id: taker ? taker.tokenId : m.yesTokenId,
      side: taker ? taker.side : flow!.side,
      size: fmtUnits(total),
      fee_rate_bps: '0',
      price: fmtPrice(taker ? taker.price : flow!.price),
      status: 'CONFIRMED',
      match_time: now,
      last_update: now,
      outcome: yes ? 'Yes' : 'No',
      bucket_index: 0,
      owner: taker ? taker.owner : SIM_FLOW_OWNER,
      maker_address: taker ? taker.makerAddress : ZERO_ADDRESS,
      maker_orders: makers,
      transaction_hash: `0x${createHash('sha256').update(`${this.seed}|tx|${id}`).digest('hex')}`,
    };
    this.trades.push(trade);
    return trade;
  }

  private makerFill(m: PmMarketState, orderId: string, owner: string, address: string, yes: boolean, side: WireSide, qty: number, yesPrice: number): MakerFill {
    return {
      order_id: orderId,
      owner,
      maker_address: address,
      matched_amount: fmtUnits(qty),
      price: fmtPrice(tokenPrice(yes, yesPrice)),
      fee_rate_bps: '0',
      asset_id: yes ? m.yesTokenId : m.noTokenId,
      outcome: yes ? 'Yes' : 'No',
      side,
    };
  }

  /**
   * A trade of the generated flow (YES taker side and price, size in
   * hundredths) also reaches resting orders priced at or better than it,
   * best first, up to its size: how a quote of ours gets filled later.
   */
  onFlowTrade(market: MarketView, side: WireSide, price: number, sizeHundredths: number): SimTrade | undefined {
    this.expire();
    const makers = this.resting(market.index, flip(side)).filter((o) => (side === 'BUY' ? o.yesPrice <= price : o.yesPrice >= price));
    let left = sizeHundredths * MODEL_LOT;
    const fills: Fill[] = [];
    for (const o of makers) {
      const qty = Math.min(left, o.originalSize - o.matched);
      if (qty < LOT) continue;
      fills.push({ yesPrice: o.yesPrice, qty, maker: o });
      left -= qty;
      if (left < LOT) break;
    }
    return fills.length > 0 ? this.execute(market, undefined, fills, { side, price }) : undefined;
  }

  cancel(order: SimOrder): boolean {
    if (order.status !== 'LIVE') return false;
    order.status = 'CANCELED';
    return true;
  }

  /**
   * GTD orders stop at `expiration` minus the venue's one-minute security
   * threshold (protocols.md §6.3).
   */
  expire(): void {
    const now = this.nowSeconds();
    for (const o of this.orders.values()) {
      if (o.status === 'LIVE' && o.orderType === 'GTD' && o.expiration - 60 <= now) o.status = 'CANCELED';
    }
  }

  private nextId(kind: string): string {
    const h = createHash('sha256').update(`${this.seed}|${kind}|${++this.tradeSeq}`).digest('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}
