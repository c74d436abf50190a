// RTDS crypto prices core (protocols §4): frame bytes → parser → one
// ExternalPrice event per price. Binance-sourced `crypto_prices` arrive
// unfiltered (the venue's filter syntax is unreliable, §4.1) and are filtered
// here by the parser's symbol table; Chainlink subscriptions carry a filter
// per symbol, which also makes RTDS send a history batch on subscribe. That
// batch is published too, flagged Snapshot, because it holds the opening
// price of a window that started before we connected.

import { COUNTER } from '../../counters.js';
import { EventKind, Flag, newEventRecord } from '../../shared-memory/event-layout.js';
import { Status } from '../../parse/json.js';
import { RtdsParser, RtdsTopic, type RtdsSink } from './parse.js';
import type { EventSink } from '../../event-sink.js';

export interface RtdsSymbol {
  topic: 'binance' | 'chainlink';
  /** As RTDS writes it: "btcusdt" for binance, "btc/usd" for chainlink. */
  symbol: string;
}

export interface RtdsCoreOptions {
  /** Event token = index in this list. */
  symbols: readonly RtdsSymbol[];
  events: EventSink;
  counters: Float64Array;
  source: number;
}

/** The one subscribe message for a symbol list (§4.1). */
export function rtdsSubscribeMessage(symbols: readonly RtdsSymbol[]): string {
  const subs: Array<{ topic: string; type: string; filters?: string }> = [];
  if (symbols.some((s) => s.topic === 'binance')) subs.push({ topic: 'crypto_prices', type: 'update' });
  for (const s of symbols) {
    if (s.topic === 'chainlink') subs.push({ topic: 'crypto_prices_chainlink', type: '*', filters: JSON.stringify({ symbol: s.symbol }) });
  }
  return JSON.stringify({ action: 'subscribe', subscriptions: subs });
}

export class RtdsCore implements RtdsSink {
  readonly parser: RtdsParser;
  private readonly ev = newEventRecord();
  private recvNs = 0;
  /** Wall ms of the last price: RTDS can stall while PONGs keep coming (§4.3). */
  lastPriceWallMs = 0;

  constructor(private readonly opts: RtdsCoreOptions) {
    this.parser = new RtdsParser(this);
    opts.symbols.forEach((s, i) => this.parser.registerSymbol(s.symbol.toLowerCase(), i));
    this.ev.source = opts.source;
    this.ev.kind = EventKind.ExternalPrice;
  }

  onFrame(data: Uint8Array, recvNs: number): void {
    const c = this.opts.counters;
    c[COUNTER.frames]!++;
    c[COUNTER.bytes]! += data.length;
    this.recvNs = recvNs;
    const status = this.parser.parse(data);
    if (status < 0) c[COUNTER.parseErrors]!++;
    else if (status === Status.UNKNOWN_EVENT || status === Status.UNKNOWN_ID) c[COUNTER.unknownEvents]!++;
  }

  onPrice(topic: number, sym: number, value: number, priceTsMs: number, _sendTsMs: number): void {
    // The parser matches symbols by text only; a Binance symbol arriving on
    // the Chainlink topic (or the reverse) is not the price we asked for.
    if (!this.topicMatches(topic, sym)) {
      this.opts.counters[COUNTER.unknownEvents]!++;
      return;
    }
    this.lastPriceWallMs = Date.now();
    this.emit(sym, value, priceTsMs, 0);
  }

  onHistory(topic: number, sym: number, value: number, priceTsMs: number): void {
    if (!this.topicMatches(topic, sym)) return;
    this.emit(sym, value, priceTsMs, Flag.Snapshot);
  }

  private topicMatches(topic: number, sym: number): boolean {
    const want = this.opts.symbols[sym]!.topic === 'binance' ? RtdsTopic.BINANCE : RtdsTopic.CHAINLINK;
    return topic === want;
  }

  private emit(sym: number, value: number, tsMs: number, flags: number): void {
    const e = this.ev;
    e.flags = flags;
    e.token = sym;
    e.recvNs = this.recvNs;
    e.exchTsMs = tsMs;
    e.seq = NaN;
    e.aux0 = value;
    e.aux1 = value;
    this.opts.events.emit(e);
  }
}
