// Where orders go: the seam between order management (order-manager.ts) and
// a venue. The paper venue (paper.ts) implements it against the live books;
// a live CLOB client implements the same calls and reports through the same
// ExecutionListener.

import type { Order, Side } from '../trading/types.js';

export interface ExecutionVenue {
  /** Sends a fresh order (status pending, nothing filled); the venue owns its status, filled and ackMs from now on. */
  submit(order: Order, nowMs: number): void;
  /** Puts back an order a previous run left open, for what is left of it; fill ids carry `fillTag` so they never collide with an earlier run's. */
  reinstate(order: Order, nowMs: number, fillTag: string): void;
  /** Sends a cancel; false when the order is unknown or already final as far as the engine has been told. */
  cancel(orderId: string, nowMs: number): boolean;
  /** Delivers every report due by `nowMs` through the listener. */
  advance(nowMs: number): void;
  /** When advance() next has something to do; Infinity when idle. */
  nextDueMs(): number;
  /** Ends everything on `token` at once (its market closed): a live order there is reported cancelled before this returns. */
  resetToken(token: number): void;
  /** A public trade on `token` (a simulated venue matches against it; a real one ignores it). */
  onTrade(token: number, priceTicks: number, sizeMicro: number, takerSide: Side, nowMs: number): void;
  /** `token`'s book changed (a simulated venue matches against it; a real one ignores it). */
  onBook(token: number, nowMs: number): void;
  /** Public size ahead of a resting order, micro-shares (an estimate where the venue does not publish it); NaN when it is not resting. */
  queueAhead(orderId: string): number;
}
