// Replay of an hftbacktest capture (gzip lines "<local_ns> <frame json>":
// one Binance USD-M symbol's streams plus its REST snapshot) through the
// Binance core the live worker runs, as fast as possible or at recorded pace.

import { setTimeout as sleep } from 'node:timers/promises';
import { BinanceBookWriter, createBinanceBooks } from '../../workers/venues/binance/book.js';
import { createCounters } from '../../workers/counters.js';
import { BinanceCore } from '../../workers/venues/binance/feed.js';
import { discardEvents } from '../../workers/event-sink.js';
import { readHftbacktestCapture } from '../../workers/recording/hftbacktest.js';
import type { TopLine } from './replay.js';

export interface CaptureReplayOptions {
  /** The capture's symbol, upper case. */
  symbol: string;
  /** Decimals of its tick (0.1 → 1). */
  tickExp: number;
  pace: 'fast' | 'recorded';
  onTop?: ((t: TopLine) => void) | undefined;
  /** Called before each recorded-pace wait, so output the caller buffers is out before it. */
  beforeWait?: (() => void) | undefined;
}

export interface CaptureReplayResult {
  counters: Float64Array;
  /** The last venue update id applied. */
  lastUpdateId: number;
}

/** Replays one hftbacktest capture file. */
export async function replayCaptureFile(path: string, opts: CaptureReplayOptions): Promise<CaptureReplayResult> {
  const { symbol, tickExp, onTop } = opts;
  const counters = createCounters();
  const core: BinanceCore = new BinanceCore({
    symbols: [{ symbol, tickExp }],
    books: new BinanceBookWriter(createBinanceBooks([{ tickValue: 10 ** -tickExp }])),
    events: discardEvents,
    counters,
    source: 0,
    // The capture carries its own snapshot; nothing to fetch.
    requestSnapshot: () => {},
    onTopChange: onTop
      ? (t) =>
          onTop({
            venue: 'binance-usdm',
            symbol,
            u: t.u,
            ts: t.eventMs,
            bid: core.formatPrice(0, t.bidTicks),
            bidSize: core.formatQty(0, t.bidQty),
            ask: core.formatPrice(0, t.askTicks),
            askSize: core.formatQty(0, t.askQty),
          })
      : undefined,
  });
  core.start();
  let prevNs: bigint | undefined;
  for await (const line of readHftbacktestCapture(path)) {
    if (opts.pace === 'recorded' && prevNs !== undefined && line.localNs > prevNs) {
      opts.beforeWait?.();
      await sleep(Number(line.localNs - prevNs) / 1e6);
    }
    prevNs = line.localNs;
    const recvNs = Number(line.localNs % 1_000_000_000_000n);
    if (line.snapshot) core.onSnapshot(0, line.frame, recvNs);
    else core.onFrame(line.frame, recvNs);
  }
  return { counters, lastUpdateId: core.lastUpdateId(0) };
}
