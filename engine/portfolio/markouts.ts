// Markouts: what each fill was worth a while later. For every fill, the mid
// prevailing at fill time + 10 s, 30 s, 2 min and 10 min, and the markout
//   buy:  (mid − price) × size     sell: (price − mid) × size
// in micro-pUSD, positive when the fill made money at that horizon (fees
// left out: this measures the price, not the cost of trading).
//
// Driven by the engine's clock, no timers: onMid() reports a new mid and
// advance() says time has passed. The mid prevailing at an instant is the
// last one reported at or before it, so a horizon is settled either by a
// mid reported after it (the previous mid held at the horizon) or by
// advance() past it (every mid up to now has been reported). Mids of one
// token must come in time order.
//
// Toxicity of a market, in [0, 1]: how reliably the flow that fills our
// resting orders is informed. It is the size-weighted share of adverse
// 30 s markouts (markout < 0; exactly 0 counts half) of maker fills, with a
// Beta prior of `priorShares` shares split evenly, and evidence that decays
// with a half-life in time:
//   toxicity = (prior/2 + Σ w·adverse) / (prior + Σ w),  w = shares × 0.5^(age / halfLife)
// No fills → 0.5; a handful of small fills stays near 0.5; a steady stream
// of fills that lose money 30 s later → 1. Only maker fills count by
// default: taker fills are our own choice, not flow that picked us off.
// 30 s because it is long enough for the information behind a fill to show
// in the price and short enough for the mid not to have wandered on noise.
//
// Market slots (trading/types) are reused once a market has settled. After
// a market's end the engine reports its tokens' settlement value as the mid
// (PRICE_SCALE for the winner, 0 for the loser), so horizons past the end
// resolve at what the fill was finally worth. retireMarket(), when the slot
// is about to take another market, resolves whatever is still pending at
// that value and drops the tokens' state; the market's stats leave the slot
// index, so the next market there starts at the prior. A retired market
// stays in the report as its own entry (retired: true, under its own slug and
// conditionId), so resolved markouts are never lost from the totals.
import { boolean, number, object, type Infer } from '../config/schema.js';
import { PRICE_SCALE, Side, UNIT, type Fill, type MarketInfo, type TokenInfo } from '../trading/types.js';

export const MARKOUT_HORIZONS_MS: readonly number[] = [10_000, 30_000, 120_000, 600_000];
/** Index in MARKOUT_HORIZONS_MS of the horizon toxicity is scored on. */
const TOXICITY_HORIZON = 1;

export const markoutParamsSchema = object({
  priorShares: number({ min: 0, default: 100, description: 'weight of the 0.5 prior, in shares of fills' }),
  halfLifeMs: number({ gt: 0, default: 30 * 60_000, description: 'half-life of the evidence behind a toxicity score' }),
  makerOnly: boolean({ default: true, description: 'score toxicity on maker fills only' }),
});
export type MarkoutParams = Infer<typeof markoutParamsSchema>;

export interface HorizonReport {
  horizonMs: number;
  /** Fills whose markout at this horizon is known. */
  resolved: number;
  /** Resolved without a mid (the book had none then); not in the sums. */
  unmarked: number;
  /** Fills still waiting for this horizon. */
  pending: number;
  /** Size of the resolved, marked fills, micro-shares. */
  sizeMicro: number;
  markoutMicros: number;
  /** Mean markout per share, micro-pUSD; null before any. */
  perShareMicros: number | null;
  /** Size-weighted share of adverse markouts; null before any. */
  adverseShare: number | null;
}

export interface MarketMarkouts {
  /** Market slot index; a reused slot lists each market that held it. */
  market: number;
  slug: string;
  conditionId: string;
  /** The market has left its slot: every markout resolved, nothing more will count. */
  retired: boolean;
  /** When it was retired; null while current. */
  retiredMs: number | null;
  fills: number;
  sizeMicro: number;
  /** For a retired market, its evidence as it stood at retirement, under the current prior. */
  toxicity: number;
  /** Decayed shares of evidence behind the toxicity score (the prior excluded). */
  evidenceShares: number;
  horizons: HorizonReport[];
}

/** Body of /report/toxicity/live and /report/toxicity/final. */
export interface ToxicityReport {
  atMs: number;
  horizonsMs: number[];
  priorShares: number;
  halfLifeMs: number;
  markets: MarketMarkouts[];
  /** Retired markets no longer listed: the report keeps the latest RETIRED_IN_REPORT (a rolling series retires ~300 a day). */
  retiredNotListed: number;
}

/** Retired markets the report lists: eight hours of 5-minute windows. */
export const RETIRED_IN_REPORT = 96;

/** Called as each markout settles: NaN markout when there was no mid. */
export type MarkoutListener = (fill: Fill, horizonMs: number, markoutMicros: number) => void;

class HorizonStats {
  resolved = 0;
  unmarked = 0;
  sizeMicro = 0;
  markoutMicros = 0;
  adverseMicro = 0;
}

class MarketStats {
  fills = 0;
  sizeMicro = 0;
  readonly horizons = MARKOUT_HORIZONS_MS.map(() => new HorizonStats());
  adverse = 0;
  weight = 0;
  lastMs = -Infinity;
  /** NaN while the market holds its slot. */
  retiredMs = NaN;
  constructor(
    readonly market: number,
    readonly slug: string,
    readonly conditionId: string,
  ) {}
}

class Tracked {
  constructor(
    readonly fill: Fill,
    readonly stats: MarketStats,
  ) {}
}

/** Fills of one token waiting for one horizon, in due order. */
class HorizonQueue {
  items: Tracked[] = [];
  head = 0;
  constructor(readonly horizonMs: number) {}

  nextDue(): number {
    const t = this.items[this.head];
    return t === undefined ? Infinity : t.fill.tsMs + this.horizonMs;
  }

  push(t: Tracked): void {
    // Fills arrive in time order but for report-delay jitter: insert from the back.
    const items = this.items;
    let i = items.length;
    while (i > this.head && items[i - 1]!.fill.tsMs > t.fill.tsMs) i--;
    items.splice(i, 0, t);
  }

  shift(): Tracked | undefined {
    const t = this.items[this.head];
    if (t === undefined) return undefined;
    this.head++;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return t;
  }

  get pending(): number {
    return this.items.length - this.head;
  }
}

class TokenState {
  mid = NaN;
  readonly queues = MARKOUT_HORIZONS_MS.map((h) => new HorizonQueue(h));
}

export class MarkoutTracker {
  /** Fills or mids refused for an unknown token or malformed fields. */
  dropped = 0;
  private readonly tokens: readonly TokenInfo[];
  private readonly markets: readonly MarketInfo[];
  private params: MarkoutParams;
  private readonly listener: MarkoutListener | undefined;
  private readonly byToken = new Map<number, TokenState>();
  /** Stats of the market now in each slot. */
  private readonly byMarket = new Map<number, MarketStats>();
  /** Markets that left their slot, in retirement order. */
  private readonly retired: MarketStats[] = [];
  private retiredNotListed = 0;
  private nextDueMs = Infinity;

  constructor(opts: { tokens: readonly TokenInfo[]; markets: readonly MarketInfo[]; params: MarkoutParams; onMarkout?: MarkoutListener }) {
    this.tokens = opts.tokens;
    this.markets = opts.markets;
    this.params = opts.params;
    this.listener = opts.onMarkout;
  }

  /** Starts tracking a fill (apply it to the portfolio first: this does not dedupe). */
  onFill(fill: Fill): void {
    const token = Number.isInteger(fill.token) ? this.tokens[fill.token] : undefined;
    if (token === undefined || !Number.isFinite(fill.price) || !(fill.size > 0) || !Number.isFinite(fill.tsMs)) {
      this.dropped++;
      return;
    }
    let stats = this.byMarket.get(token.market);
    if (stats === undefined) {
      const m = this.markets[token.market];
      stats = new MarketStats(token.market, m?.slug ?? '', m?.conditionId ?? '');
      this.byMarket.set(token.market, stats);
    }
    stats.fills++;
    stats.sizeMicro += fill.size;
    const tracked = new Tracked(fill, stats);
    const state = this.tokenState(fill.token);
    for (const q of state.queues) {
      q.push(tracked);
      if (q.nextDue() < this.nextDueMs) this.nextDueMs = q.nextDue();
    }
  }

  /** New mid of a token (ticks; NaN when the book has none) from nowMs on. */
  onMid(token: number, midTicks: number, nowMs: number): void {
    if (this.tokens[token] === undefined || !(Number.isNaN(midTicks) || (midTicks >= 0 && midTicks <= PRICE_SCALE))) {
      this.dropped++;
      return;
    }
    const state = this.tokenState(token);
    // The old mid held at every horizon strictly before this change.
    this.settle(state, nowMs, false);
    state.mid = midTicks;
  }

  /** Time has reached nowMs: settle every horizon at or before it with the mid now in force. */
  advance(nowMs: number): void {
    if (nowMs < this.nextDueMs) return;
    let next = Infinity;
    for (const state of this.byToken.values()) {
      this.settle(state, nowMs, true);
      for (const q of state.queues) next = Math.min(next, q.nextDue());
    }
    this.nextDueMs = next;
  }

  /**
   * The market in slot `market` leaves it: every pending markout of its two
   * tokens resolves at `finalMids` (ticks, the settlement value: PRICE_SCALE
   * for the winner, 0 for the loser), the tokens' state is dropped and the
   * slot's stats start afresh. Call it before the slot's next market reports
   * a fill or a mid. NaN (no final value known) resolves the token's
   * markouts unmarked; so does a value outside [0, PRICE_SCALE], which is
   * also counted in `dropped`.
   */
  retireMarket(market: number, finalMids: readonly [number, number], nowMs: number): void {
    const m = this.markets[market];
    if (m === undefined) {
      this.dropped++;
      return;
    }
    for (let i = 0; i < 2; i++) {
      const token = m.tokens[i]!;
      let mid = finalMids[i]!;
      if (!Number.isNaN(mid) && !(mid >= 0 && mid <= PRICE_SCALE)) {
        this.dropped++;
        mid = NaN;
      }
      const state = this.byToken.get(token);
      if (state === undefined) continue;
      for (let h = 0; h < state.queues.length; h++) {
        const q = state.queues[h]!;
        for (let t = q.shift(); t !== undefined; t = q.shift()) this.resolve(t, h, t.fill.tsMs + q.horizonMs, mid);
      }
      this.byToken.delete(token);
    }
    const stats = this.byMarket.get(market);
    if (stats !== undefined) {
      stats.retiredMs = nowMs;
      this.retired.push(stats);
      if (this.retired.length > RETIRED_IN_REPORT) {
        this.retired.shift();
        this.retiredNotListed++;
      }
      this.byMarket.delete(market);
    }
  }

  /** Toxicity of the market now in slot `market`. */
  toxicity(market: number): number {
    return this.scoreOf(this.byMarket.get(market));
  }

  /** New scoring parameters; recorded markouts are kept and rescored under them. */
  setParams(params: MarkoutParams): void {
    this.params = params;
  }

  get currentParams(): Readonly<MarkoutParams> {
    return this.params;
  }

  /** Current and retired markets by slot index; a slot's retired markets come before its current one, oldest first. */
  report(nowMs: number): ToxicityReport {
    const markets = [...this.retired, ...this.byMarket.values()].sort((a, b) => a.market - b.market);
    return {
      atMs: nowMs,
      horizonsMs: [...MARKOUT_HORIZONS_MS],
      priorShares: this.params.priorShares,
      halfLifeMs: this.params.halfLifeMs,
      retiredNotListed: this.retiredNotListed,
      markets: markets.map((s) => ({
        market: s.market,
        slug: s.slug,
        conditionId: s.conditionId,
        retired: !Number.isNaN(s.retiredMs),
        retiredMs: Number.isNaN(s.retiredMs) ? null : s.retiredMs,
        fills: s.fills,
        sizeMicro: s.sizeMicro,
        toxicity: this.scoreOf(s),
        evidenceShares: s.weight,
        horizons: s.horizons.map((h, i) => ({
          horizonMs: MARKOUT_HORIZONS_MS[i]!,
          resolved: h.resolved,
          unmarked: h.unmarked,
          pending: s.fills - h.resolved,
          sizeMicro: h.sizeMicro,
          markoutMicros: h.markoutMicros,
          perShareMicros: h.sizeMicro > 0 ? Math.round((h.markoutMicros * UNIT) / h.sizeMicro) : null,
          adverseShare: h.sizeMicro > 0 ? h.adverseMicro / h.sizeMicro : null,
        })),
      })),
    };
  }

  private scoreOf(s: MarketStats | undefined): number {
    const prior = this.params.priorShares;
    const adverse = s?.adverse ?? 0;
    const weight = s?.weight ?? 0;
    return prior + weight > 0 ? (prior / 2 + adverse) / (prior + weight) : 0.5;
  }

  private tokenState(token: number): TokenState {
    let s = this.byToken.get(token);
    if (s === undefined) this.byToken.set(token, (s = new TokenState()));
    return s;
  }

  /** Settles the token's horizons due before nowMs (or at it, when inclusive) at the current mid. */
  private settle(state: TokenState, nowMs: number, inclusive: boolean): void {
    for (let h = 0; h < state.queues.length; h++) {
      const q = state.queues[h]!;
      for (let due = q.nextDue(); inclusive ? due <= nowMs : due < nowMs; due = q.nextDue()) {
        this.resolve(q.shift()!, h, due, state.mid);
      }
    }
  }

  private resolve(t: Tracked, h: number, dueMs: number, mid: number): void {
    const f = t.fill;
    const stats = t.stats.horizons[h]!;
    stats.resolved++;
    if (Number.isNaN(mid)) {
      stats.unmarked++;
      this.listener?.(f, MARKOUT_HORIZONS_MS[h]!, NaN);
      return;
    }
    // Not −1 × (mid − price): a flat sell would come out as −0.
    const edge = f.side === Side.Buy ? mid - f.price : f.price - mid;
    const markout = Math.round((edge * f.size) / PRICE_SCALE);
    const adverse = markout < 0 ? 1 : markout === 0 ? 0.5 : 0;
    stats.sizeMicro += f.size;
    stats.markoutMicros += markout;
    stats.adverseMicro += adverse * f.size;
    if (h === TOXICITY_HORIZON && (f.liquidity === 'maker' || !this.params.makerOnly)) this.score(t.stats, dueMs, f.size / UNIT, adverse);
    this.listener?.(f, MARKOUT_HORIZONS_MS[h]!, markout);
  }

  private score(s: MarketStats, atMs: number, shares: number, adverse: number): void {
    if (atMs > s.lastMs) {
      if (s.lastMs > -Infinity) {
        const decay = 0.5 ** ((atMs - s.lastMs) / this.params.halfLifeMs);
        s.adverse *= decay;
        s.weight *= decay;
      }
      s.lastMs = atMs;
    }
    s.adverse += shares * adverse;
    s.weight += shares;
  }
}
