// The market slots: which market each slot holds and where it is in its life
// (vacant, active, settled), its window's opening and closing prices, and
// settlement. Discovery offers markets (addMarket); resolution prices settle
// their windows (observeResolution); the settlement audit confirms or
// corrects the engine's verdict against the venue's (confirm, resolve).
//
// Every change is journaled first and applied from the record, like the
// rest of the engine's state: a restart puts back exactly these slots.

import { PolyedgeError } from '../errors.js';
import type { OrderManager } from '../execution/order-manager.js';
import type { JournalLedger } from '../journal/ledger.js';
import type { JournalInput } from '../journal/records.js';
import type { MarkoutTracker } from '../portfolio/markouts.js';
import type { Portfolio } from '../portfolio/positions.js';
import { isVacant, marketInSlot, PRICE_SCALE, vacantSlot, type MarketDescriptor, type MarketInfo, type Resolution, type Settlement, type TokenInfo } from '../trading/types.js';
import { PriceHistory, WindowPrices } from './settlement.js';

/** Where a market slot is in its life. */
export const SlotPhase = { Vacant: 0, Active: 1, Settled: 2 } as const;
export type SlotPhase = (typeof SlotPhase)[keyof typeof SlotPhase];
/** SlotPhase → its name in /state/markets and the polyedge_market_slots label. */
export const SLOT_PHASE_NAMES = ['vacant', 'active', 'settled'] as const;

/** One market slot, as /state/markets lists it. */
export interface MarketSlotView {
  slot: number;
  phase: string;
  slug: string;
  conditionId: string;
  startMs: number;
  endMs: number;
  tokenIds: [string, string];
  settlement: Settlement | undefined;
}

/** What the engine asks of the Polymarket feed as markets come and go: subscribe a slot's two tokens, or drop them; and of the settlement audit: check a settlement against the venue. */
export interface SlotHooks {
  assign(slot: number, market: MarketDescriptor): void;
  release(slot: number): void;
  /** `market` settled as `s` (also called at start for each settled occupant the venue has not corrected). */
  settled?(market: MarketDescriptor, s: Readonly<Settlement>): void;
}

/** Counters the slots move (the engine's own counts object, shared). */
export interface SlotCounts {
  marketsAdded: number;
  settlements: number;
  inexactSettlements: number;
  corrections: number;
  noFreeSlot: number;
}

/** `n` vacant slots: the market and token tables every part shares by reference (slots are replaced in place). */
export function vacantSlots(n: number): { markets: MarketInfo[]; tokens: TokenInfo[] } {
  const markets: MarketInfo[] = [];
  const tokens: TokenInfo[] = [];
  for (let m = 0; m < n; m++) {
    const v = vacantSlot(m);
    markets.push(v.info);
    tokens.push(...v.tokens);
  }
  return { markets, tokens };
}

export interface MarketSlotsOptions {
  markets: MarketInfo[];
  tokens: TokenInfo[];
  /** Mid per token in ticks, the engine's: a settled market is marked at what it redeems for. */
  marks: Float64Array;
  ledger: JournalLedger;
  portfolio: Portfolio;
  markouts: MarkoutTracker;
  orders: OrderManager;
  hooks: SlotHooks | undefined;
  counts: SlotCounts;
  nowMs: () => number;
  /** Journals a record, then applies it to state. */
  record: (rec: JournalInput) => void;
  /** Slot m settled: nothing left to decide there. */
  onSettled: (m: number) => void;
  log: (line: string) => void;
}

export class MarketSlots {
  readonly markets: MarketInfo[];
  readonly tokens: TokenInfo[];
  /** SlotPhase per slot. */
  readonly phase: Uint8Array;
  /** The window's opening price per slot as decisions see it: the fused reference at its start (or the first after it); NaN until known. */
  readonly windowOpen: Float64Array;
  private readonly o: MarketSlotsOptions;
  private readonly windows: WindowPrices;
  private readonly resolutionHistory = new Map<string, PriceHistory>();
  /** When each settled slot settled (engine ms): the longest-settled slot is reused first. */
  private readonly settledAtMs: Float64Array;

  constructor(opts: MarketSlotsOptions) {
    this.o = opts;
    this.markets = opts.markets;
    this.tokens = opts.tokens;
    const n = opts.markets.length;
    this.phase = new Uint8Array(n);
    this.windowOpen = new Float64Array(n).fill(NaN);
    this.settledAtMs = new Float64Array(n);
    this.windows = new WindowPrices(n);
  }

  /** The markets the journal says occupy the slots; settled ones stay listed (their money is in the reports) until reused. */
  restore(journalPath: string): void {
    const { ledger } = this.o;
    for (const [slot, d] of ledger.slots) {
      if (slot >= this.markets.length) throw new PolyedgeError('PE_CONFIG_INVALID', `the journal holds market slot ${slot} (${d.slug}) but markets.slots is ${this.markets.length}`, 'markets.slots');
      this.occupy(slot, d);
      const open = ledger.opens.get(slot);
      if (open) this.windows.observe(slot, d.startMs, d.endMs, open.open, open.openTsMs);
      const settled = ledger.settlementOf(slot);
      if (settled) {
        this.phase[slot] = SlotPhase.Settled;
        this.markSettled(slot, settled.winner);
      }
    }
    // Money on a slot no market record names would be traded over by the next market to take that slot.
    for (const e of this.o.portfolio.entries()) {
      if (e.position !== 0 && this.phase[e.market] === SlotPhase.Vacant) {
        throw new PolyedgeError('PE_JOURNAL_UNSLOTTED', `${journalPath}: ${e.strategy} holds ${e.position} micro-shares of token ${e.token}, which no market record names; start a new journal (--journal)`, 'journal');
      }
    }
  }

  /** Subscribes the books of every active slot (at start). */
  subscribeActive(): void {
    for (let m = 0; m < this.markets.length; m++) {
      const d = this.o.ledger.slots.get(m);
      if (d !== undefined && this.phase[m] === SlotPhase.Active) this.o.hooks?.assign(m, d);
    }
  }

  /**
   * A restart resumes the audit of every settlement the venue has not ruled
   * on, those of markets whose slot was reused since included.
   */
  resumeAudits(): void {
    for (const a of this.o.ledger.pendingAudits()) this.o.hooks?.settled?.(a.descriptor, a.settlement);
  }

  /**
   * Gives a discovered market a slot: the first vacant one, else the one
   * settled longest ago that no order still references. Returns true when the
   * market trades here now or already did (known or settled), false when no
   * slot is free (the caller offers it again later).
   */
  addMarket(d: MarketDescriptor): boolean {
    const { ledger, counts } = this.o;
    if (ledger.isSettled(d.conditionId)) return true;
    for (let m = 0; m < this.markets.length; m++) if (this.markets[m]!.conditionId === d.conditionId) return true;
    const slot = this.freeSlot();
    if (slot < 0) {
      counts.noFreeSlot++;
      return false;
    }
    const previous = this.markets[slot]!;
    if (!isVacant(previous)) {
      const s = ledger.settlementOf(slot);
      const [a, b] = previous.tokens;
      this.o.markouts.retireMarket(slot, s ? (s.winner === 0 ? [PRICE_SCALE, 0] : [0, PRICE_SCALE]) : [NaN, NaN], this.o.nowMs());
      this.o.orders.resetToken(a, 'market_replaced');
      this.o.orders.resetToken(b, 'market_replaced');
    }
    // Journal first: the record retires the old occupant's money in the portfolio (restore does the same).
    this.o.record({ type: 'market', tsMs: this.o.nowMs(), slot, market: d });
    this.occupy(slot, d);
    counts.marketsAdded++;
    this.o.log(`market ${d.slug} (${d.conditionId.slice(0, 10)}…) in slot ${slot}: ${new Date(d.startMs).toISOString()} → ${new Date(d.endMs).toISOString()}`);
    this.o.hooks?.assign(slot, d);
    // A window already under way takes its opening price from what the session saw before it found the market.
    let settled = false;
    this.resolutionHistory.get(d.underlying)?.forEach((tsMs, price) => {
      if (!settled) settled = this.windows.observe(slot, d.startMs, d.endMs, price, tsMs);
    });
    if (settled) this.settle(slot);
    return true;
  }

  /** Market slots in `phase`. */
  count(phase: SlotPhase): number {
    let n = 0;
    for (let m = 0; m < this.phase.length; m++) if (this.phase[m] === phase) n++;
    return n;
  }

  /** The slot table, for /state/markets. */
  view(): MarketSlotView[] {
    return this.markets.map((m, slot) => ({
      slot,
      phase: SLOT_PHASE_NAMES[this.phase[slot]!]!,
      slug: m.slug,
      conditionId: m.conditionId,
      startMs: m.startMs,
      endMs: m.endMs,
      tokenIds: [this.tokens[m.tokens[0]]!.tokenId, this.tokens[m.tokens[1]]!.tokenId],
      settlement: this.phase[slot] === SlotPhase.Settled ? this.o.ledger.settlementOf(slot) : undefined,
    }));
  }

  /** A resolution price: every active window of the underlying it reaches past the end of settles. */
  observeResolution(underlying: string, price: number, tsMs: number): void {
    let history = this.resolutionHistory.get(underlying);
    if (history === undefined) this.resolutionHistory.set(underlying, (history = new PriceHistory()));
    history.push(tsMs, price);
    for (let m = 0; m < this.markets.length; m++) {
      if (this.phase[m] !== SlotPhase.Active) continue;
      const market = this.markets[m]!;
      if (market.underlying !== underlying || !Number.isFinite(market.endMs)) continue;
      if (this.windows.observe(m, market.startMs, market.endMs, price, tsMs)) this.settle(m);
      else if (tsMs > market.startMs && this.windows.isOpenExact(m) && !this.o.ledger.opens.has(m)) this.journalOpen(m);
    }
  }

  /**
   * The venue resolved `market`, which this engine settled as `s`, to the
   * other token (`winner`, an index into s.tokens): journals the correction,
   * which moves every strategy's money to the venue's winner, and marks the
   * market by the venue's verdict while it still holds its slot. False when
   * there is nothing to correct (the same winner, a market not settled here,
   * or one already corrected).
   */
  resolve(market: MarketDescriptor, s: Readonly<Settlement>, winner: 0 | 1): boolean {
    if (winner === s.winner || !this.journalResolution(s, winner)) return false;
    const m = s.market;
    const holdings = s.holdings ?? [];
    const current = this.phase[m] === SlotPhase.Settled && this.markets[m]!.conditionId === s.conditionId;
    if (current) this.markSettled(m, winner);
    // Markouts resolved on the engine's settlement values, here or on the retired market, move to the venue's.
    const remarked = this.o.markouts.correctSettlement(m, s.conditionId, winner);
    this.o.counts.corrections++;
    let moved = 0;
    for (const h of holdings) moved += h.positions[winner] - h.positions[s.winner];
    this.o.log(
      `SETTLEMENT CORRECTED ${market.slug}: the venue resolved it "${market.outcomes[winner]}", the engine had settled "${market.outcomes[s.winner]}" ` +
        `(open ${s.open}, close ${s.close}${s.exact ? '' : ', not exact'}); paper PnL moves by ${(moved / 1e6).toFixed(6)} pUSD ` +
        `${current ? 'on the market' : 'on the retired totals (its slot was reused)'}${s.holdings === undefined ? '; the settlement predates holdings, so no money moved' : ''}; ${remarked} markouts re-marked`,
    );
    return true;
  }

  /**
   * The venue resolved `s`'s market as the engine settled it: journaled as a
   * resolution naming the same winner (no money moves), so a restart does not
   * ask the venue again. False when the market is not settled here or the
   * venue's verdict is already journaled.
   */
  confirm(s: Readonly<Settlement>): boolean {
    return this.journalResolution(s, s.winner);
  }

  /** By the journal's own rule (isSlotFree), which flags a market record on a slot that is not free as unsafe. */
  private freeSlot(): number {
    let best = -1;
    for (let m = 0; m < this.markets.length; m++) {
      if (!this.o.ledger.isSlotFree(m)) continue;
      if (this.phase[m] === SlotPhase.Vacant) return m;
      if (best < 0 || this.settledAtMs[m]! < this.settledAtMs[best]!) best = m;
    }
    return best;
  }

  /** Puts `d` in slot `m` of the shared arrays and starts its window afresh. */
  private occupy(m: number, d: MarketDescriptor): void {
    const { info, tokens } = marketInSlot(m, d);
    this.markets[m] = info;
    this.tokens[2 * m] = tokens[0];
    this.tokens[2 * m + 1] = tokens[1];
    this.phase[m] = SlotPhase.Active;
    this.windows.reset(m);
    this.windowOpen[m] = NaN;
    this.o.marks[2 * m] = NaN;
    this.o.marks[2 * m + 1] = NaN;
  }

  /** A settled market's marks are what its tokens redeem for. */
  private markSettled(m: number, winner: 0 | 1): void {
    this.o.marks[2 * m + winner] = PRICE_SCALE;
    this.o.marks[2 * m + 1 - winner] = 0;
  }

  /** The window's opening price is final: journaled (ledger.opens then holds it), so a restart inside the window settles on it. */
  private journalOpen(m: number): void {
    this.o.record({ type: 'window', tsMs: this.o.nowMs(), slot: m, conditionId: this.markets[m]!.conditionId, open: this.windows.open[m]!, openTsMs: this.windows.openTsMs(m) });
  }

  /**
   * Resolves slot m's market: its orders are cancelled, the winner's
   * positions redeem at 1 pUSD a share and the loser's at 0 (journaled, so a
   * restart settles nothing twice), its books are released.
   */
  private settle(m: number): void {
    const market = this.markets[m]!;
    const [a, b] = market.tokens;
    // Cancelled at once, not after the venue's cancel latency: a fill landing after the settle record would reopen a position in a resolved market.
    this.o.orders.resetToken(a, 'settled');
    this.o.orders.resetToken(b, 'settled');
    const winner = this.windows.winner(m);
    const exact = this.windows.isExact(m);
    const settlement: Settlement = {
      settleId: market.conditionId,
      conditionId: market.conditionId,
      market: m,
      tokens: [a, b],
      winner,
      open: this.windows.open[m]!,
      close: this.windows.close[m]!,
      exact,
      // What a correction to the venue's verdict would move, as it stands before the settle record closes it.
      holdings: this.o.portfolio.holdings([a, b]),
    };
    this.o.record({ type: 'settle', tsMs: this.o.nowMs(), settlement });
    this.phase[m] = SlotPhase.Settled;
    this.o.onSettled(m);
    this.settledAtMs[m] = this.o.nowMs();
    const winTok = market.tokens[winner];
    this.markSettled(m, winner);
    this.o.markouts.settleMarket(m, winner, market.endMs);
    this.o.counts.settlements++;
    if (!exact) this.o.counts.inexactSettlements++;
    this.o.log(
      `settled ${market.slug}: ${this.tokens[winTok]!.outcome} wins (open ${settlement.open}, close ${settlement.close}${exact ? '' : ', not exact: the session did not see a price at both ends'})`,
    );
    this.o.hooks?.release(m);
    this.o.hooks?.settled?.(this.o.ledger.slots.get(m)!, settlement);
  }

  /** Journals the venue's verdict `winner` on `s`'s market; false when the market is not settled here or a verdict is already journaled. */
  private journalResolution(s: Readonly<Settlement>, winner: 0 | 1): boolean {
    const { ledger } = this.o;
    if (!ledger.isSettled(s.conditionId) || ledger.isResolved(s.conditionId)) return false;
    const resolution: Resolution = {
      resolutionId: s.conditionId,
      conditionId: s.conditionId,
      market: s.market,
      tokens: [s.tokens[0], s.tokens[1]],
      winner,
      engineWinner: s.winner,
      holdings: (s.holdings ?? []).map((h) => ({ strategy: h.strategy, positions: [h.positions[0], h.positions[1]] })),
    };
    this.o.record({ type: 'resolution', tsMs: this.o.nowMs(), resolution });
    return true;
  }
}
