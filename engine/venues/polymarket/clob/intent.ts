// An engine order as the CLOB order the venue signs: tick, amounts (a market
// BUY spends dollars), post-only, GTD expiration with the venue's security
// threshold, order version. Shared by the dry-run and live venues, so what a
// dry run journals is byte for byte what live trading would post.

import { fieldError, PolyedgeError } from '../../../errors.js';
import type { OrderSigner } from '../../../native.js';
import type { TickSize } from '../order/amounts.js';
import { buildSignedOrder, GTD_MIN_LEAD_SECONDS, type BuiltOrder, type OrderIntent } from '../order/build.js';
import { notionalMicros, wireSide, Side, type MarketInfo, type Order, type RejectReason, type TokenInfo } from '../../../trading/types.js';

/** Grid ticks (1e-4) of each tick size the venue lists. */
const TICK_OF_TICKS: ReadonlyMap<number, TickSize> = new Map([
  [1000, '0.1'],
  [100, '0.01'],
  [50, '0.005'],
  [25, '0.0025'],
  [10, '0.001'],
  [1, '0.0001'],
]);
/** Engine units (1e-4 price ticks, 1e-6 shares and pUSD) to exact 1e-18 decimals. */
const PRICE_TO_DEC = 10n ** 14n;
const MICRO_TO_DEC = 10n ** 12n;
export interface VenueSigning {
  order_version: 2 | 3;
  signature_type: 0 | 1 | 2 | 3;
  /** Maker wallet for signature types 1-3; "" = the signer. */
  funder: string;
  chain_id: number;
}

export function orderIntent(order: Order, size: number, info: TokenInfo, market: MarketInfo, signing: VenueSigning, owner: string): OrderIntent {
  const tick = TICK_OF_TICKS.get(market.tickSize);
  if (tick === undefined) throw fieldError('PE_ORDER_TICK', 'tick', `the market's tick of ${market.tickSize} grid ticks is not one the venue lists`);
  const side = wireSide(order.side);
  const marketOrder = order.type === 'FOK' || order.type === 'FAK';
  return {
    tokenId: info.tokenId,
    side,
    price: BigInt(order.price) * PRICE_TO_DEC,
    // A market BUY spends dollars (protocols §6.3): the order's notional at its worst price.
    size: marketOrder && order.side === Side.Buy ? undefined : BigInt(size) * MICRO_TO_DEC,
    amount: marketOrder && order.side === Side.Buy ? BigInt(notionalMicros(order.price, size)) * MICRO_TO_DEC : undefined,
    tick,
    minSize: BigInt(market.minSize) * MICRO_TO_DEC,
    negRisk: market.negRisk,
    type: order.type,
    postOnly: order.postOnly,
    // The CLOB keeps a GTD until `expiration` less its one-minute security threshold (protocols §6.3).
    expiration: order.type === 'GTD' ? Math.ceil(order.expiresMs / 1000) + GTD_MIN_LEAD_SECONDS : undefined,
    version: signing.order_version,
    chainId: signing.chain_id,
    signatureType: signing.signature_type,
    maker: signing.funder || undefined,
    owner,
  };
}

export interface SignedOrder {
  built: BuiltOrder;
  intent: OrderIntent;
  tokenId: string;
}

/**
 * What of `order` (its `size` still to place) the venue would take: the
 * signed order, or why not (unknown token, expired GTD, a rule the builder
 * enforces). `note` hears why a build failed, for a debug log.
 */
export function signOrder(
  order: Order,
  size: number,
  nowMs: number,
  ctx: { signer: OrderSigner; signing: VenueSigning; owner: string; markets: readonly MarketInfo[]; tokens: readonly TokenInfo[] },
  note?: (line: string) => void,
): SignedOrder | RejectReason {
  const info = ctx.tokens[order.token];
  const market = info === undefined ? undefined : ctx.markets[info.market];
  if (info === undefined || market === undefined || info.tokenId === '' || info.index !== order.token) return 'unknown_token';
  if (order.type === 'GTD' && !(order.expiresMs > nowMs)) return 'expired';
  try {
    // Inside the try: a tick size the venue does not list (after a tick_size_change) refuses the order, never throws past it.
    const intent = orderIntent(order, size, info, market, ctx.signing, ctx.owner);
    return { built: buildSignedOrder(ctx.signer, intent, nowMs), intent, tokenId: info.tokenId };
  } catch (err) {
    if (!(err instanceof PolyedgeError)) throw err;
    note?.(`order ${order.id} not built: ${err.format()}`);
    return err.code === 'PE_ORDER_EXPIRATION' ? 'expired' : 'invalid_order';
  }
}
