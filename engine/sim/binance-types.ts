// Binance USD-M wire shapes (protocols.md §9) as the simulator emits them.

import type { WireSide } from '../trading/types.js';

export type PriceLevel = [price: string, qty: string];

export interface DepthUpdate {
  readonly e: 'depthUpdate';
  readonly E: number;
  readonly T: number;
  readonly s: string;
  readonly U: number;
  readonly u: number;
  readonly pu: number;
  readonly b: readonly PriceLevel[];
  readonly a: readonly PriceLevel[];
}

export interface BookTicker {
  readonly e: 'bookTicker';
  readonly u: number;
  readonly s: string;
  readonly b: string;
  readonly B: string;
  readonly a: string;
  readonly A: string;
  readonly T: number;
  readonly E: number;
}

export interface TradeEvent {
  readonly e: 'trade';
  readonly E: number;
  readonly T: number;
  readonly s: string;
  readonly t: number;
  readonly p: string;
  readonly q: string;
  readonly X: string;
  readonly m: boolean;
}

export interface AggTrade {
  readonly e: 'aggTrade';
  readonly E: number;
  readonly s: string;
  readonly a: number;
  readonly p: string;
  readonly q: string;
  readonly nq: string;
  readonly f: number;
  readonly l: number;
  readonly T: number;
  readonly m: boolean;
}

export interface ForceOrder {
  readonly e: 'forceOrder';
  readonly E: number;
  readonly o: {
    readonly s: string;
    readonly S: WireSide;
    readonly o: 'LIMIT';
    readonly f: 'IOC';
    readonly q: string;
    readonly p: string;
    readonly ap: string;
    readonly X: string;
    readonly l: string;
    readonly z: string;
    readonly T: number;
  };
}

/** `GET /fapi/v1/depth` response. */
export interface DepthSnapshot {
  readonly lastUpdateId: number;
  readonly E: number;
  readonly T: number;
  readonly bids: readonly PriceLevel[];
  readonly asks: readonly PriceLevel[];
}

/**
 * One source event. `raw` is the exact `data` JSON text when replaying a
 * capture, so recorded frames go out byte-for-byte.
 */
export type BinanceEvent =
  | { readonly kind: 'depth'; readonly data: DepthUpdate; readonly raw?: string }
  | { readonly kind: 'bookTicker'; readonly data: BookTicker; readonly raw?: string }
  | { readonly kind: 'trade'; readonly data: TradeEvent; readonly raw?: string };
