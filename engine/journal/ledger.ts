// JournalLedger, the state the journal's records add up to: the orders still live, the fills,
// merges and settlements already counted, the market occupying each market
// slot, and (through the position keeper's applier) positions and cash. The
// same reducer runs live: feed JournalLedger every record right after
// appending it, and the state a restart rebuilds is by construction the
// state the engine held. Restore starts from the last position snapshot, so
// its cost is the records written since then.
//
// Market slots (trading/types): a `market` record puts a market in a slot.
// When it replaces another market, the keeper first retires the old one
// (folds its per-token accounts away) so the newcomer starts flat. The engine
// reuses a slot only once its market has settled and holds no live order; a
// record that breaks this is still applied, because the journal is the
// truth of what the engine did, but it is counted. A `market` record naming
// the slot's current occupant again is an update of its descriptor (a tick
// size change), not a replacement: nothing is retired.
//
// A settlement applies to its slot's current occupant only, and once per
// settleId and per conditionId.
//
// A resolution (the venue's verdict on a settled market) applies once per
// conditionId, to a market that settled here. Naming another winner than
// the engine's, the keeper moves the money to the venue's winner, onto the
// market's live accounts while it still occupies its slot, else onto the
// retired totals its accounts were folded into; the slot's settlement then
// names the venue's winner. Naming the same winner, it only records that
// the venue agreed.
//
// Pending audits: every settlement the venue has not ruled on, kept by
// conditionId with the market's descriptor, whether or not the market still
// holds its slot, so a restart resumes the audit of a market whose slot was
// reused in the minutes after it settled (the venue may take hours). One
// leaves on its resolution record, or once the journal's clock (the latest
// record time) reaches its deadline: the window's end plus
// [markets] audit_timeout_ms, when the auditor gives up on it live. Expiry
// is checked at each settle record, which bounds the set to the markets
// settled within one timeout, and once more at the end of restore.

import type { Fill, MarketDescriptor, Order, Resolution, Settlement } from '../trading/types.js';
import type { JournalInput, JournalRecord, Merge, PendingAudit, PositionInput, VenueRequestRecord, WindowOpen } from './records.js';

export type { PendingAudit } from './records.js';

/**
 * What restore needs from the position keeper (engine/portfolio). It is
 * deliberately small so the keeper can change freely behind it.
 */
export interface PositionApplier {
  /** Applies a fill; false when its fillId was already applied. */
  applyFill(fill: Fill): boolean;
  /** Applies a merge; false when its mergeId was already applied. Needed only once merges are journaled. */
  applyMerge?(merge: Merge): boolean;
  /** Closes the positions of both tokens of a resolved market; false when its settleId was already applied. Needed once settlements are journaled. */
  settle?(s: Settlement): boolean;
  /**
   * Moves a settled market's money to the venue's winner; `current` says the
   * market still occupies its slot (its accounts are live, not yet retired).
   * False when its resolutionId was already applied. Needed once resolutions
   * are journaled.
   */
  correct?(r: Resolution, current: boolean): boolean;
  /** Folds the accounts of a slot's market away before another market takes the slot. Needed once markets are journaled. */
  retireMarket?(market: number): void;
  /** Replaces the keeper's state with a snapshot it produced earlier. The value was read from disk: validate it. Needed to start from a snapshot. */
  restore?(snapshot: unknown): void;
}

export interface StateAnomalies {
  /** Fills whose fillId was already applied (a venue re-delivery): journaled, not counted again. */
  duplicateFills: number;
  duplicateMerges: number;
  /** Fills for an order not live here (a cancel raced the fill, or the order predates the journal): they still move positions. */
  fillsWithoutOrder: number;
  /** Restored, ack, reject, cancel or expire for an order not live here. */
  unknownOrderEvents: number;
  /** Order records whose id is already live. */
  duplicateOrders: number;
  /** Settlements whose settleId or conditionId was already settled: not applied again. */
  duplicateSettles: number;
  /** Settlements for a market that is not its slot's current occupant (or with tokens other than the slot's): not applied. */
  unknownSettles: number;
  /** Resolutions of a market already corrected: not applied again. */
  duplicateResolutions: number;
  /** Resolutions of a market not settled here, or naming another engine winner, slot or tokens than its settlement: not applied. */
  unknownResolutions: number;
  /** Market records that replaced an occupant not yet settled or still holding live orders, or brought back a settled market: applied anyway. */
  unsafeMarkets: number;
}

export interface JournalLedgerOptions {
  /** [markets] audit_timeout_ms. Absent: pending audits never expire. */
  auditTimeoutMs?: number | undefined;
}

/** When the venue is given up on for a settled market: its window's end plus the audit timeout (the auditor's rule too). */
export function auditDeadlineMs(market: Pick<MarketDescriptor, 'endMs'>, timeoutMs: number): number {
  return market.endMs + timeoutMs;
}

const LIVE: ReadonlySet<Order['status']> = new Set(['pending', 'open']);

export class JournalLedger {
  /** Pending and open orders by id, with `filled` so far. Owned here: callers read, never mutate. */
  readonly openOrders = new Map<string, Order>();
  /** Ids of the fills applied, so a fill journaled twice counts once. */
  readonly fillIds = new Set<string>();
  /**
   * The ids of `fillIds` by market slot. A slot's ids leave when its next market takes it: every fill of the old
   * one came before its settlement, and keeping them made every snapshot grow with every fill of the journal's
   * life. Ids from a snapshot that did not record their slot are in no list, and stay.
   */
  private readonly fillIdsBySlot = new Map<number, string[]>();
  readonly mergeIds = new Set<string>();
  /** Current occupant of each occupied market slot. Owned here: callers read, never mutate. */
  readonly slots = new Map<number, MarketDescriptor>();
  /** Final opening price of each current occupant's window, once journaled. */
  readonly opens = new Map<number, WindowOpen>();
  readonly settleIds = new Set<string>();
  /** ConditionIds of every market settled so far, current occupants or not. */
  readonly settled = new Set<string>();
  /** ConditionIds corrected to the venue's verdict. */
  readonly resolved = new Set<string>();
  /**
   * Venue requests journaled without their venue_response yet, by
   * `method orderId`: what a restart must ask the venue about before it
   * trusts its own view of those orders.
   */
  readonly inFlight = new Map<string, Omit<VenueRequestRecord, 'seq'>>();
  /** Settlement of each slot whose current occupant has settled. */
  private readonly settlements = new Map<number, Settlement>();
  /** Settlements the venue has not ruled on, by conditionId, retired markets' included. */
  private readonly audits = new Map<string, PendingAudit>();
  private readonly auditTimeoutMs: number;
  private expired = 0;
  /** The journal's clock: the latest record time applied. */
  private latestMs = -Infinity;
  readonly anomalies: StateAnomalies = {
    duplicateFills: 0,
    duplicateMerges: 0,
    fillsWithoutOrder: 0,
    unknownOrderEvents: 0,
    duplicateOrders: 0,
    duplicateSettles: 0,
    unknownSettles: 0,
    duplicateResolutions: 0,
    unknownResolutions: 0,
    unsafeMarkets: 0,
  };
  private applied = 0;

  constructor(
    private readonly positions: PositionApplier,
    options: JournalLedgerOptions = {},
  ) {
    this.auditTimeoutMs = options.auditTimeoutMs ?? Infinity;
  }

  apply(record: JournalInput): void {
    if (record.tsMs > this.latestMs) this.latestMs = record.tsMs;
    switch (record.type) {
      case 'order': {
        const o = record.order;
        if (this.openOrders.has(o.id)) this.anomalies.duplicateOrders++;
        else if (LIVE.has(o.status)) this.openOrders.set(o.id, { ...o });
        break;
      }
      case 'restored': {
        // Back in flight to the venue: its next ack makes it open again.
        const o = this.openOrders.get(record.orderId);
        if (!o) this.anomalies.unknownOrderEvents++;
        else o.status = 'pending';
        break;
      }
      case 'ack': {
        const o = this.openOrders.get(record.orderId);
        if (!o) this.anomalies.unknownOrderEvents++;
        else {
          o.status = 'open';
          o.ackMs = record.ackMs;
        }
        break;
      }
      case 'reject':
      case 'cancel':
      case 'expire':
        if (!this.openOrders.delete(record.orderId)) this.anomalies.unknownOrderEvents++;
        break;
      case 'fill':
        this.fill(record.fill);
        break;
      case 'merge':
        this.merge(record.merge);
        break;
      case 'market':
        this.occupy(record.slot, record.market);
        break;
      case 'settle':
        this.settle(record.settlement);
        break;
      case 'resolution':
        this.resolve(record.resolution);
        break;
      case 'window':
        // Only for the market the slot holds: an open never outlives its occupant.
        if (this.slots.get(record.slot)?.conditionId === record.conditionId) this.opens.set(record.slot, { slot: record.slot, conditionId: record.conditionId, open: record.open, openTsMs: record.openTsMs });
        break;
      case 'position':
        this.load(record);
        break;
      case 'session':
        break;
      case 'venue_request':
        this.inFlight.set(`${record.method} ${record.orderId}`, { ...record });
        break;
      case 'venue_response':
        this.inFlight.delete(`${record.method} ${record.orderId}`);
        break;
    }
    this.applied++;
  }

  /** A position record holding this state; `positions` is the keeper's own snapshot. */
  snapshot(positions: unknown, tsMs: number): PositionInput {
    return {
      type: 'position',
      tsMs,
      positions,
      orders: Array.from(this.openOrders.values(), (o) => ({ ...o })),
      fillIds: Array.from(this.fillIds),
      fillIdSlots: this.fillIdSlots(),
      mergeIds: Array.from(this.mergeIds),
      slots: Array.from(this.slots, ([slot, market]) => ({ slot, market: copyDescriptor(market) })),
      settlements: Array.from(this.settlements.values(), copySettlement),
      settledConditions: Array.from(this.settled),
      settleIds: Array.from(this.settleIds),
      resolutionIds: Array.from(this.resolved),
      opens: Array.from(this.opens.values(), (o) => ({ ...o })),
      audits: Array.from(this.audits.values(), copyAudit),
      requests: Array.from(this.inFlight.values(), (r) => ({ ...r })),
    };
  }

  /**
   * Every settlement the venue has not ruled on and whose deadline the
   * journal's clock has not reached, with its market's descriptor as it
   * settled: what a restart hands back to the settlement audit.
   */
  pendingAudits(): Iterable<Readonly<PendingAudit>> {
    return this.audits.values();
  }

  /** Pending audits dropped because the journal's clock reached their deadline. */
  get expiredAudits(): number {
    return this.expired;
  }

  /** Drops the pending audits whose deadline `nowMs` has reached (default: the journal's clock). */
  expireAudits(nowMs = this.latestMs): void {
    if (this.auditTimeoutMs === Infinity) return;
    for (const [conditionId, a] of this.audits) {
      if (nowMs >= auditDeadlineMs(a.descriptor, this.auditTimeoutMs)) {
        this.audits.delete(conditionId);
        this.expired++;
      }
    }
  }

  isSettled(conditionId: string): boolean {
    return this.settled.has(conditionId);
  }

  /** Whether the venue's verdict on `conditionId` has been applied. */
  isResolved(conditionId: string): boolean {
    return this.resolved.has(conditionId);
  }

  /** The settlement of the market now in `slot`; undefined while it is unsettled (or the slot is empty). */
  settlementOf(slot: number): Readonly<Settlement> | undefined {
    return this.settlements.get(slot);
  }

  /** Whether a new market may take `slot`: it is empty, or its market has settled and has no live order. */
  isSlotFree(slot: number): boolean {
    if (!this.slots.has(slot)) return true;
    return this.settlements.has(slot) && !this.hasLiveOrders(slot);
  }

  /** Any pending or open order on the slot's tokens (market slot m owns token slots 2m and 2m + 1). */
  hasLiveOrders(slot: number): boolean {
    for (const o of this.openOrders.values()) if (Math.floor(o.token / 2) === slot) return true;
    return false;
  }

  private slotFillIds(slot: number): string[] {
    let ids = this.fillIdsBySlot.get(slot);
    if (ids === undefined) this.fillIdsBySlot.set(slot, (ids = []));
    return ids;
  }

  /** The slot of each of `fillIds`, in its order; -1 for an id a snapshot brought without one. */
  private fillIdSlots(): number[] {
    const slotOf = new Map<string, number>();
    for (const [slot, ids] of this.fillIdsBySlot) for (const id of ids) slotOf.set(id, slot);
    return Array.from(this.fillIds, (id) => slotOf.get(id) ?? -1);
  }

  private fill(fill: Fill): void {
    if (this.fillIds.has(fill.fillId)) {
      this.anomalies.duplicateFills++;
      return;
    }
    this.fillIds.add(fill.fillId);
    this.slotFillIds(Math.floor(fill.token / 2)).push(fill.fillId);
    if (!this.positions.applyFill(fill)) {
      this.anomalies.duplicateFills++;
      return;
    }
    const o = this.openOrders.get(fill.orderId);
    if (!o) {
      this.anomalies.fillsWithoutOrder++;
      return;
    }
    o.filled += fill.size;
    if (o.filled >= o.size) {
      o.status = 'filled';
      this.openOrders.delete(o.id);
    }
  }

  private merge(merge: Merge): void {
    if (!this.positions.applyMerge) throw new Error('the journal holds merges, but the position applier cannot apply them');
    if (this.mergeIds.has(merge.mergeId)) {
      this.anomalies.duplicateMerges++;
      return;
    }
    this.mergeIds.add(merge.mergeId);
    if (!this.positions.applyMerge(merge)) this.anomalies.duplicateMerges++;
  }

  private occupy(slot: number, market: MarketDescriptor): void {
    if (!this.positions.retireMarket) throw new Error('the journal holds market records, but the position applier cannot retire a market');
    const prev = this.slots.get(slot);
    if (prev !== undefined && prev.conditionId === market.conditionId) {
      this.slots.set(slot, copyDescriptor(market));
      return;
    }
    if ((prev !== undefined && !this.isSlotFree(slot)) || this.settled.has(market.conditionId)) this.anomalies.unsafeMarkets++;
    if (prev !== undefined) {
      this.positions.retireMarket(slot);
      for (const id of this.fillIdsBySlot.get(slot) ?? []) this.fillIds.delete(id);
      this.fillIdsBySlot.delete(slot);
    }
    this.settlements.delete(slot);
    this.opens.delete(slot);
    this.slots.set(slot, copyDescriptor(market));
  }

  private settle(s: Settlement): void {
    if (!this.positions.settle) throw new Error('the journal holds settlements, but the position applier cannot apply them');
    if (this.settleIds.has(s.settleId) || this.settled.has(s.conditionId)) {
      this.anomalies.duplicateSettles++;
      return;
    }
    const market = this.slots.get(s.market);
    if (market?.conditionId !== s.conditionId || !namesSlotTokens(s)) {
      this.anomalies.unknownSettles++;
      return;
    }
    this.settleIds.add(s.settleId);
    this.settled.add(s.conditionId);
    this.settlements.set(s.market, copySettlement(s));
    this.audits.set(s.conditionId, copyAudit({ descriptor: market, settlement: s }));
    this.expireAudits();
    if (!this.positions.settle(s)) this.anomalies.duplicateSettles++;
  }

  private resolve(r: Resolution): void {
    if (!this.positions.correct) throw new Error('the journal holds resolutions, but the position applier cannot apply them');
    if (this.resolved.has(r.conditionId)) {
      this.anomalies.duplicateResolutions++;
      return;
    }
    if (!this.settled.has(r.conditionId) || !namesSlotTokens(r)) {
      this.anomalies.unknownResolutions++;
      return;
    }
    const s = this.settlements.get(r.market);
    const current = s !== undefined && s.conditionId === r.conditionId;
    // The engine's settlement: its slot's while the market holds it, else its pending audit's (gone once expired, and then unchecked).
    const engine = current ? s : this.audits.get(r.conditionId)?.settlement;
    if (engine !== undefined && (engine.winner !== r.engineWinner || engine.market !== r.market)) {
      this.anomalies.unknownResolutions++;
      return;
    }
    this.resolved.add(r.conditionId);
    this.audits.delete(r.conditionId);
    if (current && r.winner !== s.winner) this.settlements.set(r.market, { ...copySettlement(s), winner: r.winner, engineWinner: s.winner });
    if (!this.positions.correct(r, current)) this.anomalies.duplicateResolutions++;
  }

  private load(rec: PositionInput): void {
    if (this.positions.restore) this.positions.restore(rec.positions);
    // Without restore() the keeper can only have got here by replaying every record before the snapshot.
    else if (this.applied === 0) throw new Error('the journal starts from a position snapshot, but the position applier cannot restore one');
    this.openOrders.clear();
    for (const o of rec.orders) this.openOrders.set(o.id, { ...o });
    this.inFlight.clear();
    for (const r of rec.requests ?? []) this.inFlight.set(`${r.method} ${r.orderId}`, { ...r });
    this.fillIds.clear();
    this.fillIdsBySlot.clear();
    const slotsKnown = rec.fillIdSlots?.length === rec.fillIds.length;
    rec.fillIds.forEach((id, i) => {
      this.fillIds.add(id);
      if (slotsKnown) this.slotFillIds(rec.fillIdSlots![i]!).push(id);
    });
    this.mergeIds.clear();
    for (const id of rec.mergeIds) this.mergeIds.add(id);
    this.slots.clear();
    for (const { slot, market } of rec.slots ?? []) this.slots.set(slot, copyDescriptor(market));
    this.settleIds.clear();
    for (const id of rec.settleIds ?? []) this.settleIds.add(id);
    this.settled.clear();
    for (const id of rec.settledConditions ?? []) this.settled.add(id);
    this.resolved.clear();
    for (const id of rec.resolutionIds ?? []) this.resolved.add(id);
    this.opens.clear();
    for (const o of rec.opens ?? []) if (this.slots.get(o.slot)?.conditionId === o.conditionId) this.opens.set(o.slot, { ...o });
    this.settlements.clear();
    for (const s of rec.settlements ?? []) {
      if (this.slots.get(s.market)?.conditionId === s.conditionId) this.settlements.set(s.market, copySettlement(s));
    }
    this.audits.clear();
    if (rec.audits !== undefined) {
      for (const a of rec.audits) {
        const id = a.settlement.conditionId;
        if (a.descriptor.conditionId === id && this.settled.has(id) && !this.resolved.has(id)) this.audits.set(id, copyAudit(a));
      }
    } else {
      // Written before pending audits were kept: the settled occupants the venue has not ruled on are all it knew of.
      for (const s of this.settlements.values()) {
        const market = this.slots.get(s.market);
        if (market !== undefined && !this.resolved.has(s.conditionId)) this.audits.set(s.conditionId, copyAudit({ descriptor: market, settlement: s }));
      }
    }
  }
}

/** Its tokens are its market slot's: token slots 2m and 2m + 1, in that order. */
function namesSlotTokens(x: { market: number; tokens: readonly [number, number] }): boolean {
  return x.tokens[0] === 2 * x.market && x.tokens[1] === 2 * x.market + 1;
}

function copyDescriptor(d: MarketDescriptor): MarketDescriptor {
  return { ...d, tokenIds: [d.tokenIds[0], d.tokenIds[1]], outcomes: [d.outcomes[0], d.outcomes[1]] };
}

function copySettlement(s: Settlement): Settlement {
  const out: Settlement = { ...s, tokens: [s.tokens[0], s.tokens[1]] };
  if (s.holdings) out.holdings = s.holdings.map((h) => ({ strategy: h.strategy, positions: [h.positions[0], h.positions[1]] }));
  return out;
}

function copyAudit(a: PendingAudit): PendingAudit {
  return { descriptor: copyDescriptor(a.descriptor), settlement: copySettlement(a.settlement) };
}

export interface RestoreResult {
  state: JournalLedger;
  /** Seq of the snapshot restore started from; 0 when it replayed from the first record. */
  fromSeq: number;
  /** Records applied, the snapshot included. */
  applied: number;
  lastSeq: number;
}

/**
 * Rebuilds state from a journal's records (Journal.open or Journal.replay
 * gives them), starting at the last snapshot the applier can load; pending
 * audits whose deadline the journal's clock has reached are dropped.
 */
export function restore(records: readonly JournalRecord[], positions: PositionApplier, options: JournalLedgerOptions = {}): RestoreResult {
  let start = 0;
  if (positions.restore) {
    for (let i = records.length - 1; i >= 0; i--) {
      if (records[i]!.type === 'position') {
        start = i;
        break;
      }
    }
  }
  const state = new JournalLedger(positions, options);
  for (let i = start; i < records.length; i++) state.apply(records[i]!);
  state.expireAudits();
  const first = records[start];
  return {
    state,
    fromSeq: first?.type === 'position' ? first.seq : 0,
    applied: records.length - start,
    lastSeq: records.at(-1)?.seq ?? 0,
  };
}
