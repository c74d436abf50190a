// Seeded scenario generators: Polymarket complementary books, a Binance
// USD-M book with diff-depth sequencing, RTDS reference prices and DVOL.
// Every generator is a pure function of its seed and the number of steps
// taken; wall-clock time only stamps the messages.
import { Prng } from '../../workers/prng.js';
import type { Timeline } from './pacer.js';
import type { BinanceEvent, DepthSnapshot, DepthUpdate, BookTicker, TradeEvent, ForceOrder } from './binance-types.js';
import type { RtdsMessage } from './rtds-types.js';

// ───────────────────────────── Polymarket ─────────────────────────────
// Prices are integers in units of 0.001 ("milli"); sizes are integers in
// units of 0.01 shares. The YES book is the state; the NO book is its mirror
// (YES bid at p ⇔ NO ask at 1−p), so the pair can never disagree.

import type { WireSide } from '../trading/types.js';

export interface PmMarketSpec {
  readonly conditionId?: string;
  readonly yesTokenId?: string;
  readonly noTokenId?: string;
  /** Initial YES mid price in (0, 1). */
  readonly startPrice?: number;
  /** YES mid price per step; the book follows it (holding the last value) instead of a random walk. */
  readonly path?: readonly number[];
}

export interface PmScenarioOptions {
  readonly seed: number;
  readonly markets: number | readonly PmMarketSpec[];
  /** Levels per side (≥ 2). */
  readonly levels?: number;
  /** Probability per market per step of a trade. */
  readonly tradeProbability?: number;
}

export interface PmLevelChange {
  /** YES-token perspective. */
  readonly side: WireSide;
  readonly price: number;
  /** New aggregate size; 0 removes the level. */
  readonly size: number;
  /** YES best bid/ask after this change (0 / 1000 when a side is empty). */
  readonly bestBid: number;
  readonly bestAsk: number;
}

export type PmEvent =
  | { readonly type: 'tick'; readonly market: number; readonly oldTick: number; readonly newTick: number }
  | { readonly type: 'levels'; readonly market: number; readonly changes: readonly PmLevelChange[] }
  /** Taker side and price on the YES token; the book already reflects it. */
  | { readonly type: 'trade'; readonly market: number; readonly side: WireSide; readonly price: number; readonly size: number };

export interface PmMarketState {
  readonly conditionId: string;
  readonly yesTokenId: string;
  readonly noTokenId: string;
  tick: number;
  readonly bids: Map<number, number>;
  readonly asks: Map<number, number>;
  lastTradePrice: number;
  lastTradeSide: WireSide;
}

interface MarketWalk {
  readonly state: PmMarketState;
  bestBid: number;
  spreadTicks: number;
  /** Whether the mid is outside [0.04, 0.96]; the tick changes when this flips. */
  outer: boolean;
  readonly path: readonly number[] | undefined;
  pathIndex: number;
}

const PM_ONE = 1000;
const TICK_COARSE = 10;
const TICK_FINE = 1;
const OUTER_LOW = 40;
const OUTER_HIGH = 960;

export function bestOf(m: PmMarketState): { bestBid: number; bestAsk: number } {
  let bestBid = 0;
  let bestAsk = PM_ONE;
  for (const p of m.bids.keys()) if (p > bestBid) bestBid = p;
  for (const p of m.asks.keys()) if (p < bestAsk) bestAsk = p;
  return { bestBid, bestAsk };
}

export class PolymarketBookModel {
  private readonly rng: Prng;
  private readonly walks: MarketWalk[] = [];
  private readonly levels: number;
  private readonly tradeProbability: number;

  constructor(opts: PmScenarioOptions) {
    this.rng = Prng.derive(opts.seed, 'polymarket');
    this.levels = opts.levels ?? 5;
    if (!Number.isInteger(this.levels) || this.levels < 2 || this.levels > 50) {
      throw new RangeError(`polymarket levels must be an integer in [2, 50], got ${this.levels}`);
    }
    this.tradeProbability = opts.tradeProbability ?? 0.25;
    const specs: readonly PmMarketSpec[] =
      typeof opts.markets === 'number' ? Array.from({ length: opts.markets }, () => ({})) : opts.markets;
    if (specs.length === 0) throw new RangeError('polymarket needs at least one market');
    specs.forEach((spec, i) => this.walks.push(this.initMarket(spec, i)));
  }

  get markets(): readonly PmMarketState[] {
    return this.walks.map((w) => w.state);
  }

  /** Advance every market by one step. */
  step(): PmEvent[] {
    const out: PmEvent[] = [];
    this.walks.forEach((w, i) => this.stepMarket(w, i, out));
    return out;
  }

  /** Fault helper: flip the market's tick size and re-quote on the new grid. */
  forceTickChange(market: number): PmEvent[] {
    const w = this.walks[market];
    if (!w) throw new RangeError(`no market ${market}`);
    const out: PmEvent[] = [];
    const newTick = w.state.tick === TICK_COARSE ? TICK_FINE : TICK_COARSE;
    out.push({ type: 'tick', market, oldTick: w.state.tick, newTick });
    w.state.tick = newTick;
    this.requote(w, market, w.bestBid, out);
    return out;
  }

  private initMarket(spec: PmMarketSpec, index: number): MarketWalk {
    const conditionId = spec.conditionId ?? `0x${this.rng.hex(64)}`;
    const yesTokenId = spec.yesTokenId ?? this.rng.decimalDigits(77);
    const noTokenId = spec.noTokenId ?? this.rng.decimalDigits(77);
    if (yesTokenId === noTokenId) throw new RangeError(`market ${index}: YES and NO token ids must differ`);
    const start = spec.startPrice ?? spec.path?.[0] ?? 0.3 + 0.4 * this.rng.next();
    if (!(start > 0 && start < 1)) throw new RangeError(`market ${index}: start price must be in (0, 1), got ${start}`);
    const mid = Math.round(start * PM_ONE);
    const outer = mid > OUTER_HIGH || mid < OUTER_LOW;
    const tick = outer ? TICK_FINE : TICK_COARSE;
    const state: PmMarketState = {
      conditionId,
      yesTokenId,
      noTokenId,
      tick,
      bids: new Map(),
      asks: new Map(),
      lastTradePrice: Math.round(mid / tick) * tick,
      lastTradeSide: 'BUY',
    };
    const walk: MarketWalk = { state, bestBid: 0, spreadTicks: 1, outer, path: spec.path, pathIndex: 1 };
    const [bids, asks] = this.ladder(walk, Math.floor(mid / tick) * tick);
    for (const p of bids) state.bids.set(p, this.randomSize());
    for (const p of asks) state.asks.set(p, this.randomSize());
    walk.bestBid = Math.max(...bids);
    return walk;
  }

  private randomSize(): number {
    // Log-uniform between 5 and 5000 shares, in hundredths.
    return Math.round(Math.exp(Math.log(500) + this.rng.next() * Math.log(1000)));
  }

  /** Bid and ask prices for a quote whose best bid is (about) `bestBid`, clamped to [tick, 1−tick]. */
  private ladder(w: MarketWalk, bestBid: number): [number[], number[]] {
    const t = w.state.tick;
    const spread = w.spreadTicks * t;
    let bb = Math.floor(bestBid / t) * t;
    bb = Math.min(Math.max(bb, t), PM_ONE - t - spread);
    const bids: number[] = [];
    const asks: number[] = [];
    for (let i = 0; i < this.levels; i++) {
      const b = bb - i * t;
      if (b >= t) bids.push(b);
      const a = bb + spread + i * t;
      if (a <= PM_ONE - t) asks.push(a);
    }
    return [bids, asks];
  }

  private stepMarket(w: MarketWalk, index: number, out: PmEvent[]): void {
    const s = w.state;
    const t = s.tick;
    if (this.rng.chance(0.1)) w.spreadTicks = this.rng.range(1, 3);
    let target: number;
    if (w.path && w.path.length > 0) {
      const p = w.path[Math.min(w.pathIndex, w.path.length - 1)] as number;
      w.pathIndex++;
      const targetMid = Math.round(Math.min(Math.max(p, 0.001), 0.999) * PM_ONE);
      const wanted = targetMid - Math.round((w.spreadTicks * t) / 2);
      const maxMove = (this.levels - 1) * t;
      target = w.bestBid + Math.max(-maxMove, Math.min(maxMove, wanted - w.bestBid));
    } else {
      target = w.bestBid + this.rng.pick([-1, 0, 0, 1]) * t;
    }
    const mid = target + (w.spreadTicks * t) / 2;
    const outer = mid > OUTER_HIGH || mid < OUTER_LOW;
    if (outer !== w.outer) {
      w.outer = outer;
      const newTick = outer ? TICK_FINE : TICK_COARSE;
      if (newTick !== s.tick) {
        out.push({ type: 'tick', market: index, oldTick: s.tick, newTick });
        s.tick = newTick;
      }
    }
    this.requote(w, index, target, out);
    if (this.rng.chance(this.tradeProbability)) this.trade(w, index, out);
  }

  /**
   * Move the book to a fresh ladder around `bestBid` and emit the level
   * changes in an order that never crosses the book and never empties a
   * side: non-crossing additions first, then removal of levels the new quote
   * crosses, then the rest of the additions, then the stale far levels.
   */
  private requote(w: MarketWalk, index: number, bestBid: number, out: PmEvent[]): void {
    const s = w.state;
    const [bidPrices, asksPrices] = this.ladder(w, bestBid);
    const target = new Map<string, number>();
    for (const p of bidPrices) target.set(`B${p}`, s.bids.get(p) ?? this.randomSize());
    for (const p of asksPrices) target.set(`S${p}`, s.asks.get(p) ?? this.randomSize());
    // Some resting levels change size (orders placed or cancelled).
    for (const [key, size] of target) {
      if (this.rng.chance(0.15)) target.set(key, Math.max(1, Math.round(size * (0.5 + this.rng.next()))));
    }
    const newBid = Math.max(...bidPrices);
    const newAsk = Math.min(...asksPrices);
    const changes: PmLevelChange[] = [];
    const apply = (side: WireSide, price: number, size: number): void => {
      const book = side === 'BUY' ? s.bids : s.asks;
      if (size === 0) book.delete(price);
      else book.set(price, size);
      const b = bestOf(s);
      changes.push({ side, price, size, bestBid: b.bestBid, bestAsk: b.bestAsk });
    };
    const deferred: Array<[WireSide, number, number]> = [];
    for (const [key, size] of target) {
      const side: WireSide = key[0] === 'B' ? 'BUY' : 'SELL';
      const price = Number(key.slice(1));
      const book = side === 'BUY' ? s.bids : s.asks;
      if (book.get(price) === size) continue;
      const cur = bestOf(s);
      const crosses = side === 'BUY' ? price >= cur.bestAsk : price <= cur.bestBid;
      if (crosses) deferred.push([side, price, size]);
      else apply(side, price, size);
    }
    for (const p of [...s.bids.keys()]) if (p >= newAsk && !target.has(`B${p}`)) apply('BUY', p, 0);
    for (const p of [...s.asks.keys()]) if (p <= newBid && !target.has(`S${p}`)) apply('SELL', p, 0);
    for (const [side, price, size] of deferred) apply(side, price, size);
    for (const p of [...s.bids.keys()]) if (!target.has(`B${p}`)) apply('BUY', p, 0);
    for (const p of [...s.asks.keys()]) if (!target.has(`S${p}`)) apply('SELL', p, 0);
    w.bestBid = newBid;
    if (changes.length > 0) out.push({ type: 'levels', market: index, changes });
  }

  private trade(w: MarketWalk, index: number, out: PmEvent[]): void {
    const s = w.state;
    const side: WireSide = this.rng.chance(0.5) ? 'BUY' : 'SELL';
    const book = side === 'BUY' ? s.asks : s.bids;
    const { bestBid, bestAsk } = bestOf(s);
    const price = side === 'BUY' ? bestAsk : bestBid;
    const resting = book.get(price);
    if (resting === undefined) return;
    // Never empty a side: a trade against the last level only partially fills it.
    const maxFill = book.size > 1 ? resting : resting - 1;
    if (maxFill < 1) return;
    const size = this.rng.range(1, maxFill);
    if (size === resting) book.delete(price);
    else book.set(price, resting - size);
    s.lastTradePrice = price;
    s.lastTradeSide = side;
    out.push({ type: 'trade', market: index, side, price, size });
  }
}

// ───────────────────────────── Binance USD-M ─────────────────────────────

export interface BinanceScenarioOptions {
  readonly seed: number;
  readonly symbol?: string;
  readonly startPrice?: number;
  /** Levels per side in the generated book. */
  readonly levels?: number;
  /** Mean interval between book updates. */
  readonly stepMs?: number;
}

const BN_TICKS_PER_UNIT = 10; // tick 0.1
const fmtPrice = (ticks: number): string => (ticks / BN_TICKS_PER_UNIT).toFixed(2);
const fmtQty = (thousandths: number): string => (thousandths / 1000).toFixed(3);

/** A random-walk BTCUSDT book emitted as `depth@0ms` diffs + bookTicker + trades. */
export class BinanceBookWalk implements Timeline<BinanceEvent> {
  private readonly rng: Prng;
  private readonly bids = new Map<number, number>();
  private readonly asks = new Map<number, number>();
  private bestBid: number;
  private lastU: number;
  private tradeId: number;
  private readonly queue: Array<(now: number) => BinanceEvent> = [];
  private readonly symbol: string;
  private readonly stepMs: number;
  private readonly levels: number;
  private lastE = 0;

  constructor(opts: BinanceScenarioOptions) {
    this.rng = Prng.derive(opts.seed, 'binance');
    this.symbol = (opts.symbol ?? 'BTCUSDT').toUpperCase();
    this.stepMs = opts.stepMs ?? 50;
    this.levels = opts.levels ?? 200;
    this.bestBid = Math.round((opts.startPrice ?? 60_000) * BN_TICKS_PER_UNIT);
    for (let i = 0; i < this.levels; i++) {
      this.bids.set(this.bestBid - i, this.randomQty());
      this.asks.set(this.bestBid + 1 + i, this.randomQty());
    }
    this.lastU = 5_000_000_000_000 + this.rng.range(0, 1_000_000);
    this.tradeId = 5_000_000_000 + this.rng.range(0, 1_000_000);
  }

  /** The book before the first diff, as `GET /fapi/v1/depth` would return it. */
  snapshot(nowMs: number): DepthSnapshot {
    return {
      lastUpdateId: this.lastU,
      E: nowMs,
      T: nowMs,
      bids: [...this.bids.entries()].sort((a, b) => b[0] - a[0]).map(([p, q]) => [fmtPrice(p), fmtQty(q)]),
      asks: [...this.asks.entries()].sort((a, b) => a[0] - b[0]).map(([p, q]) => [fmtPrice(p), fmtQty(q)]),
    };
  }

  peekGapMs(): number {
    return this.queue.length > 0 ? 0 : this.stepMs;
  }

  take(nowMs: number): BinanceEvent {
    if (this.queue.length === 0) this.step();
    const make = this.queue.shift();
    if (!make) throw new Error('binance walk produced no event');
    // Exchange time never runs backwards even if the wall clock does.
    this.lastE = Math.max(this.lastE, nowMs);
    return make(this.lastE);
  }

  private randomQty(): number {
    return Math.max(1, Math.round(Math.exp(this.rng.next() * Math.log(5000))));
  }

  private step(): void {
    const b = new Map<number, number>();
    const a = new Map<number, number>();
    if (this.rng.chance(0.3)) {
      const up = this.rng.chance(0.5);
      const farBid = this.bestBid - this.levels + 1;
      const farAsk = this.bestBid + this.levels;
      if (up) {
        this.asks.delete(this.bestBid + 1);
        a.set(this.bestBid + 1, 0);
        this.bestBid++;
        const q = this.randomQty();
        this.bids.set(this.bestBid, q);
        b.set(this.bestBid, q);
        const fq = this.randomQty();
        this.asks.set(farAsk + 1, fq);
        a.set(farAsk + 1, fq);
        this.bids.delete(farBid);
        b.set(farBid, 0);
      } else {
        this.bids.delete(this.bestBid);
        b.set(this.bestBid, 0);
        this.bestBid--;
        const q = this.randomQty();
        this.asks.set(this.bestBid + 1, q);
        a.set(this.bestBid + 1, q);
        const fq = this.randomQty();
        this.bids.set(farBid - 1, fq);
        b.set(farBid - 1, fq);
        this.asks.delete(farAsk);
        a.set(farAsk, 0);
      }
    }
    const touches = this.rng.range(1, 6);
    for (let i = 0; i < touches; i++) {
      const depth = this.rng.range(0, Math.min(19, this.levels - 1));
      const q = this.randomQty();
      if (this.rng.chance(0.5)) {
        this.bids.set(this.bestBid - depth, q);
        b.set(this.bestBid - depth, q);
      } else {
        this.asks.set(this.bestBid + 1 + depth, q);
        a.set(this.bestBid + 1 + depth, q);
      }
    }
    const pu = this.lastU;
    const U = pu + 1 + this.rng.range(0, 3);
    const u = U + b.size + a.size + this.rng.range(0, 20);
    this.lastU = u;
    const bids = [...b.entries()].map(([p, q]): [string, string] => [fmtPrice(p), fmtQty(q)]);
    const asks = [...a.entries()].map(([p, q]): [string, string] => [fmtPrice(p), fmtQty(q)]);
    const symbol = this.symbol;
    this.queue.push((E) => {
      const data: DepthUpdate = { e: 'depthUpdate', E, T: E - 1, s: symbol, U, u, pu, b: bids, a: asks };
      return { kind: 'depth', data };
    });
    const bb = this.bestBid;
    const bq = this.bids.get(bb) ?? 0;
    const aq = this.asks.get(bb + 1) ?? 0;
    this.queue.push((E) => {
      const data: BookTicker = { e: 'bookTicker', u, s: symbol, b: fmtPrice(bb), B: fmtQty(bq), a: fmtPrice(bb + 1), A: fmtQty(aq), T: E - 1, E };
      return { kind: 'bookTicker', data };
    });
    if (this.rng.chance(0.5)) {
      const n = this.rng.range(1, 3);
      const buyerIsMaker = this.rng.chance(0.5);
      const price = fmtPrice(buyerIsMaker ? bb : bb + 1);
      for (let i = 0; i < n; i++) {
        const t = ++this.tradeId;
        const q = fmtQty(this.rng.range(1, 500));
        this.queue.push((E) => {
          const data: TradeEvent = { e: 'trade', E, T: E - 1, s: symbol, t, p: price, q, X: 'MARKET', m: buyerIsMaker };
          return { kind: 'trade', data };
        });
      }
    }
  }
}

/**
 * Liquidation snapshots: Binance pushes at most one `forceOrder` per symbol
 * per second, so one draw per second of event time decides whether there is one.
 */
export class LiquidationGenerator {
  private readonly rng: Prng;
  private lastSecond = -1;

  constructor(
    seed: number,
    private readonly symbol: string,
    private readonly probabilityPerSecond = 0.2,
  ) {
    this.rng = Prng.derive(seed, 'forceOrder');
  }

  maybe(eventTimeMs: number, refPrice: number): ForceOrder | undefined {
    const second = Math.floor(eventTimeMs / 1000);
    if (second <= this.lastSecond || !(refPrice > 0)) return undefined;
    this.lastSecond = second;
    if (!this.rng.chance(this.probabilityPerSecond)) return undefined;
    const longLiquidated = this.rng.chance(0.5);
    // A long is sold below the market; a short is bought above it.
    const slip = (longLiquidated ? -1 : 1) * (0.0005 + this.rng.next() * 0.002);
    const price = refPrice * (1 + slip);
    const qty = fmtQty(this.rng.range(1, 2000));
    return {
      e: 'forceOrder',
      E: eventTimeMs,
      o: {
        s: this.symbol,
        S: longLiquidated ? 'SELL' : 'BUY',
        o: 'LIMIT',
        f: 'IOC',
        q: qty,
        p: price.toFixed(2),
        ap: (price * (1 + slip / 10)).toFixed(2),
        X: 'FILLED',
        l: qty,
        z: qty,
        T: eventTimeMs,
      },
    };
  }
}

// ───────────────────────────── RTDS ─────────────────────────────

const RTDS_SYMBOLS: ReadonlyArray<{ binance: string; chainlink: string; start: number }> = [
  { binance: 'btcusdt', chainlink: 'btc/usd', start: 110_000 },
  { binance: 'ethusdt', chainlink: 'eth/usd', start: 3_900 },
  { binance: 'solusdt', chainlink: 'sol/usd', start: 195 },
  { binance: 'xrpusdt', chainlink: 'xrp/usd', start: 2.6 },
];

function chainlinkFullAccuracy(value: number): string {
  // 18-decimal fixed point, as in the recording (e.g. "110941221874000000000000").
  return (BigInt(Math.round(value * 1e6)) * 10n ** 12n).toString();
}

/** Both RTDS crypto topics, one update per symbol per topic per second. */
export class RtdsPriceWalk implements Timeline<RtdsMessage> {
  private readonly rng: Prng;
  private readonly prices: number[];
  private readonly queue: Array<(now: number) => RtdsMessage> = [];

  constructor(seed: number, private readonly intervalMs = 1000) {
    this.rng = Prng.derive(seed, 'rtds');
    this.prices = RTDS_SYMBOLS.map((s) => s.start);
  }

  peekGapMs(): number {
    // Eight messages per interval, evenly spread.
    return this.intervalMs / (RTDS_SYMBOLS.length * 2);
  }

  take(nowMs: number): RtdsMessage {
    if (this.queue.length === 0) this.step();
    const make = this.queue.shift();
    if (!make) throw new Error('rtds walk produced no message');
    return make(nowMs);
  }

  private step(): void {
    RTDS_SYMBOLS.forEach((sym, i) => {
      const prev = this.prices[i] as number;
      const next = prev * (1 + 0.0002 * this.rng.normal());
      this.prices[i] = next;
      const decimals = next < 10 ? 4 : 2;
      const binanceValue = Number(next.toFixed(decimals));
      // Chainlink tracks the exchange price with a small basis.
      const chainlinkValue = Number((next * (1 + 0.0001 * this.rng.normal())).toFixed(6));
      this.queue.push((now) => ({
        topic: 'crypto_prices',
        type: 'update',
        timestamp: now,
        payload: {
          symbol: sym.binance,
          timestamp: Math.floor(now / 1000) * 1000,
          value: binanceValue,
          full_accuracy_value: binanceValue.toFixed(8),
        },
      }));
      this.queue.push((now) => ({
        topic: 'crypto_prices_chainlink',
        type: 'update',
        timestamp: now,
        payload: {
          symbol: sym.chainlink,
          timestamp: Math.floor(now / 1000) * 1000,
          value: chainlinkValue,
          full_accuracy_value: chainlinkFullAccuracy(chainlinkValue),
        },
      }));
    });
  }
}

// ───────────────────────────── Deribit DVOL ─────────────────────────────

/** The value in Deribit's documented DVOL notification (the only recorded sample). */
export const DVOL_RECORDED_SAMPLE = 129.36;

export interface DvolTick {
  readonly indexName: string;
  readonly volatility: number;
  readonly timestamp: number;
}

/** Mean-reverting DVOL per index, published once per interval. */
export class DvolWalk implements Timeline<DvolTick> {
  private readonly rng: Prng;
  private readonly values: number[];
  private readonly bases: number[];
  private cursor = 0;

  constructor(
    seed: number,
    private readonly indexes: readonly string[] = ['btc_usd', 'eth_usd'],
    base = DVOL_RECORDED_SAMPLE,
    private readonly intervalMs = 1000,
  ) {
    this.rng = Prng.derive(seed, 'dvol');
    // ETH implied vol usually sits above BTC's.
    this.bases = indexes.map((name) => (name.startsWith('eth') ? base * 1.15 : base));
    this.values = [...this.bases];
  }

  peekGapMs(): number {
    return this.cursor === 0 ? this.intervalMs : 0;
  }

  take(nowMs: number): DvolTick {
    const i = this.cursor;
    const base = this.bases[i] as number;
    const prev = this.values[i] as number;
    const next = Math.max(1, prev + 0.05 * (base - prev) + 0.15 * this.rng.normal());
    this.values[i] = next;
    this.cursor = (i + 1) % this.indexes.length;
    return { indexName: this.indexes[i] as string, volatility: Math.round(next * 100) / 100, timestamp: nowMs };
  }
}
