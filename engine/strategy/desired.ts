// Helpers for the orders a strategy already has live. Re-emitting a live
// order field for field is how a strategy says "keep it": the engine's
// reconcile matches desired against open orders, so an identical record
// leaves the order alone instead of cancelling and re-sending it.

import type { DesiredOrder, Order } from '../trading/types.js';
import type { StrategyContext } from './types.js';

export function isLive(o: Order): boolean {
  return o.status === 'pending' || o.status === 'open';
}

/** The desired-order record that keeps `o` as it is. */
export function keepOrder(o: Order): DesiredOrder {
  return {
    token: o.token,
    side: o.side,
    price: o.price,
    size: o.size,
    type: o.type,
    postOnly: o.postOnly,
    expiresMs: o.expiresMs,
    reason: o.reason,
  };
}

/**
 * Re-emits every live order on the given tokens; returns how many. Taker
 * strategies call it while their orders are in flight, so they neither
 * cancel them nor fire a second time on the same opportunity.
 */
export function keepLiveOrders(ctx: StrategyContext, tokens: readonly number[], out: DesiredOrder[]): number {
  let kept = 0;
  for (let t = 0; t < tokens.length; t++) {
    const orders = ctx.openOrders(tokens[t]!);
    for (let i = 0; i < orders.length; i++) {
      const o = orders[i]!;
      if (!isLive(o)) continue;
      out.push(keepOrder(o));
      kept++;
    }
  }
  return kept;
}
