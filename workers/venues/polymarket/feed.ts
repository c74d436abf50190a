// Polymarket CLOB market-channel feed core (protocols.md §2, §11): frame
// bytes → parser → shared-memory books → events. The live worker and replay
// drive this same class; only where frames and snapshots come from differs.
//
// The channel has no sequence numbers (§2.9), so the book itself is checked:
// after each frame, every token the frame touched must not be crossed and
// must agree with the best bid / ask the venue stamped on its last
// price_change entry (§11.4). A token that fails, whose tick size changes,
// or whose connection dropped is resynced: its book is cleared and flagged
// Resyncing (readers gate on it), a Resync event goes out, and
// `requestSnapshot` asks the owner for `GET /book`. The resync ends with
// either that snapshot or a `book` event (the venue sends one per token on
// every (re)subscription and after trades), whichever comes first.
//
// While a token resyncs, its price_change entries are kept and replayed on
// top of the REST snapshot rather than dropped. Sizes are absolute and the
// snapshot was taken after the resync began (see `epoch`), so snapshot +
// every entry received since the resync began is the venue's book: a level
// the snapshot already holds is rewritten with the same value, and a change
// that raced the REST response is kept. Dropping them would lose exactly
// those racing changes, silently, since without sequence numbers nothing
// reveals the loss unless it happens to move the top of book. (If REST runs
// ahead of the stream, a replayed level can briefly be older than the
// snapshot's, until the stream delivers the newer change.)
//
// Books are slots that tokens occupy in turn (5-minute markets roll,
// protocols.md §11.11): assign() gives a vacant slot a token and starts its
// resync, release() empties it again. Every per-token array below is indexed
// by slot. A REST request belongs to the occupant it was made for: a change
// of hands ends the slot's open request (the owner cancels it, so its answer
// never comes) and the next occupant asks afresh once its stream is live. An
// answer that lands anyway before the new occupant has asked (a recording
// made before requests could be cancelled) is dropped unread, whatever it
// says, so no book ever shows another token's levels.

import { B_BEST_ASK, B_BEST_BID, B_STATUS, B_TICK_SIZE, BF_LEVELS, BookFlag, NO_TICK, Side } from '../../shared-memory/book-layout.js';
import type { PolymarketBookWriter } from './book.js';
import { isGridTickSize, PRICE_SCALE } from '../../../engine/trading/types.js';
import { COUNTER, COUNTER_NAMES } from '../../counters.js';
import { EventKind, Flag, newEventRecord, ResyncReason, type EventRecord } from '../../shared-memory/event-layout.js';
import { Status } from '../../parse/json.js';
import { ASK, PolymarketParser, type PolymarketSink } from './parse.js';
import type { EventSink } from '../../event-sink.js';

/** aux0 of a Resync event: why the token's book was dropped. */
export { ResyncReason };

/** Top of one token's book (sizes in shares; NaN where the venue gives none). */
export interface PolymarketTop {
  token: number;
  eventMs: number;
  bidTicks: number;
  bidSize: number;
  askTicks: number;
  askSize: number;
}

export interface PolymarketCoreOptions {
  /** Initial assignment (decimal token ids): slot i holds tokens[i]. May be empty when `slots` > 0. */
  tokens: readonly string[];
  /** Book slots (capacity), >= tokens.length and <= books.set.books. Default tokens.length. */
  slots?: number | undefined;
  books: PolymarketBookWriter;
  events: EventSink;
  counters: Float64Array;
  /** Source index stamped on events. */
  source: number;
  /**
   * Ask for a `GET /book` of the token in this slot. Each request must be
   * answered by one onSnapshot call, unless the slot changes hands first:
   * assign() and release() end the slot's open request, and the owner must
   * cancel it then (no answer to it may reach onSnapshot afterwards, or it
   * would be taken for the next occupant's once that one has asked). A body
   * onSnapshot rejects (false) leaves the request open, to be fetched again.
   * The core never has two requests open for one slot, and never asks for a
   * vacant one.
   */
  requestSnapshot(token: number): void;
  /** Called after a frame or snapshot that moved a live token's top of book. */
  onTopChange?: ((top: PolymarketTop) => void) | undefined;
  /** Called for every `best_bid_ask` event (the venue's own top; sizes NaN). */
  onVenueTop?: ((top: PolymarketTop) => void) | undefined;
  /** `new_market` / `market_resolved` (MarketEventKind) with their JSON text. */
  onMarketEvent?: ((kind: number, json: string) => void) | undefined;
  /** price_change entries kept per token while it resyncs. Default 10 000. */
  maxBuffered?: number;
}

const TOKEN_ID = /^\d{1,100}$/;

/** A Polymarket token id as the venue writes it: a decimal string (up to 100 digits). */
export function isTokenId(v: unknown): v is string {
  return typeof v === 'string' && TOKEN_ID.test(v);
}

/** Who the parser's callbacks are working for. */
const MODE_FRAME = 0;
/** A REST snapshot that answers the token's current resync: rebuild from it. */
const MODE_SNAPSHOT_APPLY = 1;
/** A REST snapshot nobody needs any more: validate and count only. */
const MODE_SNAPSHOT_CHECK = 2;
/** A REST snapshot whose tick_size the book cannot take: rejected, nothing applied. */
const MODE_SNAPSHOT_REJECTED = 3;

/** askedEpoch of a slot with no snapshot request open. */
const NONE_ASKED = -1;
/** askedEpoch of a slot that changed hands and whose occupant has not asked yet. */
const HANDS_CHANGED = -2;

/** lastBid of a token whose next top must be published whatever it is. */
const TOP_UNKNOWN = -2;

/** price_change entries of one resyncing token, in arrival order. */
class KeptLevels {
  n = 0;
  lastTs = NaN;
  side = new Uint8Array(64);
  tick = new Int32Array(64);
  size = new Float64Array(64);

  push(side: number, tick: number, size: number, ts: number): void {
    if (this.n === this.tick.length) this.grow();
    this.side[this.n] = side;
    this.tick[this.n] = tick;
    this.size[this.n] = size;
    this.n++;
    this.lastTs = ts;
  }

  private grow(): void {
    const cap = this.tick.length * 2;
    const side = new Uint8Array(cap);
    const tick = new Int32Array(cap);
    const size = new Float64Array(cap);
    side.set(this.side);
    tick.set(this.tick);
    size.set(this.size);
    this.side = side;
    this.tick = tick;
    this.size = size;
  }
}

export class PolymarketCore implements PolymarketSink {
  readonly parser: PolymarketParser;
  private readonly n: number;
  private readonly books: PolymarketBookWriter;
  private readonly counters: Float64Array;
  private readonly maxBuffered: number;
  private readonly ev = newEventRecord();
  private readonly top: PolymarketTop = { token: 0, eventMs: 0, bidTicks: 0, bidSize: 0, askTicks: 0, askSize: 0 };
  private readonly venueTop: PolymarketTop = { token: 0, eventMs: 0, bidTicks: 0, bidSize: NaN, askTicks: 0, askSize: NaN };

  // Per slot.
  /** The token each slot holds (undefined: vacant). */
  private readonly ids: Array<string | undefined>;
  /** Assigned, and nothing has come for the token yet: no snapshot until then (see assign()). */
  private readonly awaitingStream: Uint8Array;
  private readonly resyncing: Uint8Array;
  /**
   * Bumped by every resync. A snapshot request remembers the epoch it was
   * made in; an answer from an older epoch may predate what caused the
   * current resync, so it is not applied and a new one is asked for.
   */
  private readonly epoch: Int32Array;
  /**
   * Epoch of the open snapshot request; NONE_ASKED when none is open;
   * HANDS_CHANGED when none is open and the slot changed hands since its
   * latest request (an answer landing then is the previous occupant's).
   */
  private readonly askedEpoch: Int32Array;
  /** The current resync began with a tick_size_change: its tick wins over a snapshot's, which may lag it. */
  private readonly tickAnnounced: Uint8Array;
  private readonly kept: Array<KeptLevels | undefined>;
  private readonly lastBid: Int32Array;
  private readonly lastAsk: Int32Array;
  private readonly lastBidSize: Float64Array;
  private readonly lastAskSize: Float64Array;

  // Per frame: books with an open write batch, and what the venue said about them.
  private readonly isOpen: Uint8Array;
  private readonly openList: Int32Array;
  private nOpen = 0;
  private readonly venueBid: Float64Array;
  private readonly venueAsk: Float64Array;
  private readonly lastTs: Float64Array;

  // price_change entries of the frame being parsed, not yet applied (see onPriceChange).
  private nq = 0;
  private qTok = new Int32Array(64);
  private qSide = new Uint8Array(64);
  private qPx = new Int32Array(64);
  private qSize = new Float64Array(64);
  private qBb = new Float64Array(64);
  private qBa = new Float64Array(64);
  private qTs = new Float64Array(64);

  /** Snapshot requests made while parsing, issued once the frame is done (the parser is not re-entrant). */
  private readonly requests: number[] = [];
  private flushing = false;
  private mode = MODE_FRAME;
  private recvNs = 0;

  constructor(private readonly opts: PolymarketCoreOptions) {
    const n = opts.slots ?? opts.tokens.length;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`PolymarketCore: at least one slot is required, got ${n}`);
    if (opts.tokens.length > n) throw new RangeError(`PolymarketCore: ${opts.tokens.length} tokens for ${n} slots`);
    if (n > opts.books.set.books) throw new RangeError(`PolymarketCore: ${n} slots but the book set holds ${opts.books.set.books} books`);
    if (opts.counters.length < COUNTER_NAMES.length) throw new RangeError(`PolymarketCore: counters need ${COUNTER_NAMES.length} slots, got ${opts.counters.length}`);
    const maxBuffered = opts.maxBuffered ?? 10_000;
    if (!Number.isInteger(maxBuffered) || maxBuffered < 1) throw new RangeError(`PolymarketCore: maxBuffered must be a positive integer, got ${maxBuffered}`);
    this.n = n;
    this.books = opts.books;
    this.counters = opts.counters;
    this.maxBuffered = maxBuffered;
    this.parser = new PolymarketParser(this);
    this.ids = new Array<string | undefined>(n).fill(undefined);
    opts.tokens.forEach((id, i) => this.occupy(i, id));
    this.awaitingStream = new Uint8Array(n);
    this.ev.source = opts.source;
    this.resyncing = new Uint8Array(n);
    this.epoch = new Int32Array(n);
    this.askedEpoch = new Int32Array(n).fill(NONE_ASKED);
    this.tickAnnounced = new Uint8Array(n);
    this.kept = new Array<KeptLevels | undefined>(n).fill(undefined);
    this.lastBid = new Int32Array(n).fill(TOP_UNKNOWN);
    this.lastAsk = new Int32Array(n).fill(TOP_UNKNOWN);
    this.lastBidSize = new Float64Array(n);
    this.lastAskSize = new Float64Array(n);
    this.isOpen = new Uint8Array(n);
    this.openList = new Int32Array(n);
    this.venueBid = new Float64Array(n).fill(NaN);
    this.venueAsk = new Float64Array(n).fill(NaN);
    this.lastTs = new Float64Array(n).fill(NaN);
  }

  /**
   * Every book invalid until its first `book` event or snapshot (a vacant
   * slot's stays so until it is assigned and rebuilt). Nothing is requested:
   * the subscription's initial_dump brings each token's book, and a REST call
   * per token at start would only race it (and the rate limit).
   */
  start(): void {
    for (let t = 0; t < this.n; t++) {
      this.openBook(t);
      this.beginResync(t);
    }
    this.closeBatches();
  }

  onFrame(data: Uint8Array, recvNs: number): void {
    const c = this.counters;
    c[COUNTER.frames]!++;
    c[COUNTER.bytes]! += data.length;
    this.recvNs = recvNs;
    const status = this.parser.parse(data);
    this.applyChanges();
    this.closeBatches();
    if (status < 0) c[COUNTER.parseErrors]!++;
    else if (status === Status.UNKNOWN_EVENT || status === Status.UNKNOWN_ID) c[COUNTER.unknownEvents]!++;
    this.flushRequests();
  }

  /**
   * A `GET /book` body for `token`. Returns false when the body is not a
   * valid book of that token (counted in restErrors; the request stays open).
   * A valid body rebuilds the book only if it answers the token's current
   * resync; otherwise it is counted and dropped (a `book` event got there
   * first, or the request predates the latest resync, which asks again). A
   * body for a vacant slot, or for one that changed hands after its latest
   * request, is consumed unread (staleDrops).
   */
  onSnapshot(token: number, body: Uint8Array, recvNs: number): boolean {
    this.checkToken(token);
    const c = this.counters;
    this.recvNs = recvNs;
    if (this.ids[token] === undefined || this.askedEpoch[token] === HANDS_CHANGED) {
      // Vacant, or changed hands since its latest request and the occupant
      // has asked for nothing yet: whatever the body says, it is not this
      // occupant's book. Consumed (true), so it is not fetched again.
      c[COUNTER.staleDrops]!++;
      return true;
    }
    const asked = this.askedEpoch[token]!;
    const apply = this.resyncing[token] === 1 && (asked < 0 || asked === this.epoch[token]);
    this.mode = apply ? MODE_SNAPSHOT_APPLY : MODE_SNAPSHOT_CHECK;
    this.parser.snapshotToken = token;
    let status = this.parser.parse(body);
    this.parser.snapshotToken = -1;
    if (this.mode === MODE_SNAPSHOT_REJECTED) status = Status.BAD_FIELD;
    this.mode = MODE_FRAME;
    if (status === Status.OK) {
      c[COUNTER.restSnapshots]!++;
      this.askedEpoch[token] = NONE_ASKED;
    } else {
      c[COUNTER.restErrors]!++;
    }
    // A crossed snapshot resyncs again, like a crossed frame; counted apart, so `crossed` counts what the stream
    // brought to a live book (a change kept during the resync and replayed here is in crossedResyncing already).
    this.closeBatches(COUNTER.crossedSnapshots);
    if (status === Status.OK && !apply && this.resyncing[token] === 1) this.ask(token);
    this.flushRequests();
    return status === Status.OK;
  }

  /** The connection carrying these tokens dropped; other connections' tokens stay valid. */
  onDown(tokens: readonly number[]): void {
    for (const t of tokens) this.checkToken(t);
    for (const t of tokens) {
      this.openBook(t);
      // No snapshot: one taken while the shard is down would end the resync
      // and show a live book that nothing updates until the connection is
      // back. The resubscription's initial_dump rebuilds it, as at start().
      this.resync(t, ResyncReason.Down, false);
    }
    this.closeBatches();
    this.flushRequests();
  }

  isResyncing(token: number): boolean {
    this.checkToken(token);
    return this.resyncing[token] === 1;
  }

  /** Book capacity: slots 0..slots-1. */
  get slots(): number {
    return this.n;
  }

  /** The token id a slot holds, undefined when vacant. */
  tokenAt(slot: number): string | undefined {
    this.checkToken(slot);
    return this.ids[slot];
  }

  /** The slot holding a token id, -1 when none does. */
  slotOf(tokenId: string): number {
    return this.parser.tokens.lookupString(tokenId);
  }

  /**
   * A vacant slot takes a token: its book is cleared and gated, a Resync
   * event (Assigned) goes out, and the resync ends with the `book` dump the
   * subscription brings or a REST snapshot, whichever comes first. Throws
   * RangeError (and changes nothing) for an occupied slot, a malformed id or
   * an id another slot holds. Call between frames, after start().
   *
   * The snapshot is asked for once something for the token has come on the
   * stream, not at once. The venue does not document a dump for a dynamic
   * subscribe, so the engine cannot rely on one alone; but a snapshot fetched
   * before the venue has acted on the subscribe can predate the first change
   * the stream delivers, and the changes in between would be lost without a
   * trace (the drift check sees only the top). Once an event for the token
   * has arrived the subscription is live, every later change is kept, and a
   * snapshot fetched from then on is one the kept changes replay onto. With
   * a dump (the simulator sends one, as for initial_dump) the dump lands
   * first and no REST call is made; a token that stays silent stays gated,
   * which is the truth about it.
   */
  assign(slot: number, tokenId: string, nowNs?: number): void {
    this.checkToken(slot);
    // The Resync event is stamped with when the assignment came, not with the last frame's receipt.
    if (nowNs !== undefined) this.recvNs = nowNs;
    const held = this.ids[slot];
    if (held !== undefined) throw new RangeError(`PolymarketCore: slot ${slot} already holds token ${held}`);
    this.occupy(slot, tokenId);
    this.changeHands(slot);
    this.openBook(slot);
    this.gate(slot, ResyncReason.Assigned);
    this.awaitingStream[slot] = 1;
    this.closeBatches();
  }

  /**
   * The slot gives up its token: frames for the id count as unknown from now
   * on, the book is cleared and stays gated (Resyncing) and empty, kept
   * changes are dropped, a Resync event (Released) goes out, and an open
   * snapshot request ends (the owner cancels it; see requestSnapshot). Throws
   * RangeError for a vacant slot.
   */
  release(slot: number, nowNs?: number): void {
    this.checkToken(slot);
    if (nowNs !== undefined) this.recvNs = nowNs;
    const held = this.ids[slot];
    if (held === undefined) throw new RangeError(`PolymarketCore: slot ${slot} holds no token`);
    this.parser.unregisterToken(held);
    this.ids[slot] = undefined;
    this.changeHands(slot);
    this.awaitingStream[slot] = 0;
    this.openBook(slot);
    this.gate(slot, ResyncReason.Released);
    this.closeBatches();
  }

  // ---- PolymarketSink ----------------------------------------------------

  onBookBegin(token: number, tsMs: number): void {
    this.applyChanges();
    const tick = this.parser.bookTickTicks;
    if (this.mode !== MODE_FRAME && tick === tick && !isGridTickSize(tick)) this.mode = MODE_SNAPSHOT_REJECTED;
    if (this.mode >= MODE_SNAPSHOT_CHECK) return;
    this.openBook(token);
    const books = this.books;
    books.clear(token);
    // The entries that stamped these belong to the book being replaced.
    this.venueBid[token] = NaN;
    this.venueAsk[token] = NaN;
    this.lastTs[token] = tsMs;
    if (this.mode === MODE_FRAME) {
      // A book event is the venue's whole book, in order with the stream:
      // whatever was kept for a resync is older than it.
      if (this.resyncing[token] === 1) this.endResync(token);
      if (isGridTickSize(tick)) books.setTickSize(token, tick);
    } else if (this.tickAnnounced[token] === 0 && isGridTickSize(tick)) {
      books.setTickSize(token, tick);
    }
    const e = this.record(EventKind.BookSnapshotBegin, 0, token, 0);
    e.exchTsMs = tsMs;
    this.opts.events.emit(e);
  }

  onLevel(token: number, side: number, priceTicks: number, size: number): void {
    if (this.mode >= MODE_SNAPSHOT_CHECK) return;
    this.books.setLevel(token, side === ASK ? Side.Ask : Side.Bid, priceTicks, size);
    const e = this.record(EventKind.LevelUpdate, side === ASK ? Flag.Snapshot | Flag.Ask : Flag.Snapshot, token, priceTicks);
    e.exchTsMs = this.lastTs[token]!;
    e.size = size;
    this.opts.events.emit(e);
  }

  onBookEnd(token: number): void {
    if (this.mode >= MODE_SNAPSHOT_CHECK) return;
    if (this.mode === MODE_SNAPSHOT_APPLY) {
      const k = this.kept[token];
      if (k !== undefined && k.n > 0) {
        const ts = this.lastTs[token]!;
        for (let i = 0; i < k.n; i++) {
          const side = k.side[i]!;
          const tick = k.tick[i]!;
          const size = k.size[i]!;
          this.books.setLevel(token, side === ASK ? Side.Ask : Side.Bid, tick, size);
          const e = this.record(EventKind.LevelUpdate, side === ASK ? Flag.Snapshot | Flag.Ask : Flag.Snapshot, token, tick);
          e.exchTsMs = ts;
          e.size = size;
          this.opts.events.emit(e);
        }
        if (!(k.lastTs <= ts)) this.lastTs[token] = k.lastTs;
      }
      this.endResync(token);
    }
    const e = this.record(EventKind.BookSnapshotEnd, 0, token, 0);
    e.exchTsMs = this.lastTs[token]!;
    this.opts.events.emit(e);
  }

  /**
   * Only queued here, applied by applyChanges(): a callback this small is
   * inlined into the parser's entry loop, which keeps its float64 arguments
   * (size, timestamp) unboxed; doing the work here cost ~32 B per entry.
   */
  onPriceChange(token: number, side: number, priceTicks: number, size: number, bestBidTicks: number, bestAskTicks: number, tsMs: number): void {
    const i = this.nq;
    if (i === this.qTok.length) this.growQueue();
    this.qTok[i] = token;
    this.qSide[i] = side;
    this.qPx[i] = priceTicks;
    this.qSize[i] = size;
    this.qBb[i] = bestBidTicks;
    this.qBa[i] = bestAskTicks;
    this.qTs[i] = tsMs;
    this.nq = i + 1;
  }

  onTickSize(token: number, newTickTicks: number, oldTickTicks: number, tsMs: number): void {
    this.applyChanges();
    // The stream is live: the resync below may ask for a snapshot.
    this.awaitingStream[token] = 0;
    this.openBook(token);
    const valid = isGridTickSize(newTickTicks);
    if (valid) {
      const set = this.books.set;
      const prev = set.i32[set.i32Base(token) + B_TICK_SIZE]!;
      this.books.setTickSize(token, newTickTicks);
      const e = this.record(EventKind.TickSizeChange, 0, token, newTickTicks);
      e.price2 = oldTickTicks === oldTickTicks ? oldTickTicks : prev;
      e.exchTsMs = tsMs;
      this.opts.events.emit(e);
    } else {
      // A tick the book cannot take: the event is dropped, but the venue did
      // say the grid changed, so the book is rebuilt all the same.
      this.counters[COUNTER.parseErrors]!++;
    }
    this.resync(token, ResyncReason.TickSize);
    if (valid) this.tickAnnounced[token] = 1;
  }

  onTrade(token: number, side: number, priceTicks: number, size: number, tsMs: number): void {
    this.applyChanges();
    if (this.awaitingStream[token] === 1) this.streamSeen(token);
    const e = this.record(EventKind.Trade, side === ASK ? Flag.Ask : 0, token, priceTicks);
    e.exchTsMs = tsMs;
    e.size = size;
    e.aux0 = NaN;
    this.opts.events.emit(e);
  }

  onBestBidAsk(token: number, bestBidTicks: number, bestAskTicks: number, tsMs: number): void {
    this.applyChanges();
    if (this.awaitingStream[token] === 1) this.streamSeen(token);
    const cb = this.opts.onVenueTop;
    if (!cb) return;
    const t = this.venueTop;
    t.token = token;
    t.eventMs = tsMs;
    t.bidTicks = bestBidTicks;
    t.askTicks = bestAskTicks;
    cb(t);
  }

  onMarketEvent(kind: number, json: string): void {
    this.applyChanges();
    this.opts.onMarketEvent?.(kind, json);
  }

  // ---- internals ---------------------------------------------------------

  /** Applies the queued price_change entries in arrival order (before any other event of the frame). */
  private applyChanges(): void {
    const n = this.nq;
    this.nq = 0;
    for (let i = 0; i < n; i++) {
      const token = this.qTok[i]!;
      const side = this.qSide[i]!;
      const px = this.qPx[i]!;
      const size = this.qSize[i]!;
      const ts = this.qTs[i]!;
      if (this.resyncing[token] === 1) {
        if (this.awaitingStream[token] === 1) this.streamSeen(token);
        // A crossing the venue itself reports (its best bid at or over its best ask) that no live book met:
        // the resync under way absorbs it, so it is counted here rather than in `crossed`.
        if (this.qBb[i]! >= this.qBa[i]!) this.counters[COUNTER.crossedResyncing]!++;
        this.keep(token, side, px, size, ts);
        continue;
      }
      this.openBook(token);
      this.books.setLevel(token, side === ASK ? Side.Ask : Side.Bid, px, size);
      this.venueBid[token] = this.qBb[i]!;
      this.venueAsk[token] = this.qBa[i]!;
      this.lastTs[token] = ts;
      const e = this.record(EventKind.LevelUpdate, side === ASK ? Flag.Ask : 0, token, px);
      e.exchTsMs = ts;
      e.size = size;
      this.opts.events.emit(e);
    }
  }

  private growQueue(): void {
    const cap = this.qTok.length * 2;
    const grow = <T extends Int32Array | Uint8Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const x = make(cap);
      x.set(a);
      return x;
    };
    this.qTok = grow(this.qTok, (k) => new Int32Array(k));
    this.qSide = grow(this.qSide, (k) => new Uint8Array(k));
    this.qPx = grow(this.qPx, (k) => new Int32Array(k));
    this.qSize = grow(this.qSize, (k) => new Float64Array(k));
    this.qBb = grow(this.qBb, (k) => new Float64Array(k));
    this.qBa = grow(this.qBa, (k) => new Float64Array(k));
    this.qTs = grow(this.qTs, (k) => new Float64Array(k));
  }

  /** Opens the token's write batch for the rest of the frame (once per frame). */
  private openBook(token: number): void {
    if (this.isOpen[token] === 1) return;
    this.isOpen[token] = 1;
    this.openList[this.nOpen++] = token;
    this.venueBid[token] = NaN;
    this.venueAsk[token] = NaN;
    this.lastTs[token] = NaN;
    this.books.begin(token);
  }

  /**
   * Checks every book the frame touched, then closes the batches; readers
   * see each book once per frame, and never see it crossed or drifted: a
   * failing book is cleared and flagged inside the same batch.
   */
  private closeBatches(crossedCounter: number = COUNTER.crossed): void {
    const set = this.books.set;
    const c = this.counters;
    const nOpen = this.nOpen;
    for (let k = 0; k < nOpen; k++) {
      const t = this.openList[k]!;
      if (this.resyncing[t] === 0) {
        const hb = set.i32Base(t);
        const bid = set.i32[hb + B_BEST_BID]!;
        const ask = set.i32[hb + B_BEST_ASK]!;
        if (bid !== NO_TICK && ask !== NO_TICK && bid >= ask) {
          c[crossedCounter]!++;
          this.resync(t, ResyncReason.Crossed);
        } else if (this.disagrees(t, bid, ask)) {
          c[COUNTER.bookMismatches]!++;
          this.resync(t, ResyncReason.Mismatch);
        } else {
          this.books.setTimes(t, this.recvNs, this.lastTs[t]!);
        }
      }
      this.books.end(t);
      this.isOpen[t] = 0;
    }
    this.nOpen = 0;
    for (let k = 0; k < nOpen; k++) {
      const t = this.openList[k]!;
      if (this.resyncing[t] === 0) this.publishTop(t);
    }
  }

  /**
   * Our best prices against the venue's after its last entry for the token
   * (NaN: the venue did not say). The venue writes an empty side as 0 / 1.
   */
  private disagrees(token: number, bid: number, ask: number): boolean {
    const vb = this.venueBid[token]!;
    const va = this.venueAsk[token]!;
    if (vb === vb && vb !== (bid === NO_TICK ? 0 : bid)) return true;
    return va === va && va !== (ask === NO_TICK ? PRICE_SCALE : ask);
  }

  /** BestBidAsk (and onTopChange) when a live token's top moved. Batch closed. */
  private publishTop(token: number): void {
    const set = this.books.set;
    const hb = set.i32Base(token);
    const bid = set.i32[hb + B_BEST_BID]!;
    const ask = set.i32[hb + B_BEST_ASK]!;
    // The writer reads its own book directly: no concurrent writer, no seqlock.
    const bids = set.f64Base(token) + BF_LEVELS;
    const bidSize = bid === NO_TICK ? 0 : set.f64[bids + (bid & set.mask)]!;
    const askSize = ask === NO_TICK ? 0 : set.f64[bids + set.levels + (ask & set.mask)]!;
    if (bid === this.lastBid[token] && ask === this.lastAsk[token] && bidSize === this.lastBidSize[token] && askSize === this.lastAskSize[token]) return;
    this.lastBid[token] = bid;
    this.lastAsk[token] = ask;
    this.lastBidSize[token] = bidSize;
    this.lastAskSize[token] = askSize;
    const ts = this.lastTs[token]!;
    const e = this.record(EventKind.BestBidAsk, 0, token, bid);
    e.exchTsMs = ts;
    e.size = bidSize;
    e.price2 = ask;
    e.aux0 = askSize;
    this.opts.events.emit(e);
    const cb = this.opts.onTopChange;
    if (cb) {
      const t = this.top;
      t.token = token;
      t.eventMs = ts;
      t.bidTicks = bid;
      t.bidSize = bidSize;
      t.askTicks = ask;
      t.askSize = askSize;
      cb(t);
    }
  }

  /** Drops the token's book (batch open), counts, tells readers and consumers, asks for a snapshot unless told not to. */
  private resync(token: number, reason: ResyncReason, askSnapshot = true): void {
    this.gate(token, reason);
    this.counters[COUNTER.resyncs]!++;
    if (askSnapshot) this.ask(token);
  }

  /** Drops the book (batch open) and tells readers and consumers why. Not counted: assign and release are no faults. */
  private gate(token: number, reason: ResyncReason): void {
    this.beginResync(token);
    const e = this.record(EventKind.Resync, 0, token, 0);
    e.exchTsMs = this.lastTs[token]!;
    e.aux0 = reason;
    this.opts.events.emit(e);
  }

  /** The first event for an assigned token: its subscription is live, so a snapshot is usable now. */
  private streamSeen(token: number): void {
    this.awaitingStream[token] = 0;
    if (this.resyncing[token] === 1) this.ask(token);
  }

  private beginResync(token: number): void {
    const books = this.books;
    books.clear(token);
    books.setStatus(token, this.writerStatus(token) | BookFlag.Resyncing);
    this.resyncing[token] = 1;
    this.epoch[token]!++;
    this.tickAnnounced[token] = 0;
    const k = this.kept[token];
    if (k !== undefined) k.n = 0;
    this.lastBid[token] = TOP_UNKNOWN;
  }

  private endResync(token: number): void {
    this.books.setStatus(token, this.writerStatus(token) & ~BookFlag.Resyncing);
    this.resyncing[token] = 0;
    this.awaitingStream[token] = 0;
    const k = this.kept[token];
    if (k !== undefined) k.n = 0;
  }

  /** Status bits as the writer set them (Stale belongs to whoever watches the feed's liveness). */
  private writerStatus(token: number): number {
    const set = this.books.set;
    return set.i32[set.i32Base(token) + B_STATUS]!;
  }

  private keep(token: number, side: number, priceTicks: number, size: number, tsMs: number): void {
    let k = this.kept[token];
    if (k === undefined) k = this.kept[token] = new KeptLevels();
    if (k.n === this.maxBuffered) {
      // The replay would have a hole: start over from a snapshot taken after now.
      this.counters[COUNTER.staleDrops]! += k.n;
      k.n = 0;
      this.epoch[token]!++;
      this.ask(token);
    }
    k.push(side, priceTicks, size, tsMs);
  }

  /**
   * Requests a snapshot unless one is open (an open one from an older epoch,
   * or for an earlier occupant, asks again when it lands) or the token's
   * subscription has not been seen live yet (streamSeen asks then).
   */
  private ask(token: number): void {
    if (this.askedEpoch[token]! >= 0 || this.awaitingStream[token] === 1) return;
    this.askedEpoch[token] = this.epoch[token]!;
    this.requests.push(token);
  }

  private flushRequests(): void {
    if (this.flushing) return;
    this.flushing = true;
    try {
      // The owner may answer synchronously, and that answer may ask again: the loop sees it.
      for (let i = 0; i < this.requests.length; i++) this.opts.requestSnapshot(this.requests[i]!);
    } finally {
      this.requests.length = 0;
      this.flushing = false;
    }
  }

  /** The scratch record with the fields every kind sets; the caller adds its payload and emits it. */
  private record(kind: number, flags: number, token: number, price: number): EventRecord {
    const e = this.ev;
    e.kind = kind;
    e.flags = flags;
    e.token = token;
    e.recvNs = this.recvNs;
    e.seq = NaN;
    e.price = price;
    return e;
  }

  private checkToken(token: number): void {
    if (!Number.isInteger(token) || token < 0 || token >= this.n) throw new RangeError(`PolymarketCore: slot ${token} outside [0, ${this.n})`);
  }

  /**
   * A new occupant (or none) for the slot: its open snapshot request ends
   * with the old one, so the next occupant's first ask() is made at once
   * rather than waiting on an answer its owner has cancelled.
   */
  private changeHands(slot: number): void {
    this.askedEpoch[slot] = HANDS_CHANGED;
  }

  /** Puts a token id in a vacant slot and tells the parser; throws before changing anything. */
  private occupy(slot: number, id: string): void {
    if (!isTokenId(id)) throw new RangeError(`PolymarketCore: slot ${slot}: not a decimal token id: ${JSON.stringify(id)}`);
    const other = this.parser.tokens.lookupString(id);
    if (other >= 0) throw new RangeError(`PolymarketCore: token id ${id} is already in slot ${other}`);
    this.parser.registerToken(id, slot);
    this.ids[slot] = id;
  }
}

/**
 * Splits slots 0..slotCount-1 over connections in fixed ranges: shard k
 * carries slots [k*max, (k+1)*max). Fixed, so the connection of a slot never
 * depends on which other slots are occupied at the moment (an even `max`
 * keeps market slot m, token slots 2m and 2m+1, on one connection).
 */
export function planShards(slotCount: number, maxPerConnection: number): number[][] {
  if (!Number.isInteger(slotCount) || slotCount < 0) throw new RangeError(`planShards: slotCount must be a non-negative integer, got ${slotCount}`);
  if (!Number.isInteger(maxPerConnection) || maxPerConnection < 1) throw new RangeError(`planShards: maxPerConnection must be a positive integer, got ${maxPerConnection}`);
  const out: number[][] = [];
  for (let first = 0; first < slotCount; first += maxPerConnection) {
    out.push(Array.from({ length: Math.min(maxPerConnection, slotCount - first) }, (_, i) => first + i));
  }
  return out;
}

function checkIds(fn: string, tokenIds: readonly string[]): void {
  if (tokenIds.length === 0) throw new RangeError(`${fn}: at least one token id is required`);
  for (const id of tokenIds) {
    if (!isTokenId(id)) throw new RangeError(`${fn}: not a decimal token id: ${JSON.stringify(id)}`);
  }
}

/** The market-channel subscription (§2.1) for these token ids: the first message on a connection. */
export function subscribeMessage(tokenIds: readonly string[]): string {
  checkIds('subscribeMessage', tokenIds);
  return JSON.stringify({ type: 'market', assets_ids: tokenIds, initial_dump: true, custom_feature_enabled: true });
}

/** Adds (`subscribe`) or removes (`unsubscribe`) token ids on a connection already subscribed (§2.1). */
export function operationMessage(operation: 'subscribe' | 'unsubscribe', tokenIds: readonly string[]): string {
  checkIds('operationMessage', tokenIds);
  if (operation === 'subscribe') return JSON.stringify({ operation, assets_ids: tokenIds, custom_feature_enabled: true });
  if (operation === 'unsubscribe') return JSON.stringify({ operation, assets_ids: tokenIds });
  throw new RangeError(`operationMessage: operation must be "subscribe" or "unsubscribe", got ${JSON.stringify(operation)}`);
}
