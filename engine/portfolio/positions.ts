// Why this file is over 600 lines: one ledger, its accounting rules documented in full below, plus the snapshot schema and restore()'s checks of a journaled snapshot (input from disk, validated at the edge).
// Positions and PnL per (strategy, token), in integer base units: positions
// in micro-shares, every amount of money in micro-pUSD.
//
// Average-cost method. `cost` is the cost basis of the open position (what
// was paid for a long, minus what was received for a short). A fill that
// adds to the position adds its notional to the cost; one that reduces it
// releases cost in proportion to the size closed (rounded to the nearest
// micro; closing the whole position releases the whole cost, so rounding
// never accumulates past a flat position) and realises
// proceeds − released cost. A fill that flips the sign closes first and
// opens the rest at its own price. Polymarket positions are never short
// (selling needs inventory), but a paper strategy that oversells stays
// accounted rather than corrupting the books.
//
// Fees are charged in collateral (V2) and kept apart from cost and realised:
// net = realised + unrealised − fees. Unrealised marks the open position to
// the mid (ticks, possibly half-ticks), rounded to the micro.
//
// Merge (protocols §8): 1 YES + 1 NO → 1 pUSD. Burning n of each leg
// releases each leg's average cost for n and pays n micro-pUSD, split
// between the legs in proportion to the cost released, so each leg's
// realised share of the merge profit matches its share of the cost.
//
// Settlement (protocols §8, §11.12): once a market resolves, the winning
// token redeems for 1 pUSD per share and the other for 0. Every strategy's
// position in both tokens closes at that price, without a fee: proceeds
// (position × 1 or × 0, exact in micros) − the whole cost is realised and
// paid into cash; a long counts as sold, a short as bought back.
//
// Correction: when the venue resolves a settled market the other way, the
// settlement's holdings (each strategy's position in both tokens as it
// settled) say what moves: realised and cash change by (shares of the
// venue's winner − shares of the engine's winner) × 1 pUSD, on the two token
// entries while the market still occupies its slot, else on the strategy's
// retired totals, where those entries were folded.
//
// Retirement: market slots are reused (trading/types), so once a settled
// market's slot is about to hold another market, its flat entries are folded
// into a per-strategy retired total (realised, fees, cash, bought, sold,
// fills) and deleted; the newcomer's tokens start with fresh entries.
// Retiring refuses while any of the market's positions is open, so no
// position is ever folded away. Retired money belongs to no current token or
// market: it counts in strategy-wide and total figures (pnl() without a
// token or market filter, total, byStrategy, dailyPnl) and in no per-token
// or per-market one, and retiring leaves every total unchanged.
//
// Fills are idempotent by fillId, merges given a mergeId by that id,
// settlements by settleId and corrections by resolutionId, so a journal
// replayed over a snapshot never counts one twice.
import { array, number, object, string, validate } from '../config/schema.js';
import { notionalMicros, PRICE_SCALE, Side, type Fill, type Holding, type MarketInfo, type Resolution, type Settlement, type TokenInfo } from '../trading/types.js';

/** One (strategy, token) book of account. */
export class PositionEntry {
  /** Micro-shares; negative only if a paper strategy oversold. */
  position = 0;
  /** Cost basis of the open position, micro-pUSD. */
  cost = 0;
  realised = 0;
  fees = 0;
  /** Net collateral flow: − bought notional + sold notional + merge proceeds − fees. */
  cash = 0;
  /** Micro-shares bought and sold (merges count as sold). */
  bought = 0;
  sold = 0;
  fills = 0;
  constructor(
    readonly strategy: string,
    readonly token: number,
    readonly market: number,
  ) {}
}

/** What a strategy's retired markets left behind: their closed accounts, summed. */
export interface RetiredTotals {
  realised: number;
  fees: number;
  cash: number;
  bought: number;
  sold: number;
  fills: number;
}

/** Marks: mid price in ticks per token index; NaN (or a missing index) when there is none. */
export type Marks = ArrayLike<number>;

export interface PnlFilter {
  strategy?: string;
  token?: number;
  market?: number;
}

export interface PnlSummary {
  realised: number;
  unrealised: number;
  fees: number;
  /** realised + unrealised − fees. */
  net: number;
  /** Σ |position| × mid; a position without a mark counts at |cost|. */
  grossExposure: number;
  cash: number;
  /** Open positions that had no mark (their unrealised counts as 0). */
  unmarked: number;
}

export interface PositionSnapshotEntry extends RetiredTotals {
  strategy: string;
  token: number;
  position: number;
  cost: number;
}

/**
 * Plain JSON: what the journal stores. Version 1 had no `retired` and no `settleIds`; version 2 no
 * `resolutionIds`; version 3 no `fillIdMarkets` (and kept the id of every fill ever booked).
 */
export interface PortfolioSnapshot {
  version: number;
  /** Start of the day dailyPnl() counts from; 0 = the session start. */
  dayStartMs: number;
  /** Net PnL per strategy at the day start. */
  dayBaseline: { strategy: string; net: number }[];
  entries: PositionSnapshotEntry[];
  fillIds: string[];
  /** The market slot of each of `fillIds`, index for index; -1 where a version 3 snapshot did not say. */
  fillIdMarkets: number[];
  mergeIds: string[];
  retired: ({ strategy: string } & RetiredTotals)[];
  settleIds: string[];
  resolutionIds: string[];
}

const SNAPSHOT_VERSION = 4;
const int = () => number({ integer: true });
const count = () => number({ integer: true, min: 0 });
/** The RetiredTotals fields, as a position entry and a retired total both store them. */
const totals = () => ({ realised: int(), fees: count(), cash: int(), bought: count(), sold: count(), fills: count() });
const snapshotSchema = object({
  version: number({ integer: true, min: 1, max: SNAPSHOT_VERSION }),
  dayStartMs: number({ min: 0 }),
  dayBaseline: array(object({ strategy: string(), net: int() })),
  entries: array(
    object({
      strategy: string(),
      token: number({ integer: true, min: 0 }),
      position: int(),
      cost: int(),
      ...totals(),
    }),
  ),
  fillIds: array(string()),
  // Absent before version 4.
  fillIdMarkets: array(number({ integer: true, min: -1 }), { default: [] }),
  mergeIds: array(string()),
  // Absent from version 1 snapshots.
  retired: array(object({ strategy: string(), ...totals() }), { default: [] }),
  settleIds: array(string(), { default: [] }),
  // Absent before version 3.
  resolutionIds: array(string(), { default: [] }),
});

export class Portfolio {
  /** Fills refused for malformed fields or an unknown token. */
  invalidFills = 0;
  private readonly tokens: readonly TokenInfo[];
  private readonly markets: readonly MarketInfo[];
  private readonly byStrategyToken = new Map<string, Map<number, PositionEntry>>();
  /**
   * Ids of the fills booked, with their market slot, so a fill delivered twice counts once. A market's ids
   * leave when it retires: every fill of it came before its settlement, and keeping them all made each
   * snapshot (and memory) grow with every fill of the journal's life.
   */
  private readonly fillIds = new Map<string, number>();
  private readonly mergeIds = new Set<string>();
  private readonly settleIds = new Set<string>();
  private readonly resolutionIds = new Set<string>();
  private readonly retired = new Map<string, RetiredTotals>();
  private dayStartMs = 0;
  private readonly dayBaseline = new Map<string, number>();

  constructor(tokens: readonly TokenInfo[], markets: readonly MarketInfo[]) {
    this.tokens = tokens;
    this.markets = markets;
  }

  /** Books a fill; false (and nothing changes) when its fillId was applied before or it is malformed. */
  applyFill(fill: Fill): boolean {
    if (!this.wellFormed(fill)) {
      this.invalidFills++;
      return false;
    }
    if (this.fillIds.has(fill.fillId)) return false;
    this.fillIds.set(fill.fillId, this.tokens[fill.token]!.market);
    const e = this.entryFor(fill.strategy, fill.token);
    const notional = notionalMicros(fill.price, fill.size);
    const dir = fill.side === Side.Buy ? 1 : -1;
    trade(e, dir, fill.size, notional);
    e.cash += -dir * notional - fill.fee;
    e.fees += fill.fee;
    if (dir > 0) e.bought += fill.size;
    else e.sold += fill.size;
    e.fills++;
    return true;
  }

  /**
   * Paper merge of complete sets: burns sizeMicro of both tokens of the
   * market held by the strategy and credits sizeMicro micro-pUSD. False (and
   * nothing changes) when either leg holds less, or when `mergeId` (the
   * transaction hash live) was applied before.
   */
  merge(strategy: string, market: number, sizeMicro: number, mergeId?: string): boolean {
    const m = this.markets[market];
    if (m === undefined || !Number.isSafeInteger(sizeMicro) || sizeMicro <= 0) return false;
    if (mergeId !== undefined && this.mergeIds.has(mergeId)) return false;
    const a = this.byStrategyToken.get(strategy)?.get(m.tokens[0]);
    const b = this.byStrategyToken.get(strategy)?.get(m.tokens[1]);
    if (a === undefined || b === undefined || a.position < sizeMicro || b.position < sizeMicro) return false;
    const relA = mulDivRound(a.cost, sizeMicro, a.position);
    const relB = mulDivRound(b.cost, sizeMicro, b.position);
    const rel = relA + relB;
    const proceedsA = rel > 0 && relA >= 0 && relB >= 0 ? mulDivRound(sizeMicro, relA, rel) : Math.floor(sizeMicro / 2);
    burn(a, sizeMicro, relA, proceedsA);
    burn(b, sizeMicro, relB, sizeMicro - proceedsA);
    if (mergeId !== undefined) this.mergeIds.add(mergeId);
    return true;
  }

  /**
   * Closes every strategy's positions in both tokens of a resolved market at
   * 1 pUSD (the winner) or 0 (the loser) per share. False (and nothing
   * changes) when its settleId was applied before or it names tokens that are
   * not the market's.
   */
  settle(s: Settlement): boolean {
    if (this.settleIds.has(s.settleId)) return false;
    const m = this.markets[s.market];
    if (m === undefined || m.tokens[0] !== s.tokens[0] || m.tokens[1] !== s.tokens[1] || (s.winner !== 0 && s.winner !== 1)) return false;
    this.settleIds.add(s.settleId);
    for (const byToken of this.byStrategyToken.values()) {
      for (let i = 0; i < 2; i++) {
        const e = byToken.get(s.tokens[i]!);
        if (e === undefined || e.position === 0) continue;
        // 1 pUSD per share is 1 micro-pUSD per micro-share.
        const proceeds = i === s.winner ? e.position : 0;
        e.realised += proceeds - e.cost;
        e.cash += proceeds;
        if (e.position > 0) e.sold += e.position;
        else e.bought -= e.position;
        e.position = 0;
        e.cost = 0;
      }
    }
    return true;
  }

  /** Every strategy's nonzero position in `tokens`, strategies in first-fill order: a settlement's holdings. */
  holdings(tokens: readonly [number, number]): Holding[] {
    const out: Holding[] = [];
    for (const [strategy, byToken] of this.byStrategyToken) {
      const a = byToken.get(tokens[0])?.position ?? 0;
      const b = byToken.get(tokens[1])?.position ?? 0;
      if (a !== 0 || b !== 0) out.push({ strategy, positions: [a, b] });
    }
    return out;
  }

  /**
   * Moves a settled market's money to the venue's winner: per holding,
   * realised and cash change by (shares of r.winner − shares of
   * r.engineWinner) micro-pUSD, on the tokens' entries when `current` (the
   * market still occupies its slot), else on the retired totals. False (and
   * nothing changes) when its resolutionId was applied before or it names
   * tokens that are not the slot's.
   */
  correct(r: Resolution, current: boolean): boolean {
    if (this.resolutionIds.has(r.resolutionId)) return false;
    const m = this.markets[r.market];
    if (m === undefined || m.tokens[0] !== r.tokens[0] || m.tokens[1] !== r.tokens[1]) return false;
    this.resolutionIds.add(r.resolutionId);
    if (r.winner === r.engineWinner) return true;
    for (const h of r.holdings) {
      const gain = h.positions[r.winner];
      const loss = h.positions[r.engineWinner];
      if (gain === 0 && loss === 0) continue;
      if (current) {
        // The entries exist: settle() closed these positions on them, and only retireMarket() deletes entries.
        const win = this.entryFor(h.strategy, r.tokens[r.winner]);
        const lose = this.entryFor(h.strategy, r.tokens[r.engineWinner]);
        win.realised += gain;
        win.cash += gain;
        lose.realised -= loss;
        lose.cash -= loss;
      } else {
        const t = this.retiredOf(h.strategy);
        t.realised += gain - loss;
        t.cash += gain - loss;
      }
    }
    return true;
  }

  /**
   * Folds every strategy's entries of the market's tokens into its retired
   * totals and deletes them, so the slot's next market starts clean. False
   * (and nothing changes) while any of those positions is open.
   */
  retireMarket(market: number): boolean {
    const m = this.markets[market];
    if (m === undefined) return false;
    for (const byToken of this.byStrategyToken.values()) {
      for (const t of m.tokens) if ((byToken.get(t)?.position ?? 0) !== 0) return false;
    }
    for (const [strategy, byToken] of this.byStrategyToken) {
      for (const t of m.tokens) {
        const e = byToken.get(t);
        if (e === undefined) continue;
        addTotals(this.retiredOf(strategy), e);
        byToken.delete(t);
      }
    }
    for (const [id, m] of this.fillIds) if (m === market) this.fillIds.delete(id);
    return true;
  }

  /** Retired totals of one strategy (zeros when it retired nothing). */
  retiredTotals(strategy: string): Readonly<RetiredTotals> {
    return this.retired.get(strategy) ?? emptyRetired();
  }

  position(strategy: string, token: number): number {
    return this.byStrategyToken.get(strategy)?.get(token)?.position ?? 0;
  }

  entry(strategy: string, token: number): Readonly<PositionEntry> | undefined {
    return this.byStrategyToken.get(strategy)?.get(token);
  }

  /** Every current (strategy, token) entry, strategies in first-fill order; retired markets' are gone. */
  entries(): Readonly<PositionEntry>[] {
    const out: PositionEntry[] = [];
    for (const byToken of this.byStrategyToken.values()) for (const e of byToken.values()) out.push(e);
    return out;
  }

  unrealised(marks: Marks, filter: PnlFilter = {}): number {
    return this.pnl(marks, filter).unrealised;
  }

  grossExposure(marks: Marks, filter: PnlFilter = {}): number {
    return this.pnl(marks, filter).grossExposure;
  }

  /** Sum over the entries matching every field of `filter`; retired totals count unless it names a token or market. */
  pnl(marks: Marks, filter: PnlFilter = {}): PnlSummary {
    const out = emptySummary();
    for (const [strategy, byToken] of this.byStrategyToken) {
      if (filter.strategy !== undefined && filter.strategy !== strategy) continue;
      for (const e of byToken.values()) {
        if (filter.token !== undefined && filter.token !== e.token) continue;
        if (filter.market !== undefined && filter.market !== e.market) continue;
        addEntry(out, e, marks[e.token]);
      }
    }
    if (filter.token === undefined && filter.market === undefined) {
      for (const [strategy, r] of this.retired) if (filter.strategy === undefined || filter.strategy === strategy) addRetired(out, r);
    }
    return out;
  }

  total(marks: Marks): PnlSummary {
    return this.pnl(marks);
  }

  byToken(marks: Marks): Map<number, PnlSummary> {
    return this.group(marks, (e) => e.token);
  }

  byMarket(marks: Marks): Map<number, PnlSummary> {
    return this.group(marks, (e) => e.market);
  }

  byStrategy(marks: Marks): Map<string, PnlSummary> {
    const out = this.group(marks, (e) => e.strategy);
    for (const [strategy, r] of this.retired) {
      let s = out.get(strategy);
      if (s === undefined) out.set(strategy, (s = emptySummary()));
      addRetired(s, r);
    }
    return out;
  }

  /** Starts a trading day: dailyPnl() counts from the net PnL as marked now. */
  startDay(marks: Marks, dayStartMs: number): void {
    this.dayStartMs = dayStartMs;
    this.dayBaseline.clear();
    for (const [strategy, s] of this.byStrategy(marks)) this.dayBaseline.set(strategy, s.net);
  }

  /** Realised + unrealised − fees since the day start, for one strategy or all. */
  dailyPnl(marks: Marks, strategy?: string): number {
    if (strategy !== undefined) return this.pnl(marks, { strategy }).net - (this.dayBaseline.get(strategy) ?? 0);
    let base = 0;
    for (const v of this.dayBaseline.values()) base += v;
    return this.pnl(marks).net - base;
  }

  get dayStart(): number {
    return this.dayStartMs;
  }

  snapshot(): PortfolioSnapshot {
    return {
      version: SNAPSHOT_VERSION,
      dayStartMs: this.dayStartMs,
      dayBaseline: [...this.dayBaseline].map(([strategy, net]) => ({ strategy, net })),
      entries: this.entries().map((e) => ({
        strategy: e.strategy,
        token: e.token,
        position: e.position,
        cost: e.cost,
        realised: e.realised,
        fees: e.fees,
        cash: e.cash,
        bought: e.bought,
        sold: e.sold,
        fills: e.fills,
      })),
      fillIds: [...this.fillIds.keys()],
      fillIdMarkets: [...this.fillIds.values()],
      mergeIds: [...this.mergeIds],
      retired: [...this.retired].map(([strategy, r]) => ({ strategy, ...r })),
      settleIds: [...this.settleIds],
      resolutionIds: [...this.resolutionIds],
    };
  }

  /** Replaces all state with a journal snapshot; throws, changing nothing, when it is malformed. */
  restore(snapshot: unknown): void {
    const r = validate(snapshotSchema, snapshot);
    if (!r.ok) throw new Error(`portfolio snapshot: ${r.violations.map((v) => `${v.path}: ${v.message}`).join('; ')}`);
    const s = r.value;
    const entries = new Map<string, Map<number, PositionEntry>>();
    s.entries.forEach((x, i) => {
      const token = this.tokens[x.token];
      if (token === undefined) throw new Error(`portfolio snapshot: entries[${i}].token: unknown token ${x.token}`);
      let byToken = entries.get(x.strategy);
      if (byToken === undefined) entries.set(x.strategy, (byToken = new Map()));
      if (byToken.has(x.token)) throw new Error(`portfolio snapshot: entries[${i}]: second entry for ${x.strategy} / token ${x.token}`);
      byToken.set(x.token, Object.assign(new PositionEntry(x.strategy, x.token, token.market), x));
    });
    const retired = new Map<string, RetiredTotals>();
    s.retired.forEach((x, i) => {
      if (retired.has(x.strategy)) throw new Error(`portfolio snapshot: retired[${i}]: second entry for ${x.strategy}`);
      retired.set(x.strategy, addTotals(emptyRetired(), x));
    });
    this.byStrategyToken.clear();
    for (const [k, v] of entries) this.byStrategyToken.set(k, v);
    this.retired.clear();
    for (const [k, v] of retired) this.retired.set(k, v);
    this.settleIds.clear();
    for (const id of s.settleIds) this.settleIds.add(id);
    this.resolutionIds.clear();
    for (const id of s.resolutionIds) this.resolutionIds.add(id);
    this.fillIds.clear();
    const known = s.fillIdMarkets.length === s.fillIds.length;
    s.fillIds.forEach((id, i) => this.fillIds.set(id, known ? s.fillIdMarkets[i]! : -1));
    this.mergeIds.clear();
    for (const id of s.mergeIds) this.mergeIds.add(id);
    this.dayStartMs = s.dayStartMs;
    this.dayBaseline.clear();
    for (const b of s.dayBaseline) this.dayBaseline.set(b.strategy, b.net);
  }

  private group<K>(marks: Marks, key: (e: PositionEntry) => K): Map<K, PnlSummary> {
    const out = new Map<K, PnlSummary>();
    for (const byToken of this.byStrategyToken.values()) {
      for (const e of byToken.values()) {
        const k = key(e);
        let s = out.get(k);
        if (s === undefined) out.set(k, (s = emptySummary()));
        addEntry(s, e, marks[e.token]);
      }
    }
    return out;
  }

  private retiredOf(strategy: string): RetiredTotals {
    let r = this.retired.get(strategy);
    if (r === undefined) this.retired.set(strategy, (r = emptyRetired()));
    return r;
  }

  private entryFor(strategy: string, token: number): PositionEntry {
    let byToken = this.byStrategyToken.get(strategy);
    if (byToken === undefined) this.byStrategyToken.set(strategy, (byToken = new Map()));
    let e = byToken.get(token);
    if (e === undefined) byToken.set(token, (e = new PositionEntry(strategy, token, this.tokens[token]!.market)));
    return e;
  }

  private wellFormed(f: Fill): boolean {
    return (
      typeof f.fillId === 'string' &&
      f.fillId.length > 0 &&
      typeof f.strategy === 'string' &&
      Number.isInteger(f.token) &&
      this.tokens[f.token] !== undefined &&
      (f.side === Side.Buy || f.side === Side.Sell) &&
      Number.isInteger(f.price) &&
      f.price >= 0 &&
      f.price <= PRICE_SCALE &&
      Number.isSafeInteger(f.size) &&
      f.size > 0 &&
      Number.isSafeInteger(f.fee) &&
      f.fee >= 0
    );
  }
}

/** Average-cost booking of `size` bought (dir 1) or sold (dir −1) for `notional`. */
function trade(e: PositionEntry, dir: 1 | -1, size: number, notional: number): void {
  if (e.position === 0 || Math.sign(e.position) === dir) {
    e.position += dir * size;
    e.cost += dir * notional;
    return;
  }
  const held = Math.abs(e.position);
  const close = Math.min(size, held);
  const closeValue = close === size ? notional : mulDivRound(notional, close, size);
  const released = mulDivRound(e.cost, close, held);
  // Long closed by a sale: proceeds − cost; short closed by a purchase: proceeds kept − price paid.
  e.realised += -dir * closeValue - released;
  e.cost -= released;
  e.position += dir * close;
  const open = size - close;
  if (open > 0) {
    e.position += dir * open;
    e.cost += dir * (notional - closeValue);
  }
}

function burn(e: PositionEntry, size: number, released: number, proceeds: number): void {
  e.position -= size;
  e.cost -= released;
  e.realised += proceeds - released;
  e.cash += proceeds;
  e.sold += size;
}

function emptyRetired(): RetiredTotals {
  return { realised: 0, fees: 0, cash: 0, bought: 0, sold: 0, fills: 0 };
}

function addTotals(into: RetiredTotals, from: Readonly<RetiredTotals>): RetiredTotals {
  into.realised += from.realised;
  into.fees += from.fees;
  into.cash += from.cash;
  into.bought += from.bought;
  into.sold += from.sold;
  into.fills += from.fills;
  return into;
}

function addRetired(s: PnlSummary, r: RetiredTotals): void {
  s.realised += r.realised;
  s.fees += r.fees;
  s.cash += r.cash;
  s.net = s.realised + s.unrealised - s.fees;
}

function emptySummary(): PnlSummary {
  return { realised: 0, unrealised: 0, fees: 0, net: 0, grossExposure: 0, cash: 0, unmarked: 0 };
}

function addEntry(s: PnlSummary, e: PositionEntry, mid: number | undefined): void {
  s.realised += e.realised;
  s.fees += e.fees;
  s.cash += e.cash;
  if (e.position !== 0) {
    if (mid === undefined || !Number.isFinite(mid)) {
      s.unmarked++;
      s.grossExposure += Math.abs(e.cost);
    } else {
      const value = Math.round((e.position * mid) / PRICE_SCALE);
      s.unrealised += value - e.cost;
      s.grossExposure += Math.abs(value);
    }
  }
  s.net = s.realised + s.unrealised - s.fees;
}

/** round(a × b / c), half away from zero, exact for safe integers (the product may not be). */
function mulDivRound(a: number, b: number, c: number): number {
  const n = BigInt(a) * BigInt(b);
  const d = BigInt(c);
  let q = n / d;
  const r = n % d;
  const absR = r < 0n ? -r : r;
  const absD = d < 0n ? -d : d;
  if (2n * absR >= absD) q += n < 0n !== d < 0n ? -1n : 1n;
  return Number(q);
}
