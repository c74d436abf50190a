// Engine state from journal records: the orders still live, the fills and
// merges already counted, and (through the position keeper's applier)
// positions and cash. The same reducer runs live: feed JournalState every
// record right after appending it, and the state a restart rebuilds is by
// construction the state the engine held. Restore starts from the last
// position snapshot, so its cost is the records written since then.

import type { Fill, Order } from '../trading/types.js';
import type { JournalInput, JournalRecord, Merge, PositionInput } from './records.js';

/**
 * What restore needs from the position keeper (engine/portfolio). It is
 * deliberately small so the keeper can change freely behind it.
 */
export interface PositionApplier {
  /** Applies a fill; false when its fillId was already applied. */
  applyFill(fill: Fill): boolean;
  /** Applies a merge; false when its mergeId was already applied. Needed only once merges are journaled. */
  applyMerge?(merge: Merge): boolean;
  /** Replaces the keeper's state with a snapshot it produced earlier. The value was read from disk: validate it. Needed to start from a snapshot. */
  restore?(snapshot: unknown): void;
}

export interface StateAnomalies {
  /** Fills whose fillId was already applied (a venue re-delivery): journaled, not counted again. */
  duplicateFills: number;
  duplicateMerges: number;
  /** Fills for an order not live here (a cancel raced the fill, or the order predates the journal): they still move positions. */
  fillsWithoutOrder: number;
  /** Ack, reject, cancel or expire for an order not live here. */
  unknownOrderEvents: number;
  /** Order records whose id is already live. */
  duplicateOrders: number;
}

const LIVE: ReadonlySet<Order['status']> = new Set(['pending', 'open']);

export class JournalState {
  /** Pending and open orders by id, with `filled` so far. Owned here: callers read, never mutate. */
  readonly openOrders = new Map<string, Order>();
  readonly fillIds = new Set<string>();
  readonly mergeIds = new Set<string>();
  readonly anomalies: StateAnomalies = { duplicateFills: 0, duplicateMerges: 0, fillsWithoutOrder: 0, unknownOrderEvents: 0, duplicateOrders: 0 };
  private applied = 0;

  constructor(private readonly positions: PositionApplier) {}

  apply(record: JournalInput): void {
    switch (record.type) {
      case 'order': {
        const o = record.order;
        if (this.openOrders.has(o.id)) this.anomalies.duplicateOrders++;
        else if (LIVE.has(o.status)) this.openOrders.set(o.id, { ...o });
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
      case 'position':
        this.load(record);
        break;
      case 'session':
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
      mergeIds: Array.from(this.mergeIds),
    };
  }

  private fill(fill: Fill): void {
    if (this.fillIds.has(fill.fillId)) {
      this.anomalies.duplicateFills++;
      return;
    }
    this.fillIds.add(fill.fillId);
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

  private load(rec: PositionInput): void {
    if (this.positions.restore) this.positions.restore(rec.positions);
    // Without restore() the keeper can only have got here by replaying every record before the snapshot.
    else if (this.applied === 0) throw new Error('the journal starts from a position snapshot, but the position applier cannot restore one');
    this.openOrders.clear();
    for (const o of rec.orders) this.openOrders.set(o.id, { ...o });
    this.fillIds.clear();
    for (const id of rec.fillIds) this.fillIds.add(id);
    this.mergeIds.clear();
    for (const id of rec.mergeIds) this.mergeIds.add(id);
  }
}

export interface RestoreResult {
  state: JournalState;
  /** Seq of the snapshot restore started from; 0 when it replayed from the first record. */
  fromSeq: number;
  /** Records applied, the snapshot included. */
  applied: number;
  lastSeq: number;
}

/** Rebuilds state from a journal's records (Journal.open or Journal.replay gives them), starting at the last snapshot the applier can load. */
export function restore(records: readonly JournalRecord[], positions: PositionApplier): RestoreResult {
  let start = 0;
  if (positions.restore) {
    for (let i = records.length - 1; i >= 0; i--) {
      if (records[i]!.type === 'position') {
        start = i;
        break;
      }
    }
  }
  const state = new JournalState(positions);
  for (let i = start; i < records.length; i++) state.apply(records[i]!);
  const first = records[start];
  return {
    state,
    fromSeq: first?.type === 'position' ? first.seq : 0,
    applied: records.length - start,
    lastSeq: records.at(-1)?.seq ?? 0,
  };
}
