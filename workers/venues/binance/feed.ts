// Binance USD-M feed core: frame bytes → parser → local book (by the official
// snapshot + U/u/pu procedure) → events. The live worker and replay drive
// this same class; only where frames and snapshots come from differs.
//
// While a symbol has no valid book (start, gap, reconnect) its diff frames
// are copied aside, its book is flagged Resyncing (so readers gate on it),
// and `requestSnapshot` asks the owner for a REST snapshot; when it arrives
// the buffered frames are replayed through the same path.

import { B_BEST_ASK, B_BEST_BID, BookFlag, Side } from '../../shared-memory/book-layout.js';
import { BookReader } from '../../shared-memory/book-reader.js';
import type { BinanceBookWriter } from './book.js';
import { COUNTER } from '../../counters.js';
import { EventKind, Flag, newEventRecord, ResyncReason } from '../../shared-memory/event-layout.js';
import { BinanceParser, DepthKind, type BinanceSink } from './parse.js';
import { Status } from '../../parse/json.js';
import { DepthSync, Verdict } from './depth-sync.js';
import type { EventSink } from '../../event-sink.js';

export interface BinanceSymbol {
  /** Upper-case venue symbol, e.g. BTCUSDT. */
  symbol: string;
  /** Decimal exponent of the tick: 1 for a 0.1 tick. */
  tickExp: number;
}

export interface TopChange {
  sym: number;
  /** Last applied venue update id. */
  u: number;
  eventMs: number;
  bidTicks: number;
  bidQty: number;
  askTicks: number;
  askQty: number;
}

export interface BinanceCoreOptions {
  symbols: readonly BinanceSymbol[];
  books: BinanceBookWriter;
  events: EventSink;
  counters: Float64Array;
  /** Source index stamped on events. */
  source: number;
  requestSnapshot(sym: number): void;
  /** Called after each applied depth event that moved the top of book (replay printing, tests). */
  onTopChange?: ((top: TopChange) => void) | undefined;
  /** Called for every bookTicker (the venue's own published top). */
  onVenueTop?: ((top: TopChange) => void) | undefined;
  /** Diff frames kept per symbol while waiting for a snapshot. */
  maxBuffered?: number;
}

/** Per-symbol book state besides the shared book itself. */
class SymbolState {
  readonly sync = new DepthSync();
  buffered: Array<{ data: Uint8Array; recvNs: number }> = [];
  lastBid = -1;
  lastBidQty = -1;
  lastAsk = -1;
  lastAskQty = -1;
  /** Observed decimals of prices and sizes, for printing as the venue writes them. */
  priceDecimals = 0;
  qtyDecimals = 0;
  /** The book is flagged Resyncing; cleared when a diff bridges to the snapshot, not when the snapshot lands. */
  gated = true;
}

export class BinanceCore implements BinanceSink {
  readonly parser: BinanceParser;
  private readonly state: SymbolState[];
  private readonly ev = newEventRecord();
  private readonly top: TopChange = { sym: 0, u: 0, eventMs: 0, bidTicks: 0, bidQty: 0, askTicks: 0, askQty: 0 };
  private recvNs = 0;
  /** Depth event being parsed: how to treat its levels. */
  private verdict: Verdict = Verdict.Stale;
  private depthKind = 0;
  private depthU = 0;
  private depthEventMs = 0;
  private bufferFrame = false;
  private bufferSym = 0;
  private readonly maxBuffered: number;
  private readonly reader: BookReader;

  constructor(private readonly opts: BinanceCoreOptions) {
    this.parser = new BinanceParser(this);
    this.reader = new BookReader(opts.books.set);
    this.state = opts.symbols.map((s, i) => {
      this.parser.registerSymbol(s.symbol, s.tickExp, i);
      return new SymbolState();
    });
    this.maxBuffered = opts.maxBuffered ?? 10_000;
    this.ev.source = opts.source;
  }

  /** Starts (or restarts) every symbol: buffer diffs and ask for snapshots. */
  start(): void {
    for (let i = 0; i < this.state.length; i++) this.invalidate(i, false, ResyncReason.Down);
  }

  onFrame(data: Uint8Array, recvNs: number): void {
    const c = this.opts.counters;
    c[COUNTER.frames]!++;
    c[COUNTER.bytes]! += data.length;
    this.process(data, recvNs);
  }

  private process(data: Uint8Array, recvNs: number): void {
    const c = this.opts.counters;
    this.recvNs = recvNs;
    this.bufferFrame = false;
    const status = this.parser.parse(data);
    if (status < 0) c[COUNTER.parseErrors]!++;
    else if (status === Status.UNKNOWN_EVENT || status === Status.UNKNOWN_ID) c[COUNTER.unknownEvents]!++;
    if (this.bufferFrame) {
      const s = this.state[this.bufferSym]!;
      if (s.buffered.length < this.maxBuffered) s.buffered.push({ data: Uint8Array.prototype.slice.call(data), recvNs });
      else c[COUNTER.staleDrops]!++;
    }
  }


  /** A REST depth snapshot (the JSON body) for symbol `sym`. */
  onSnapshot(sym: number, body: Uint8Array, recvNs: number): boolean {
    const c = this.opts.counters;
    this.recvNs = recvNs;
    this.parser.snapshotSymbol = sym;
    const status = this.parser.parse(body);
    this.parser.snapshotSymbol = -1;
    if (status !== Status.OK) {
      c[COUNTER.restErrors]!++;
      return false;
    }
    c[COUNTER.restSnapshots]!++;
    const s = this.state[sym]!;
    const pending = s.buffered;
    s.buffered = [];
    for (const f of pending) this.process(f.data, f.recvNs);
    return true;
  }

  /** The connection dropped: every book is invalid until resynced. */
  onDown(): void {
    for (let i = 0; i < this.state.length; i++) this.invalidate(i, true, ResyncReason.Down);
  }

  lastUpdateId(sym: number): number {
    return this.state[sym]!.sync.lastU;
  }

  isLive(sym: number): boolean {
    return this.state[sym]!.sync.state === 'live';
  }

  // ---- BinanceSink -------------------------------------------------------

  onDepthBegin(sym: number, kind: number, eventMs: number, _txMs: number, firstId: number, lastId: number, prevLastId: number): void {
    const s = this.state[sym]!;
    const books = this.opts.books;
    this.depthKind = kind;
    this.depthU = lastId;
    this.depthEventMs = eventMs;
    if (kind === DepthKind.SNAPSHOT) {
      s.sync.onSnapshot(lastId);
      books.begin(sym);
      books.clear(sym);
      this.verdict = Verdict.Apply;
      return;
    }
    if (kind === DepthKind.PARTIAL) {
      books.begin(sym);
      books.clear(sym);
      this.verdict = Verdict.Apply;
      return;
    }
    this.verdict = s.sync.onEvent(firstId, lastId, prevLastId);
    if (this.verdict === Verdict.Apply) {
      books.begin(sym);
    } else if (this.verdict === Verdict.Buffer) {
      this.bufferFrame = true;
      this.bufferSym = sym;
    } else if (this.verdict === Verdict.Gap) {
      this.opts.counters[COUNTER.gaps]!++;
      this.emitSimple(EventKind.Gap, sym, s.sync.lastU + 1, eventMs, s.sync.lastU);
      this.invalidate(sym, true, ResyncReason.Gap);
      // The frame that revealed the gap belongs after the next snapshot.
      this.bufferFrame = true;
      this.bufferSym = sym;
    }
  }

  onDepthLevel(sym: number, side: number, priceTicks: number, qty: number): void {
    if (this.verdict !== Verdict.Apply) return;
    this.opts.books.setLevel(sym, side === 0 ? Side.Bid : Side.Ask, priceTicks, qty);
    if (this.depthKind === DepthKind.SNAPSHOT) {
      const s = this.state[sym]!;
      const t = this.parser.text;
      const p = this.parser.frame;
      // Decimals as written: "61800.20" → 2, "3.330" → 3.
      s.priceDecimals = Math.max(s.priceDecimals, decimals(p, t[0]!, t[1]!));
      s.qtyDecimals = Math.max(s.qtyDecimals, decimals(p, t[2]!, t[3]!));
    }
  }

  onDepthEnd(sym: number): void {
    if (this.verdict !== Verdict.Apply) return;
    const books = this.opts.books;
    books.setTimes(sym, this.recvNs, this.depthEventMs);
    // A snapshot alone is a book as of its id; only a diff chained to it shows the stream
    // is flowing again (a snapshot fetched while the socket is down would otherwise read as live).
    const s = this.state[sym]!;
    // An applied diff has bridged (DepthSync is live), so the first one after a reset ungates.
    if (s.gated && this.depthKind === DepthKind.DIFF) {
      books.setStatus(sym, 0);
      s.gated = false;
    }
    books.end(sym);
    this.verdict = Verdict.Stale;
    this.afterApply(sym);
  }

  onBookTicker(sym: number, bidTicks: number, bidQty: number, askTicks: number, askQty: number, updateId: number, eventMs: number, txMs: number): void {
    const cb = this.opts.onVenueTop;
    if (!cb) return;
    const t = this.top;
    t.sym = sym;
    t.u = updateId;
    t.eventMs = Number.isNaN(eventMs) ? txMs : eventMs;
    t.bidTicks = bidTicks;
    t.bidQty = bidQty;
    t.askTicks = askTicks;
    t.askQty = askQty;
    cb(t);
  }

  onTrade(sym: number, priceTicks: number, qty: number, aggressor: number, id: number, tradeMs: number): void {
    const e = this.ev;
    e.kind = EventKind.Trade;
    e.flags = aggressor === 1 ? Flag.Ask : 0;
    e.token = sym;
    e.recvNs = this.recvNs;
    e.exchTsMs = tradeMs;
    e.seq = id;
    e.price = priceTicks;
    e.size = qty;
    e.aux0 = id;
    this.opts.events.emit(e);
  }

  onAggTrade(sym: number, priceTicks: number, qty: number, aggressor: number, aggId: number, _firstId: number, _lastId: number, tradeMs: number): void {
    this.onTrade(sym, priceTicks, qty, aggressor, aggId, tradeMs);
  }

  onLiquidation(sym: number, side: number, price: number, _avgPrice: number, qty: number, _lastQty: number, _filledQty: number, tradeMs: number): void {
    const e = this.ev;
    e.kind = EventKind.Liquidation;
    e.flags = side === 1 ? Flag.Ask : 0;
    e.token = sym;
    e.recvNs = this.recvNs;
    e.exchTsMs = tradeMs;
    e.price = price;
    e.size = qty;
    this.opts.events.emit(e);
  }

  // ---- internals ---------------------------------------------------------

  /** Formats ticks and sizes with the decimals the venue uses for this symbol. */
  formatPrice(sym: number, ticks: number): string {
    const exp = this.opts.symbols[sym]!.tickExp;
    return (ticks / 10 ** exp).toFixed(Math.max(exp, this.state[sym]!.priceDecimals));
  }

  formatQty(sym: number, qty: number): string {
    return qty.toFixed(this.state[sym]!.qtyDecimals);
  }

  private afterApply(sym: number): void {
    const s = this.state[sym]!;
    const set = this.opts.books.set;
    const hb = set.i32Base(sym);
    const bid = set.i32[hb + B_BEST_BID]!;
    const ask = set.i32[hb + B_BEST_ASK]!;
    // The writer thread reads its own book: no concurrent writer, no retries.
    const bidQty = bid < 0 ? 0 : this.reader.sizeAt(sym, Side.Bid, bid);
    const askQty = ask < 0 ? 0 : this.reader.sizeAt(sym, Side.Ask, ask);
    if (bid === s.lastBid && ask === s.lastAsk && bidQty === s.lastBidQty && askQty === s.lastAskQty) return;
    s.lastBid = bid;
    s.lastAsk = ask;
    s.lastBidQty = bidQty;
    s.lastAskQty = askQty;
    const e = this.ev;
    e.kind = EventKind.BestBidAsk;
    e.flags = 0;
    e.token = sym;
    e.recvNs = this.recvNs;
    e.exchTsMs = this.depthEventMs;
    e.seq = this.depthU;
    e.price = bid;
    e.price2 = ask;
    e.size = bidQty;
    e.aux0 = askQty;
    this.opts.events.emit(e);
    const cb = this.opts.onTopChange;
    if (cb) {
      const t = this.top;
      t.sym = sym;
      t.u = this.depthU;
      t.eventMs = this.depthEventMs;
      t.bidTicks = bid;
      t.bidQty = bidQty;
      t.askTicks = ask;
      t.askQty = askQty;
      cb(t);
    }
  }

  private invalidate(sym: number, counted: boolean, reason: ResyncReason): void {
    const s = this.state[sym]!;
    s.sync.reset();
    s.gated = true;
    s.lastBid = s.lastAsk = -1;
    const books = this.opts.books;
    books.begin(sym);
    books.clear(sym);
    books.setStatus(sym, BookFlag.Resyncing);
    books.end(sym);
    if (counted) {
      this.opts.counters[COUNTER.resyncs]!++;
      this.emitSimple(EventKind.Resync, sym, 0, 0, reason);
    }
    this.opts.requestSnapshot(sym);
  }

  private emitSimple(kind: number, sym: number, seq: number, exchTsMs: number, aux0: number): void {
    const e = this.ev;
    e.aux0 = aux0;
    e.kind = kind;
    e.flags = 0;
    e.token = sym;
    e.recvNs = this.recvNs;
    e.exchTsMs = exchTsMs;
    e.seq = seq;
    this.opts.events.emit(e);
  }
}

function decimals(b: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i++) if (b[i] === 0x2e) return end - i - 1;
  return 0;
}
