// What the main thread hands a feed worker at spawn (workerData): shared
// buffers plus a plain description of the feed. Everything here was built by
// engine code from validated config, so the worker trusts it.

import type { BinanceSymbol } from './venues/binance/feed.js';
import type { RtdsSymbol } from './venues/rtds/feed.js';

export type FeedName = 'polymarket' | 'binance' | 'rtds' | 'deribit';

export interface ConnectionTuning {
  /** No frame and no PONG for this long → reconnect (and resync). */
  stallMs: number;
  pingIntervalMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export interface RecordSpec {
  dir: string;
  maxBytes: number;
  maxMs: number;
}

/** The Polymarket variant of FeedSpec. */
export interface PolymarketFeedSpec {
  feed: 'polymarket';
  wsUrl: string;
  restUrl: string;
  /** Initial assignment: slot i holds tokenIds[i]. May be empty: no connection opens until the first assign. */
  tokenIds: readonly string[];
  /**
   * Book capacity in token slots (>= tokenIds.length): the books allocated,
   * and the slots assign/release address. Market slot m owns token slots 2m
   * and 2m+1 (engine/trading/types.ts).
   */
  slots: number;
  /** Shard k carries slots [k*max, (k+1)*max) on its own connection. */
  maxAssetsPerConnection: number;
}

export type FeedSpec =
  | PolymarketFeedSpec
  | {
      feed: 'binance';
      /** Base of the routed endpoints: `${wsBaseUrl}/public/stream?streams=…`, `${wsBaseUrl}/market/stream?streams=…`. */
      wsBaseUrl: string;
      restUrl: string;
      symbols: readonly BinanceSymbol[];
      /** Diff-depth stream suffix: "@depth@100ms", "@depth", "@depth@500ms". */
      depthStream: string;
      trades: boolean;
      liquidations: boolean;
      bookTicker: boolean;
    }
  | { feed: 'rtds'; wsUrl: string; symbols: readonly RtdsSymbol[]; /** Reconnect when no price arrives for this long. */ priceStallMs: number }
  | { feed: 'deribit'; wsUrl: string; indices: readonly string[] };

export interface FeedWorkerInit {
  spec: FeedSpec;
  /** Source index stamped on every event of this feed. */
  source: number;
  /** Core to pin to; -1 leaves the thread unpinned. */
  cpu: number;
  ringSab: SharedArrayBuffer;
  countersSab: SharedArrayBuffer;
  /** Polymarket and Binance feeds write books here. */
  booksSab?: SharedArrayBuffer | undefined;
  tuning: ConnectionTuning;
  record?: RecordSpec | undefined;
}

/** Worker → main messages. */
export type FeedWorkerMessage =
  | { type: 'ready'; feed: FeedName; cpu: number; tid: number; affinity: number[] }
  | { type: 'error'; feed: FeedName; message: string }
  | { type: 'stopped'; feed: FeedName; recordedFiles: string[] };

/**
 * Slots of a Polymarket spec. Specs from before slots existed (the meta of
 * older recordings) had one book per token.
 */
export function polymarketSlots(spec: Pick<PolymarketFeedSpec, 'tokenIds'> & { slots?: number | undefined }): number {
  return spec.slots ?? spec.tokenIds.length;
}

/**
 * Main → worker messages. assign / release (Polymarket only) give a vacant
 * token slot a token id, or take it away, over the live connections; a
 * caller error (occupied slot, id already held, vacant slot released) comes
 * back as an `error` message and changes nothing.
 */
export type FeedControlMessage = { type: 'stop' } | { type: 'assign'; slot: number; tokenId: string } | { type: 'release'; slot: number };

export const DEFAULT_TUNING: ConnectionTuning = { stallMs: 15_000, pingIntervalMs: 5_000, backoffBaseMs: 250, backoffMaxMs: 10_000 };
