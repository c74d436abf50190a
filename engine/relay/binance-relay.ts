// BookTickerRelay: Binance USD-M `<symbol>@bookTicker` (protocols.md §9.1:
// a book stream, so on the `/public` route) → one relay packet per update.
// The connection is the feed workers' FeedConnection (reconnect with
// backoff, stall detection; the venue's ping frames are answered by `ws`),
// the frames go through the same byte-level parser as the feeds.
//
// Prices: the symbol is registered on the 1e-8 grid, finer than any USD-M
// tick, so every price the venue writes parses; ticks / 1e8 is then the
// float64 that Number(text) gives (both are the correctly rounded value of
// the same decimal), which is what goes on the wire.

import { native } from '../native.js';
import { createCounters, COUNTER } from '../../workers/counters.js';
import { FeedConnection } from '../../workers/connection.js';
import { BinanceParser, type BinanceSink } from '../../workers/parse/binance.js';
import { Status } from '../../workers/parse/json.js';
import { F_ASK, F_ASK_SIZE, F_BID, F_BID_SIZE, F_EXCHANGE_TS_NS, F_RECV_TS_NS, F_SEQ, F_STREAM } from './packet.js';
import type { PacketSender } from './sender.js';

const TICK_EXP = 8;
const TICK_DIV = 1e8;
/** No frame for this long on a bookTicker stream means the socket is dead. */
const STALL_MS = 30_000;

export const DEFAULT_BINANCE_WS = 'wss://fstream.binance.com';

/** Combined-stream URL of one symbol's bookTicker under a Binance-compatible WS base. */
export function bookTickerUrl(base: string, symbol: string): string {
  return `${base.replace(/\/+$/, '')}/public/stream?streams=${symbol.toLowerCase()}@bookTicker`;
}

export interface BookTickerRelayOptions {
  /** WS base: wss://fstream.binance.com, or a simulator's ws://127.0.0.1:PORT. */
  url: string;
  /** As in the stream name, any case: btcusdt. */
  symbol: string;
  sender: PacketSender;
  /** Extended-frame stream id. Default 0. */
  stream?: number;
  /** After each packet is sent (or failed: sent = false). */
  onPacket?: (sent: boolean) => void;
  onOpen?: (reconnect: boolean) => void;
  onDown?: (reason: string) => void;
}

export class BookTickerRelay implements BinanceSink {
  /** Feed counters (workers/counters.ts slots): frames, parse errors, reconnects... */
  readonly counters = createCounters();
  readonly url: string;
  private readonly parser: BinanceParser;
  private readonly conn: FeedConnection;
  private readonly fields: Float64Array;
  private seq = 0;
  /** CLOCK_REALTIME - CLOCK_MONOTONIC, ns: turns the frame's monotonic stamp into wall time without a clock call per frame. */
  private wallOffsetNs = 0;
  private frameWallNs = 0;
  private framesSinceSync = 0;
  private stopped = false;

  constructor(private readonly opts: BookTickerRelayOptions) {
    this.url = bookTickerUrl(opts.url, opts.symbol);
    this.fields = opts.sender.fields;
    this.fields[F_STREAM] = opts.stream ?? 0;
    this.parser = new BinanceParser(this);
    this.parser.registerSymbol(opts.symbol.toUpperCase(), TICK_EXP);
    this.syncClocks();
    this.conn = new FeedConnection({
      url: this.url,
      stallMs: STALL_MS,
      counters: this.counters,
      onOpen: (_send, reconnect) => {
        this.syncClocks();
        opts.onOpen?.(reconnect);
      },
      onFrame: (data, recvNs) => this.onFrame(data, recvNs),
      ...(opts.onDown ? { onDown: opts.onDown } : {}),
    });
  }

  /** Packets sent so far (the last extended sequence number). */
  get sequence(): number {
    return this.seq;
  }

  start(): void {
    this.stopped = false;
    this.conn.start();
  }

  /** Closes the connection; callable from onPacket, and no packet is sent after it. */
  stop(): void {
    this.stopped = true;
    this.conn.stop();
  }

  private syncClocks(): void {
    this.wallOffsetNs = Number(native.wallNs() - native.nowNs());
    this.framesSinceSync = 0;
  }

  private onFrame(data: Buffer, recvNs: bigint): void {
    // NTP slews the wall clock; re-read the offset now and then.
    if (++this.framesSinceSync === 4096) this.syncClocks();
    this.frameWallNs = Number(recvNs) + this.wallOffsetNs;
    const c = this.counters;
    c[COUNTER.frames]!++;
    c[COUNTER.bytes]! += data.length;
    const status = this.parser.parse(data);
    if (status < 0) c[COUNTER.parseErrors]!++;
    else if (status === Status.UNKNOWN_EVENT || status === Status.UNKNOWN_ID) c[COUNTER.unknownEvents]!++;
  }

  onBookTicker(_sym: number, bidTicks: number, bidQty: number, askTicks: number, askQty: number, _updateId: number, eventMs: number): void {
    // One ws chunk can carry several frames; none may go out after stop().
    if (this.stopped) return;
    const f = this.fields;
    f[F_SEQ] = ++this.seq;
    f[F_EXCHANGE_TS_NS] = eventMs >= 0 ? eventMs * 1e6 : 0;
    f[F_RECV_TS_NS] = this.frameWallNs;
    f[F_BID] = bidTicks / TICK_DIV;
    f[F_ASK] = askTicks / TICK_DIV;
    f[F_BID_SIZE] = bidQty;
    f[F_ASK_SIZE] = askQty;
    const ok = this.opts.sender.send() > 0;
    this.opts.onPacket?.(ok);
  }

  onDepthBegin(): void {}
  onDepthLevel(): void {}
  onDepthEnd(): void {}
  onTrade(): void {}
  onAggTrade(): void {}
  onLiquidation(): void {}
}
