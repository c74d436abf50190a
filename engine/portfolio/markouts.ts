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
// Market slots (trading/types) are reused once a market has settled. When
// the engine settles a market, settleMarket() makes its tokens' settlement
// value (PRICE_SCALE for the winner, 0 for the loser) their mid from the
// window's end on, so horizons past the end resolve at what the fill was
// finally worth. retireMarket(), when the slot is about to take another
// market, resolves whatever is still pending at that value and drops the
// tokens' state; the market's stats leave the slot index, so the next market
// there starts at the prior. A retired market stays in the report as its own
// entry (retired: true, under its own slug and conditionId), so resolved
// markouts are never lost from the totals.
//
// The engine's settlement is its own reading of the window; the venue may
// resolve it the other way later (markets/audit). correctSettlement() then
// re-resolves every markout that was resolved on a settlement value at the
// venue's value, in the market's sums and in its toxicity, whether the market
// still holds its slot or has retired; pending ones resolve at the venue's
// value when due. That is why settlement values must come through
// settleMarket() and retireMarket(), not onMid(): the tracker keeps exactly
// the markouts a correction may revise, and only while it may come.
import { boolean, number, object, type Infer } from '../config/schema.js';
import { PRICE_SCALE, Side, UNIT, type Fill, type MarketInfo, type TokenInfo } from '../trading/types.js';
import type { Tunable } from '../tunables/tunable.js';

export const MARKOUT_HORIZONS_MS: readonly number[] = [10_000, 30_000, 120_000, 600_000];
/** Index in MARKOUT_HORIZONS_MS of the horizon toxicity is scored on. */
const TOXICITY_HORIZON = 1;

export const markoutParamsSchema = object({
  priorShares: number({ min: 0, max: 1_000_000, default: 100, description: 'weight of the 0.5 prior, in shares of fills; at most 1,000,000 (beyond any day\'s fills)' }),
  halfLifeMs: number({ integer: true, min: 1_000, max: 604_800_000, default: 30 * 60_000, description: 'half-life of the evidence behind a toxicity score, ms; 1 s to 7 days' }),
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

/**
 * Called as each markout settles (NaN markout when there was no mid) with
 * `replaces` undefined, and again for each markout a settlement correction
 * changes, with `replaces` the value it supersedes (NaN when that one was
 * unmarked). A consumer that sums markouts takes `replaces` back and adds the
 * new value, and ends where it would have been fed the venue's winner from
 * the start. One that cannot take a value back should skip corrections: a
 * histogram cannot un-record, so its distribution keeps the engine's verdict
 * for those few markouts, and report() is the corrected figure. (Nothing in
 * the engine listens today: it builds the tracker without onMarkout and
 * /metrics publishes no markout.)
 */
export type MarkoutListener = (fill: Fill, horizonMs: number, markoutMicros: number, replaces: number | undefined) => void;

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
  /** Undefined until a markout resolves on a settlement value, and again once no correction can come. */
  settlement: SettlementLog | undefined = undefined;
  constructor(
    readonly market: number,
    readonly slug: string,
    readonly conditionId: string,
    /** End of the market's window (NaN when it has none): a correction may come until correctionWindowMs after it. */
    readonly endMs: number,
  ) {}
}

class Tracked {
  constructor(
    readonly fill: Fill,
    readonly stats: MarketStats,
    /** Index of the fill's token in its market's tokens: which side of a settlement it is on. */
    readonly outcome: 0 | 1,
  ) {}
}

/** A markout resolved on a settlement value, at `mid`. */
class SettledMarkout {
  constructor(
    readonly t: Tracked,
    readonly h: number,
    readonly dueMs: number,
    public mid: number,
  ) {}
}

/**
 * What a correction of one market's settlement needs: its markouts resolved
 * on settlement values, in resolution order, and its toxicity evidence as it
 * stood before the first of them. Once a market's tokens carry settlement
 * values every markout of the market resolves on one, so replaying these from
 * that evidence is the whole tail of the score: a correction recomputes it
 * rather than subtracting decayed floats, and lands on the very score a
 * tracker told the venue's winner from the start holds.
 */
class SettlementLog {
  readonly markouts: SettledMarkout[] = [];
  constructor(
    readonly adverse: number,
    readonly weight: number,
    readonly lastMs: number,
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
  /** The mid is the token's settlement value (settleMarket), not a book mid. */
  settled = false;
  readonly queues = MARKOUT_HORIZONS_MS.map((h) => new HorizonQueue(h));
}

/** Markout of a fill at `mid` ticks, micro-pUSD. */
function markoutOf(f: Fill, mid: number): number {
  // Not −1 × (mid − price): a flat sell would come out as −0.
  const edge = f.side === Side.Buy ? mid - f.price : f.price - mid;
  return Math.round((edge * f.size) / PRICE_SCALE);
}

/** What outcome `outcome`'s token is worth, in ticks, once `winner` has won. */
function settlementValue(outcome: number, winner: 0 | 1): number {
  return outcome === winner ? PRICE_SCALE : 0;
}

function adverseOf(markout: number): number {
  return markout < 0 ? 1 : markout === 0 ? 0.5 : 0;
}

/** Adds (sign 1) or takes back (sign −1) a markout at `mid` in one horizon's sums; returns it, NaN when unmarked. */
function account(hs: HorizonStats, f: Fill, mid: number, sign: 1 | -1): number {
  if (Number.isNaN(mid)) {
    hs.unmarked += sign;
    return NaN;
  }
  const markout = markoutOf(f, mid);
  hs.sizeMicro += sign * f.size;
  hs.markoutMicros += sign * markout;
  hs.adverseMicro += sign * adverseOf(markout) * f.size;
  return markout;
}

/** The toxicity score's parameters as a tunable set: [toxicity] in the file, /control/reload/toxicity at run time. */
export const toxicityTunable: Tunable<MarkoutParams, { readonly markouts: MarkoutTracker }> = {
  name: 'toxicity',
  schema: markoutParamsSchema,
  config: 'toxicity',
  description: 'markout toxicity score: prior weight, decay half-life, which fills count',
  requote: true,
  bind: (host) => ({ get: () => host.markouts.currentParams, set: (p) => host.markouts.setParams(p) }),
};

export class MarkoutTracker {
  /** Fills or mids refused for an unknown token or malformed fields, and book mids of a token already settled. */
  dropped = 0;
  private readonly tokens: readonly TokenInfo[];
  private readonly markets: readonly MarketInfo[];
  private params: MarkoutParams;
  private readonly listener: MarkoutListener | undefined;
  private readonly correctionWindowMs: number;
  private readonly byToken = new Map<number, TokenState>();
  /** Stats of the market now in each slot. */
  private readonly byMarket = new Map<number, MarketStats>();
  /** Markets that left their slot, in retirement order. */
  private readonly retired: MarketStats[] = [];
  private retiredNotListed = 0;
  private nextDueMs = Infinity;

  /**
   * `correctionWindowMs`: how long after a market's end the venue's verdict
   * may still correct its settlement (the auditor's [markets]
   * audit_timeout_ms); past it, what a correction would need is let go.
   * Without it, that is kept as long as the market is in the report.
   */
  constructor(opts: { tokens: readonly TokenInfo[]; markets: readonly MarketInfo[]; params: MarkoutParams; onMarkout?: MarkoutListener; correctionWindowMs?: number }) {
    this.tokens = opts.tokens;
    this.markets = opts.markets;
    this.params = opts.params;
    this.listener = opts.onMarkout;
    this.correctionWindowMs = opts.correctionWindowMs ?? Infinity;
  }

  /** Starts tracking a fill (apply it to the portfolio first: this does not dedupe). */
  onFill(fill: Fill): void {
    const token = Number.isInteger(fill.token) ? this.tokens[fill.token] : undefined;
    if (token === undefined || !Number.isFinite(fill.price) || !(fill.size > 0) || !Number.isFinite(fill.tsMs)) {
      this.dropped++;
      return;
    }
    const m = this.markets[token.market];
    let stats = this.byMarket.get(token.market);
    if (stats === undefined) {
      stats = new MarketStats(token.market, m?.slug ?? '', m?.conditionId ?? '', m?.endMs ?? NaN);
      this.byMarket.set(token.market, stats);
    }
    stats.fills++;
    stats.sizeMicro += fill.size;
    const tracked = new Tracked(fill, stats, m?.tokens[1] === fill.token ? 1 : 0);
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
    if (state.settled) {
      // A settled token is worth its settlement value; a book still quoting it is no price of it.
      this.dropped++;
      return;
    }
    // The old mid held at every horizon strictly before this change.
    this.settle(state, nowMs, false);
    state.mid = midTicks;
  }

  /**
   * The market in slot `market` settled to `winner` (an index into its
   * tokens) at its window's end `endMs`: from then on its tokens' mids are
   * their settlement values (PRICE_SCALE for the winner, 0 for the loser) and
   * no book mid replaces them. Settle a market once; the venue's verdict, if
   * it differs, goes through correctSettlement().
   */
  settleMarket(market: number, winner: 0 | 1, endMs: number): void {
    const m = this.markets[market];
    if (m === undefined || (winner !== 0 && winner !== 1) || !Number.isFinite(endMs)) {
      this.dropped++;
      return;
    }
    for (let i = 0; i < 2; i++) {
      const state = this.tokenState(m.tokens[i]!);
      // The book's mid held at every horizon strictly before the end.
      this.settle(state, endMs, false);
      state.mid = settlementValue(i, winner);
      state.settled = true;
    }
  }

  /**
   * The venue resolved market `conditionId`, which held slot `market` (and
   * may have retired from it since), to `winner`, an index into its tokens.
   * Every markout resolved on a settlement value of that market, by
   * settleMarket() or retireMarket(), is re-resolved at the venue's value:
   * the old one taken out of the market's sums exactly, the new one added,
   * toxicity recomputed; those still pending resolve at the venue's value
   * when due. Markouts resolved on book mids stay as they are. Returns how
   * many markouts changed: 0 when the market already stands at that winner,
   * has none resolved on a settlement value yet, is unknown here, or its
   * correction window has passed.
   */
  correctSettlement(market: number, conditionId: string, winner: 0 | 1): number {
    const current = this.markets[market];
    if (current !== undefined && current.conditionId === conditionId) {
      for (let i = 0; i < 2; i++) {
        const state = this.byToken.get(current.tokens[i]!);
        if (state?.settled === true) state.mid = settlementValue(i, winner);
      }
    }
    const stats = this.statsOf(market, conditionId);
    const log = stats?.settlement;
    if (stats === undefined || log === undefined) return 0;
    let changed = 0;
    for (const r of log.markouts) if (r.mid !== settlementValue(r.t.outcome, winner)) changed++;
    if (changed === 0) return 0;
    this.rescore(stats, log, winner);
    for (const r of log.markouts) {
      const mid = settlementValue(r.t.outcome, winner);
      if (r.mid === mid) continue;
      const hs = stats.horizons[r.h]!;
      const before = account(hs, r.t.fill, r.mid, -1);
      const after = account(hs, r.t.fill, mid, 1);
      r.mid = mid;
      this.listener?.(r.t.fill, MARKOUT_HORIZONS_MS[r.h]!, after, before);
    }
    return changed;
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
        for (let t = q.shift(); t !== undefined; t = q.shift()) this.resolve(t, h, t.fill.tsMs + q.horizonMs, mid, true);
      }
      this.byToken.delete(token);
    }
    const stats = this.byMarket.get(market);
    if (stats !== undefined) {
      stats.retiredMs = nowMs;
      this.retired.push(stats);
      // A market that leaves the report takes what a correction of it would need along.
      if (this.retired.length > RETIRED_IN_REPORT) {
        this.retired.shift();
        this.retiredNotListed++;
      }
      this.byMarket.delete(market);
    }
    for (const s of this.retired) if (s.endMs + this.correctionWindowMs < nowMs) s.settlement = undefined;
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

  /** The market `conditionId` in slot `market`: the one holding it now, else the latest retired from it. */
  private statsOf(market: number, conditionId: string): MarketStats | undefined {
    const current = this.byMarket.get(market);
    if (current?.conditionId === conditionId) return current;
    for (let i = this.retired.length - 1; i >= 0; i--) {
      const s = this.retired[i]!;
      if (s.market === market && s.conditionId === conditionId) return s;
    }
    return undefined;
  }

  private scores(f: Fill): boolean {
    return f.liquidity === 'maker' || !this.params.makerOnly;
  }

  /**
   * Toxicity of `s` with its settlement markouts at `winner`'s values: the
   * evidence from before them, then each again in the order it came, under
   * the parameters now in force, as the evidence still to come will be.
   */
  private rescore(s: MarketStats, log: SettlementLog, winner: 0 | 1): void {
    s.adverse = log.adverse;
    s.weight = log.weight;
    s.lastMs = log.lastMs;
    for (const r of log.markouts) {
      const f = r.t.fill;
      if (r.h !== TOXICITY_HORIZON || !this.scores(f)) continue;
      this.score(s, r.dueMs, f.size / UNIT, adverseOf(markoutOf(f, settlementValue(r.t.outcome, winner))));
    }
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
        this.resolve(q.shift()!, h, due, state.mid, state.settled);
      }
    }
  }

  /** `settlement`: `mid` is a settlement value, which a correction may revise. */
  private resolve(t: Tracked, h: number, dueMs: number, mid: number, settlement: boolean): void {
    const f = t.fill;
    const s = t.stats;
    if (settlement) {
      s.settlement ??= new SettlementLog(s.adverse, s.weight, s.lastMs);
      s.settlement.markouts.push(new SettledMarkout(t, h, dueMs, mid));
    }
    const hs = s.horizons[h]!;
    hs.resolved++;
    const markout = account(hs, f, mid, 1);
    if (!Number.isNaN(markout) && h === TOXICITY_HORIZON && this.scores(f)) this.score(s, dueMs, f.size / UNIT, adverseOf(markout));
    this.listener?.(f, MARKOUT_HORIZONS_MS[h]!, markout, undefined);
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
