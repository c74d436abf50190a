// PolymarketCore token slots: assign / release at runtime, the Resync events
// that mark them, when a REST snapshot is asked for, and that an answer
// about a slot's earlier occupant never reaches its book. Real shared-memory
// books, read back through the seqlocked reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Side } from '../../shared-memory/book-layout.js';
import { TopOfBook } from '../../shared-memory/book-reader.js';
import { COUNTER, createCounters } from '../../counters.js';
import { EventKind } from '../../shared-memory/event-layout.js';
import { polyRestFile } from '../../parse/testing/data.js';
import { createPolymarketBooks, PolymarketBookWriter } from './book.js';
import { discardEvents } from '../../event-sink.js';
import { PolymarketCore, ResyncReason } from './feed.js';
import { isResyncingFlag, newRig, readBook, type CoreRig } from './feed.fixture.js';

// The recorded GET /book body (shared/data/nautilus_trader) is this token's: top 0.10 x 125 / 0.14 x 705.
const REST_TOKEN = '23360939988679364027624185518382759743328544433592111535569478055890815567848';
const A = '1001';
const B = '1002';
const C = '1003';
const MARKET = '0xdd22472e552920b8438158ea7238bfadfa4f736aa4cee91a6b86c39ead110917';

const buf = (s: string): Buffer => Buffer.from(s, 'utf8');
const restBody = (): Buffer => Buffer.from(polyRestFile('clob_book.json').toString('utf8').trim());

/** A `book` event with one level a side. */
function book(token: string, bid: string, ask: string, size = '10'): Buffer {
  return buf(
    `{"event_type":"book","asset_id":"${token}","market":"${MARKET}","timestamp":"5",` +
      `"bids":[{"price":"${bid}","size":"${size}"}],"asks":[{"price":"${ask}","size":"${size}"}],"tick_size":"0.01"}`,
  );
}

/** A current-format price_change for one token (protocols.md §2.5). */
function change(token: string, side: 'BUY' | 'SELL', price: string, size: string, bestBid: string, bestAsk: string): Buffer {
  return buf(
    `{"event_type":"price_change","market":"${MARKET}","timestamp":"6","price_changes":[` +
      `{"asset_id":"${token}","price":"${price}","size":"${size}","side":"${side}","hash":"00","best_bid":"${bestBid}","best_ask":"${bestAsk}"}]}`,
  );
}

const top = (rig: CoreRig, s: number): TopOfBook => rig.reader.top(s, new TopOfBook());
const empty = (rig: CoreRig, s: number): boolean => {
  const b = readBook(rig.reader, s);
  return b.bids.length === 0 && b.asks.length === 0;
};

function slotsRig(tokens: readonly string[], slots: number): CoreRig {
  const rig = newRig(tokens, { slots });
  rig.core.start();
  return rig;
}

test('assign and release on vacant slots: gated until the dump, Resync events say why, resyncs not counted', () => {
  const rig = slotsRig([], 4);
  assert.equal(rig.core.slots, 4);
  for (let s = 0; s < 4; s++) assert.ok(isResyncingFlag(rig.reader, s) && rig.core.tokenAt(s) === undefined);

  rig.core.assign(2, A);
  assert.equal(rig.core.tokenAt(2), A);
  assert.equal(rig.core.slotOf(A), 2);
  assert.ok(isResyncingFlag(rig.reader, 2) && empty(rig, 2));
  assert.deepEqual(rig.events.resyncReasons[2], [ResyncReason.Assigned]);
  assert.deepEqual(rig.requests, [], 'the dump is awaited first (see assign())');

  rig.core.onFrame(book(A, '0.4', '0.6'), 10);
  assert.ok(!rig.core.isResyncing(2) && !isResyncingFlag(rig.reader, 2));
  let t = top(rig, 2);
  assert.deepEqual([t.bidTick, t.askTick, t.bidSize], [4000, 6000, 10]);

  rig.core.release(2);
  assert.equal(rig.core.tokenAt(2), undefined);
  assert.equal(rig.core.slotOf(A), -1);
  assert.ok(rig.core.isResyncing(2) && isResyncingFlag(rig.reader, 2) && empty(rig, 2));
  assert.deepEqual(rig.events.resyncReasons[2], [ResyncReason.Assigned, ResyncReason.Released]);
  assert.deepEqual(rig.events.book(2), { bids: [], asks: [], tick: 0 }, 'the event consumer empties its book too');

  // Frames for the released id are unknown, as for any id no slot holds, and touch no book.
  const unknown = rig.counters[COUNTER.unknownEvents]!;
  const records = rig.events.records.length;
  rig.core.onFrame(book(A, '0.3', '0.7'), 11);
  rig.core.onFrame(change(A, 'BUY', '0.45', '5', '0.45', '0.6'), 12);
  assert.equal(rig.counters[COUNTER.unknownEvents], unknown + 2);
  assert.equal(rig.events.records.length, records);
  assert.ok(rig.core.isResyncing(2) && empty(rig, 2));

  // The slot takes another token and rebuilds for it; the old id stays unknown.
  rig.core.assign(2, B);
  rig.core.onFrame(book(B, '0.2', '0.25', '7'), 13);
  t = top(rig, 2);
  assert.deepEqual([t.bidTick, t.askTick, t.bidSize, t.flags], [2000, 2500, 7, 0]);
  rig.core.onFrame(change(A, 'BUY', '0.22', '5', '0.22', '0.25'), 14);
  assert.equal(rig.counters[COUNTER.unknownEvents], unknown + 3);
  assert.equal(rig.reader.sizeAt(2, Side.Bid, 2200), 0);
  assert.equal(rig.counters[COUNTER.resyncs], 0, 'assign and release are not faults');
  assert.equal(rig.counters[COUNTER.parseErrors], 0);
});

test('an initial assignment fills the first slots; the rest stay vacant and gated', () => {
  const rig = slotsRig([A, B], 6);
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((s) => rig.core.tokenAt(s)), [A, B, undefined, undefined, undefined, undefined]);
  rig.core.onFrame(buf(`[${book(A, '0.4', '0.6').toString()},${book(B, '0.4', '0.6').toString()}]`), 1);
  assert.ok(!rig.core.isResyncing(0) && !rig.core.isResyncing(1));
  for (let s = 2; s < 6; s++) assert.ok(isResyncingFlag(rig.reader, s));
  rig.core.assign(5, C);
  assert.equal(rig.core.slotOf(C), 5);
  assert.deepEqual(rig.events.resyncReasons[5], [ResyncReason.Assigned]);
});

test('assign with no dump: the first event for the token asks for REST, and the kept changes replay onto it', () => {
  const rig = slotsRig([], 3);
  rig.core.assign(1, REST_TOKEN);
  assert.deepEqual(rig.requests, []);
  // The subscription is live: this change is kept, and now a snapshot can be used.
  rig.core.onFrame(change(REST_TOKEN, 'BUY', '0.11', '9', '0.11', '0.14'), 20);
  assert.deepEqual(rig.requests, [1]);
  assert.ok(rig.core.isResyncing(1) && empty(rig, 1));
  assert.ok(rig.core.onSnapshot(1, restBody(), 21));
  const t = top(rig, 1);
  assert.deepEqual([t.bidTick, t.bidSize, t.askTick, t.askSize, t.flags], [1100, 9, 1400, 705, 0]);
  assert.equal(rig.counters[COUNTER.restSnapshots], 1);

  // A trade (or the venue's best_bid_ask) proves the stream as well.
  rig.core.assign(2, A);
  rig.core.onFrame(buf(`{"event_type":"last_trade_price","asset_id":"${A}","market":"${MARKET}","price":"0.5","side":"BUY","size":"1","fee_rate_bps":"0","timestamp":"7"}`), 22);
  assert.deepEqual(rig.requests, [1, 2]);
});

test('a REST answer that lands after the slot changed hands anyway (not cancelled, or an older recording) is counted and dropped, never applied', () => {
  const rig = slotsRig([REST_TOKEN], 2);
  assert.ok(rig.core.onSnapshot(0, restBody(), 1));
  // A drifted book: resync, request open.
  rig.core.onFrame(change(REST_TOKEN, 'BUY', '0.12', '5', '0.11', '0.14'), 2);
  assert.deepEqual(rig.requests, [0]);
  rig.core.release(0);
  const stale = rig.counters[COUNTER.staleDrops]!;
  assert.equal(rig.core.onSnapshot(0, restBody(), 3), true, 'consumed: not to be fetched again');
  assert.equal(rig.counters[COUNTER.staleDrops], stale + 1);
  assert.ok(rig.core.isResyncing(0) && isResyncingFlag(rig.reader, 0) && empty(rig, 0));
  assert.deepEqual(rig.requests, [0], 'a vacant slot asks for nothing');

  // Nor does the slot's next occupant take the answer about its predecessor that lands after it moved in.
  rig.core.assign(0, REST_TOKEN);
  rig.core.onFrame(change(REST_TOKEN, 'BUY', '0.11', '9', '0.11', '0.14'), 4);
  assert.deepEqual(rig.requests, [0, 0]);
  rig.core.release(0);
  rig.core.assign(0, A);
  assert.equal(rig.core.onSnapshot(0, restBody(), 5), true);
  assert.equal(rig.counters[COUNTER.staleDrops], stale + 2);
  assert.ok(rig.core.isResyncing(0) && empty(rig, 0));
  assert.deepEqual(rig.requests, [0, 0], 'A waits for its own stream before asking');
  assert.equal(rig.counters[COUNTER.restSnapshots], 1, 'only the first snapshot, before any of this, was applied');
});

test("a change of hands ends the slot's request: the next occupant asks as soon as its stream is live, not after its predecessor's answer", () => {
  const rig = slotsRig([A], 2);
  rig.core.onFrame(book(A, '0.1', '0.14'), 1);
  rig.core.onFrame(change(A, 'BUY', '0.12', '5', '0.11', '0.14'), 2); // drift: asks for A
  assert.deepEqual(rig.requests, [0]);
  // The owner cancels A's request here (requestSnapshot's contract): no answer to it ever comes.
  rig.core.release(0);
  rig.core.assign(0, REST_TOKEN);
  assert.deepEqual(rig.requests, [0], 'REST_TOKEN waits for its stream');
  rig.core.onFrame(change(REST_TOKEN, 'SELL', '0.15', '3', '0.1', '0.14'), 3);
  assert.deepEqual(rig.requests, [0, 0], "asked at once: A's open request ended with A");
  const stale = rig.counters[COUNTER.staleDrops]!;
  assert.ok(rig.core.onSnapshot(0, restBody(), 4));
  const t = top(rig, 0);
  assert.deepEqual([t.bidTick, t.askTick, t.flags], [1000, 1400, 0]);
  assert.equal(rig.reader.sizeAt(0, Side.Ask, 1500), 3, 'the change kept since the stream showed up was replayed');
  assert.equal(rig.reader.sizeAt(0, Side.Bid, 1200), 0, "nothing of A's book");
  assert.equal(rig.counters[COUNTER.restSnapshots], 1);
  assert.equal(rig.counters[COUNTER.staleDrops], stale);
  assert.deepEqual(rig.requests, [0, 0]);
});

test('caller errors throw RangeError and change nothing', () => {
  const rig = slotsRig([A], 3);
  rig.core.onFrame(book(A, '0.4', '0.6'), 1);
  const before = { events: rig.events.records.length, book: readBook(rig.reader, 0) };
  assert.throws(() => rig.core.assign(0, B), /slot 0 already holds token 1001/);
  assert.throws(() => rig.core.assign(1, A), /token id 1001 is already in slot 0/);
  assert.throws(() => rig.core.assign(1, '0x12'), RangeError);
  assert.throws(() => rig.core.assign(3, B), RangeError);
  assert.throws(() => rig.core.assign(-1, B), RangeError);
  assert.throws(() => rig.core.assign(1.5, B), RangeError);
  assert.throws(() => rig.core.release(1), /slot 1 holds no token/);
  assert.throws(() => rig.core.release(3), RangeError);
  assert.throws(() => rig.core.tokenAt(3), RangeError);
  assert.equal(rig.events.records.length, before.events);
  assert.deepEqual(readBook(rig.reader, 0), before.book);
  assert.deepEqual([0, 1, 2].map((s) => rig.core.tokenAt(s)), [A, undefined, undefined]);
  assert.ok(!rig.core.isResyncing(0));
  // Still working after all that.
  rig.core.assign(1, B);
  rig.core.onFrame(book(B, '0.3', '0.7'), 2);
  assert.equal(top(rig, 1).bidTick, 3000);
  assert.equal(rig.events.count(EventKind.Resync, 1), 1);
});

test('construction: slots bound the initial tokens and the book set', () => {
  const bare = { books: new PolymarketBookWriter(createPolymarketBooks(1)), events: discardEvents, counters: createCounters(), source: 0, requestSnapshot: () => {} };
  assert.throws(() => new PolymarketCore({ tokens: [], ...bare }), /at least one slot/);
  assert.throws(() => new PolymarketCore({ tokens: [], slots: 0, ...bare }), /at least one slot/);
  assert.equal(new PolymarketCore({ tokens: [], slots: 1, ...bare }).slots, 1);
  assert.throws(() => newRig([A, B], { slots: 1 }), /2 tokens for 1 slots/);
  assert.throws(() => newRig([A, A], { slots: 3 }), /already in slot 0/);
  const rig = newRig([A], { slots: 2 });
  assert.throws(() => newRig([A], { slots: 3, books: rig.books }), /3 slots but the book set holds 2 books/);
});
