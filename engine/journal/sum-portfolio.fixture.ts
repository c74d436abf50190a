// A small, real position keeper for journal tests: positions per token, cash
// and fees summed from fills and merges, duplicates refused by id. It stands
// in for engine/portfolio only through the PositionApplier contract.

import { notionalMicros, Side, type Fill } from '../trading/types.js';
import type { Merge } from './records.js';
import type { PositionApplier } from './ledger.js';

export interface SumSnapshot {
  positions: [number, number][];
  cash: number;
  fees: number;
  ids: string[];
}

export class SumPortfolio implements PositionApplier {
  readonly positions = new Map<number, number>();
  /** Micro-pUSD: sells and merges in, buys and fees out. */
  cash = 0;
  fees = 0;
  private readonly ids = new Set<string>();

  applyFill(fill: Fill): boolean {
    if (this.ids.has(fill.fillId)) return false;
    this.ids.add(fill.fillId);
    const sign = fill.side === Side.Buy ? 1 : -1;
    this.add(fill.token, sign * fill.size);
    this.cash -= sign * notionalMicros(fill.price, fill.size) + fill.fee;
    this.fees += fill.fee;
    return true;
  }

  applyMerge(merge: Merge): boolean {
    if (this.ids.has(merge.mergeId)) return false;
    this.ids.add(merge.mergeId);
    this.add(merge.tokens[0], -merge.size);
    this.add(merge.tokens[1], -merge.size);
    this.cash += merge.size;
    return true;
  }

  snapshot(): SumSnapshot {
    return { positions: [...this.positions], cash: this.cash, fees: this.fees, ids: [...this.ids] };
  }

  restore(snapshot: unknown): void {
    const s = snapshot as Partial<SumSnapshot> | null;
    const pairs = s?.positions;
    if (
      !Array.isArray(pairs) ||
      !pairs.every((p) => Array.isArray(p) && p.length === 2 && p.every(Number.isSafeInteger)) ||
      !Number.isSafeInteger(s?.cash) ||
      !Number.isSafeInteger(s?.fees) ||
      !Array.isArray(s?.ids) ||
      !s.ids.every((id) => typeof id === 'string')
    ) {
      throw new Error('not a SumPortfolio snapshot');
    }
    this.positions.clear();
    for (const [token, size] of pairs) this.positions.set(token, size);
    this.cash = s.cash as number;
    this.fees = s.fees as number;
    this.ids.clear();
    for (const id of s.ids) this.ids.add(id);
  }

  /** Positions without the zero entries, sorted by token: comparable across keepers. */
  nonZero(): [number, number][] {
    return [...this.positions].filter(([, v]) => v !== 0).sort((a, b) => a[0] - b[0]);
  }

  private add(token: number, size: number): void {
    this.positions.set(token, (this.positions.get(token) ?? 0) + size);
  }
}
