// BinanceRelay: Binance USD-M `<symbol>@bookTicker` → one relay packet per
// update, and optionally `<symbol>@aggTrade` → one packet per trade on the
// next stream id. protocols.md §9.1 routes book streams to `/public` and
// trades to `/market`, so each is a connection of its own (a leg): the feed
// workers' FeedConnection (reconnect with backoff, stall detection; the
// venue's ping frames are answered by `ws`) and the same byte-level parser as
// the feeds. Each leg numbers its packets itself, because a receiver counts
// loss per stream and an interleaved numbering would look like gaps.
//
// A trade goes out as a quote collapsed to one price: bid = ask = the trade
// price, both sizes = its quantity, the exchange stamp = the trade time.
//
// Prices: the symbol is registered on the 1e-8 grid, finer than any USD-M
// tick, so every price the venue writes parses; ticks / 1e8 is then the
// float64 that Number(text) gives (both are the correctly rounded value of
// the same decimal), which is what goes on the wire.

import { native } from '../../native.js';
import { createCounters, COUNTER } from '../../../workers/counters.js';
import { FeedConnection } from '../../../workers/connection.js';
import { BinanceParser, type BinanceSink } from '../../../workers/venues/binance/parse.js';
import { Status } from '../../../workers/parse/json.js';
import { F_ASK, F_ASK_SIZE, F_BID, F_BID_SIZE, F_EXCHANGE_TS_NS, F_RECV_TS_NS, F_SEQ, F_STREAM } from './packet.js';
import type { PacketSender } from './sender.js';

const TICK_EXP = 8;
const TICK_DIV = 1e8;
/** No frame for this long on a bookTicker stream means the socket is dead. */
const BOOK_TICKER_STALL_MS = 30_000;
/**
 * Trades can pause for minutes on a quiet symbol and Binance's ping frames do
 * not count as traffic, so the trade leg waits longer before calling its
 * socket dead; a needless reconnect costs nothing but a counter.
 */
const AGG_TRADE_STALL_MS = 120_000;
const MAX_STREAM = 65535;

export const DEFAULT_BINANCE_WS = 'wss://fstream.binance.com';

/** The venue streams a relay forwards. */
export type RelayEvents = 'bookTicker' | 'aggTrade';

function streamUrl(base: string, route: 'public' | 'market', stream: string): string {
  return `${base.replace(/\/+$/, '')}/${route}/stream?streams=${stream}`;
}

/** Combined-stream URL of one symbol's bookTicker (a book stream: `/public`) under a Binance-compatible WS base. */
export function bookTickerUrl(base: string, symbol: string): string {
  return streamUrl(base, 'public', `${symbol.toLowerCase()}@bookTicker`);
}

/** Combined-stream URL of one symbol's aggTrade (a market stream: `/market`) under a Binance-compatible WS base. */
export function aggTradeUrl(base: string, symbol: string): string {
  return streamUrl(base, 'market', `${symbol.toLowerCase()}@aggTrade`);
}

export interface BinanceRelayOptions {
  /** WS base: wss://fstream.binance.com, or a simulator's ws://127.0.0.1:PORT. */
  url: string;
  /** As in the stream name, any case: btcusdt. */
  symbol: string;
  sender: PacketSender;
  /** Extended-frame stream id of the bookTickers; aggTrades go on stream + 1. Default 0. */
  stream?: number;
  /** Also relay aggTrades. Needs extended frames: legacy ones carry no stream id to tell trades from quotes. */
  aggTrade?: boolean;
  /** After each packet is sent (or failed: sent = false); the sender's `fields` still hold it. */
  onPacket?: (sent: boolean, events: RelayEvents) => void;
  onOpen?: (url: string, reconnect: boolean) => void;
  onDown?: (url: string, reason: string) => void;
}

export interface RelayStream {
  events: RelayEvents;
  /** Extended-frame stream id. */
  stream: number;
  /** The WebSocket it is read from. */
  url: string;
  /** The last sequence number used. */
  sequence: number;
}

/** Called by a leg for each update: the quote to put in the next packet of its stream. */
type Emit = (leg: Leg, exchangeMs: number, bidTicks: number, bidQty: number, askTicks: number, askQty: number) => void;

/** One venue stream on its own connection and parser, relayed on one packet stream. */
class Leg implements BinanceSink {
  /** The last sequence number used on this stream. */
  seq = 0;
  /** The current frame's receive time, CLOCK_REALTIME ns. */
  frameWallNs = 0;
  readonly conn: FeedConnection;
  private readonly parser: BinanceParser;
  /** CLOCK_REALTIME - CLOCK_MONOTONIC, ns: turns the frame's monotonic stamp into wall time without a clock call per frame. */
  private wallOffsetNs = 0;
  private framesSinceSync = 0;

  constructor(
    readonly events: RelayEvents,
    readonly stream: number,
    readonly url: string,
    symbol: string,
    private readonly counters: Float64Array,
    private readonly emit: Emit,
    opts: BinanceRelayOptions,
  ) {
    this.parser = new BinanceParser(this);
    this.parser.registerSymbol(symbol.toUpperCase(), TICK_EXP);
    this.syncClocks();
    const onDown = opts.onDown;
    this.conn = new FeedConnection({
      url,
      stallMs: events === 'aggTrade' ? AGG_TRADE_STALL_MS : BOOK_TICKER_STALL_MS,
      counters,
      onOpen: (_send, reconnect) => {
        this.syncClocks();
        opts.onOpen?.(url, reconnect);
      },
      onFrame: (data, recvNs) => this.onFrame(data, recvNs),
      ...(onDown ? { onDown: (reason: string) => onDown(url, reason) } : {}),
    });
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
    if (this.events === 'bookTicker') this.emit(this, eventMs, bidTicks, bidQty, askTicks, askQty);
    else this.counters[COUNTER.unknownEvents]!++;
  }

  onAggTrade(_sym: number, priceTicks: number, qty: number, _aggressor: number, _aggId: number, _firstId: number, _lastId: number, tradeMs: number): void {
    if (this.events === 'aggTrade') this.emit(this, tradeMs, priceTicks, qty, priceTicks, qty);
    else this.counters[COUNTER.unknownEvents]!++;
  }

  onDepthBegin(): void {}
  onDepthLevel(): void {}
  onDepthEnd(): void {}
  onTrade(): void {}
  onLiquidation(): void {}
}

export class BinanceRelay {
  /** Feed counters (workers/counters.ts slots) of all legs together: frames, parse errors, reconnects... */
  readonly counters = createCounters();
  private readonly fields: Float64Array;
  private readonly legs: Leg[] = [];
  private stopped = false;

  constructor(private readonly opts: BinanceRelayOptions) {
    const stream = opts.stream ?? 0;
    const aggTrade = opts.aggTrade === true;
    const maxStream = aggTrade ? MAX_STREAM - 1 : MAX_STREAM;
    if (!Number.isInteger(stream) || stream < 0 || stream > maxStream) {
      throw new RangeError(`BinanceRelay: stream must be an integer in 0..${maxStream}${aggTrade ? ' (aggTrades use stream + 1)' : ''}, got ${stream}`);
    }
    if (aggTrade && opts.sender.format === 'legacy') {
      throw new RangeError('BinanceRelay: aggTrade needs extended frames (legacy frames carry no stream id, so trades would pass for quotes)');
    }
    this.fields = opts.sender.fields;
    const emit: Emit = (leg, exchangeMs, bidTicks, bidQty, askTicks, askQty) => this.send(leg, exchangeMs, bidTicks, bidQty, askTicks, askQty);
    this.legs.push(new Leg('bookTicker', stream, bookTickerUrl(opts.url, opts.symbol), opts.symbol, this.counters, emit, opts));
    if (aggTrade) this.legs.push(new Leg('aggTrade', stream + 1, aggTradeUrl(opts.url, opts.symbol), opts.symbol, this.counters, emit, opts));
  }

  /** What is relayed where, bookTicker first; `sequence` = packets built so far on that stream, failed sends included. */
  streams(): RelayStream[] {
    return this.legs.map((l) => ({ events: l.events, stream: l.stream, url: l.url, sequence: l.seq }));
  }

  start(): void {
    this.stopped = false;
    for (const leg of this.legs) leg.conn.start();
  }

  /** Closes the connections; callable from onPacket, and no packet is sent after it. */
  stop(): void {
    this.stopped = true;
    for (const leg of this.legs) leg.conn.stop();
  }

  private send(leg: Leg, exchangeMs: number, bidTicks: number, bidQty: number, askTicks: number, askQty: number): void {
    // One ws chunk can carry several frames; none may go out after stop().
    if (this.stopped) return;
    const f = this.fields;
    f[F_STREAM] = leg.stream;
    f[F_SEQ] = ++leg.seq;
    f[F_EXCHANGE_TS_NS] = exchangeMs >= 0 ? exchangeMs * 1e6 : 0;
    f[F_RECV_TS_NS] = leg.frameWallNs;
    f[F_BID] = bidTicks / TICK_DIV;
    f[F_ASK] = askTicks / TICK_DIV;
    f[F_BID_SIZE] = bidQty;
    f[F_ASK_SIZE] = askQty;
    const ok = this.opts.sender.send() > 0;
    this.opts.onPacket?.(ok, leg.events);
  }
}
