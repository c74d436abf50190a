// What the main thread hands a feed worker at spawn (workerData): shared
// buffers plus a plain description of the feed. Everything here was built by
// engine code from validated config, so the worker trusts it.

import type { BinanceSymbol } from './feeds/binance-core.js';
import type { RtdsSymbol } from './feeds/rtds-core.js';

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

export type FeedSpec =
  | { feed: 'polymarket'; wsUrl: string; restUrl: string; tokenIds: readonly string[]; maxAssetsPerConnection: number }
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

/** Main → worker messages. */
export type FeedControlMessage = { type: 'stop' };

export const DEFAULT_TUNING: ConnectionTuning = { stallMs: 15_000, pingIntervalMs: 5_000, backoffBaseMs: 250, backoffMaxMs: 10_000 };
